// The ticket workflow of the first model, kept only so that runs started before workflows/ticket.ts
// (the `ticket-state-model` patch) replay and finish as they began; remove it with deprecatePatch once
// no such run is open. Its only changes since: it accepts the MessageRef inputs today's API sends.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { TicketActivities } from '../../activities/ticket';
import { ticketSlaClocks, type SlaClockState, type TicketSlaClocks, type TicketSlaEvent } from '../../domain/sla-clock';
import {
  DESK_ASSIGNEE,
  DESK_BREACHED,
  DESK_PRIORITY,
  DESK_STATUS,
  DESK_TIER,
} from '../../domain/search-attributes';
import {
  ACTION_NOT_ALLOWED,
  handOffConfirmedSignal,
  requesterRepliedSignal,
  type MessageRef,
  type Notification,
  type NotificationKind,
  type Satisfaction,
  type SlaName,
  type TicketIntake,
  type TicketProjection,
} from '../../domain/ticket';
import {
  acknowledgeUpdate,
  assignUpdate,
  changeTierUpdate,
  takeUpdate,
  closeUpdate,
  escalateUpdate,
  handOffUpdate,
  rateSatisfactionUpdate,
  reopenUpdate,
  replyUpdate,
  resolveUpdate,
  ticketStateQuery,
  waitOnRequesterUpdate,
  type LegacyTicketState as TicketState,
  type LegacyTicketView as TicketView,
  type LegacyTicketWorkflowInput as TicketWorkflowInput,
  type TextOrMessage,
} from './ticket-types';
import type { Tier } from '../../domain/policy';
import { formatDuration } from '../../domain/format';
import { EFFECT_OPTIONS, INTEGRATION_GIVE_UP_MS, effectOptions, gaveUp } from '../effects';

const { notify, recordTicket, fileSatisfactionFeedback } = proxyActivities<TicketActivities>(EFFECT_OPTIONS);

/** Continue as new well before the history gets long; the server suggests it too. */
const MAX_HISTORY_EVENTS = 5_000;

const DEFAULT_FEEDBACK_PROJECT = 'support/feedback';

export async function legacyTicketWorkflow(input: TicketWorkflowInput): Promise<TicketView> {
  const { ticket, policy } = input;
  // The SLA clocks start when the request arrived (the start of the workflow), not when a worker first
  // ran it. Tickets opened before this change keep the clock they started with.
  const openedAt = (): number =>
    patched('sla-clock-from-workflow-start') ? workflowInfo().startTime.getTime() : Date.now();
  const state: TicketState = input.carried ?? openTicket(ticket, openedAt());
  const workflowId = workflowInfo().workflowId;
  const historyLimit = input.continueAsNewAfterEvents ?? MAX_HISTORY_EVENTS;
  const giveUpMs = policy.notificationGiveUpMs ?? INTEGRATION_GIVE_UP_MS;

  // ---- reading the state ----------------------------------------------------------------------

  const clocksAt = (now: number): TicketSlaClocks => ticketSlaClocks(state.slaEvents, policy, now);
  const episode = (): number => state.slaEvents.filter((e) => e.type === 'reopened').length;
  const isBreached = (c: TicketSlaClocks): boolean => c.acknowledge.breached || c.resolution.breached;

  function view(): TicketView {
    const { sent: _sent, slaEvents: _events, escalating: _escalating, ...rest } = state;
    const clocks = clocksAt(Date.now());
    return { ...rest, id: ticket.id, workflowId, breached: isBreached(clocks), clocks };
  }

  // ---- changing the state ---------------------------------------------------------------------

  function record(event: string, by?: string, note?: string): void {
    state.version += 1;
    state.timeline.push({ at: Date.now(), event, ...(by ? { by } : {}), ...(note ? { note } : {}) });
  }

  function slaEvent(event: TicketSlaEvent): void {
    state.slaEvents.push(event);
  }

  /** Any first answer to the requester counts as the acknowledgement. */
  function acknowledgeIfNeeded(by: string): void {
    if (state.acknowledgedAt !== null) return;
    const now = Date.now();
    state.acknowledgedAt = now;
    slaEvent({ type: 'acknowledged', at: now });
    if (state.status === 'open') state.status = 'acknowledged';
    record('acknowledged', by);
  }

  function resumeIfWaiting(by: string, note?: string): void {
    if (state.status !== 'waiting-on-requester') return;
    slaEvent({ type: 'resumed', at: Date.now() });
    state.status = 'acknowledged';
    record('resumed', by, note);
  }

  async function send(
    kind: NotificationKind,
    audience: Notification['audience'],
    recipients: string[],
    text: TextOrMessage,
    key = `${kind}:${state.version}`,
  ): Promise<void> {
    const notification: Notification = {
      idempotencyKey: `${workflowId}:${key}`,
      ticketId: ticket.id,
      kind,
      audience,
      recipients,
      text: textOf(text),
      ...(typeof text === 'string' ? {} : { messageId: text.id }),
      private: ticket.private,
      ...(ticket.origin ? { origin: ticket.origin } : {}),
      ...(policy.privateChannels ? { privateChannels: policy.privateChannels } : {}),
    };
    try {
      // A system that stays down must not hold up the escalation chain or an agent's request forever.
      const summary = `${kind} → ${audience === 'requester' ? 'requester' : recipients.join(', ')}`;
      await notify.executeWithOptions(effectOptions(summary, giveUpMs), [notification]);
    } catch (err) {
      // A system that refused for good (a 4xx) or stayed down is recorded and shown; the ticket goes on.
      recordIntegrationFailure(kind, audience, err);
    }
  }

  /** Records what the server gave up on; anything else (a bug) is rethrown. */
  function recordIntegrationFailure(
    kind: NotificationKind | 'satisfaction-feedback',
    audience: Notification['audience'],
    err: unknown,
  ): void {
    const given = gaveUp(err);
    if (!given) throw err;
    state.integrationFailures = [...(state.integrationFailures ?? []), { at: Date.now(), kind, audience, ...given }];
    record('notification refused', 'system', `${kind}: ${given.message}`);
  }

  /** Satisfaction answers are also filed as issues in the feedback project, for reporting. */
  async function fileFeedback(satisfaction: Satisfaction): Promise<void> {
    try {
      const issue = await fileSatisfactionFeedback.executeWithOptions(
        effectOptions('satisfaction → feedback project', giveUpMs),
        [
          {
            idempotencyKey: `${workflowId}:satisfaction-feedback:${episode()}`,
            project: policy.feedbackProject ?? DEFAULT_FEEDBACK_PROJECT,
            ticketId: ticket.id,
            channel: ticket.channel,
            tier: state.tier,
            private: ticket.private,
            satisfaction,
          },
        ],
      );
      record('satisfaction filed', 'system', issue.webUrl);
    } catch (err) {
      recordIntegrationFailure('satisfaction-feedback', 'desk', err);
    }
  }

  const deskRecipients = (): string[] =>
    state.assignee ? [state.assignee] : policy.warningRecipients ?? ['#support-desk'];

  // ---- publishing: search attributes, UI details, the PostgreSQL projection -------------------

  let lastSearchAttributes = '';
  let projectedVersion = -1;

  async function publish(): Promise<void> {
    const clocks = clocksAt(Date.now());
    const attributes = [
      { key: DESK_STATUS, value: state.status },
      { key: DESK_TIER, value: state.tier },
      { key: DESK_PRIORITY, value: ticket.priority },
      { key: DESK_ASSIGNEE, value: state.assignee ?? 'unassigned' },
      { key: DESK_BREACHED, value: isBreached(clocks) },
    ];
    const serialized = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
    if (serialized !== lastSearchAttributes) {
      upsertSearchAttributes(attributes);
      lastSearchAttributes = serialized;
    }
    setCurrentDetails(describeForOperators(state, clocks, Date.now()));
    if (state.version > projectedVersion) {
      const version = state.version;
      await recordTicket(toProjection(state, clocks, workflowId));
      projectedVersion = Math.max(projectedVersion, version);
    }
  }

  // ---- timers: warnings, breaches, escalation chains, auto-close -------------------------------

  async function runDueWork(): Promise<void> {
    const now = Date.now();
    const clocks = clocksAt(now);
    await checkClock('acknowledge', clocks.acknowledge, 0, now);
    await checkClock('resolution', clocks.resolution, episode(), now);
    if (state.status === 'resolved' && state.resolvedAt !== null && now >= state.resolvedAt + policy.reopenWindowMs) {
      state.status = 'closed';
      state.closedAt = now;
      record('closed', 'system', 'the reopen window ran out');
    }
  }

  async function checkClock(sla: SlaName, clock: SlaClockState, ep: number, now: number): Promise<void> {
    if (clock.metAt !== null || clock.paused) {
      if (state.escalating[sla]) {
        delete state.escalating[sla];
        record(`escalation of ${sla} stopped`, 'system', clock.metAt !== null ? 'target met' : 'clock paused');
      }
      return;
    }
    const warningKey = `warning:${sla}:${ep}:${clock.target.withinMs}`;
    if (!clock.breached && clock.warnAt !== null && now >= clock.warnAt && !state.sent.includes(warningKey)) {
      state.sent.push(warningKey);
      record(`${sla} warning`, 'system', `${formatDuration(clock.remainingMs)} left`);
      await send(
        'warning',
        'desk',
        deskRecipients(),
        `Ticket ${ticket.id}: ${formatDuration(clock.remainingMs)} left on the ${slaLabel(sla, state.tier)} target.`,
        warningKey,
      );
    }
    if (!clock.breached) {
      if (state.escalating[sla]?.manual) {
        // An agent escalated by hand: the chain runs on its own timers until the target is met.
        await nextEscalationStepIfDue(sla, now);
        return;
      }
      if (state.escalating[sla]) {
        // A re-tier gave the clock more time: the breach is over.
        delete state.escalating[sla];
        record(`escalation of ${sla} stopped`, 'system', 'target moved by a re-tier');
      }
      return;
    }
    const active = state.escalating[sla];
    if (active?.manual && active.episode === ep) {
      // Already escalated by hand: the breach is recorded and the running chain carries on.
      delete active.manual;
      state.breaches.push({ sla, episode: ep, at: now, dueAt: clock.dueAt ?? now });
      record(`${sla} breached`, 'system', 'already escalated by an agent');
      await nextEscalationStepIfDue(sla, now);
    } else if (!active || active.episode !== ep) {
      state.breaches.push({ sla, episode: ep, at: now, dueAt: clock.dueAt ?? now });
      record(`${sla} breached`, 'system');
      state.escalating[sla] = { episode: ep, levelIndex: 0, repeat: 1, nextAt: null };
      await escalate(sla, now);
    } else {
      await nextEscalationStepIfDue(sla, now);
    }
  }

  async function nextEscalationStepIfDue(sla: SlaName, now: number): Promise<void> {
    const active = state.escalating[sla];
    if (!active || active.nextAt === null || now < active.nextAt) return;
    const level = policy.escalationChain[active.levelIndex];
    if (level && active.repeat < level.repeats) active.repeat += 1;
    else {
      active.levelIndex += 1;
      active.repeat = 1;
    }
    await escalate(sla, now);
  }

  /** Notify the current level of the chain, or note that the chain has run out. */
  async function escalate(sla: SlaName, now: number): Promise<void> {
    const active = state.escalating[sla]!;
    const level = policy.escalationChain[active.levelIndex];
    if (!level) {
      active.nextAt = null;
      record(`escalation chain of ${sla} ended`, 'system');
      return;
    }
    active.nextAt = now + level.waitMs;
    const { manual } = active;
    const step = {
      sla,
      episode: active.episode,
      level: active.levelIndex + 1,
      repeat: active.repeat,
      notified: level.notify,
      at: now,
      ...(manual ? { manual: true } : {}),
    };
    state.escalations.push(step);
    record(`escalated ${sla} to level ${step.level}`, 'system', `notified ${level.notify.join(', ')}`);
    const why = manual
      ? `was escalated by ${manual.by} (${manual.reason})`
      : `missed its ${slaLabel(sla, state.tier)} target`;
    await send(
      'escalation',
      'desk',
      level.notify,
      `Ticket ${ticket.id} ${why}: escalation level ${step.level}` +
        (step.repeat > 1 ? ` (reminder ${step.repeat})` : '') +
        '.',
      // A manual chain has its own keys: escalating twice by hand notifies twice.
      manual
        ? `escalation:${sla}:${step.episode}:manual-${manual.ordinal}:${step.level}:${step.repeat}`
        : `escalation:${sla}:${step.episode}:${state.breaches.length}:${step.level}:${step.repeat}`,
    );
  }

  function nextWakeUp(now: number): { at: number; summary: string } | null {
    const clocks = clocksAt(now);
    const candidates: Array<{ at: number; summary: string }> = [];
    for (const [sla, clock] of [
      ['acknowledge', clocks.acknowledge],
      ['resolution', clocks.resolution],
    ] as const) {
      if (clock.metAt !== null || clock.paused) continue;
      const label = slaLabel(sla, state.tier);
      if (!clock.breached && clock.warnAt !== null && clock.warnAt > now) {
        candidates.push({ at: clock.warnAt, summary: `${label} warning` });
      }
      if (!clock.breached && clock.dueAt !== null) candidates.push({ at: clock.dueAt, summary: `${label} due` });
      const active = state.escalating[sla];
      if ((clock.breached || active?.manual) && active?.nextAt != null) {
        candidates.push({ at: active.nextAt, summary: `${label}: next escalation step` });
      }
    }
    if (state.status === 'resolved' && state.resolvedAt !== null) {
      candidates.push({ at: state.resolvedAt + policy.reopenWindowMs, summary: 'close unless reopened' });
    }
    candidates.sort((a, b) => a.at - b.at);
    return candidates[0] ?? null;
  }

  // ---- agents' and requesters' actions ----------------------------------------------------------

  const allowIf = (ok: boolean, reason: string): void => {
    if (!ok) throw ApplicationFailure.create({ type: ACTION_NOT_ALLOWED, message: reason, nonRetryable: true });
  };
  const requireText = (value: unknown, field: string): void => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw ApplicationFailure.create({ type: 'InvalidInput', message: `${field} is required`, nonRetryable: true });
    }
  };
  const isActive = (): boolean => state.status !== 'resolved' && state.status !== 'closed';
  const notActiveReason = (): string =>
    state.status === 'resolved' ? 'the ticket is resolved; reopen it first' : 'the ticket is closed';

  setHandler(ticketStateQuery, view);

  setHandler(
    acknowledgeUpdate,
    async ({ by }) => {
      acknowledgeIfNeeded(by);
      await send('acknowledgement', 'requester', [], `We have your request "${ticket.subject}" and are on it.`);
      await publish();
      return view();
    },
    {
      validator: ({ by }) => {
        requireText(by, 'by');
        allowIf(state.acknowledgedAt === null, `the ticket was already acknowledged (status ${state.status})`);
        allowIf(isActive(), notActiveReason());
      },
    },
  );

  setHandler(
    replyUpdate,
    async ({ by, role, message }) => {
      if (role === 'agent') {
        acknowledgeIfNeeded(by);
        record('agent replied', by, textOf(message));
        await send('reply', 'requester', [], message);
      } else {
        await requesterReplied(message, by);
      }
      await publish();
      return view();
    },
    {
      validator: ({ by, role, message }) => {
        requireText(by, 'by');
        requireText(textOf(message), 'message');
        allowIf(role === 'agent' || role === 'requester', 'role must be "agent" or "requester"');
        allowIf(isActive(), notActiveReason());
      },
    },
  );

  async function requesterReplied(message: TextOrMessage, by: string): Promise<void> {
    record('requester replied', by, textOf(message));
    resumeIfWaiting(by, 'the requester answered');
    await send('reply', 'desk', deskRecipients(), `The requester answered on ticket ${ticket.id}.`);
  }

  setHandler(requesterRepliedSignal, async ({ message, source }) => {
    if (state.status === 'resolved' && patched('reply-after-resolution')) {
      // Not lost: the desk hears of it and may reopen the ticket.
      record('requester replied after resolution', `requester via ${source}`, textOf(message));
      await send('reply', 'desk', deskRecipients(), `The requester wrote on resolved ticket ${ticket.id}; reopen it if needed.`);
      await publish();
      return;
    }
    if (!isActive()) return;
    await requesterReplied(message, `requester via ${source}`);
    await publish();
  });

  setHandler(
    takeUpdate,
    async ({ agent }) => {
      if (state.assignee !== agent) {
        state.assignee = agent;
        record('taken', agent);
        await publish();
      }
      return view();
    },
    {
      validator: ({ agent }) => {
        requireText(agent, 'agent');
        allowIf(state.status === 'open' || state.status === 'acknowledged', `the ticket is ${state.status}`);
        allowIf(state.assignee === null || state.assignee === agent, `the ticket is assigned to ${state.assignee}`);
      },
    },
  );

  setHandler(
    assignUpdate,
    async ({ by, assignee }) => {
      state.assignee = assignee;
      record('assigned', by, assignee);
      await publish();
      return view();
    },
    {
      validator: ({ by, assignee }) => {
        requireText(by, 'by');
        requireText(assignee, 'assignee');
        allowIf(isActive(), notActiveReason());
        allowIf(state.assignee !== assignee, `the ticket is already assigned to ${assignee}`);
      },
    },
  );

  setHandler(
    changeTierUpdate,
    async ({ by, tier, reason }) => {
      slaEvent({ type: 'retiered', at: Date.now(), tier });
      record(`tier ${state.tier} → ${tier}`, by, reason);
      state.tier = tier;
      await publish();
      return view();
    },
    {
      validator: ({ by, tier, reason }) => {
        requireText(by, 'by');
        requireText(reason, 'reason');
        allowIf(tier === 1 || tier === 2 || tier === 3, 'tier must be 1, 2 or 3');
        allowIf(isActive(), notActiveReason());
        allowIf(state.status !== 'handed-off', 'the ticket was handed off to a centre of expertise');
        allowIf(tier !== state.tier, `the ticket is already tier ${tier}`);
      },
    },
  );

  setHandler(
    waitOnRequesterUpdate,
    async ({ by, question }) => {
      acknowledgeIfNeeded(by);
      slaEvent({ type: 'paused', at: Date.now() });
      state.status = 'waiting-on-requester';
      record('waiting on the requester', by, textOf(question));
      await send('question', 'requester', [], question);
      await publish();
      return view();
    },
    {
      validator: ({ by, question }) => {
        requireText(by, 'by');
        requireText(textOf(question), 'question');
        allowIf(state.status !== 'waiting-on-requester', 'the desk is already waiting on the requester');
        allowIf(state.status !== 'handed-off', 'the ticket was handed off to a centre of expertise');
        allowIf(isActive(), notActiveReason());
      },
    },
  );

  setHandler(
    handOffUpdate,
    async ({ by, team, reason }) => {
      resumeIfWaiting(by);
      acknowledgeIfNeeded(by);
      const now = Date.now();
      slaEvent({ type: 'handedOff', at: now });
      state.status = 'handed-off';
      state.handOff = { team, reason, at: now, confirmedAt: null };
      record('handed off', by, `${team}: ${reason}`);
      await send('hand-off', 'desk', [team], `Ticket ${ticket.id} is handed off to you: ${reason}`);
      await publish();
      return view();
    },
    {
      validator: ({ by, team, reason }) => {
        requireText(by, 'by');
        requireText(team, 'team');
        requireText(reason, 'reason');
        allowIf(isActive(), notActiveReason());
        allowIf(state.status !== 'handed-off', `the ticket was already handed off to ${state.handOff?.team}`);
        allowIf(state.tier === 3, 'only tier-3 tickets are handed off; change the tier to 3 first');
      },
    },
  );

  setHandler(handOffConfirmedSignal, async ({ team, by }) => {
    if (!state.handOff || state.handOff.confirmedAt !== null) return;
    state.handOff.confirmedAt = Date.now();
    record('hand-off confirmed', by, team);
    await publish();
  });

  setHandler(
    resolveUpdate,
    async ({ by, resolution }) => {
      resumeIfWaiting(by);
      acknowledgeIfNeeded(by);
      const now = Date.now();
      slaEvent({ type: 'resolved', at: now });
      state.status = 'resolved';
      state.resolvedAt = now;
      state.resolution = textOf(resolution);
      record('resolved', by, textOf(resolution));
      await send('resolution', 'requester', [], resolution);
      await send(
        'satisfaction-survey',
        'requester',
        [],
        'Two questions, one minute: did we resolve your request (yes/no), and how satisfied are you (1-5)?',
      );
      await publish();
      return view();
    },
    {
      validator: ({ by, resolution }) => {
        requireText(by, 'by');
        requireText(textOf(resolution), 'resolution');
        allowIf(isActive(), notActiveReason());
      },
    },
  );

  setHandler(
    reopenUpdate,
    async ({ by, reason }) => {
      slaEvent({ type: 'reopened', at: Date.now() });
      state.status = 'acknowledged';
      state.resolvedAt = null;
      state.resolution = null;
      state.satisfaction = null;
      record('reopened', by, reason);
      await send('reopened', 'desk', deskRecipients(), `Ticket ${ticket.id} was reopened: ${reason}`);
      await publish();
      return view();
    },
    {
      validator: ({ by, reason }) => {
        requireText(by, 'by');
        requireText(reason, 'reason');
        allowIf(state.status === 'resolved', `only a resolved ticket can be reopened (status ${state.status})`);
        allowIf(
          Date.now() < state.resolvedAt! + policy.reopenWindowMs,
          `the reopen window of ${formatDuration(policy.reopenWindowMs)} has passed; file a new ticket`,
        );
      },
    },
  );

  setHandler(
    closeUpdate,
    async ({ by }) => {
      resumeIfWaiting(by);
      state.status = 'closed';
      state.closedAt = Date.now();
      record('closed', by);
      await publish();
      return view();
    },
    {
      validator: ({ by }) => {
        requireText(by, 'by');
        allowIf(state.status !== 'closed', 'the ticket is already closed');
      },
    },
  );

  setHandler(
    escalateUpdate,
    async ({ by, reason }) => {
      // Starts the resolution clock's chain at level 1 now, as if the target had been missed.
      const ordinal = state.escalations.filter((s) => s.manual && s.level === 1 && s.repeat === 1).length + 1;
      record('escalated by an agent', by, reason);
      state.escalating.resolution = { episode: episode(), levelIndex: 0, repeat: 1, nextAt: null, manual: { by, reason, ordinal } };
      await escalate('resolution', Date.now());
      await publish();
      return view();
    },
    {
      validator: ({ by, reason }) => {
        requireText(by, 'by');
        requireText(reason, 'reason');
        allowIf(isActive(), notActiveReason());
        // The chain would stop at once: a paused or met clock ends any escalation.
        allowIf(state.status !== 'waiting-on-requester', 'the desk is waiting on the requester (the clock is paused)');
        allowIf(state.status !== 'handed-off', 'the ticket was handed off to a centre of expertise');
        const running = state.escalating.resolution;
        allowIf(!running, `the ticket is already escalating (level ${(running?.levelIndex ?? 0) + 1})`);
      },
    },
  );

  setHandler(
    rateSatisfactionUpdate,
    async ({ resolved, score, comment }) => {
      state.satisfaction = { resolved, score, ...(comment ? { comment } : {}), at: Date.now() };
      record('satisfaction rated', 'requester', `${resolved ? 'resolved' : 'not resolved'}, ${score}/5`);
      if (patched('satisfaction-feedback-issue')) await fileFeedback(state.satisfaction);
      await publish();
      return view();
    },
    {
      validator: ({ resolved, score }) => {
        allowIf(typeof resolved === 'boolean', 'resolved must be true or false');
        allowIf(Number.isInteger(score) && score >= 1 && score <= 5, 'score must be a whole number from 1 to 5');
        allowIf(state.status === 'resolved', 'the satisfaction pulse is open once the ticket is resolved');
        allowIf(state.satisfaction === null, 'the requester already answered the satisfaction pulse');
      },
    },
  );

  // ---- the main loop: sleep until the next deadline or the next change --------------------------

  if (!input.carried) record('created', 'intake', `${ticket.channel}, tier ${ticket.tier}`);
  await publish();

  const isClosed = (): boolean => state.status === 'closed';
  while (!isClosed()) {
    await runDueWork();
    await publish();
    if (isClosed()) break;

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > historyLimit) {
      await condition(allHandlersFinished);
      // The next run is today's model, which takes this state over (workflows/ticket.ts).
      await continueAsNew<typeof legacyTicketWorkflow>({ ...input, carried: state });
    }

    const seen = state.version;
    const now = Date.now();
    const next = nextWakeUp(now);
    if (next === null) await condition(() => state.version !== seen);
    else await condition(() => state.version !== seen, Math.max(next.at - now, 1), { summary: next.summary });
  }

  await condition(allHandlersFinished);
  await publish();
  return view();
}

/** A message of today's API is its preview here: the body reaches the requester through its id. */
function textOf(text: TextOrMessage): string {
  return typeof text === 'string' ? text : text?.preview;
}

function openTicket(ticket: TicketIntake, now: number): TicketState {
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
    breaches: [],
    escalations: [],
    escalating: {},
    sent: [],
    version: 0,
  };
}

function slaLabel(sla: SlaName, tier: Tier): string {
  if (sla === 'acknowledge') return 'acknowledgement';
  return tier === 3 ? 'hand-off' : 'resolution';
}

function toProjection(state: TicketState, clocks: TicketSlaClocks, workflowId: string): TicketProjection {
  const { ticket } = state;
  return {
    id: ticket.id,
    workflowId,
    externalId: ticket.externalId,
    channel: ticket.channel,
    tier: state.tier,
    priority: ticket.priority,
    status: state.status,
    assignee: state.assignee,
    private: ticket.private,
    subject: ticket.subject,
    createdAt: state.createdAt,
    acknowledgedAt: state.acknowledgedAt,
    resolvedAt: state.resolvedAt,
    closedAt: state.closedAt,
    acknowledgeDueAt: clocks.acknowledge.dueAt,
    resolutionDueAt: clocks.resolution.dueAt,
    breached: clocks.acknowledge.breached || clocks.resolution.breached,
    escalations: state.escalations.length,
    satisfaction: state.satisfaction,
    version: state.version,
  };
}

/** The "current details" operators see in the Temporal UI: status and every SLA clock. */
function describeForOperators(state: TicketState, clocks: TicketSlaClocks, now: number): string {
  const row = (name: string, c: SlaClockState): string =>
    `| ${name} | ${formatDuration(c.target.withinMs)} ${c.target.clock} | ${
      c.dueAt === null ? (c.paused ? 'paused' : '—') : new Date(c.dueAt).toISOString()
    } | ${c.metAt !== null ? '—' : formatDuration(c.remainingMs)} | ${c.status} |`;
  const lines = [
    `**${state.status}** · tier ${state.tier} · ${state.ticket.channel} · ${state.ticket.priority} · ` +
      `assignee: ${state.assignee ?? 'nobody'}`,
    '',
    '| SLA | target | due | remaining | status |',
    '|---|---|---|---|---|',
    row('acknowledgement', clocks.acknowledge),
    row(clocks.resolutionKind === 'handoff' ? 'hand-off' : 'resolution', clocks.resolution),
  ];
  const lastEscalation = state.escalations[state.escalations.length - 1];
  if (lastEscalation) {
    lines.push('', `Escalated ${lastEscalation.sla} to level ${lastEscalation.level} at ${new Date(lastEscalation.at).toISOString()}`);
  }
  const refused = state.integrationFailures ?? [];
  if (refused.length) {
    lines.push('', `**Notifications refused (not retried): ${refused.length}**`);
    for (const f of refused.slice(-3)) lines.push(`- ${new Date(f.at).toISOString()} ${f.kind}: ${f.message}`);
  }
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}

