// Business-hours arithmetic over a BusinessCalendar: is the desk open, how much opening time lies
// between two instants, and when a given amount of opening time has passed. Pure: no clock, no I/O.
import { DateTime, IANAZone } from 'luxon';
import type { BusinessCalendar, OpeningInterval, Weekday } from './policy';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** addBusinessMs gives up after this many days: a calendar that is (nearly) never open must not hang a workflow. */
const MAX_SEARCH_DAYS = 10 * 366;

/** ISO weekday numbers as luxon and the epoch-day arithmetic below use them (1 = Monday). */
const ISO_WEEKDAY: Record<Weekday, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };

/** A calendar parsed once per call: opening minutes per ISO weekday and holidays as local epoch days. */
interface ParsedCalendar {
  zone: IANAZone;
  /** Index 1..7 (Mon..Sun): sorted, merged [startMinute, endMinute) ranges of the local day. */
  minutesByWeekday: Array<Array<[number, number]>>;
  holidays: Set<number>;
  hasOpeningHours: boolean;
}

export function isOpenAt(calendar: BusinessCalendar, atMs: number): boolean {
  const parsed = parseCalendar(calendar);
  const day = localEpochDay(parsed.zone, atMs);
  // Neighbouring days too: where a clock change crosses midnight, a day's hours can spill over.
  for (let d = day - 1; d <= day + 1; d++) {
    if (openingsOn(parsed, d).some(([start, end]) => start <= atMs && atMs < end)) return true;
  }
  return false;
}

/** Business (open) milliseconds in [fromMs, toMs); 0 when toMs <= fromMs. */
export function businessMsBetween(calendar: BusinessCalendar, fromMs: number, toMs: number): number {
  const parsed = parseCalendar(calendar);
  if (!(toMs > fromMs)) return 0;
  let total = 0;
  const lastDay = localEpochDay(parsed.zone, toMs) + 1;
  for (let day = localEpochDay(parsed.zone, fromMs) - 1; day <= lastDay; day++) {
    for (const [start, end] of openingsOn(parsed, day)) {
      const overlap = Math.min(end, toMs) - Math.max(start, fromMs);
      if (overlap > 0) total += overlap;
    }
  }
  return total;
}

/**
 * Earliest t >= fromMs such that businessMsBetween(calendar, fromMs, t) === ms. ms === 0 returns fromMs.
 * Throws if the calendar has no opening hours at all, or not enough within ten years (it would never end).
 */
export function addBusinessMs(calendar: BusinessCalendar, fromMs: number, ms: number): number {
  const parsed = parseCalendar(calendar);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`addBusinessMs: ms must be a finite number >= 0, got ${ms}`);
  }
  if (ms === 0) return fromMs;
  if (!parsed.hasOpeningHours) {
    throw new Error(
      `addBusinessMs: calendar (${calendar.timeZone}) has no opening hours on any weekday, ` +
        `so ${ms} business ms never pass; add weeklyHours or use a calendar clock`,
    );
  }
  let left = ms;
  const firstDay = localEpochDay(parsed.zone, fromMs) - 1;
  for (let day = firstDay; day <= firstDay + MAX_SEARCH_DAYS; day++) {
    for (const [start, end] of openingsOn(parsed, day)) {
      const from = Math.max(start, fromMs);
      if (end <= from) continue;
      // `<=`: when the interval is used up exactly, its end is the earliest moment (closed afterwards).
      if (left <= end - from) return from + left;
      left -= end - from;
    }
  }
  throw new Error(
    `addBusinessMs: ${ms} business ms from ${DateTime.fromMillis(fromMs, { zone: 'utc' }).toISO()} ` +
      `are not reached within ${MAX_SEARCH_DAYS} days; check the calendar's opening hours and holidays ` +
      `(${calendar.timeZone})`,
  );
}

/** Real opening intervals [startMs, endMs) of one local day (days counted from 1970-01-01 local). */
function openingsOn(parsed: ParsedCalendar, epochDay: number): Array<[number, number]> {
  if (parsed.holidays.has(epochDay)) return [];
  const minutes = parsed.minutesByWeekday[isoWeekday(epochDay)];
  if (minutes.length === 0) return [];
  // Fast path: with the same offset a day either side, no DST change touches this day.
  const offset = parsed.zone.offset((epochDay - 1) * DAY) * MINUTE;
  const steady = offset === parsed.zone.offset((epochDay + 2) * DAY) * MINUTE;
  const instantOf = (minute: number) => {
    const wallMs = epochDay * DAY + minute * MINUTE;
    return steady ? wallMs - offset : instantOfWallTime(parsed.zone, wallMs);
  };
  const openings: Array<[number, number]> = [];
  for (const [startMinute, endMinute] of minutes) {
    const start = instantOf(startMinute);
    const end = instantOf(endMinute);
    // Empty when the whole interval lies in a skipped (spring-forward) hour.
    if (end > start) openings.push([start, end]);
  }
  return openings;
}

/**
 * The instant at which the local wall clock shows `wallMs` (a local date-time written as if it were UTC).
 * Twice-shown times (autumn) resolve to the first occurrence; skipped times (spring) to the moment of
 * the jump, i.e. the first moment the clock shows that time or later. So on a DST day "09:00–17:00" is
 * the real local interval, and the mapping never runs backwards.
 */
function instantOfWallTime(zone: IANAZone, wallMs: number): number {
  const offsetBefore = zone.offset(wallMs - DAY) * MINUTE;
  const offsetAfter = zone.offset(wallMs + DAY) * MINUTE;
  // A larger offset gives an earlier instant, so trying offsets in descending order finds the first occurrence.
  const candidates = new Set([offsetBefore, offsetAfter, zone.offset(wallMs - offsetBefore) * MINUTE]);
  const offsets = [...candidates].sort((a, b) => b - a);
  for (const offset of offsets) {
    if (zone.offset(wallMs - offset) * MINUTE === offset) return wallMs - offset;
  }
  if (offsetAfter > offsetBefore) {
    // In the gap: binary-search the jump, which lies between these two instants.
    let lo = wallMs - offsetAfter; // still on the old offset
    let hi = wallMs - offsetBefore; // already on the new offset
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (zone.offset(mid) * MINUTE === offsetAfter) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  return wallMs - offsetBefore; // not reached for real zones; keeps the function total
}

/** The local calendar day (days since 1970-01-01) on which `ms` falls in `zone`. */
function localEpochDay(zone: IANAZone, ms: number): number {
  return Math.floor((ms + zone.offset(ms) * MINUTE) / DAY);
}

/** 1970-01-01 was a Thursday (ISO weekday 4). */
function isoWeekday(epochDay: number): number {
  return ((((epochDay + 3) % 7) + 7) % 7) + 1;
}

function parseCalendar(calendar: BusinessCalendar): ParsedCalendar {
  const zone = IANAZone.create(calendar.timeZone);
  if (!zone.isValid) {
    throw new Error(
      `business calendar: unknown time zone "${calendar.timeZone}"; use an IANA name such as "Europe/Amsterdam"`,
    );
  }
  const minutesByWeekday: Array<Array<[number, number]>> = Array.from({ length: 8 }, () => []);
  let hasOpeningHours = false;
  const weeklyHours = Object.entries(calendar.weeklyHours) as Array<[Weekday, OpeningInterval[] | undefined]>;
  for (const [weekday, intervals] of weeklyHours) {
    const iso = ISO_WEEKDAY[weekday];
    if (iso === undefined) {
      throw new Error(`business calendar: unknown weekday "${weekday}"; use mon, tue, wed, thu, fri, sat or sun`);
    }
    const ranges = (intervals ?? []).map((interval): [number, number] => {
      const start = parseWallClock(interval.start, weekday);
      const end = parseWallClock(interval.end, weekday);
      if (end <= start) {
        throw new Error(
          `business calendar: ${weekday} ${interval.start}–${interval.end} ends before it starts; ` +
            'split a night shift into "…–24:00" and "00:00–…" on the next day',
        );
      }
      return [start, end];
    });
    minutesByWeekday[iso] = mergeRanges(ranges);
    hasOpeningHours ||= ranges.length > 0;
  }
  const holidays = new Set(
    calendar.holidays.map((date) => {
      const parsed = DateTime.fromFormat(date, 'yyyy-MM-dd', { zone: 'utc' });
      if (!parsed.isValid) {
        throw new Error(`business calendar: holiday "${date}" is not a date; write it as YYYY-MM-DD`);
      }
      return Math.round(parsed.toMillis() / DAY);
    }),
  );
  return { zone, minutesByWeekday, holidays, hasOpeningHours };
}

/** "HH:mm" (00:00–24:00) to minutes since local midnight. */
function parseWallClock(text: string, weekday: Weekday): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  if (!match || Number(match[2]) > 59 || !(minutes <= 24 * 60)) {
    throw new Error(`business calendar: ${weekday} time "${text}" is not "HH:mm" between 00:00 and 24:00`);
  }
  return minutes;
}

/** Overlapping or touching intervals would otherwise be counted twice. */
function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}
