// The SLA clock: how much of a target a ticket has used, when it falls due, warns and breaches,
// given when it started, when it was paused and when it was met. Pure: `now` is always an argument.
import { addBusinessMs, businessMsBetween } from './calendar';
import type { WarningRung } from './escalation';
import type { BusinessCalendar, SlaTarget, TicketPolicy, Tier } from './policy';

/** A stretch during which the clock does not count; `to` undefined = still paused. */
export interface Pause {
  from: number;
  to?: number;
}

export type SlaStatus = 'running' | 'paused' | 'met' | 'breached' | 'met-late';

export interface SlaClockState {
  target: SlaTarget;
  startedAt: number;
  /** When the target runs out; null while the clock is paused (it is not known yet). */
  dueAt: number | null;
  /** When warningShare of the target has been used; null while paused. */
  warnAt: number | null;
  /** The warning ladder: when each of warningShares (default [warningShare]) is used up. */
  warnings: WarningRung[];
  /** Counted (calendar or business, pauses excluded) time used so far (up to metAt if met). */
  elapsedMs: number;
  /** target.withinMs - elapsedMs, never below 0. */
  remainingMs: number;
  /** Counted time reached withinMs before the target was met (or, if not met, by now). */
  breached: boolean;
  /** The moment counted time reached withinMs, if it did. */
  breachedAt: number | null;
  metAt: number | null;
  paused: boolean;
  status: SlaStatus;
}

export interface SlaClockInput {
  target: SlaTarget;
  calendars: Record<string, BusinessCalendar>;
  warningShare: number;
  /** Several warnings, e.g. [0.5, 0.75, 0.9]; default [warningShare]. */
  warningShares?: readonly number[];
  startedAt: number;
  /** May be empty, overlap or be unsorted; time before startedAt is ignored. */
  pauses: Pause[];
  metAt?: number | null;
}

/**
 * The clock as it stands at `now`. Only what is known at `now` counts: a met time after `now` is not met
 * yet, and a pause that ends after `now` is still open.
 */
export function slaClock(input: SlaClockInput, now: number): SlaClockState {
  const { target, startedAt } = input;
  if (!Number.isFinite(target.withinMs) || target.withinMs < 0) {
    throw new RangeError(`SLA target withinMs must be a finite number >= 0, got ${target.withinMs}`);
  }
  if (!(input.warningShare >= 0 && input.warningShare <= 1)) {
    throw new RangeError(`warningShare must be between 0 and 1 (0.75 = warn at 75 %), got ${input.warningShare}`);
  }
  const counted = countedTime(target, input.calendars);
  const metAt = input.metAt != null && input.metAt <= now ? input.metAt : null;
  // A met clock stops at metAt: later pauses cannot move its due time any more.
  const stopAt = metAt ?? now;
  const { segments, pausedAtEnd } = activeSegments(startedAt, input.pauses, stopAt);

  let elapsedMs = 0;
  for (const segment of segments) {
    elapsedMs += counted.between(segment.from, Math.min(segment.to, stopAt));
  }
  const dueAt = momentReached(segments, counted, target.withinMs);
  // Whole milliseconds, rounded up so the warning never goes out before its share is used.
  const warnAt = momentReached(segments, counted, Math.ceil(target.withinMs * input.warningShare));
  const warnings = (input.warningShares ?? [input.warningShare]).map((share) => ({
    share,
    at: share === input.warningShare ? warnAt : momentReached(segments, counted, Math.ceil(target.withinMs * share)),
  }));

  // Met exactly at the due time is in time; otherwise reaching the due time is a breach (`>=`, not `>`).
  const breachedAt = dueAt !== null && (metAt !== null ? dueAt < metAt : dueAt <= now) ? dueAt : null;
  const breached = breachedAt !== null;
  const paused = metAt === null && pausedAtEnd;
  const status: SlaStatus =
    metAt !== null ? (breached ? 'met-late' : 'met') : breached ? 'breached' : paused ? 'paused' : 'running';

  return {
    target,
    startedAt,
    dueAt,
    warnAt,
    warnings,
    elapsedMs,
    remainingMs: Math.max(0, target.withinMs - elapsedMs),
    breached,
    breachedAt,
    metAt,
    paused,
    status,
  };
}

/** Counted time for a target: every millisecond, or only the opening hours of its calendar. */
interface CountedTime {
  between(fromMs: number, toMs: number): number;
  /** Earliest moment at which `ms` counted time has passed since fromMs. */
  after(fromMs: number, ms: number): number;
}

function countedTime(target: SlaTarget, calendars: Record<string, BusinessCalendar>): CountedTime {
  if (target.clock === 'calendar') {
    return { between: (from, to) => Math.max(0, to - from), after: (from, ms) => from + ms };
  }
  // hasOwn: a calendar named like an Object method ("toString") must not resolve to one.
  const calendar =
    target.calendar !== undefined && Object.hasOwn(calendars, target.calendar) ? calendars[target.calendar] : undefined;
  if (!calendar) {
    const known = Object.keys(calendars).join(', ') || 'none';
    throw new Error(
      target.calendar === undefined
        ? 'a business-time SLA target needs a `calendar` name'
        : `SLA target uses business calendar "${target.calendar}", which the policy does not define (known: ${known})`,
    );
  }
  return {
    between: (from, to) => businessMsBetween(calendar, from, to),
    after: (from, ms) => addBusinessMs(calendar, from, ms),
  };
}

/** A stretch in which the clock runs; `to` is Infinity for the open-ended last one. */
interface Segment {
  from: number;
  to: number;
}

/**
 * The stretches after startedAt that are not paused, as known at stopAt. A pause still open at stopAt
 * (or ending after it) leaves no open-ended segment: the clock is paused at its end.
 */
function activeSegments(
  startedAt: number,
  pauses: Pause[],
  stopAt: number,
): { segments: Segment[]; pausedAtEnd: boolean } {
  const known = pauses
    .filter((pause) => pause.from <= stopAt)
    .map((pause) => ({
      from: Math.max(pause.from, startedAt),
      to: pause.to === undefined || pause.to > stopAt ? Infinity : pause.to,
    }))
    .filter((pause) => pause.to > pause.from)
    .sort((a, b) => a.from - b.from);

  const segments: Segment[] = [];
  let cursor = startedAt;
  for (const pause of known) {
    if (pause.from > cursor) segments.push({ from: cursor, to: pause.from });
    cursor = Math.max(cursor, pause.to); // overlapping pauses merge here
  }
  if (cursor !== Infinity) segments.push({ from: cursor, to: Infinity });
  return { segments, pausedAtEnd: cursor === Infinity };
}

/**
 * Walks the running stretches from the start until `amount` counted time has passed. Null when the
 * clock is paused before getting there: the moment depends on when it resumes.
 */
function momentReached(segments: Segment[], counted: CountedTime, amount: number): number | null {
  let left = amount;
  for (const segment of segments) {
    if (segment.to === Infinity) return counted.after(segment.from, left);
    const available = counted.between(segment.from, segment.to);
    if (available >= left) return counted.after(segment.from, left);
    left -= available;
  }
  return null;
}

export type TicketSlaEvent =
  | { type: 'created'; at: number; tier: Tier }
  | { type: 'acknowledged'; at: number }
  | { type: 'paused'; at: number } // desk waits on the requester
  | { type: 'resumed'; at: number }
  | { type: 'retiered'; at: number; tier: Tier }
  | { type: 'handedOff'; at: number }
  | { type: 'resolved'; at: number }
  | { type: 'reopened'; at: number };

type CreatedEvent = Extract<TicketSlaEvent, { type: 'created' }>;

export interface TicketSlaClocks {
  acknowledge: SlaClockState;
  /** 'resolve' for tiers 1 and 2; 'handoff' for tier 3. */
  resolutionKind: 'resolve' | 'handoff';
  resolution: SlaClockState;
}

/**
 * Both clocks of a ticket from its history (events in time order). Events after `now` are not known
 * yet and are ignored.
 */
export function ticketSlaClocks(events: TicketSlaEvent[], policy: TicketPolicy, now: number): TicketSlaClocks {
  const known = events.filter((event) => event.at <= now);
  const created = known.find((event): event is CreatedEvent => event.type === 'created');
  if (!created) throw new Error("ticketSlaClocks: the ticket has no 'created' event (at or before now)");

  const acknowledged = known.find((event) => event.type === 'acknowledged');
  const acknowledge = slaClock(
    {
      target: policy.acknowledge,
      calendars: policy.calendars,
      warningShare: policy.warningShare,
      warningShares: policy.warningShares,
      startedAt: created.at,
      pauses: [],
      metAt: acknowledged?.at ?? null,
    },
    now,
  );

  // The tier is whatever the latest re-tier says, even one from an earlier episode.
  let tier = created.tier;
  for (const event of known) if (event.type === 'retiered') tier = event.tier;

  // A reopen starts a fresh resolution episode: earlier pauses and resolutions no longer count.
  let episodeStart = known.indexOf(created);
  known.forEach((event, index) => {
    if (event.type === 'reopened' && index > episodeStart) episodeStart = index;
  });
  const episode = known.slice(episodeStart);

  const pauses: Pause[] = [];
  let openPause: Pause | null = null;
  let resolvedAt: number | null = null;
  let firstHandOffOrResolution: number | null = null;
  for (const event of episode) {
    if (event.type === 'paused' && !openPause) {
      openPause = { from: event.at };
      pauses.push(openPause);
    } else if (event.type === 'resumed' && openPause) {
      openPause.to = event.at;
      openPause = null;
    } else if (event.type === 'resolved' || event.type === 'handedOff') {
      if (event.type === 'resolved') resolvedAt = event.at;
      firstHandOffOrResolution ??= event.at;
    }
  }

  const resolutionKind = tier === 3 ? 'handoff' : 'resolve';
  const resolution = slaClock(
    {
      target: policy.resolve[tier],
      calendars: policy.calendars,
      warningShare: policy.warningShare,
      warningShares: policy.warningShares,
      startedAt: episode[0].at,
      pauses,
      metAt: resolutionKind === 'handoff' ? firstHandOffOrResolution : resolvedAt,
    },
    now,
  );
  return { acknowledge, resolutionKind, resolution };
}
