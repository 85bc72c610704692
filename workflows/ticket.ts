// The support ticket as a durable workflow: SLA timers, agents' actions as updates, automatic
// escalation when a target runs out. The process itself is the pure machine in
// domain/ticket-machine.ts; this file gives it to Temporal: handlers apply an action and return, the
// main loop acts on time and carries out the notifications, beside it the projection is written.
import { patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { emptyEffectQueue, nothingProjected, type IntegrationRefusal } from '../domain/effects';
import { chainSteps } from '../domain/escalation';
import { formatDuration } from '../domain/format';
import { describePolicyChange, previewPolicy, samePolicy } from '../domain/policy-change';
import type { TicketPolicy } from '../domain/policy';
import {
  DESK_ASSIGNEE,
  DESK_BREACHED,
  DESK_PRIORITY,
  DESK_STATUS,
  DESK_TIER,
} from '../domain/search-attributes';
import type { SlaClockState, TicketSlaClocks } from '../domain/sla-clock';
import {
  acknowledgeUpdate,
  assignUpdate,
  changePolicySignal,
  changeTierUpdate,
  closeUpdate,
  escalateUpdate,
  handOffConfirmedSignal,
  handOffUpdate,
  rateSatisfactionUpdate,
  reopenUpdate,
  replyUpdate,
  requesterRepliedSignal,
  resolveUpdate,
  takeUpdate,
  policyPreviewQuery,
  ticketStateQuery,
  waitOnRequesterUpdate,
  type CarriedTicket,
  type EscalationRun,
  type Notification,
  type TicketActionResult,
  type TicketProjection,
  type TicketState,
  type TicketView,
  type TicketWorkflowInput,
} from '../domain/ticket';
import {
  apply,
  clocksOf,
  dueWork,
  isBreached,
  nextWakeUp,
  ticketProjection,
  openTicket,
  refusal,
  type NotificationIntent,
  type TicketCommand,
  type TicketEffects,
} from '../domain/ticket-machine';
import { recordEntry, trimTimeline, unwrittenEntries } from '../domain/timeline';
import { INTEGRATION_GIVE_UP_MS, effectRunner } from './effects';
import { legacyTicketWorkflow } from './legacy/ticket';
import type { LegacyTicketState, LegacyTicketWorkflowInput } from './legacy/ticket-types';
import { continueWith, mainLoop } from './main-loop';
import { operatorView, projectionWriter } from './publishing';
import { allowIf, invalid, optionalText, refuse, requireBoolean, requireMessage, requireText } from './validation';

/** Runs started before this model (no marker in their history) finish on the code they began with. */
export const TICKET_STATE_MODEL = 'ticket-state-model';
/** Marks the first policy change a ticket took (changePolicySignal). */
export const TICKET_POLICY_CHANGE = 'ticket-policy-change';

const DEFAULT_FEEDBACK_PROJECT = 'support/feedback';

export async function ticketWorkflow(input: TicketWorkflowInput): Promise<unknown> {
  if (!patched(TICKET_STATE_MODEL)) return legacyTicketWorkflow(input as LegacyTicketWorkflowInput);

  const { ticket } = input;
  // The policy slice the ticket was filed under, until a policy rollout gives it another (changePolicySignal).
  let policy = input.policy;
  const info = workflowInfo();
  const workflowId = info.workflowId;
  // The SLA clocks start when the request arrived (the start of the workflow), not when a worker first ran it.
  const carried = carriedState(input, info.startTime.getTime());
  const t = carried.ticket;
  // Before any handler: a signal-with-start's signal is delivered as its handler is registered.
  if (!input.carried) recordEntry(t, t.createdAt, 'created', 'intake', `${ticket.channel}, tier ${ticket.tier}`);
  const loop = mainLoop();

  // The clocks at a moment, computed once per moment and change of the SLA events: a pass, its
  // publishing, its projection row, an update's row and a query in the same task all read one result.
  let computed: { events: number; now: number; clocks: TicketSlaClocks } | null = null;
  function clocksAt(now: number): TicketSlaClocks {
    if (computed === null || computed.events !== t.slaEvents.length || computed.now !== now) {
      computed = { events: t.slaEvents.length, now, clocks: clocksOf(t, policy, now) };
    }
    return computed.clocks;
  }

  const effects = effectRunner({
    queue: carried.effects,
    // The chain's first run id: a workflow id reused after the namespace's retention gets new keys.
    keyPrefix: `${workflowId}:${info.firstExecutionRunId}`,
    giveUpMs: policy.notificationGiveUpMs ?? INTEGRATION_GIVE_UP_MS,
    changed: loop.wake,
    recordRefusal: (r: IntegrationRefusal) => recordEntry(t, Date.now(), 'notification refused', 'system', `${r.step}: ${r.message}`),
    kinds: {
      notify: { activity: 'notify', start: (data: Omit<Notification, 'idempotencyKey'>, key) => ({ args: { ...data, idempotencyKey: key } }) },
      'file-feedback': {
        activity: 'fileSatisfactionFeedback',
        start: (data, key) => ({ args: { ...data, idempotencyKey: key } }),
        done: (_data, issue: { webUrl: string }) => recordEntry(t, Date.now(), 'satisfaction filed', 'system', issue.webUrl),
      },
    },
  });

  const projection = projectionWriter({
    progress: carried.projection,
    activity: 'recordTicket',
    version: () => t.version,
    snapshot: (eventSeq) => {
      const events = unwrittenEntries(t, eventSeq);
      const now = Date.now();
      const row: TicketProjection = { ...ticketProjection(t, clocksAt(now), policy, workflowId, now), chainId: info.firstExecutionRunId, events };
      return { row, lastSeq: events[events.length - 1]?.seq ?? eventSeq };
    },
    changed: loop.wake,
  });

  function queue(what: TicketEffects | NotificationIntent[]): void {
    const notifications = Array.isArray(what) ? what : what.notifications;
    for (const n of notifications) {
      const data: Omit<Notification, 'idempotencyKey'> = {
        ticketId: ticket.id,
        kind: n.kind,
        audience: n.audience,
        recipients: n.recipients,
        text: n.text,
        ...(n.messageId ? { messageId: n.messageId } : {}),
        ...(n.dueAt !== undefined ? { dueAt: n.dueAt } : {}),
        private: ticket.private,
        ...(ticket.origin ? { origin: ticket.origin } : {}),
        ...(policy.privateChannels ? { privateChannels: policy.privateChannels } : {}),
      };
      const to = n.audience === 'requester' ? 'requester' : n.recipients.join(', ');
      // Per audience in order: the requester hears the acknowledgement before the resolution.
      effects.add(n.step, 'notify', data, { lane: n.audience, summary: `${n.kind} → ${to}` });
    }
    const feedback = Array.isArray(what) ? undefined : what.feedback;
    if (feedback) {
      effects.add(
        feedback.step,
        'file-feedback',
        {
          project: policy.feedbackProject ?? DEFAULT_FEEDBACK_PROJECT,
          ticketId: ticket.id,
          channel: ticket.channel,
          tier: t.tier,
          private: ticket.private,
          satisfaction: feedback.satisfaction,
        },
        { lane: 'tracker', summary: 'satisfaction → feedback project' },
      );
    }
  }

  // ---- agents' and requesters' actions ----------------------------------------------------------

  /** Validate (input, then the machine's refusal), apply, wake the loop, answer once visible in the lists. */
  function action<I>(update: UpdateDefinition<TicketActionResult, [I]>, command: (i: I) => TicketCommand, check: (i: I) => void): void {
    setHandler(
      update,
      async (i: I) => {
        const before = t.recorded;
        queue(apply(t, policy, command(i), Date.now()));
        loop.wake();
        const version = t.version;
        const event = t.timeline.find((e) => (e.seq ?? 0) > before)?.event ?? 'no change';
        const visible = await projection.visible(version);
        return { id: ticket.id, status: t.status, tier: t.tier, assignee: t.assignee, version, event, visible };
      },
      {
        validator: (i: I) => {
          if (i === null || typeof i !== 'object') invalid('the action needs an object as its input');
          check(i);
          refuse(refusal(t, policy, command(i), Date.now()));
        },
      },
    );
  }

  const by = (i: { by: unknown }) => requireText(i.by, 'by', 'name');

  action(acknowledgeUpdate, ({ by }) => ({ type: 'acknowledge', by }), by);
  action(replyUpdate, ({ by, role, message }) => ({ type: 'reply', by, role, message }), (i) => {
    by(i);
    if (i.role !== 'agent' && i.role !== 'requester') invalid('role must be "agent" or "requester"');
    requireMessage(i.message, 'message');
  });
  action(takeUpdate, ({ agent }) => ({ type: 'take', agent }), (i) => requireText(i.agent, 'agent', 'name'));
  action(assignUpdate, ({ by, assignee }) => ({ type: 'assign', by, assignee }), (i) => {
    by(i);
    requireText(i.assignee, 'assignee', 'name');
  });
  action(changeTierUpdate, ({ by, tier, reason }) => ({ type: 'change-tier', by, tier, reason }), (i) => {
    by(i);
    requireText(i.reason, 'reason', 'reason');
    if (i.tier !== 1 && i.tier !== 2 && i.tier !== 3) invalid('tier must be 1, 2 or 3');
  });
  action(waitOnRequesterUpdate, ({ by, question }) => ({ type: 'wait-on-requester', by, question }), (i) => {
    by(i);
    requireMessage(i.question, 'question');
  });
  action(handOffUpdate, ({ by, team, reason }) => ({ type: 'hand-off', by, team, reason }), (i) => {
    by(i);
    requireText(i.team, 'team', 'name');
    requireText(i.reason, 'reason', 'reason');
  });
  action(resolveUpdate, ({ by, resolution }) => ({ type: 'resolve', by, resolution }), (i) => {
    by(i);
    requireMessage(i.resolution, 'resolution');
  });
  action(reopenUpdate, ({ by, reason }) => ({ type: 'reopen', by, reason }), (i) => {
    by(i);
    requireText(i.reason, 'reason', 'reason');
  });
  action(closeUpdate, ({ by }) => ({ type: 'close', by }), by);
  action(escalateUpdate, ({ by, reason }) => ({ type: 'escalate', by, reason }), (i) => {
    by(i);
    requireText(i.reason, 'reason', 'reason');
  });
  action(
    rateSatisfactionUpdate,
    ({ resolved, score, comment }) => ({ type: 'satisfaction', resolved, score, ...(comment ? { comment } : {}) }),
    (i) => {
      requireBoolean(i.resolved, 'resolved');
      if (!Number.isInteger(i.score) || i.score < 1 || i.score > 5) invalid('score must be a whole number from 1 to 5');
      optionalText(i.comment, 'comment', 'comment');
    },
  );

  // Signals need no answer; what does not apply (a reply to a closed ticket) changes nothing.
  setHandler(requesterRepliedSignal, (i) => {
    if (!isMessageRef(i?.message) || typeof i.source !== 'string') return;
    queue(apply(t, policy, { type: 'requester-replied', message: i.message, source: i.source }, Date.now()));
    loop.wake();
  });
  setHandler(handOffConfirmedSignal, (i) => {
    if (typeof i?.team !== 'string' || typeof i.by !== 'string') return;
    queue(apply(t, policy, { type: 'hand-off-confirmed', team: i.team, by: i.by }, Date.now()));
    loop.wake();
  });

  // A policy rollout (POST /policy/apply): the new slice from now on, recorded on the timeline. The
  // clocks are counted again under it (a shorter target may be breached at once), the chain's next
  // steps are the new chain's. The same slice twice, or a closed ticket, changes nothing.
  setHandler(changePolicySignal, (i) => {
    if (!i || typeof i.by !== 'string' || typeof i.reason !== 'string' || !isTicketPolicy(i.policy)) return;
    if (t.status === 'closed' || samePolicy(policy, i.policy)) return;
    // A worker of the code before this handler kept the signal unhandled: replaying that history here
    // must not act on it now (no marker there), or the commands would differ. Such a ticket keeps its policy.
    if (!patched(TICKET_POLICY_CHANGE)) return;
    const now = Date.now();
    recordEntry(t, now, 'policy changed', i.by, `${describePolicyChange(policy, i.policy, t.tier)} (${i.reason}; rollout ${i.rolloutId})`);
    policy = i.policy;
    computed = null;
    loop.wake();
  });
  setHandler(policyPreviewQuery, (candidate) => {
    if (!isTicketPolicy(candidate)) throw new Error('policyPreview needs a ticket policy slice');
    return previewPolicy(t, policy, candidate, Date.now());
  });

  setHandler(ticketStateQuery, () => view(Date.now()));

  function view(now: number): TicketView {
    const clocks = clocksAt(now);
    return {
      id: ticket.id,
      workflowId,
      ticket,
      status: t.status,
      tier: t.tier,
      assignee: t.assignee,
      createdAt: t.createdAt,
      acknowledgedAt: t.acknowledgedAt,
      resolvedAt: t.resolvedAt,
      closedAt: t.closedAt,
      resolution: t.resolution,
      handOff: t.handOff,
      satisfaction: t.satisfaction,
      timeline: t.timeline,
      timelineLength: t.recorded,
      messages: t.messages,
      breaches: t.breaches,
      escalations: t.escalations,
      escalationCount: t.escalationCount,
      breached: isBreached(clocks),
      clocks,
      integrationFailures: carried.effects.refusals,
      pendingEffects: carried.effects.pending.length,
      projection: carried.projection,
      version: t.version,
    };
  }

  // ---- the main loop ---------------------------------------------------------------------------

  const publishToOperators = operatorView();
  let clocks: TicketSlaClocks = clocksAt(Date.now());

  await loop.run({
    effects,
    projection,
    pass(now) {
      clocks = clocksAt(now);
      queue(dueWork(t, policy, clocks, now));
      trimTimeline(t, carried.projection.eventSeq);
    },
    publish(now) {
      publishToOperators(
        [
          { key: DESK_STATUS, value: t.status },
          { key: DESK_TIER, value: t.tier },
          { key: DESK_PRIORITY, value: ticket.priority },
          { key: DESK_ASSIGNEE, value: t.assignee ?? 'unassigned' },
          { key: DESK_BREACHED, value: isBreached(clocks) },
        ],
        describeForOperators(t, clocks, carried, now),
      );
      projection.sync();
    },
    nextWakeUp: (now) => nextWakeUp(t, policy, clocks, now),
    finished: () => t.status === 'closed',
    continueAsNew: () => continueWith<TicketWorkflowInput>({ ...input, policy, carried }),
    limits: { events: input.continueAsNewAfterEvents, bytes: input.continueAsNewAfterBytes },
  });
  return view(Date.now());
}

/** Enough of a TicketPolicy to count clocks with (the rollout sends what resolveTicketPolicy makes). */
function isTicketPolicy(value: unknown): value is TicketPolicy {
  const p = value as Partial<TicketPolicy> | null;
  return (
    !!p &&
    typeof p.policyName === 'string' &&
    typeof p.acknowledge?.withinMs === 'number' &&
    typeof p.resolve === 'object' &&
    [1, 2, 3].every((tier) => typeof p.resolve?.[tier as 1 | 2 | 3]?.withinMs === 'number') &&
    typeof p.calendars === 'object' &&
    Array.isArray(p.escalationChain)
  );
}

function isMessageRef(value: unknown): value is { id: string; preview: string; length: number } {
  const v = value as { id?: unknown; preview?: unknown; length?: unknown } | null;
  return !!v && typeof v.id === 'string' && typeof v.preview === 'string' && typeof v.length === 'number';
}

/** This run's starting point: what the previous run carried, the earlier model's state taken over, or a new ticket. */
function carriedState(input: TicketWorkflowInput, startedAt: number): CarriedTicket {
  const carried = input.carried as CarriedTicket | LegacyTicketState | undefined;
  if (carried && 'model' in carried && carried.model === 2) return carried;
  if (carried) return fromLegacyState(carried as LegacyTicketState, input.policy);
  return { model: 2, ticket: openTicket(input.ticket, startedAt), effects: emptyEffectQueue(), projection: nothingProjected() };
}

/**
 * A run of the first model continued as new into this one: its state, in today's shape. A running
 * escalation keeps its next step's moment; its whole timeline goes to item_events with the first write.
 */
export function fromLegacyState(old: LegacyTicketState, policy: TicketPolicy): CarriedTicket {
  const timeline = old.timeline.map((e, i) => ({ ...e, seq: i + 1 }));
  const escalating: TicketState['escalating'] = {};
  for (const [sla, active] of Object.entries(old.escalating) as Array<[keyof TicketState['escalating'], NonNullable<LegacyTicketState['escalating']['acknowledge']>]>) {
    const { steps } = chainSteps(policy.escalationChain, { startedAt: 0, fromLevel: 0 });
    const taken = steps.findIndex((s) => s.levelIndex === active.levelIndex && s.repeat === active.repeat) + 1;
    const run: EscalationRun = {
      episode: active.episode,
      key: active.manual ? `m${active.manual.ordinal}` : `b${old.breaches.length}`,
      // The run's start is whatever puts its next step where the old run had it.
      startedAt: active.nextAt !== null && taken > 0 ? active.nextAt - steps[taken - 1]!.nextAt : 0,
      fromLevel: 0,
      taken: active.nextAt === null ? steps.length : Math.max(taken, 0),
      ...(active.nextAt === null ? { ended: true } : {}),
      ...(active.manual ? { manual: { by: active.manual.by, reason: active.manual.reason } } : {}),
    };
    escalating[sla] = run;
  }
  return {
    model: 2,
    ticket: {
      ticket: old.ticket,
      status: old.status,
      tier: old.tier,
      assignee: old.assignee,
      createdAt: old.createdAt,
      acknowledgedAt: old.acknowledgedAt,
      resolvedAt: old.resolvedAt,
      closedAt: old.closedAt,
      resolution: old.resolution === null ? null : { id: '', preview: old.resolution.slice(0, 160), length: old.resolution.length },
      handOff: old.handOff,
      satisfaction: old.satisfaction,
      slaEvents: old.slaEvents,
      timeline,
      recorded: timeline.length,
      breaches: old.breaches,
      escalations: old.escalations,
      escalationCount: old.escalations.length,
      escalating,
      manualRuns: old.escalations.filter((s) => s.manual && s.level === 1 && s.repeat === 1).length,
      warned: old.sent
        .filter((k) => k.startsWith('warning:'))
        .map((k) => `${k.slice('warning:'.length)}:${policy.warningShare}`),
      messages: 0,
      version: old.version,
    },
    effects: {
      pending: [],
      refusals: (old.integrationFailures ?? []).map((f) => ({ at: f.at, step: f.kind, system: f.system, message: f.message })),
      refusedCount: old.integrationFailures?.length ?? 0,
    },
    projection: nothingProjected(),
  };
}

/** The "current details" operators see in the Temporal UI: status, every SLA clock, what is stuck. */
function describeForOperators(t: TicketState, clocks: TicketSlaClocks, carried: CarriedTicket, now: number): string {
  const row = (name: string, c: SlaClockState): string =>
    `| ${name} | ${formatDuration(c.target.withinMs)} ${c.target.clock} | ${
      c.dueAt === null ? (c.paused ? 'paused' : '—') : new Date(c.dueAt).toISOString()
    } | ${c.metAt !== null ? '—' : formatDuration(c.remainingMs)} | ${c.status} |`;
  const lines = [
    `**${t.status}** · tier ${t.tier} · ${t.ticket.channel} · ${t.ticket.priority} · assignee: ${t.assignee ?? 'nobody'}`,
    '',
    '| SLA | target | due | remaining | status |',
    '|---|---|---|---|---|',
    row('acknowledgement', clocks.acknowledge),
    row(clocks.resolutionKind === 'handoff' ? 'hand-off' : 'resolution', clocks.resolution),
  ];
  const last = t.escalations[t.escalations.length - 1];
  if (last) lines.push('', `Escalated ${last.sla} to level ${last.level} at ${new Date(last.at).toISOString()}`);
  const { pending, refusals, refusedCount } = carried.effects;
  if (pending.length) lines.push('', `Notifications going out: ${pending.length} (oldest queued ${new Date(pending[0]!.queuedAt).toISOString()})`);
  if (refusedCount) {
    lines.push('', `**Notifications refused or given up (not retried): ${refusedCount}**`);
    for (const f of refusals.slice(-3)) lines.push(`- ${new Date(f.at).toISOString()} ${f.step}: ${f.message}`);
  }
  const refused = carried.projection.refused;
  if (refused) lines.push('', `**Projection refused by PostgreSQL (version ${refused.version}):** ${refused.message}`);
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}
