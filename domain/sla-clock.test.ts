// The SLA clock as the desk lives it: due and warning times, breaches to the millisecond, pauses while
// waiting on the requester, re-tiers, hand-offs and reopens; then properties that must always hold.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { businessMsBetween, isOpenAt } from './calendar';
import { DEFAULT_POLICY, resolveTicketPolicy, type BusinessCalendar, type SlaTarget, type TicketPolicy } from './policy';
import { slaClock, ticketSlaClocks, type Pause, type SlaClockInput, type TicketSlaEvent } from './sla-clock';

const H = 3_600_000;
const DAY = 24 * H;
/** Monday 2 March 2026, 09:00 UTC. */
const T0 = Date.UTC(2026, 2, 2, 9);

/** Default policy: acknowledge in 4 h; resolve tier 1 in 24 h, tier 2 in 72 h; hand tier 3 off in 24 h. */
const helpdesk: TicketPolicy = resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk');

/** Mon–Fri 09:00–17:00 in Amsterdam, Easter Monday 2026 closed. */
const office: BusinessCalendar = {
  timeZone: 'Europe/Amsterdam',
  weeklyHours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => [day, [{ start: '09:00', end: '17:00' }]])),
  holidays: ['2026-04-06'],
};
const officeHours = (withinMs: number): SlaTarget => ({ withinMs, clock: 'business', calendar: 'office' });

function amsterdam(local: string): number {
  return DateTime.fromISO(local, { zone: 'Europe/Amsterdam' }).toMillis();
}

function clock(overrides: Partial<SlaClockInput>, now: number) {
  return slaClock(
    { target: helpdesk.acknowledge, calendars: { office }, warningShare: 0.75, startedAt: T0, pauses: [], ...overrides },
    now,
  );
}

describe('an acknowledgement clock of 4 calendar hours', () => {
  it('is due exactly 4 h after the ticket came in, with a warning at 75 % (3 h)', () => {
    const state = clock({}, T0 + H);
    expect(state).toMatchObject({ dueAt: T0 + 4 * H, warnAt: T0 + 3 * H, elapsedMs: H, remainingMs: 3 * H, status: 'running' });
  });

  it('is not breached a millisecond before the due time', () => {
    expect(clock({}, T0 + 4 * H - 1)).toMatchObject({ breached: false, breachedAt: null, remainingMs: 1, status: 'running' });
  });

  it('is breached at exactly the due time', () => {
    expect(clock({}, T0 + 4 * H)).toMatchObject({ breached: true, breachedAt: T0 + 4 * H, remainingMs: 0, status: 'breached' });
  });

  it('acknowledged after 2 h is met, and stops counting', () => {
    expect(clock({ metAt: T0 + 2 * H }, T0 + 10 * H)).toMatchObject({
      status: 'met',
      breached: false,
      metAt: T0 + 2 * H,
      elapsedMs: 2 * H,
      remainingMs: 2 * H,
    });
  });

  it('acknowledged at the very due time is still met in time', () => {
    expect(clock({ metAt: T0 + 4 * H }, T0 + 10 * H)).toMatchObject({ status: 'met', breached: false, remainingMs: 0 });
  });

  it('acknowledged after 5 h is met late: breached at 4 h', () => {
    expect(clock({ metAt: T0 + 5 * H }, T0 + 10 * H)).toMatchObject({
      status: 'met-late',
      breached: true,
      breachedAt: T0 + 4 * H,
      elapsedMs: 5 * H,
      remainingMs: 0,
    });
  });

  it('an acknowledgement recorded after now has not happened yet', () => {
    expect(clock({ metAt: T0 + 3 * H }, T0 + 2 * H)).toMatchObject({ status: 'running', metAt: null, elapsedMs: 2 * H });
  });
});

describe('a business-hours clock', () => {
  it('of 8 office hours started Friday 15:00 before Easter is due Tuesday 15:00 (weekend and Easter Monday closed)', () => {
    const state = clock({ target: officeHours(8 * H), startedAt: amsterdam('2026-04-03T15:00') }, amsterdam('2026-04-06T12:00'));
    expect(state).toMatchObject({
      dueAt: amsterdam('2026-04-07T15:00'),
      warnAt: amsterdam('2026-04-07T13:00'),
      elapsedMs: 2 * H,
      status: 'running',
    });
  });

  it('used up at Friday closing time is due at 17:00, not on Monday morning', () => {
    const state = clock({ target: officeHours(2 * H), startedAt: amsterdam('2026-03-06T15:00') }, amsterdam('2026-03-07T12:00'));
    expect(state).toMatchObject({ dueAt: amsterdam('2026-03-06T17:00'), breached: true, status: 'breached' });
  });

  it('paused over a weekend loses no office hours, and a pause in office hours moves the due time', () => {
    const pauses: Pause[] = [
      { from: amsterdam('2026-03-06T16:00'), to: amsterdam('2026-03-09T08:00') }, // Friday to Monday morning: only 1 office hour
      { from: amsterdam('2026-03-09T10:00'), to: amsterdam('2026-03-09T12:00') },
    ];
    const input = { target: officeHours(8 * H), startedAt: amsterdam('2026-03-06T13:00'), pauses };
    const state = clock(input, amsterdam('2026-03-09T13:00'));
    // Friday 13–16 (3 h) + Monday 09–10 (1 h) + from 12:00: 4 h more → 16:00.
    expect(state).toMatchObject({ dueAt: amsterdam('2026-03-09T16:00'), elapsedMs: 5 * H, remainingMs: 3 * H });
  });

  it('refuses a target whose calendar the policy does not define', () => {
    expect(() => clock({ target: { withinMs: H, clock: 'business', calendar: 'night-shift' } }, T0)).toThrow(
      /business calendar "night-shift", which the policy does not define \(known: office\)/,
    );
    expect(() => clock({ target: { withinMs: H, clock: 'business' } }, T0)).toThrow(/needs a `calendar` name/);
  });
});

describe('a ticket’s SLA clocks', () => {
  const created = (tier: 1 | 2 | 3, at = T0): TicketSlaEvent => ({ type: 'created', at, tier });

  it('a tier-2 ticket is due 72 h after it came in', () => {
    const { resolution, resolutionKind } = ticketSlaClocks([created(2)], helpdesk, T0 + H);
    expect(resolutionKind).toBe('resolve');
    expect(resolution).toMatchObject({ startedAt: T0, dueAt: T0 + 72 * H, warnAt: T0 + 54 * H, status: 'running' });
  });

  it('a tier-2 ticket paused for 3 h is due 3 h later', () => {
    const events: TicketSlaEvent[] = [created(2), { type: 'paused', at: T0 + H }, { type: 'resumed', at: T0 + 4 * H }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 5 * H).resolution).toMatchObject({ dueAt: T0 + 75 * H, elapsedMs: 2 * H });
  });

  it('a ticket waiting on the requester has no due time yet and its remaining time is frozen', () => {
    const events: TicketSlaEvent[] = [created(1), { type: 'paused', at: T0 + 10 * H }];
    const expected = { dueAt: null, warnAt: null, paused: true, status: 'paused', elapsedMs: 10 * H, remainingMs: 14 * H };
    expect(ticketSlaClocks(events, helpdesk, T0 + 11 * H).resolution).toMatchObject(expected);
    expect(ticketSlaClocks(events, helpdesk, T0 + 30 * DAY).resolution).toMatchObject(expected);
  });

  it('a ticket paused after its warning keeps the warning time it already reached', () => {
    const events: TicketSlaEvent[] = [created(1), { type: 'paused', at: T0 + 20 * H }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 21 * H).resolution).toMatchObject({ warnAt: T0 + 18 * H, dueAt: null });
  });

  it('a ticket paused after its due time stays breached', () => {
    const events: TicketSlaEvent[] = [created(1), { type: 'paused', at: T0 + 30 * H }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 40 * H).resolution).toMatchObject({
      dueAt: T0 + 24 * H,
      breachedAt: T0 + 24 * H,
      paused: true,
      status: 'breached',
    });
  });

  it('the acknowledgement clock is never paused and is met at the first acknowledgement', () => {
    const events: TicketSlaEvent[] = [
      created(1),
      { type: 'paused', at: T0 + H },
      { type: 'acknowledged', at: T0 + 5 * H },
      { type: 'acknowledged', at: T0 + 6 * H },
    ];
    expect(ticketSlaClocks(events, helpdesk, T0 + 7 * H).acknowledge).toMatchObject({
      metAt: T0 + 5 * H,
      elapsedMs: 5 * H,
      status: 'met-late',
      paused: false,
    });
  });

  it('a re-tier from 1 to 2 moves the due time from +24 h to +72 h and keeps the paused time', () => {
    const paused: TicketSlaEvent[] = [created(1), { type: 'paused', at: T0 + 2 * H }, { type: 'resumed', at: T0 + 5 * H }];
    expect(ticketSlaClocks(paused, helpdesk, T0 + 6 * H).resolution.dueAt).toBe(T0 + 27 * H);
    const retiered: TicketSlaEvent[] = [...paused, { type: 'retiered', at: T0 + 10 * H, tier: 2 }];
    expect(ticketSlaClocks(retiered, helpdesk, T0 + 11 * H).resolution).toMatchObject({
      startedAt: T0,
      dueAt: T0 + 75 * H,
      elapsedMs: 8 * H,
    });
  });

  it('a re-tier during a pause keeps the pause', () => {
    const events: TicketSlaEvent[] = [
      created(1),
      { type: 'paused', at: T0 + 2 * H },
      { type: 'retiered', at: T0 + 3 * H, tier: 2 },
      { type: 'resumed', at: T0 + 5 * H },
    ];
    expect(ticketSlaClocks(events, helpdesk, T0 + 6 * H).resolution.dueAt).toBe(T0 + 75 * H);
  });

  it('a re-tier to 1 after 30 h makes a tier-2 ticket breached at +24 h', () => {
    const events: TicketSlaEvent[] = [created(2), { type: 'retiered', at: T0 + 30 * H, tier: 1 }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 30 * H).resolution).toMatchObject({
      breachedAt: T0 + 24 * H,
      status: 'breached',
    });
  });

  it('a resolved tier-1 ticket is met at its latest resolution', () => {
    const events: TicketSlaEvent[] = [created(1), { type: 'resolved', at: T0 + 3 * H }, { type: 'resolved', at: T0 + 5 * H }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 6 * H).resolution).toMatchObject({ metAt: T0 + 5 * H, status: 'met' });
  });

  it('a tier-3 ticket is met by its hand-off to the centre of expertise, not by the later resolution', () => {
    const events: TicketSlaEvent[] = [
      created(3),
      { type: 'handedOff', at: T0 + 6 * H },
      { type: 'handedOff', at: T0 + 8 * H },
      { type: 'resolved', at: T0 + 30 * H },
    ];
    const clocks = ticketSlaClocks(events, helpdesk, T0 + 40 * H);
    expect(clocks.resolutionKind).toBe('handoff');
    expect(clocks.resolution).toMatchObject({ metAt: T0 + 6 * H, status: 'met', breached: false });
  });

  it('a tier-3 ticket handed off after 25 h is met late', () => {
    const events: TicketSlaEvent[] = [created(3), { type: 'handedOff', at: T0 + 25 * H }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 26 * H).resolution).toMatchObject({
      status: 'met-late',
      breachedAt: T0 + 24 * H,
    });
  });

  it('a tier-3 ticket resolved before any hand-off is met by the resolution', () => {
    const events: TicketSlaEvent[] = [created(3), { type: 'resolved', at: T0 + 2 * H }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 3 * H).resolution).toMatchObject({ metAt: T0 + 2 * H, status: 'met' });
  });

  it('a reopened ticket starts a fresh resolution episode: earlier pauses and resolutions no longer count', () => {
    const events: TicketSlaEvent[] = [
      created(1),
      { type: 'paused', at: T0 + H },
      { type: 'resumed', at: T0 + 2 * H },
      { type: 'resolved', at: T0 + 5 * H },
      { type: 'paused', at: T0 + 6 * H }, // never resumed before the reopen: does not carry over
      { type: 'reopened', at: T0 + 50 * H },
    ];
    const clocks = ticketSlaClocks(events, helpdesk, T0 + 51 * H);
    expect(clocks.resolution).toMatchObject({
      startedAt: T0 + 50 * H,
      dueAt: T0 + 74 * H,
      metAt: null,
      paused: false,
      elapsedMs: H,
      status: 'running',
    });
    expect(clocks.acknowledge.startedAt).toBe(T0);
  });

  it('a second pause while already paused, and a resume without a pause, change nothing', () => {
    const events: TicketSlaEvent[] = [
      created(1),
      { type: 'resumed', at: T0 + H },
      { type: 'paused', at: T0 + 2 * H },
      { type: 'paused', at: T0 + 3 * H },
      { type: 'resumed', at: T0 + 4 * H },
      { type: 'resumed', at: T0 + 5 * H },
    ];
    expect(ticketSlaClocks(events, helpdesk, T0 + 6 * H).resolution.dueAt).toBe(T0 + 26 * H);
  });

  it('events after now are not known yet', () => {
    const events: TicketSlaEvent[] = [created(1), { type: 'paused', at: T0 + 2 * H }, { type: 'resumed', at: T0 + 5 * H }];
    expect(ticketSlaClocks(events, helpdesk, T0 + 3 * H).resolution).toMatchObject({ paused: true, dueAt: null });
  });

  it('a history without a created event is refused', () => {
    expect(() => ticketSlaClocks([{ type: 'acknowledged', at: T0 }], helpdesk, T0)).toThrow(/no 'created' event/);
  });
});

// --- properties -------------------------------------------------------------------------------

const SPAN = 30 * DAY;
const momentArb = fc.integer({ min: T0, max: T0 + SPAN });
const pauseArb: fc.Arbitrary<Pause> = fc
  .tuple(momentArb, fc.option(fc.integer({ min: 0, max: 5 * DAY }), { nil: undefined }))
  .map(([from, length]) => (length === undefined ? { from } : { from, to: from + length }));
const targetArb: fc.Arbitrary<SlaTarget> = fc.oneof(
  fc.integer({ min: 0, max: 100 * H }).map((withinMs): SlaTarget => ({ withinMs, clock: 'calendar' })),
  fc.integer({ min: 0, max: 40 * H }).map(officeHours),
);
const inputArb: fc.Arbitrary<SlaClockInput> = fc.record({
  target: targetArb,
  calendars: fc.constant({ office }),
  warningShare: fc.constantFrom(0, 0.5, 0.75, 1),
  startedAt: momentArb,
  pauses: fc.array(pauseArb, { maxLength: 4 }),
  metAt: fc.option(momentArb, { nil: null }),
});
const RUNS = { numRuns: 150 };

/** Counted time of the target between two moments. */
function countedBetween(input: SlaClockInput, from: number, to: number): number {
  return input.target.clock === 'calendar' ? Math.max(0, to - from) : businessMsBetween(office, from, to);
}

describe('SLA clock properties', () => {
  it('time never runs backwards: elapsed time never shrinks as now moves on', () => {
    fc.assert(
      fc.property(inputArb, momentArb, momentArb, (input, a, b) => {
        const [earlier, later] = a <= b ? [a, b] : [b, a];
        expect(slaClock(input, earlier).elapsedMs).toBeLessThanOrEqual(slaClock(input, later).elapsedMs);
      }),
      RUNS,
    );
  });

  it('paused time never counts: a pause removes exactly the counted time it covers', () => {
    fc.assert(
      fc.property(inputArb, pauseArb, momentArb, (input, pause, now) => {
        const running = slaClock({ ...input, pauses: [] }, now);
        const paused = slaClock({ ...input, pauses: [pause] }, now);
        // The clock counts from startedAt up to metAt (if met by now) or now; a pause still open counts to there too.
        const stopAt = input.metAt != null && input.metAt <= now ? input.metAt : now;
        const pausedFrom = Math.max(pause.from, input.startedAt);
        const pausedTo = Math.min(pause.to ?? Infinity, stopAt);
        expect(paused.elapsedMs).toBeLessThanOrEqual(running.elapsedMs);
        expect(paused.elapsedMs).toBe(running.elapsedMs - countedBetween(input, pausedFrom, pausedTo));
      }),
      RUNS,
    );
  });

  it('adding a pause to any history never adds elapsed time', () => {
    fc.assert(
      fc.property(inputArb, pauseArb, momentArb, (input, pause, now) => {
        const more = slaClock({ ...input, pauses: [...input.pauses, pause] }, now);
        expect(more.elapsedMs).toBeLessThanOrEqual(slaClock(input, now).elapsedMs);
      }),
      RUNS,
    );
  });

  it('a business-hours clock falls due inside opening hours or exactly at closing time', () => {
    fc.assert(
      fc.property(inputArb, momentArb, (input, now) => {
        fc.pre(input.target.clock === 'business' && input.target.withinMs > 0);
        const { dueAt } = slaClock(input, now);
        if (dueAt !== null) expect(isOpenAt(office, dueAt - 1)).toBe(true);
      }),
      RUNS,
    );
  });

  it('an unmet clock is breached from its due time on, and not a millisecond before', () => {
    fc.assert(
      fc.property(inputArb, momentArb, (input, now) => {
        // Only the history known now: a later pause would rightly move the due time.
        const knownPauses = input.pauses
          .filter((pause) => pause.from <= now)
          .map((pause) => (pause.to !== undefined && pause.to <= now ? pause : { from: pause.from }));
        const unmet = { ...input, pauses: knownPauses, metAt: null };
        const { dueAt } = slaClock(unmet, now);
        fc.pre(dueAt !== null && input.target.withinMs > 0);
        const atDue = slaClock(unmet, dueAt!);
        expect(atDue).toMatchObject({ breached: true, elapsedMs: input.target.withinMs, remainingMs: 0 });
        expect(slaClock(unmet, dueAt! - 1).breached).toBe(false);
      }),
      RUNS,
    );
  });
});
