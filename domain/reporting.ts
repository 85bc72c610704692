// What the reports are made of: the type of every timeline entry (the reporting contract's `type`,
// README "Reports") and a ticket's measured times. Pure, no Node imports: the ticket workflow measures
// its ticket with it, the projection activity types the entries with it.
import { businessMsBetween } from './calendar';
import type { SlaStatus, TicketSlaClocks, TicketSlaEvent } from './sla-clock';
import type { TicketPolicy } from './policy';

/** Every type an entry of desk_events can have; `noted` is anything a report does not count. */
export const REPORT_EVENT_TYPES = [
  'created', 'acknowledged', 'replied', 'requester-replied', 'paused', 'resumed', 'held', 'hold-ended',
  'retiered', 'assigned', 'warned', 'escalated', 'breached', 'handed-off', 'hand-off-confirmed',
  'resolved', 'reopened', 'closed', 'satisfaction', 'paged', 'crisis', 'stage-moved', 'responded',
  'disclosure-requested', 'disclosure-published', 'follow-up-opened', 'follow-up-closed', 'noted',
] as const;
export type ReportEventType = (typeof REPORT_EVENT_TYPES)[number];

export interface TypedEvent {
  type: ReportEventType;
  /** An escalation's or a page's level. */
  level?: number;
  /** The SLA target a warning or breach is about: acknowledgement, resolution, hand-off, response. */
  target?: string;
  /** A re-tier's new tier; a stage move's new stage (as written on the timeline). */
  to?: string;
  from?: string;
}

/** Timeline words → type, in order; the first that matches wins. Unknown words are `noted`, never an error. */
const RULES: Array<[RegExp, (m: RegExpMatchArray) => TypedEvent]> = [
  [/^(created|raised|reported)$/, () => ({ type: 'created' })],
  [/^acknowledged$/, () => ({ type: 'acknowledged' })],
  [/^agent replied$/, () => ({ type: 'replied' })],
  [/^requester replied( after resolution)?$/, () => ({ type: 'requester-replied' })],
  [/^waiting on the requester$/, () => ({ type: 'paused' })],
  [/^resumed$/, () => ({ type: 'resumed' })],
  [/^(waiting|blocked)$/, (m) => ({ type: 'held', to: m[1] })],
  [/^(waiting|blocked) ended$/, (m) => ({ type: 'hold-ended', from: m[1] })],
  [/^tier (\d) → (\d)$/, (m) => ({ type: 'retiered', from: m[1], to: m[2] })],
  [/^(assigned|taken)$/, () => ({ type: 'assigned' })],
  [/^(\S+) warning$/, (m) => ({ type: 'warned', target: m[1] })],
  [/^escalated (\S+) to level (\d+)$/, (m) => ({ type: 'escalated', target: m[1], level: Number(m[2]) })],
  [/^escalated to level (\d+)$/, (m) => ({ type: 'escalated', level: Number(m[1]) })],
  [/^escalated by an agent$/, () => ({ type: 'escalated', level: 0 })],
  [/^response target breached$/, () => ({ type: 'breached', target: 'response' })],
  [/^(\S+) breached$/, (m) => ({ type: 'breached', target: m[1] })],
  [/^handed off$/, () => ({ type: 'handed-off' })],
  [/^hand-off confirmed$/, () => ({ type: 'hand-off-confirmed' })],
  [/^resolved$/, () => ({ type: 'resolved' })],
  [/^reopened$/, () => ({ type: 'reopened' })],
  [/^closed$/, () => ({ type: 'closed' })],
  [/^satisfaction rated$/, () => ({ type: 'satisfaction' })],
  [/^paged level (\d+)$/, (m) => ({ type: 'paged', level: Number(m[1]) })],
  [/^crisis declared$/, () => ({ type: 'crisis' })],
  [/^(.+) → (.+)$/, (m) => ({ type: 'stage-moved', from: m[1], to: m[2] })],
  [/^responded$/, () => ({ type: 'responded' })],
  [/^disclosure requested$/, () => ({ type: 'disclosure-requested' })],
  [/^disclosure published$/, () => ({ type: 'disclosure-published' })],
  [/^follow-up task opened$/, () => ({ type: 'follow-up-opened' })],
  [/^follow-up closed$/, () => ({ type: 'follow-up-closed' })],
];

export function typeOfEntry(event: string): TypedEvent {
  for (const [pattern, typed] of RULES) {
    const m = event.match(pattern);
    if (m) return typed(m);
  }
  return { type: 'noted' };
}

/** How an SLA target stands, for attainment: `met-late` was breached, `paused` is still in progress. */
export type Attainment = 'met' | 'breached' | 'in-progress';

export function attainmentOf(status: SlaStatus): Attainment {
  if (status === 'met') return 'met';
  if (status === 'breached' || status === 'met-late') return 'breached';
  return 'in-progress';
}

/** A ticket's times as the reports count them (README "Reports"); null until the moment is reached. */
export interface TicketMeasures {
  /** Created → the first answer to the requester (Zendesk's first reply time). */
  firstReplyMs: number | null;
  firstReplyBusinessMs: number | null;
  /** Created → the latest resolution, less the time spent waiting on the requester (full resolution time). */
  resolutionMs: number | null;
  resolutionBusinessMs: number | null;
  /** Time spent waiting on the requester so far (counted until now while still waiting). */
  pausedMs: number;
  acknowledgeSla: Attainment;
  resolutionSla: Attainment;
  /** `hand-off` for tier 3 (its target is the hand-off), else `resolution`. */
  resolutionTarget: 'resolution' | 'hand-off';
  reopens: number;
}

/**
 * The calendar business times are counted in: the one the ticket's own targets use, else the policy's
 * first; undefined when the policy has none (business times are then null).
 */
export function measuringCalendar(policy: TicketPolicy): string | undefined {
  const named = [policy.acknowledge, ...Object.values(policy.resolve)].find((t) => t.calendar && policy.calendars[t.calendar]);
  return named?.calendar ?? Object.keys(policy.calendars)[0];
}

/** A ticket's measured times as they stand at `now` (ticketMeasures without the targets' standing). */
export type TicketTimes = Omit<TicketMeasures, 'acknowledgeSla' | 'resolutionSla' | 'resolutionTarget'>;

export function ticketMeasures(events: readonly TicketSlaEvent[], clocks: TicketSlaClocks, policy: TicketPolicy, now: number): TicketMeasures {
  return {
    ...ticketTimes(events, policy, now),
    acknowledgeSla: attainmentOf(clocks.acknowledge.status),
    resolutionSla: attainmentOf(clocks.resolution.status),
    resolutionTarget: clocks.resolutionKind === 'handoff' ? 'hand-off' : 'resolution',
  };
}

export function ticketTimes(events: readonly TicketSlaEvent[], policy: TicketPolicy, now: number): TicketTimes {
  const name = measuringCalendar(policy);
  const calendar = name === undefined ? undefined : policy.calendars[name];
  const business = (from: number, to: number) => (calendar ? businessMsBetween(calendar, from, to) : null);

  const created = events[0]!.at;
  const pauses: Array<{ from: number; to: number }> = [];
  let pausedSince: number | null = null;
  let acknowledgedAt: number | null = null;
  let resolvedAt: number | null = null;
  let reopens = 0;
  for (const e of events) {
    if (e.at > now) break;
    if (e.type === 'acknowledged') acknowledgedAt ??= e.at;
    else if (e.type === 'paused' && pausedSince === null) pausedSince = e.at;
    else if (e.type === 'resumed' && pausedSince !== null) {
      pauses.push({ from: pausedSince, to: e.at });
      pausedSince = null;
    } else if (e.type === 'resolved') {
      if (pausedSince !== null) pauses.push({ from: pausedSince, to: e.at });
      pausedSince = null;
      resolvedAt = e.at;
    } else if (e.type === 'reopened') {
      resolvedAt = null;
      reopens += 1;
    }
  }
  if (pausedSince !== null) pauses.push({ from: pausedSince, to: now });
  const pausedBefore = (until: number, measure: (from: number, to: number) => number | null) =>
    pauses.reduce((sum, p) => (sum === null || p.from >= until ? sum : addOrNull(sum, measure(p.from, Math.min(p.to, until)))), 0 as number | null);
  const counted = (until: number, measure: (from: number, to: number) => number | null) => {
    const whole = measure(created, until);
    const paused = pausedBefore(until, measure);
    return whole === null || paused === null ? null : Math.max(0, whole - paused);
  };
  const calendarMs = (from: number, to: number) => to - from;
  return {
    firstReplyMs: acknowledgedAt === null ? null : acknowledgedAt - created,
    firstReplyBusinessMs: acknowledgedAt === null ? null : business(created, acknowledgedAt),
    resolutionMs: resolvedAt === null ? null : counted(resolvedAt, calendarMs),
    resolutionBusinessMs: resolvedAt === null ? null : counted(resolvedAt, business),
    pausedMs: pauses.reduce((sum, p) => sum + (p.to - p.from), 0),
    reopens,
  };
}

const addOrNull = (a: number, b: number | null): number | null => (b === null ? null : a + b);
