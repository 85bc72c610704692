// Business-hours arithmetic over a BusinessCalendar: is the desk open, how much opening time lies
// between two instants, and when a given amount of opening time has passed. Pure: no clock, no I/O.
//
// A calendar is read once and its opening intervals are laid out in UTC per span of days, with running
// totals, the first time a span is needed (cached per calendar object: a workflow's policy lives as long
// as its run). Time-zone offsets (luxon, Intl) are looked up only while a span is built, so a due time or
// an elapsed time costs a few binary searches, however old the ticket.
import { DateTime, IANAZone } from 'luxon';
import { formatDuration } from './format';
import type { BusinessCalendar, OpeningInterval, Weekday } from './policy';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** addBusinessMs gives up after this many days: a calendar that is (nearly) never open must not hang a workflow. */
const MAX_SEARCH_DAYS = 10 * 366;

/** Days per precomputed span: small enough to build in well under a millisecond, few for a year. */
const SPAN_DAYS = 32;

/** ISO weekday numbers as luxon and the epoch-day arithmetic below use them (1 = Monday). */
const ISO_WEEKDAY: Record<Weekday, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };

/** A calendar parsed once per call: opening minutes per ISO weekday and holidays as local epoch days. */
interface ParsedCalendar {
  zone: IANAZone;
  /** Index 1..7 (Mon..Sun): sorted, merged [startMinute, endMinute) ranges of the local day. */
  minutesByWeekday: Array<Array<[number, number]>>;
  holidays: Set<number>;
  hasOpeningHours: boolean;
  /** Spans built so far, by span number (local epoch day / SPAN_DAYS, rounded down). */
  spans: Map<number, Span>;
}

/**
 * The opening intervals of the local days [number × SPAN_DAYS, +SPAN_DAYS), in UTC and in order
 * (the wall-clock-to-instant mapping never runs backwards, so intervals never overlap), with
 * `before[i]` the opening ms of the span before interval i.
 */
interface Span {
  starts: number[];
  ends: number[];
  before: number[];
  total: number;
}

export function isOpenAt(calendar: BusinessCalendar, atMs: number): boolean {
  return businessMsBetween(calendar, atMs, atMs + 1) === 1;
}

/** Business (open) milliseconds in [fromMs, toMs); 0 when toMs <= fromMs. */
export function businessMsBetween(calendar: BusinessCalendar, fromMs: number, toMs: number): number {
  const parsed = parseCalendar(calendar);
  if (!(toMs > fromMs)) return 0;
  // A day before and after: where a clock change crosses midnight, a day's hours can spill over.
  const first = spanNumber(localEpochDay(parsed.zone, fromMs) - 1);
  const last = spanNumber(localEpochDay(parsed.zone, toMs) + 1);
  let total = 0;
  for (let n = first; n <= last; n++) {
    const span = spanOf(parsed, n);
    total += openBefore(span, toMs) - openBefore(span, fromMs);
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
  const end = businessEnd(parsed, fromMs, ms);
  if (end !== undefined) return end;
  throw new Error(
    `addBusinessMs: ${ms} business ms from ${DateTime.fromMillis(fromMs, { zone: 'utc' }).toISO()} ` +
      `are not reached within ${MAX_SEARCH_DAYS} days; check the calendar's opening hours and holidays ` +
      `(${calendar.timeZone})`,
  );
}

/** A problem in a calendar's data, at its path inside the calendar (e.g. ['holidays', 2]). */
export interface CalendarProblem {
  path: Array<string | number>;
  message: string;
}

/**
 * Everything in this calendar's data that would make the functions above throw, each with where it
 * is; empty when the data is usable. The arithmetic's own reading, so configuration checks cannot
 * disagree with it. No opening hours is not a problem here: only business-time targets need them
 * (businessTargetProblem).
 */
export function calendarProblems(calendar: BusinessCalendar): CalendarProblem[] {
  return readCalendar(calendar).problems;
}

/**
 * Why a business-time target of `ms` could not be computed on this (valid) calendar for a clock
 * started at `fromMs` or later, or undefined when it can. Tried from `fromMs` and from the first day
 * of every later closed stretch that holds a holiday, where counting is hardest: a clock started
 * inside a closed stretch counts nothing until it ends.
 */
export function businessTargetProblem(calendar: BusinessCalendar, ms: number, fromMs: number): string | undefined {
  const parsed = parseCalendar(calendar);
  if (!parsed.hasOpeningHours) {
    return 'the calendar has no opening hours on any weekday, so business time never passes; add weeklyHours or use clock "calendar"';
  }
  for (const start of [fromMs, ...closedStretchStarts(parsed, fromMs)]) {
    if (businessEnd(parsed, start, ms) === undefined) {
      const day = DateTime.fromMillis(start, { zone: parsed.zone }).toISODate();
      return (
        `a clock started on ${day} would not count ${formatDuration(ms)} of opening time within ` +
        `${MAX_SEARCH_DAYS} days; check the calendar's opening hours and holidays`
      );
    }
  }
  return undefined;
}

/** The earliest instant at which `ms` opening ms have passed since `fromMs`, if within the search limit. */
function businessEnd(parsed: ParsedCalendar, fromMs: number, ms: number): number | undefined {
  let left = ms;
  const firstDay = localEpochDay(parsed.zone, fromMs) - 1;
  const first = spanNumber(firstDay);
  for (let n = first; n <= spanNumber(firstDay + MAX_SEARCH_DAYS); n++) {
    const span = spanOf(parsed, n);
    // Only the first spans can hold opening time before fromMs (its own day and the day before).
    const skipped = openBefore(span, fromMs);
    const available = span.total - skipped;
    if (left > available) {
      left -= available;
      continue;
    }
    // The first interval by whose end `skipped + left` opening ms of the span have passed. `<=`: when an
    // interval is used up exactly, its end is the earliest moment (closed afterwards).
    const target = skipped + left;
    let lo = 0;
    let hi = span.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (span.before[mid]! + span.ends[mid]! - span.starts[mid]! >= target) hi = mid;
      else lo = mid + 1;
    }
    return span.starts[lo]! + (target - span.before[lo]!);
  }
  return undefined;
}

/** Opening ms of the span before `atMs`. */
function openBefore(span: Span, atMs: number): number {
  // The last interval starting before atMs.
  let lo = 0;
  let hi = span.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (span.starts[mid]! < atMs) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return 0;
  const i = lo - 1;
  return span.before[i]! + Math.min(span.ends[i]!, atMs) - span.starts[i]!;
}

const spanNumber = (epochDay: number): number => Math.floor(epochDay / SPAN_DAYS);

function spanOf(parsed: ParsedCalendar, n: number): Span {
  const cached = parsed.spans.get(n);
  if (cached) return cached;
  const span: Span = { starts: [], ends: [], before: [], total: 0 };
  for (let day = n * SPAN_DAYS; day < (n + 1) * SPAN_DAYS; day++) {
    for (const [start, end] of openingsOn(parsed, day)) {
      span.starts.push(start);
      span.ends.push(end);
      span.before.push(span.total);
      span.total += end - start;
    }
  }
  parsed.spans.set(n, span);
  return span;
}

/** Local midnight of the first day of each closed stretch (holidays and closed weekdays) that holds a holiday after `fromMs`. */
function closedStretchStarts(parsed: ParsedCalendar, fromMs: number): number[] {
  const fromDay = localEpochDay(parsed.zone, fromMs);
  const closed = (day: number) => parsed.holidays.has(day) || parsed.minutesByWeekday[isoWeekday(day)]!.length === 0;
  const stretchOf = new Map<number, number>();
  for (const holiday of [...parsed.holidays].filter((d) => d > fromDay).sort((a, b) => a - b)) {
    let first = holiday;
    while (first - 1 > fromDay && closed(first - 1)) {
      first--;
      // An earlier holiday of the same stretch already knows where it begins.
      const known = stretchOf.get(first);
      if (known !== undefined) {
        first = known;
        break;
      }
    }
    stretchOf.set(holiday, first);
  }
  return [...new Set(stretchOf.values())].map((day) => instantOfWallTime(parsed.zone, day * DAY));
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

/** Read calendars by object: policies are data that is not changed once loaded. */
const readCalendars = new WeakMap<BusinessCalendar, ParsedCalendar>();

function parseCalendar(calendar: BusinessCalendar): ParsedCalendar {
  const known = readCalendars.get(calendar);
  if (known) return known;
  const { parsed, problems } = readCalendar(calendar);
  if (problems.length) throw new Error(`business calendar: ${problems[0]!.message}`);
  readCalendars.set(calendar, parsed);
  return parsed;
}

/**
 * The one reading of a calendar's data, for the arithmetic above and for calendarProblems: every
 * problem in the order the arithmetic would trip over it, and the calendar as far as it is usable.
 */
function readCalendar(calendar: BusinessCalendar): { parsed: ParsedCalendar; problems: CalendarProblem[] } {
  const problems: CalendarProblem[] = [];
  const zone = IANAZone.create(calendar.timeZone);
  if (!zone.isValid) {
    problems.push({
      path: ['timeZone'],
      message: `unknown time zone "${calendar.timeZone}"; use an IANA name such as "Europe/Amsterdam"`,
    });
  }
  const minutesByWeekday: Array<Array<[number, number]>> = Array.from({ length: 8 }, () => []);
  let hasOpeningHours = false;
  const weeklyHours = Object.entries(calendar.weeklyHours) as Array<[Weekday, OpeningInterval[] | undefined]>;
  for (const [weekday, intervals] of weeklyHours) {
    const iso = ISO_WEEKDAY[weekday];
    if (iso === undefined) {
      problems.push({
        path: ['weeklyHours', weekday],
        message: `unknown weekday "${weekday}"; use mon, tue, wed, thu, fri, sat or sun`,
      });
      continue;
    }
    const ranges: Array<[number, number]> = [];
    (intervals ?? []).forEach((interval, i) => {
      const start = parseWallClock(interval.start, weekday);
      const end = parseWallClock(interval.end, weekday);
      if (typeof start === 'string') problems.push({ path: ['weeklyHours', weekday, i, 'start'], message: start });
      if (typeof end === 'string') problems.push({ path: ['weeklyHours', weekday, i, 'end'], message: end });
      if (typeof start === 'string' || typeof end === 'string') return;
      if (end <= start) {
        problems.push({
          path: ['weeklyHours', weekday, i],
          message:
            `${weekday} ${interval.start}–${interval.end} ends before it starts; ` +
            'split a night shift into "…–24:00" and "00:00–…" on the next day',
        });
        return;
      }
      ranges.push([start, end]);
    });
    minutesByWeekday[iso] = mergeRanges(ranges);
    hasOpeningHours ||= ranges.length > 0;
  }
  const holidays = new Set<number>();
  calendar.holidays.forEach((date, i) => {
    const parsed = DateTime.fromFormat(date, 'yyyy-MM-dd', { zone: 'utc' });
    if (!parsed.isValid) {
      problems.push({ path: ['holidays', i], message: `holiday "${date}" is not a date; write it as YYYY-MM-DD` });
      return;
    }
    holidays.add(Math.round(parsed.toMillis() / DAY));
  });
  return { parsed: { zone, minutesByWeekday, holidays, hasOpeningHours, spans: new Map() }, problems };
}

/** "HH:mm" (00:00–24:00) to minutes since local midnight, or what is wrong with it. */
function parseWallClock(text: string, weekday: Weekday): number | string {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  if (!match || Number(match[2]) > 59 || !(minutes <= 24 * 60)) {
    return `${weekday} time "${text}" is not "HH:mm" between 00:00 and 24:00`;
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
