// The ticket's process as pure functions over TicketState: which action is allowed now (and if not,
// why), what each action and each passing deadline changes, and which notifications follow. No clock
// of its own (`now` is an argument) and no I/O: the workflow (workflows/ticket.ts) runs it, the tests
// drive it directly too.
import { formatDuration } from './format';
import { chainRanOut, chainSteps, dueSteps, dueWarnings, nextChainMoment, nextWarning } from './escalation';
import type { TicketPolicy, Tier } from './policy';
import { ticketSlaClocks, type SlaClockState, type TicketSlaClocks, type TicketSlaEvent } from './sla-clock';
import { ticketMeasures, ticketTimes } from './reporting';
import { recordEntry, type TimelineEntry } from './timeline';
import type {
  EscalationRun,
  MessageRef,
  NotificationKind,
  Satisfaction,
  SlaName,
  TicketIntake,
  TicketProjection,
  TicketState,
} from './ticket';

/** Everything people and systems can do to a ticket; the last two arrive as signals. */
export type TicketCommand =
  | { type: 'acknowledge'; by: string }
  | { type: 'reply'; by: string; role: 'agent' | 'requester'; message: MessageRef }
  | { type: 'take'; agent: string }
  | { type: 'assign'; by: string; assignee: string }
  | { type: 'change-tier'; by: string; tier: Tier; reason: string }
  | { type: 'wait-on-requester'; by: string; question: MessageRef }
  | { type: 'hand-off'; by: string; team: string; reason: string }
  | { type: 'resolve'; by: string; resolution: MessageRef }
  | { type: 'reopen'; by: string; reason: string }
  | { type: 'close'; by: string }
  | { type: 'escalate'; by: string; reason: string }
  | { type: 'satisfaction'; resolved: boolean; score: number; comment?: string }
  | { type: 'requester-replied'; message: MessageRef; source: string }
  | { type: 'hand-off-confirmed'; team: string; by: string };

/** A notification the ticket wants sent; `step` becomes part of its idempotency key. */
export interface NotificationIntent {
  step: string;
  kind: NotificationKind;
  audience: 'requester' | 'desk';
  recipients: string[];
  text: string;
  messageId?: string;
  /** An escalation step: when it was due (the escalation lag metric measures from it). */
  dueAt?: number;
}

/** What follows from a change: notifications, and the satisfaction answers to file in the feedback project. */
export interface TicketEffects {
  notifications: NotificationIntent[];
  feedback?: { step: string; satisfaction: Satisfaction };
}

/** Escalation steps kept in the state; older ones are counted (escalationCount) and in item_events. */
const ESCALATIONS_KEPT = 50;

export function openTicket(ticket: TicketIntake, now: number): TicketState {
  return {
    ticket,
    status: 'open',
    tier: ticket.tier,
    assignee: null,
    createdAt: now,
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    resolution: null,
    handOff: null,
    satisfaction: null,
    slaEvents: [{ type: 'created', at: now, tier: ticket.tier }],
    timeline: [],
    recorded: 0,
    breaches: [],
    escalations: [],
    escalationCount: 0,
    escalating: {},
    manualRuns: 0,
    warned: [],
    messages: 0,
    version: 0,
  };
}

// ---- reading the state ----------------------------------------------------------------------------

export const clocksOf = (t: TicketState, policy: TicketPolicy, now: number): TicketSlaClocks =>
  ticketSlaClocks(t.slaEvents, policy, now);

/** Resolution episodes restart at each reopen. */
export const episodeOf = (t: TicketState): number => t.slaEvents.filter((e) => e.type === 'reopened').length;

export const isBreached = (c: TicketSlaClocks): boolean => c.acknowledge.breached || c.resolution.breached;

export const isActive = (t: TicketState): boolean => t.status !== 'resolved' && t.status !== 'closed';

export function slaLabel(sla: SlaName, tier: Tier): string {
  if (sla === 'acknowledge') return 'acknowledgement';
  return tier === 3 ? 'hand-off' : 'resolution';
}

const notActiveReason = (t: TicketState): string =>
  t.status === 'resolved' ? 'the ticket is resolved; reopen it first' : 'the ticket is closed';

/** Why `command` is not allowed now, or null when it is. Validators turn a reason into a 409. */
export function refusal(t: TicketState, policy: TicketPolicy, command: TicketCommand, now: number): string | null {
  const active = isActive(t);
  switch (command.type) {
    case 'acknowledge':
      if (t.acknowledgedAt !== null) return `the ticket was already acknowledged (status ${t.status})`;
      return active ? null : notActiveReason(t);
    case 'reply':
      return active ? null : notActiveReason(t);
    case 'take':
      if (t.status !== 'open' && t.status !== 'acknowledged') return `the ticket is ${t.status}`;
      if (t.assignee !== null && t.assignee !== command.agent) return `the ticket is assigned to ${t.assignee}`;
      return null;
    case 'assign':
      if (!active) return notActiveReason(t);
      return t.assignee === command.assignee ? `the ticket is already assigned to ${command.assignee}` : null;
    case 'change-tier':
      if (!active) return notActiveReason(t);
      if (t.status === 'handed-off') return 'the ticket was handed off to a centre of expertise';
      return command.tier === t.tier ? `the ticket is already tier ${command.tier}` : null;
    case 'wait-on-requester':
      if (t.status === 'waiting-on-requester') return 'the desk is already waiting on the requester';
      if (t.status === 'handed-off') return 'the ticket was handed off to a centre of expertise';
      return active ? null : notActiveReason(t);
    case 'hand-off':
      if (!active) return notActiveReason(t);
      if (t.status === 'handed-off') return `the ticket was already handed off to ${t.handOff?.team}`;
      return t.tier === 3 ? null : 'only tier-3 tickets are handed off; change the tier to 3 first';
    case 'resolve':
      return active ? null : notActiveReason(t);
    case 'reopen':
      if (t.status !== 'resolved') return `only a resolved ticket can be reopened (status ${t.status})`;
      return now < t.resolvedAt! + policy.reopenWindowMs
        ? null
        : `the reopen window of ${formatDuration(policy.reopenWindowMs)} has passed; file a new ticket`;
    case 'close':
      return t.status === 'closed' ? 'the ticket is already closed' : null;
    case 'escalate': {
      if (!active) return notActiveReason(t);
      // The chain would stop at once: a paused or met clock ends any escalation.
      if (t.status === 'waiting-on-requester') return 'the desk is waiting on the requester (the clock is paused)';
      if (t.status === 'handed-off') return 'the ticket was handed off to a centre of expertise';
      // A chain that ran out (or is held) does not stand in the way of escalating again.
      const running = t.escalating.resolution;
      return running && !running.ended && running.suspendedAt === undefined
        ? `the ticket is already escalating (level ${currentLevel(policy, running)})`
        : null;
    }
    case 'satisfaction':
      if (t.status !== 'resolved') return 'the satisfaction pulse is open once the ticket is resolved';
      return t.satisfaction === null ? null : 'the requester already answered the satisfaction pulse';
    case 'requester-replied':
    case 'hand-off-confirmed':
      return null; // signals: what does not apply is ignored in apply()
  }
}

/** The level the run notified last (1-based). */
function currentLevel(policy: TicketPolicy, run: EscalationRun): number {
  return chainSteps(policy.escalationChain, run).steps[run.taken - 1]?.level ?? run.fromLevel + 1;
}

// ---- changing the state ---------------------------------------------------------------------------

/** Applies an allowed command at `now`; returns the notifications (and feedback) that follow. */
export function apply(t: TicketState, policy: TicketPolicy, command: TicketCommand, now: number): TicketEffects {
  const out: TicketEffects = { notifications: [] };
  const record = (event: string, by?: string, note?: string, messageId?: string) => recordEntry(t, now, event, by, note, messageId);
  const notify = (kind: NotificationKind, audience: 'requester' | 'desk', recipients: string[], text: string, messageId?: string) =>
    out.notifications.push({ step: `${kind}:${t.version}`, kind, audience, recipients, text, ...(messageId ? { messageId } : {}) });
  const slaEvent = (event: TicketSlaEvent) => t.slaEvents.push(event);

  /** Stamps the entry with the time the first answer or the resolution took (domain/reporting.ts). */
  const measured = (entry: TimelineEntry, which: 'first-reply' | 'resolution') => {
    const times = ticketTimes(t.slaEvents, policy, now);
    const elapsedMs = which === 'first-reply' ? times.firstReplyMs : times.resolutionMs;
    const businessMs = which === 'first-reply' ? times.firstReplyBusinessMs : times.resolutionBusinessMs;
    if (elapsedMs !== null) entry.measured = { elapsedMs, businessMs };
  };
  /** Any first answer to the requester counts as the acknowledgement. */
  const acknowledgeIfNeeded = (by: string) => {
    if (t.acknowledgedAt !== null) return;
    t.acknowledgedAt = now;
    slaEvent({ type: 'acknowledged', at: now });
    if (t.status === 'open') t.status = 'acknowledged';
    measured(record('acknowledged', by), 'first-reply');
  };
  const resumeIfWaiting = (by: string, note?: string) => {
    if (t.status !== 'waiting-on-requester') return;
    slaEvent({ type: 'resumed', at: now });
    t.status = 'acknowledged';
    record('resumed', by, note);
  };
  const requesterReplied = (message: MessageRef, by: string) => {
    t.messages += 1;
    record('requester replied', by, message.preview, message.id);
    resumeIfWaiting(by, 'the requester answered');
    notify('reply', 'desk', deskRecipients(t, policy), `The requester answered on ticket ${t.ticket.id}.`);
  };

  switch (command.type) {
    case 'acknowledge':
      acknowledgeIfNeeded(command.by);
      notify('acknowledgement', 'requester', [], `We have your request "${t.ticket.subject}" and are on it.`);
      break;
    case 'reply':
      if (command.role === 'requester') {
        requesterReplied(command.message, command.by);
        break;
      }
      acknowledgeIfNeeded(command.by);
      t.messages += 1;
      record('agent replied', command.by, command.message.preview, command.message.id);
      notify('reply', 'requester', [], command.message.preview, command.message.id);
      break;
    case 'requester-replied': {
      const by = `requester via ${command.source}`;
      if (t.status === 'resolved') {
        // Not lost: the desk hears of it and may reopen the ticket.
        t.messages += 1;
        record('requester replied after resolution', by, command.message.preview, command.message.id);
        notify('reply', 'desk', deskRecipients(t, policy), `The requester wrote on resolved ticket ${t.ticket.id}; reopen it if needed.`);
      } else if (isActive(t)) requesterReplied(command.message, by);
      break;
    }
    case 'take':
      if (t.assignee !== command.agent) {
        t.assignee = command.agent;
        record('taken', command.agent);
      }
      break;
    case 'assign':
      t.assignee = command.assignee;
      record('assigned', command.by, command.assignee);
      break;
    case 'change-tier':
      slaEvent({ type: 'retiered', at: now, tier: command.tier });
      record(`tier ${t.tier} → ${command.tier}`, command.by, command.reason);
      t.tier = command.tier;
      break;
    case 'wait-on-requester':
      acknowledgeIfNeeded(command.by);
      slaEvent({ type: 'paused', at: now });
      t.status = 'waiting-on-requester';
      t.messages += 1;
      record('waiting on the requester', command.by, command.question.preview, command.question.id);
      notify('question', 'requester', [], command.question.preview, command.question.id);
      break;
    case 'hand-off':
      resumeIfWaiting(command.by);
      acknowledgeIfNeeded(command.by);
      slaEvent({ type: 'handedOff', at: now });
      t.status = 'handed-off';
      t.handOff = { team: command.team, reason: command.reason, at: now, confirmedAt: null };
      record('handed off', command.by, `${command.team}: ${command.reason}`);
      notify('hand-off', 'desk', [command.team], `Ticket ${t.ticket.id} is handed off to you: ${command.reason}`);
      break;
    case 'hand-off-confirmed':
      if (!t.handOff || t.handOff.confirmedAt !== null) break;
      t.handOff.confirmedAt = now;
      record('hand-off confirmed', command.by, command.team);
      break;
    case 'resolve':
      resumeIfWaiting(command.by);
      acknowledgeIfNeeded(command.by);
      slaEvent({ type: 'resolved', at: now });
      t.status = 'resolved';
      t.resolvedAt = now;
      t.resolution = command.resolution;
      measured(record('resolved', command.by, command.resolution.preview, command.resolution.id), 'resolution');
      notify('resolution', 'requester', [], command.resolution.preview, command.resolution.id);
      notify(
        'satisfaction-survey',
        'requester',
        [],
        'Two questions, one minute: did we resolve your request (yes/no), and how satisfied are you (1-5)?',
      );
      break;
    case 'reopen':
      slaEvent({ type: 'reopened', at: now });
      t.status = 'acknowledged';
      t.resolvedAt = null;
      t.resolution = null;
      t.satisfaction = null;
      record('reopened', command.by, command.reason);
      notify('reopened', 'desk', deskRecipients(t, policy), `Ticket ${t.ticket.id} was reopened: ${command.reason}`);
      break;
    case 'close':
      resumeIfWaiting(command.by);
      t.status = 'closed';
      t.closedAt = now;
      record('closed', command.by);
      break;
    case 'escalate':
      // Starts the resolution clock's chain at level 1 now, as if the target had been missed.
      t.manualRuns += 1;
      record('escalated by an agent', command.by, command.reason);
      if (t.escalating.resolution?.suspendedAt !== undefined) {
        record('escalation of resolution stopped', 'system', 'replaced by an agent’s escalation');
      }
      t.escalating.resolution = {
        episode: episodeOf(t),
        key: `m${t.manualRuns}`,
        startedAt: now,
        fromLevel: 0,
        taken: 0,
        manual: { by: command.by, reason: command.reason },
        // The target was missed before (the chain that escalated it ran out or is held): the pages say so.
        ...(t.breaches.some((b) => b.sla === 'resolution' && b.episode === episodeOf(t)) ? { breached: true } : {}),
      };
      out.notifications.push(...takeDueSteps(t, policy, 'resolution', now));
      break;
    case 'satisfaction': {
      const { resolved, score, comment } = command;
      t.satisfaction = { resolved, score, ...(comment ? { comment } : {}), at: now };
      record('satisfaction rated', 'requester', `${resolved ? 'resolved' : 'not resolved'}, ${score}/5`);
      out.feedback = { step: `satisfaction-feedback:${episodeOf(t)}`, satisfaction: t.satisfaction };
      break;
    }
  }
  return out;
}

export function deskRecipients(t: TicketState, policy: TicketPolicy): string[] {
  return t.assignee ? [t.assignee] : policy.warningRecipients ?? ['#support-desk'];
}

// ---- what time does: warnings, breaches, the escalation chain, closing -------------------------------

/**
 * Everything due at `now`: each warning rung once, each breach once (escalating from the moment it was
 * due, not from when this runs), each step of a running chain once, and the close at the end of the
 * reopen window. `clocks` are the ticket's clocks at `now`.
 */
export function dueWork(t: TicketState, policy: TicketPolicy, clocks: TicketSlaClocks, now: number): NotificationIntent[] {
  if (t.status === 'closed') return [];
  const out = [
    ...checkClock(t, policy, 'acknowledge', clocks.acknowledge, 0, now),
    ...checkClock(t, policy, 'resolution', clocks.resolution, episodeOf(t), now),
  ];
  if (t.status === 'resolved' && t.resolvedAt !== null && now >= t.resolvedAt + policy.reopenWindowMs) {
    t.status = 'closed';
    t.closedAt = now;
    recordEntry(t, now, 'closed', 'system', 'the reopen window ran out');
  }
  return out;
}

function checkClock(t: TicketState, policy: TicketPolicy, sla: SlaName, clock: SlaClockState, episode: number, now: number): NotificationIntent[] {
  const out: NotificationIntent[] = [];
  let run = t.escalating[sla];
  if (run && run.episode !== episode) {
    // A reopen started a new episode: the old episode's chain is over.
    delete t.escalating[sla];
    run = undefined;
  }
  if (clock.metAt !== null) {
    if (run) {
      delete t.escalating[sla];
      recordEntry(t, now, `escalation of ${sla} stopped`, 'system', 'target met');
    }
    return out;
  }
  if (clock.paused) {
    // Waiting on the requester: the chain holds where it is, and goes on when the clock runs again.
    if (run) suspend(t, run, sla, now, 'clock paused');
    return out;
  }
  if (!clock.breached) {
    for (const rung of dueWarnings(clock.warnings, sentShares(t, sla, episode, clock), now)) {
      const left = clock.target.withinMs - Math.ceil(clock.target.withinMs * rung.share);
      t.warned.push(warningKey(sla, episode, clock, rung.share));
      recordEntry(t, now, `${sla} warning`, 'system', `${formatDuration(left)} left`);
      out.push({
        step: `warning:${sla}:${episode}:${clock.target.withinMs}:${rung.share}`,
        kind: 'warning',
        audience: 'desk',
        recipients: deskRecipients(t, policy),
        text: `Ticket ${t.ticket.id}: ${formatDuration(left)} left on the ${slaLabel(sla, t.tier)} target.`,
      });
    }
    if (run?.manual) {
      // An agent escalated by hand: the chain runs on its own timing until the target is met, whether or
      // not a re-tier moved the target after it was missed.
      resume(t, run, sla, now);
      out.push(...takeDueSteps(t, policy, sla, now));
    } else if (run) {
      // A re-tier gave the clock more time: the breach is over unless a later change brings it back.
      suspend(t, run, sla, now, 'target moved by a re-tier');
    }
    return out;
  }
  const breachedAt = clock.breachedAt ?? clock.dueAt ?? now;
  const recorded = t.breaches.some((b) => b.sla === sla && b.episode === episode);
  if (run) {
    // The same breach as before a pause or a re-tier: the chain goes on where it was, not from level 1.
    resume(t, run, sla, now);
    if (run.manual && !run.breached && !recorded) {
      // Already escalated by hand: the breach is recorded and the running chain carries on.
      run.breached = true;
      t.breaches.push({ sla, episode, at: now, dueAt: breachedAt });
      recordEntry(t, now, `${sla} breached`, 'system', 'already escalated by an agent');
    }
  } else {
    if (!recorded) {
      t.breaches.push({ sla, episode, at: now, dueAt: breachedAt });
      recordEntry(t, now, `${sla} breached`, 'system');
    }
    // A breach recorded with no chain is one whose chain a run of the first model stopped (a pause or a
    // re-tier ended it there): it starts again now, not from the breach, or every step since would go at once.
    t.escalating[sla] = { episode, key: `b${t.breaches.length}`, startedAt: recorded ? now : breachedAt, fromLevel: 0, taken: 0 };
  }
  out.push(...takeDueSteps(t, policy, sla, now));
  return out;
}

/** Holds a running chain (once); its steps are not taken while it is held. */
function suspend(t: TicketState, run: EscalationRun, sla: SlaName, now: number, why: string): void {
  if (run.suspendedAt !== undefined || run.ended) return;
  run.suspendedAt = now;
  recordEntry(t, now, `escalation of ${sla} stopped`, 'system', why);
}

/** A held chain goes on: its remaining steps keep their spacing, counted from now, not from before the hold. */
function resume(t: TicketState, run: EscalationRun, sla: SlaName, now: number): void {
  if (run.suspendedAt === undefined) return;
  run.startedAt += now - run.suspendedAt;
  delete run.suspendedAt;
  recordEntry(t, now, `escalation of ${sla} resumed`, 'system');
}

/** Takes every step of the SLA's running chain that is due, and records the chain's end once. */
function takeDueSteps(t: TicketState, policy: TicketPolicy, sla: SlaName, now: number): NotificationIntent[] {
  const run = t.escalating[sla];
  if (!run) return [];
  const chain = policy.escalationChain;
  const out: NotificationIntent[] = [];
  for (const step of dueSteps(chain, run, now)) {
    run.taken += 1;
    const manual = run.manual && !run.breached;
    t.escalations.push({
      sla,
      episode: run.episode,
      level: step.level,
      repeat: step.repeat,
      notified: step.notify,
      at: now,
      dueAt: step.dueAt,
      ...(run.manual ? { manual: true } : {}),
    });
    t.escalationCount += 1;
    if (t.escalations.length > ESCALATIONS_KEPT) t.escalations.splice(0, t.escalations.length - ESCALATIONS_KEPT);
    recordEntry(t, now, `escalated ${sla} to level ${step.level}`, 'system', `notified ${step.notify.join(', ')}`);
    const why = manual
      ? `was escalated by ${run.manual!.by} (${run.manual!.reason})`
      : `missed its ${slaLabel(sla, t.tier)} target`;
    out.push({
      step: `escalation:${sla}:${run.episode}:${run.key}:${step.level}:${step.repeat}`,
      kind: 'escalation',
      audience: 'desk',
      recipients: step.notify,
      text: `Ticket ${t.ticket.id} ${why}: escalation level ${step.level}` + (step.repeat > 1 ? ` (reminder ${step.repeat})` : '') + '.',
      dueAt: step.dueAt,
    });
  }
  if (chainRanOut(chain, run, now)) {
    run.ended = true;
    recordEntry(t, now, `escalation chain of ${sla} ended`, 'system');
  }
  return out;
}

function warningKey(sla: SlaName, episode: number, clock: SlaClockState, share: number): string {
  return `${sla}:${episode}:${clock.target.withinMs}:${share}`;
}

/** The shares of this clock's ladder already sent (a re-tier to another target starts a fresh ladder). */
function sentShares(t: TicketState, sla: SlaName, episode: number, clock: SlaClockState): number[] {
  const prefix = `${sla}:${episode}:${clock.target.withinMs}:`;
  return t.warned.filter((k) => k.startsWith(prefix)).map((k) => Number(k.slice(prefix.length)));
}

/** The earliest moment something is due: a warning, a breach, a chain step or its end, the close. */
export function nextWakeUp(
  t: TicketState,
  policy: TicketPolicy,
  clocks: TicketSlaClocks,
  now: number,
): { at: number; summary: string } | null {
  if (t.status === 'closed') return null;
  const candidates: Array<{ at: number; summary: string }> = [];
  for (const [sla, clock, episode] of [
    ['acknowledge', clocks.acknowledge, 0],
    ['resolution', clocks.resolution, episodeOf(t)],
  ] as const) {
    if (clock.metAt !== null || clock.paused) continue;
    const label = slaLabel(sla, t.tier);
    if (!clock.breached) {
      const rung = nextWarning(clock.warnings, sentShares(t, sla, episode, clock), now);
      if (rung) candidates.push({ at: rung.at!, summary: `${label} warning` });
      if (clock.dueAt !== null) candidates.push({ at: clock.dueAt, summary: `${label} due` });
    }
    const run = t.escalating[sla];
    const next = run && run.suspendedAt === undefined ? nextChainMoment(policy.escalationChain, run) : null;
    if (next) candidates.push({ at: next.at, summary: `${label}: next escalation step` });
  }
  if (t.status === 'resolved' && t.resolvedAt !== null) {
    candidates.push({ at: t.resolvedAt + policy.reopenWindowMs, summary: 'close unless reopened' });
  }
  candidates.sort((a, b) => a.at - b.at);
  return candidates[0] ?? null;
}

/** The row the projection writes for a ticket at `now` (without its chain and new entries). */
export function ticketProjection(t: TicketState, clocks: TicketSlaClocks, policy: TicketPolicy, workflowId: string, now: number): TicketProjection {
  const { ticket } = t;
  return {
    id: ticket.id,
    workflowId,
    externalId: ticket.externalId,
    channel: ticket.channel,
    tier: t.tier,
    priority: ticket.priority,
    status: t.status,
    assignee: t.assignee,
    private: ticket.private,
    subject: ticket.subject,
    createdAt: t.createdAt,
    acknowledgedAt: t.acknowledgedAt,
    resolvedAt: t.resolvedAt,
    closedAt: t.closedAt,
    acknowledgeDueAt: clocks.acknowledge.dueAt,
    resolutionDueAt: clocks.resolution.dueAt,
    breached: isBreached(clocks),
    escalations: t.escalationCount,
    satisfaction: t.satisfaction,
    version: t.version,
    region: ticket.region ?? null,
    measures: ticketMeasures(t.slaEvents, clocks, policy, now),
  };
}
