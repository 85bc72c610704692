// Business-hours arithmetic: table cases a support lead would check by hand, then properties over
// random calendars in zones with unusual DST rules (30-minute shifts, changes at midnight).
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { addBusinessMs, businessMsBetween, isOpenAt } from './calendar';
import type { BusinessCalendar, OpeningInterval, Weekday } from './policy';

const H = 3_600_000;
const AMSTERDAM = 'Europe/Amsterdam';
const nineToFive: OpeningInterval[] = [{ start: '09:00', end: '17:00' }];

/** Mon–Fri 09:00–17:00 in Amsterdam. */
const office: BusinessCalendar = {
  timeZone: AMSTERDAM,
  weeklyHours: { mon: nineToFive, tue: nineToFive, wed: nineToFive, thu: nineToFive, fri: nineToFive },
  holidays: [],
};
/** Good Friday and Easter Monday 2026 closed. */
const officeWithEaster: BusinessCalendar = { ...office, holidays: ['2026-04-03', '2026-04-06'] };
const splitShift: BusinessCalendar = {
  timeZone: AMSTERDAM,
  weeklyHours: { mon: [{ start: '09:00', end: '12:00' }, { start: '13:00', end: '17:00' }] },
  holidays: [],
};
/** Open on Amsterdam Sundays only; both 2026 DST changes fall on a Sunday. */
function sundays(start: string, end: string): BusinessCalendar {
  return { timeZone: AMSTERDAM, weeklyHours: { sun: [{ start, end }] }, holidays: [] };
}
/** Around the clock: a DST Sunday is 23 h or 25 h long. */
const allDaySunday = sundays('00:00', '24:00');
/** Straddles the 02:00/03:00 change. */
const smallHoursSunday = sundays('01:00', '04:00');
/** A late shift running into the night: Friday until 24:00, Saturday from 00:00. */
const lateShift: BusinessCalendar = {
  timeZone: AMSTERDAM,
  weeklyHours: { fri: [{ start: '18:00', end: '24:00' }], sat: [{ start: '00:00', end: '02:00' }] },
  holidays: [],
};
/** 02:00–02:30 on Sundays: skipped entirely in spring, shown twice in autumn. */
const inTheChangeSunday = sundays('02:00', '02:30');
/** Chile changes its clocks at midnight between Saturday and Sunday. */
const santiagoWeekendNights: BusinessCalendar = {
  timeZone: 'America/Santiago',
  weeklyHours: { sat: [{ start: '20:00', end: '24:00' }], sun: [{ start: '00:00', end: '02:00' }] },
  holidays: [],
};
const neverOpen: BusinessCalendar = { timeZone: AMSTERDAM, weeklyHours: { mon: [], sat: [] }, holidays: [] };

/** Local Amsterdam wall time, e.g. at('2026-03-02T09:00') (2026-03-02 is a Monday). */
function at(local: string, zone = AMSTERDAM): number {
  const dateTime = DateTime.fromISO(local, { zone });
  if (!dateTime.isValid) throw new Error(`bad test time ${local}`);
  return dateTime.toMillis();
}

describe('business hours between two moments', () => {
  it.each([
    ['a plain weekday afternoon counts 5 h', office, '2026-03-02T10:00', '2026-03-02T15:00', 5],
    ['a whole weekday counts only its 8 opening hours', office, '2026-03-02T06:00', '2026-03-02T22:00', 8],
    ['a split shift leaves out the lunch hour', splitShift, '2026-03-02T11:00', '2026-03-02T14:00', 2],
    ['a whole split-shift day counts 7 h', splitShift, '2026-03-02T00:00', '2026-03-03T00:00', 7],
    ['Friday 15:00 to Monday 11:00 skips the weekend', office, '2026-03-06T15:00', '2026-03-09T11:00', 4],
    [
      'Easter: Thursday 16:00 to Tuesday 10:00 skips Good Friday, the weekend and Easter Monday',
      officeWithEaster, '2026-04-02T16:00', '2026-04-07T10:00', 2,
    ],
    ['an ordinary Sunday open around the clock is 24 h', allDaySunday, '2026-03-22T00:00', '2026-03-23T00:00', 24],
    ['the spring-forward Sunday (29 March 2026) is 23 h', allDaySunday, '2026-03-28T12:00', '2026-03-30T12:00', 23],
    ['the fall-back Sunday (25 October 2026) is 25 h', allDaySunday, '2026-10-24T12:00', '2026-10-26T12:00', 25],
    ['01:00–04:00 loses an hour when the clocks go forward', smallHoursSunday, '2026-03-28T12:00', '2026-03-30T12:00', 2],
    ['01:00–04:00 gains an hour when the clocks go back', smallHoursSunday, '2026-10-24T12:00', '2026-10-26T12:00', 4],
    ['02:00–02:30 does not happen on the spring-forward Sunday', inTheChangeSunday, '2026-03-28T12:00', '2026-03-30T12:00', 0],
    [
      '02:00–02:30 counts once (the first time) on the fall-back Sunday',
      inTheChangeSunday, '2026-10-24T12:00', '2026-10-26T12:00', 0.5,
    ],
    [
      'in Santiago, Saturday 20:00–24:00 plus Sunday 00:00–02:00 is 7 h when midnight repeats an hour',
      santiagoWeekendNights, '2026-04-04T12:00-03:00', '2026-04-05T12:00-04:00', 7,
    ],
    [
      'in Santiago, Saturday 20:00–24:00 plus Sunday 00:00–02:00 is 5 h when midnight is skipped',
      santiagoWeekendNights, '2026-09-05T12:00-04:00', '2026-09-06T12:00-03:00', 5,
    ],
    ['a late shift ending at 24:00 runs on into Saturday 00:00–02:00', lateShift, '2026-03-06T20:00', '2026-03-07T01:00', 5],
    ['a calendar with no opening hours counts nothing', neverOpen, '2026-03-02T00:00', '2026-04-02T00:00', 0],
  ])('%s', (_name, calendar, from, to, hours) => {
    expect(businessMsBetween(calendar, at(from), at(to))).toBe(hours * H);
  });

  it('is 0 when the end is not after the start', () => {
    expect(businessMsBetween(office, at('2026-03-02T15:00'), at('2026-03-02T10:00'))).toBe(0);
    expect(businessMsBetween(office, at('2026-03-02T10:00'), at('2026-03-02T10:00'))).toBe(0);
  });

  it('counts a day in another zone by that zone’s own wall clock', () => {
    const newYork: BusinessCalendar = { ...office, timeZone: 'America/New_York' };
    // In early March (both zones on winter time) 09:00–17:00 in New York is 15:00–23:00 in Amsterdam.
    expect(businessMsBetween(newYork, at('2026-03-02T15:00'), at('2026-03-02T23:00'))).toBe(8 * H);
  });
});

describe('adding business time', () => {
  it.each([
    ['4 h from Monday 10:00 is Monday 14:00', office, '2026-03-02T10:00', 4, '2026-03-02T14:00'],
    ['1 h from Monday 16:00 ends at closing time, not the next morning', office, '2026-03-02T16:00', 1, '2026-03-02T17:00'],
    ['2 h from Monday 16:00 is Tuesday 10:00', office, '2026-03-02T16:00', 2, '2026-03-03T10:00'],
    ['1 h from before opening is 10:00', office, '2026-03-02T07:00', 1, '2026-03-02T10:00'],
    ['2 h from Friday 16:00 is Monday 10:00', office, '2026-03-06T16:00', 2, '2026-03-09T10:00'],
    ['2 h from Thursday 16:00 before Easter is Tuesday 10:00', officeWithEaster, '2026-04-02T16:00', 2, '2026-04-07T10:00'],
    ['2 h from 11:00 on a split shift is 14:00', splitShift, '2026-03-02T11:00', 2, '2026-03-02T14:00'],
    ['23 h of the spring-forward Sunday end at Monday 00:00', allDaySunday, '2026-03-28T12:00', 23, '2026-03-30T00:00'],
    ['24 h from the fall-back Sunday 00:00 end at 23:00 that day', allDaySunday, '2026-10-25T00:00', 24, '2026-10-25T23:00'],
    [
      '1 h into 01:00–04:00 on the spring-forward Sunday is 03:00 (02:00 does not exist)',
      smallHoursSunday, '2026-03-29T00:00', 1, '2026-03-29T03:00',
    ],
    [
      'in Santiago, 4 h from Saturday 20:00 on the night midnight is skipped end at Sunday 01:00',
      santiagoWeekendNights, '2026-09-05T20:00-04:00', 4, '2026-09-06T01:00-03:00',
    ],
    ['6 h of a late shift from Friday 18:00 end exactly at 24:00', lateShift, '2026-03-06T18:00', 6, '2026-03-07T00:00'],
  ])('%s', (_name, calendar, from, hours, expected) => {
    expect(addBusinessMs(calendar, at(from), hours * H)).toBe(at(expected));
  });

  it('adding nothing stays put, even outside opening hours', () => {
    expect(addBusinessMs(office, at('2026-03-07T12:00'), 0)).toBe(at('2026-03-07T12:00'));
  });

  it('refuses a calendar with no opening hours instead of searching forever', () => {
    expect(() => addBusinessMs(neverOpen, at('2026-03-02T09:00'), H)).toThrow(/no opening hours/);
  });

  it('gives up with an error when the only open day is a holiday for more than ten years', () => {
    const elevenYearsOfMondays = Array.from({ length: 11 * 53 }, (_, week) =>
      DateTime.fromISO('2026-03-02', { zone: 'utc' }).plus({ weeks: week }).toISODate(),
    ) as string[];
    const mondaysOnly: BusinessCalendar = { timeZone: 'UTC', weeklyHours: { mon: nineToFive }, holidays: elevenYearsOfMondays };
    expect(() => addBusinessMs(mondaysOnly, at('2026-03-02T00:00', 'utc'), H)).toThrow(/not reached within 3660 days/);
  });

  it('says what is wrong with a malformed calendar', () => {
    expect(() => isOpenAt({ ...office, timeZone: 'Mars/Olympus' }, 0)).toThrow(/unknown time zone "Mars\/Olympus"/);
    const monday = (start: string, end: string) => ({ ...office, weeklyHours: { mon: [{ start, end }] } });
    expect(() => isOpenAt(monday('9:00', '17:00'), 0)).toThrow(/"9:00" is not "HH:mm"/);
    expect(() => isOpenAt(monday('09:00', '24:30'), 0)).toThrow(/"24:30" is not "HH:mm"/);
    expect(() => isOpenAt(monday('22:00', '06:00'), 0)).toThrow(/ends before it starts/);
    expect(() => isOpenAt({ ...office, holidays: ['2026-02-30'] }, 0)).toThrow(/holiday "2026-02-30"/);
  });
});

describe('whether the desk is open', () => {
  it.each([
    ['open at 09:00 sharp', office, '2026-03-02T09:00', true],
    ['closed a millisecond before 09:00', office, '2026-03-02T08:59:59.999', false],
    ['closed at 17:00 sharp (the end is not included)', office, '2026-03-02T17:00', false],
    ['closed over lunch on a split shift', splitShift, '2026-03-02T12:30', false],
    ['closed on Saturday', office, '2026-03-07T12:00', false],
    ['closed on Good Friday', officeWithEaster, '2026-04-03T12:00', false],
    ['open a millisecond before 24:00 on a late shift', lateShift, '2026-03-06T23:59:59.999', true],
    ['open during the repeated hour of the fall-back night', smallHoursSunday, '2026-10-25T02:30+01:00', true],
    ['02:00–02:30 on the fall-back night is open the first time round', inTheChangeSunday, '2026-10-25T02:15+02:00', true],
    ['…and closed the second time round', inTheChangeSunday, '2026-10-25T02:15+01:00', false],
  ])('%s', (_name, calendar, time, open) => {
    expect(isOpenAt(calendar, at(time))).toBe(open);
  });
});

// --- properties over random calendars ---------------------------------------------------------

/** Zones with awkward rules: 30-minute DST (Lord Howe), DST at midnight (Santiago), none (Kolkata, UTC). */
const ZONES = ['Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kolkata', 'UTC'];
const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY = 24 * H;

/** Sorted distinct half-hour marks paired up into intervals, e.g. [18, 24, 26, 34] → 09:00–12:00, 13:00–17:00. */
const dayHours = fc.uniqueArray(fc.integer({ min: 0, max: 48 }), { maxLength: 6 }).map((marks) => {
  const sorted = [...marks].sort((a, b) => a - b);
  const hhmm = (mark: number) => `${String(Math.floor(mark / 2)).padStart(2, '0')}:${mark % 2 ? '30' : '00'}`;
  const intervals: OpeningInterval[] = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) intervals.push({ start: hhmm(sorted[i]), end: hhmm(sorted[i + 1]) });
  return intervals;
});

const START = Date.UTC(2025, 0, 1);
const END = Date.UTC(2027, 0, 1);

const calendarArb: fc.Arbitrary<BusinessCalendar> = fc
  .record({
    timeZone: fc.constantFrom(...ZONES),
    weeklyHours: fc.record(
      Object.fromEntries(WEEKDAYS.map((day) => [day, dayHours])) as Record<Weekday, fc.Arbitrary<OpeningInterval[]>>,
    ),
    holidays: fc.uniqueArray(
      fc
        .integer({ min: START / DAY, max: END / DAY })
        .map((day) => DateTime.fromMillis(day * DAY, { zone: 'utc' }).toISODate() as string),
      { maxLength: 30 },
    ),
  })
  .filter((calendar) => Object.values(calendar.weeklyHours).some((hours) => hours.length > 0));

/** Anywhere in 2025–2026, or within a few days of a DST change in one of the zones above. */
const DST_CHANGES = [
  Date.UTC(2026, 2, 29, 1), Date.UTC(2026, 9, 25, 1), // Amsterdam
  Date.UTC(2026, 2, 8, 7), Date.UTC(2026, 10, 1, 6), // New York
  Date.UTC(2026, 3, 4, 15), Date.UTC(2026, 9, 3, 15), // Lord Howe
  Date.UTC(2026, 3, 5, 3), Date.UTC(2026, 8, 6, 4), // Santiago
];
const instantArb = fc.oneof(
  fc.integer({ min: START, max: END }),
  fc.tuple(fc.constantFrom(...DST_CHANGES), fc.integer({ min: -3 * DAY, max: 3 * DAY })).map(([change, delta]) => change + delta),
);
const businessMsArb = fc.integer({ min: 0, max: 200 * H });
const RUNS = { numRuns: 150 };

describe('business-hours properties', () => {
  it('adding business time and measuring it again gives back the same amount', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, businessMsArb, (calendar, from, ms) => {
        expect(businessMsBetween(calendar, from, addBusinessMs(calendar, from, ms))).toBe(ms);
      }),
      RUNS,
    );
  });

  it('business time over a span is the sum over its two halves', () => {
    fc.assert(
      fc.property(calendarArb, fc.tuple(instantArb, instantArb, instantArb), (calendar, moments) => {
        const [a, b, c] = [...moments].sort((x, y) => x - y);
        expect(businessMsBetween(calendar, a, c)).toBe(businessMsBetween(calendar, a, b) + businessMsBetween(calendar, b, c));
      }),
      RUNS,
    );
  });

  it('adding business time ends inside opening hours or exactly at a closing time, and no later than needed', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, fc.integer({ min: 1, max: 200 * H }), (calendar, from, ms) => {
        const end = addBusinessMs(calendar, from, ms);
        expect(isOpenAt(calendar, end - 1)).toBe(true);
        expect(businessMsBetween(calendar, from, end - 1)).toBe(ms - 1);
      }),
      RUNS,
    );
  });

  it('more business time never ends earlier', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, businessMsArb, businessMsArb, (calendar, from, x, y) => {
        const [less, more] = x <= y ? [x, y] : [y, x];
        expect(addBusinessMs(calendar, from, less)).toBeLessThanOrEqual(addBusinessMs(calendar, from, more));
      }),
      RUNS,
    );
  });

  it('isOpenAt agrees with businessMsBetween over the next millisecond', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, (calendar, moment) => {
        expect(isOpenAt(calendar, moment)).toBe(businessMsBetween(calendar, moment, moment + 1) === 1);
      }),
      RUNS,
    );
  });

  it('a calendar answers the same whatever it was asked before (its spans are cached per calendar)', () => {
    fc.assert(
      fc.property(calendarArb, fc.array(fc.tuple(instantArb, instantArb, businessMsArb), { minLength: 2, maxLength: 8 }), (calendar, asks) => {
        // One calendar object asked everything in turn (warm spans), each ask also on a fresh copy.
        for (const [a, b, ms] of asks) {
          const fresh = structuredClone(calendar);
          expect(businessMsBetween(calendar, Math.min(a, b), Math.max(a, b))).toBe(businessMsBetween(fresh, Math.min(a, b), Math.max(a, b)));
          expect(addBusinessMs(calendar, a, ms)).toBe(addBusinessMs(structuredClone(calendar), a, ms));
          expect(isOpenAt(calendar, b)).toBe(isOpenAt(structuredClone(calendar), b));
        }
      }),
      { numRuns: 60 },
    );
  });
});
