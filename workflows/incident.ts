// An emergency incident as a durable workflow: page the on-call, climb the paging chain until someone
// acknowledges, crisis mode (shared document, announcements, status updates), resolution and follow-up.
// Handlers only change the state; the main loop pages on time and queues every external effect, once.
import { patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { emptyEffectQueue, nothingProjected, type IntegrationRefusal } from '../domain/effects';
import { chainRanOut, chainSteps, dueSteps, nextChainMoment, type ChainRun } from '../domain/escalation';
import { formatDuration } from '../domain/format';
import {
  acknowledgeIncidentUpdate,
  addResponderUpdate,
  closeFollowUpUpdate,
  declareCrisisUpdate,
  followUpClosedSignal,
  incidentStateQuery,
  pageAcknowledgedSignal,
  pageResolvedSignal,
  publicIncidentTitle,
  resolveIncidentUpdate,
  type CarriedIncident,
  type IncidentActionResult,
  type IncidentIntake,
  type IncidentProjection,
  type IncidentState,
  type IncidentView,
  type IncidentWorkflowInput,
  type IncidentWorkflowPolicy,
  type PageStep,
} from '../domain/incident';
import { DESK_CRISIS, DESK_LEVEL, DESK_SEVERITY, DESK_STATUS } from '../domain/search-attributes';
import { recordEntry, trimTimeline, unwrittenEntries } from '../domain/timeline';
import { INTEGRATION_GIVE_UP_MS, effectRunner } from './effects';
import { legacyIncidentWorkflow } from './legacy/incident';
import type { LegacyIncidentState, LegacyIncidentWorkflowInput } from './legacy/incident-types';
import { continueWith, mainLoop, type WakeUp } from './main-loop';
import { operatorView, projectionWriter } from './publishing';
import { allowIf, invalid, requireText } from './validation';

/** Runs started before this model (no marker in their history) finish on the code they began with. */
export const INCIDENT_STATE_MODEL = 'incident-state-model';

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<unknown> {
  if (!patched(INCIDENT_STATE_MODEL)) return legacyIncidentWorkflow(input as LegacyIncidentWorkflowInput);

  const { incident, policy } = input;
  const chain = policy.pagingChain;
  const info = workflowInfo();
  const workflowId = info.workflowId;
  // The page clock starts when the emergency was raised (the workflow's start), however busy the workers are.
  const carried = carriedState(input, info.startTime.getTime());
  const s = carried.incident;
  /** What pages, chat, the tracker and the follow-up call it: neutral for a private emergency. */
  const title = publicIncidentTitle(incident);
  const isPrivate = incident.private === true;
  // The PagerDuty dedup key is the workflow id, so a PagerDuty webhook finds this workflow.
  const dedupKey = workflowId;
  const loop = mainLoop();
  const record = (event: string, by?: string, note?: string) => recordEntry(s, Date.now(), event, by, note);
  // Before any handler: a signal that came with the start is delivered as its handler is registered.
  if (!input.carried) record('raised', 'intake', `${incident.severity}; ${policy.escalationMode} pages the chain`);

  // ---- external effects: each queued once (s.done), carried out by the runner ---------------------

  const effects = effectRunner({
    queue: carried.effects,
    keyPrefix: `${workflowId}:${info.firstExecutionRunId}`,
    giveUpMs: policy.notificationGiveUpMs ?? INTEGRATION_GIVE_UP_MS,
    changed: loop.wake,
    recordRefusal: (r: IntegrationRefusal) => record('integration refused', 'system', `${r.step}: ${r.message}`),
    kinds: {
      page: { activity: 'pageOnCall', start: withKey },
      'acknowledge-page': { activity: 'acknowledgePage', start: withKey },
      'resolve-page': { activity: 'resolvePage', start: withKey },
      'customer-comment': { activity: 'commentOnCustomerTicket', start: withKey },
      chat: {
        activity: 'postOnChat',
        // A status update goes into its channel's announcement thread; without an announcement there is none.
        start: (data: { to: string; text: string; inThreadOf?: string }, key) => {
          if (!data.inThreadOf) return { args: { idempotencyKey: key, to: data.to, text: data.text } };
          const thread = s.announcements.find((a) => a.channel === data.inThreadOf);
          if (!thread) return { skip: `no announcement in ${data.inThreadOf} to post the update under` };
          return { args: { idempotencyKey: key, to: data.to, text: data.text, threadTs: thread.ts } };
        },
        done: (data: { announce?: boolean; to: string }, posted: { ts: string }) => {
          if (data.announce) s.announcements.push({ channel: data.to, ts: posted.ts });
        },
      },
      document: {
        activity: 'openTrackerIssue',
        start: withKey,
        done: (_data, issue: { iid: number; webUrl: string }) => {
          s.document = issue;
          record('incident document opened', 'system', issue.webUrl);
        },
      },
      'follow-up': {
        activity: 'openTrackerIssue',
        start: withKey,
        done: (_data, issue: { iid: number; webUrl: string }) => {
          s.followUp = { ...issue, createdAt: Date.now(), closedAt: null, reminders: 0 };
          record('follow-up task opened', 'system', issue.webUrl);
        },
        // No task to remind about: an agent closes the follow-up by hand (close-follow-up).
        refused: () => {
          s.followUpRefused = true;
        },
      },
      'hand-off': {
        activity: 'postOnChat',
        start: (data: { to: string }, key) => ({
          args: {
            idempotencyKey: key,
            to: data.to,
            text:
              `Thank you for handling "${title}". It is resolved; the follow-up task is ` +
              `${s.followUp?.webUrl ?? 'not opened (see the incident)'}. ` +
              'Hand over anything still on your plate and take the time you need to recover.',
          },
        }),
      },
    },
  });

  function withKey(data: object, key: string) {
    return { args: { ...data, idempotencyKey: key } };
  }

  /** Queues a step's effect once, ever: a later pass (or run) finds it in `done`. */
  function once(step: string, queue: () => void): void {
    if (s.done.includes(step)) return;
    s.done.push(step);
    queue();
  }

  const projection = projectionWriter({
    progress: carried.projection,
    activity: 'recordIncident',
    version: () => s.version,
    snapshot: (eventSeq) => {
      const events = unwrittenEntries(s, eventSeq);
      const row: IncidentProjection = { ...toProjection(s, workflowId), chainId: info.firstExecutionRunId, events };
      return { row, lastSeq: events[events.length - 1]?.seq ?? eventSeq };
    },
    changed: loop.wake,
  });

  // ---- reading the state ----------------------------------------------------------------------

  const isOpen = (): boolean => s.status === 'triggered' || s.status === 'acknowledged';
  const acknowledgeDueAt = (): number => s.createdAt + policy.acknowledgeWithinMs;
  const isBreached = (now: number): boolean =>
    s.acknowledgedAt !== null ? s.acknowledgedAt > acknowledgeDueAt() : isOpen() && now >= acknowledgeDueAt();
  /** Everyone paged so far: acknowledging and resolving reach each of their alerts. */
  const pagedTargets = (): string[] => [...new Set(s.pages.flatMap((p) => p.notified))];
  const involvedPeople = (): string[] =>
    [...new Set([...s.responders, ...(s.resolvedBy ? [s.resolvedBy] : [])])].filter((p) => !p.startsWith('#'));
  const followUpPending = (): boolean => s.status === 'resolved' && (s.followUp !== null || s.followUpRefused);
  const nextReminderAt = (): number | null =>
    s.followUp && s.followUp.closedAt === null
      ? s.followUp.createdAt + (s.followUp.reminders + 1) * policy.followUp.remindEveryMs
      : null;

  // ---- changing the state (handlers and the loop) ---------------------------------------------

  function addResponder(person: string): void {
    if (!s.responders.includes(person)) s.responders.push(person);
  }

  /** Whichever comes first (the API or the paging service) acknowledges; the other is a no-op. */
  function acknowledge(by: string, via: string): boolean {
    if (s.acknowledgedAt !== null || !isOpen()) return false;
    s.acknowledgedAt = Date.now();
    s.acknowledgedBy = by;
    s.acknowledgedVia = via;
    s.status = 'acknowledged';
    s.paging = null;
    addResponder(by);
    record('acknowledged', by, `via ${via}`);
    return true;
  }

  function declareCrisis(by: string, reason: string): void {
    if (s.crisis || !isOpen()) return;
    s.crisis = { at: Date.now(), by, reason };
    record('crisis declared', by, reason);
  }

  function resolve(by: string, resolution: string, via: string): boolean {
    if (!isOpen()) return false;
    s.status = 'resolved';
    s.resolvedAt = Date.now();
    s.resolvedBy = by;
    s.resolution = resolution;
    s.paging = null;
    record('resolved', by, `${resolution.slice(0, 160)} (via ${via})`);
    return true;
  }

  function closeFollowUp(by: string, via: string): boolean {
    if (!followUpPending() || s.followUp?.closedAt != null) return false;
    const now = Date.now();
    if (s.followUp) s.followUp.closedAt = now;
    s.status = 'closed';
    s.closedAt = now;
    record('follow-up closed', by, `via ${via}`);
    return true;
  }

  // ---- what is due: pages, acknowledgement, crisis, resolution, reminders ----------------------

  /** Pages every target of a level; each page is retried only until the next step is due (it takes over). */
  function pageLevel(levelIndex: number, repeat: number, reason: PageStep['reason'], dueAt: number, now: number): void {
    const level = chain[levelIndex]!;
    const step: PageStep = { level: levelIndex + 1, repeat, notified: level.notify, at: now, dueAt, reason };
    s.pages.push(step);
    s.level = Math.max(s.level, step.level);
    record(`paged level ${step.level}`, 'system', `${level.notify.join(', ')}${repeat > 1 ? ` (page ${repeat})` : ''}; ${reason}`);
    // In `pagerduty` mode PagerDuty escalates: no next page to make way for.
    const engine = policy.escalationMode === 'engine';
    const next = engine && s.status === 'triggered' && s.paging ? nextChainMoment(chain, s.paging) : null;
    for (const target of level.notify) {
      const pageStep = `page:${reason === 'crisis' ? 'crisis:' : ''}${step.level}:${repeat}:${target}`;
      effects.add(
        pageStep,
        'page',
        {
          dedupKey,
          target,
          summary: `Emergency: ${title}`,
          severity: incident.severity,
          details: { incident: incident.id, level: step.level, repeat, customerTicket: incident.customerTicketId },
        },
        // One lane per target: its trigger, then its acknowledgement, then its resolution.
        { lane: `pager:${target}`, summary: `page level ${step.level} → ${target}`, ...(next ? { giveUpAt: next.at } : {}) },
      );
    }
  }

  function pageDueLevels(now: number): void {
    const run = s.paging;
    if (s.status !== 'triggered' || !run) return;
    for (const step of dueSteps(chain, run, now)) {
      run.taken += 1;
      pageLevel(step.levelIndex, step.repeat, 'paging chain', step.dueAt, now);
      // PagerDuty escalates by itself: the engine triggers once and only mirrors what happens.
      if (policy.escalationMode === 'pagerduty') {
        s.paging = null;
        return;
      }
    }
    if (chainRanOut(chain, run, now)) {
      s.paging = null;
      record('paging chain ended', 'system', 'nobody acknowledged');
    }
  }

  function acknowledgementEffects(): void {
    if (s.acknowledgedAt === null) return;
    // Every target paged has its own alert (one routing key per level), so each is acknowledged.
    once('page-acknowledged', () => {
      for (const target of pagedTargets()) {
        effects.add(`page-acknowledged:${target}`, 'acknowledge-page', { dedupKey, targets: [target] }, {
          lane: `pager:${target}`,
          summary: `acknowledge the page → ${target}`,
        });
      }
    });
    const ticketId = incident.customerTicketId;
    if (ticketId) {
      once('customer-told-who-handles-it', () =>
        effects.add(
          'customer-told-who-handles-it',
          'customer-comment',
          {
            ticketId,
            body:
              `${s.acknowledgedBy} from our on-call team is handling your emergency now. ` +
              'What is the best way to reach you right away (phone number, video call link or chat)?',
          },
          { lane: 'helpdesk', summary: 'tell the customer who handles it' },
        ),
      );
    }
  }

  function crisisIsDue(now: number): string | null {
    if (!isOpen() || s.crisis) return null;
    if (now >= s.createdAt + policy.crisis.afterOpenMs) return `still open after ${formatDuration(policy.crisis.afterOpenMs)}`;
    if (s.responders.length > policy.crisis.maxResponders) {
      return `${s.responders.length} responders (more than ${policy.crisis.maxResponders})`;
    }
    return null;
  }

  function crisisEffects(now: number): void {
    const crisis = s.crisis;
    if (!crisis || !isOpen()) return;
    const { escalateToLevel, documentProject, announceChannels, statusUpdateEveryMs } = policy.crisis;
    once('crisis-escalation', () => {
      const levelIndex = escalateToLevel - 1;
      if (s.level >= escalateToLevel || !chain[levelIndex]) return;
      // The chain goes on from the crisis level (its first step is this page).
      s.paging = s.status === 'triggered' && policy.escalationMode === 'engine' ? { startedAt: now, fromLevel: levelIndex, taken: 1 } : s.paging;
      pageLevel(levelIndex, 1, 'crisis', now, now);
    });
    once('crisis-document', () =>
      effects.add(
        'crisis-document',
        'document',
        {
          project: documentProject,
          title: `Incident: ${title}`,
          // A private emergency's document is confidential and leaves the description in the workflow.
          description:
            `Shared incident document for ${incident.id}, ` +
            `${isPrivate ? 'confidential to the team' : 'open to the customer and the team'}.\n\n` +
            `Crisis since ${new Date(crisis.at).toISOString()}: ${crisis.reason}.` +
            (isPrivate ? '' : `\n\n${incident.description}`),
          labels: ['incident', `severity::${incident.severity}`],
          confidential: isPrivate,
        },
        { lane: 'tracker', summary: 'shared incident document' },
      ),
    );
    for (const channel of announceChannels) {
      once(`announce:${channel}`, () =>
        effects.add(
          `announce:${channel}`,
          'chat',
          {
            to: channel,
            announce: true,
            text:
              `:rotating_light: Crisis: ${title} (${incident.severity}). ${crisis.reason}. ` +
              `Incident document: ${s.document?.webUrl ?? 'to follow in this thread'}. Status updates in this thread.`,
          },
          { lane: `chat:${channel}`, summary: `announce → ${channel}` },
        ),
      );
    }
    const due = Math.floor((now - crisis.at) / statusUpdateEveryMs);
    if (due > s.statusUpdates) {
      s.statusUpdates = due;
      record(`status update ${due}`, 'system');
      postInCrisisThreads(`status-update:${due}`, statusText(now));
    }
  }

  /** In each crisis channel's announcement thread (after the announcement: the same lane). */
  function postInCrisisThreads(step: string, text: string): void {
    for (const channel of policy.crisis.announceChannels) {
      effects.add(`${step}:${channel}`, 'chat', { to: channel, text, inThreadOf: channel }, {
        lane: `chat:${channel}`,
        summary: `${step} → ${channel}`,
      });
    }
  }

  function statusText(now: number): string {
    return (
      `Status of ${title}: ${s.status}, open ${formatDuration(now - s.createdAt)}, ` +
      `level ${s.level} paged, responders: ${s.responders.join(', ') || 'none yet'}.`
    );
  }

  function resolutionEffects(): void {
    if (s.resolvedAt === null) return;
    once('page-resolved', () => {
      for (const target of pagedTargets()) {
        effects.add(`page-resolved:${target}`, 'resolve-page', { dedupKey, targets: [target] }, {
          lane: `pager:${target}`,
          summary: `resolve the page → ${target}`,
        });
      }
    });
    if (s.crisis) once('crisis-resolved', () => postInCrisisThreads('crisis-resolved', `Resolved: ${s.resolution}`));
    const ticketId = incident.customerTicketId;
    if (ticketId) {
      once('customer-told-resolved', () =>
        effects.add(
          'customer-told-resolved',
          'customer-comment',
          { ticketId, body: `The emergency is resolved: ${s.resolution}` },
          { lane: 'helpdesk', summary: 'tell the customer it is resolved' },
        ),
      );
    }
    once('follow-up', () =>
      effects.add(
        'follow-up',
        'follow-up',
        {
          project: policy.followUp.project,
          title: `Follow-up of incident ${incident.id}: ${title}`,
          description:
            'Move what we learned into the documentation or the issue trackers.\n\n' +
            `Resolution: ${s.resolution}\n\nTimeline:\n` +
            s.timeline.map((e) => `- ${new Date(e.at).toISOString()} ${e.event}${e.by ? ` (${e.by})` : ''}`).join('\n'),
          labels: ['incident-follow-up', 'documentation'],
          confidential: isPrivate,
        },
        { lane: 'wrap-up', summary: 'follow-up task' },
      ),
    );
    // People who carried the incident get a hand-off so they can recover (after the follow-up: same lane).
    for (const person of involvedPeople()) {
      once(`hand-off:${person}`, () =>
        effects.add(`hand-off:${person}`, 'hand-off', { to: person }, { lane: 'wrap-up', summary: `hand-off → ${person}` }),
      );
    }
  }

  function followUpReminders(now: number): void {
    const at = nextReminderAt();
    const followUp = s.followUp;
    if (at === null || !followUp || now < at) return;
    followUp.reminders += 1;
    record(`follow-up reminder ${followUp.reminders}`, 'system');
    const owner = s.resolvedBy ?? s.acknowledgedBy ?? policy.crisis.announceChannels[0] ?? '#incidents';
    effects.add(
      `follow-up-reminder:${followUp.reminders}`,
      'chat',
      { to: owner, text: `Reminder: the follow-up of incident "${title}" is still open: ${followUp.webUrl}` },
      { lane: 'reminders', summary: `follow-up reminder → ${owner}` },
    );
  }

  function nextWakeUp(now: number): WakeUp | null {
    const candidates: WakeUp[] = [];
    const next = s.status === 'triggered' && s.paging ? nextChainMoment(chain, s.paging) : null;
    if (next) {
      const upcoming = next.step ? `level ${next.step.level}` : 'the end of the chain';
      candidates.push({
        at: next.at,
        summary: s.pages.length === 1 ? `page acknowledgement due (then ${upcoming})` : `next page: ${upcoming}`,
      });
    }
    if (isOpen() && !s.crisis) candidates.push({ at: s.createdAt + policy.crisis.afterOpenMs, summary: 'crisis if still open' });
    if (isOpen() && s.crisis) {
      candidates.push({ at: s.crisis.at + (s.statusUpdates + 1) * policy.crisis.statusUpdateEveryMs, summary: 'status update due' });
    }
    const reminder = nextReminderAt();
    if (reminder !== null) candidates.push({ at: reminder, summary: 'follow-up reminder due' });
    candidates.sort((a, b) => a.at - b.at);
    return candidates[0] ?? null;
  }

  // ---- agents' actions (updates) and the paging service's and tracker's reports (signals) ------

  const notOpenReason = (): string => `the incident is already ${s.status}`;

  function result(before: number, visible: boolean, extra: Partial<IncidentActionResult> = {}): IncidentActionResult {
    return {
      id: incident.id,
      status: s.status,
      level: s.level,
      crisis: s.crisis !== null,
      version: s.version,
      event: s.timeline.find((e) => (e.seq ?? 0) > before)?.event ?? 'no change',
      visible,
      acknowledgedBy: s.acknowledgedBy,
      acknowledgedVia: s.acknowledgedVia,
      ...extra,
    };
  }

  // The first page is due the moment the emergency was raised: it is queued before any handler is
  // registered, so an acknowledgement that came with the start (in the first workflow task) follows it
  // instead of leaving on-call unpaged.
  if (!input.carried) pageDueLevels(Date.now());

  /** Validate, apply (synchronously), wake the loop, answer once the change is in the lists. */
  function action<I extends { by: string }>(
    update: UpdateDefinition<IncidentActionResult, [I]>,
    check: (i: I) => void,
    run: (i: I) => Partial<IncidentActionResult> | void,
  ): void {
    setHandler(
      update,
      async (i: I) => {
        const before = s.recorded;
        const extra = run(i) ?? {};
        loop.wake();
        const version = s.version;
        const visible = await projection.visible(version);
        return result(before, visible, extra);
      },
      {
        validator: (i: I) => {
          if (i === null || typeof i !== 'object') invalid('the action needs an object as its input');
          requireText(i.by, 'by', 'name');
          check(i);
        },
      },
    );
  }

  setHandler(incidentStateQuery, () => view(Date.now()));

  action(
    acknowledgeIncidentUpdate,
    () => allowIf(isOpen() || s.acknowledgedAt !== null, notOpenReason()),
    ({ by }) => ({ alreadyAcknowledged: !acknowledge(by, 'api') }),
  );
  action(
    addResponderUpdate,
    ({ responder }) => {
      requireText(responder, 'responder', 'name');
      allowIf(isOpen(), notOpenReason());
      allowIf(!s.responders.includes(responder), `${responder} is already a responder`);
    },
    ({ by, responder }) => {
      addResponder(responder);
      record('responder joined', by, responder);
    },
  );
  action(
    declareCrisisUpdate,
    ({ reason }) => {
      requireText(reason, 'reason', 'reason');
      allowIf(isOpen(), notOpenReason());
      allowIf(s.crisis === null, `the incident is already a crisis (${s.crisis?.reason})`);
    },
    ({ by, reason }) => declareCrisis(by, reason),
  );
  action(
    resolveIncidentUpdate,
    ({ resolution }) => {
      requireText(resolution, 'resolution', 'message');
      allowIf(isOpen(), notOpenReason());
    },
    ({ by, resolution }) => {
      resolve(by, resolution, 'api');
    },
  );
  action(
    closeFollowUpUpdate,
    () =>
      allowIf(
        followUpPending(),
        s.status === 'closed' ? 'the follow-up task is already closed' : 'there is no follow-up task yet: resolve the incident first',
      ),
    ({ by }) => {
      closeFollowUp(by, 'api');
    },
  );

  setHandler(pageAcknowledgedSignal, ({ by, source }) => {
    if (typeof by === 'string' && typeof source === 'string' && acknowledge(by, source)) loop.wake();
  });
  setHandler(pageResolvedSignal, ({ by, source, resolution }) => {
    if (typeof by !== 'string' || typeof source !== 'string') return;
    if (resolve(by, typeof resolution === 'string' ? resolution : `resolved in ${source}`, source)) loop.wake();
  });
  setHandler(followUpClosedSignal, ({ by, source }) => {
    if (typeof by === 'string' && typeof source === 'string' && closeFollowUp(by, source)) loop.wake();
  });

  function view(now: number): IncidentView {
    const { done: _done, paging: _paging, recorded, ...rest } = s;
    return {
      ...rest,
      id: incident.id,
      workflowId,
      timelineLength: recorded,
      acknowledgeDueAt: s.acknowledgedAt === null && s.status === 'triggered' ? acknowledgeDueAt() : null,
      breached: isBreached(now),
      escalationMode: policy.escalationMode,
      integrationFailures: carried.effects.refusals,
      pendingEffects: carried.effects.pending.length,
      projection: carried.projection,
    };
  }

  // ---- the main loop: do what is due, then sleep until the next deadline or the next change -----

  const publishToOperators = operatorView();

  await loop.run({
    effects,
    projection,
    pass(now) {
      pageDueLevels(now);
      acknowledgementEffects();
      const crisisReason = crisisIsDue(now);
      if (crisisReason) declareCrisis('system', crisisReason);
      crisisEffects(now);
      resolutionEffects();
      followUpReminders(now);
      trimTimeline(s, carried.projection.eventSeq);
    },
    publish(now) {
      publishToOperators(
        [
          { key: DESK_STATUS, value: s.status },
          { key: DESK_SEVERITY, value: incident.severity },
          { key: DESK_LEVEL, value: s.level },
          { key: DESK_CRISIS, value: s.crisis !== null },
        ],
        describeForOperators(view(now), carried, now),
      );
      projection.sync();
    },
    nextWakeUp,
    finished: () => s.status === 'closed',
    continueAsNew: () => continueWith<IncidentWorkflowInput>({ ...input, carried }),
    limits: { events: input.continueAsNewAfterEvents, bytes: input.continueAsNewAfterBytes },
  });
  return view(Date.now());
}

function carriedState(input: IncidentWorkflowInput, startedAt: number): CarriedIncident {
  const carried = input.carried as CarriedIncident | LegacyIncidentState | undefined;
  if (carried && 'model' in carried && carried.model === 2) return carried;
  if (carried) return fromLegacyState(carried as LegacyIncidentState, input.policy);
  return { model: 2, incident: openIncident(input.incident, startedAt), effects: emptyEffectQueue(), projection: nothingProjected() };
}

function openIncident(incident: IncidentIntake, now: number): IncidentState {
  return {
    incident,
    status: 'triggered',
    createdAt: now,
    level: 0,
    // Level 1 is due the moment the emergency was raised.
    paging: { startedAt: now, fromLevel: 0, taken: 0 },
    pages: [],
    acknowledgedAt: null,
    acknowledgedBy: null,
    acknowledgedVia: null,
    responders: [],
    crisis: null,
    document: null,
    announcements: [],
    statusUpdates: 0,
    resolvedAt: null,
    resolvedBy: null,
    resolution: null,
    followUp: null,
    followUpRefused: false,
    closedAt: null,
    timeline: [],
    recorded: 0,
    done: [],
    version: 0,
  };
}

/** A run of the first model continued as new into this one: its state in today's shape, paging where it was. */
export function fromLegacyState(old: LegacyIncidentState, policy: IncidentWorkflowPolicy): CarriedIncident {
  let paging: ChainRun | null = null;
  if (old.status === 'triggered' && old.paging.nextAt !== null) {
    const { steps } = chainSteps(policy.pagingChain, { startedAt: 0, fromLevel: 0 });
    const taken = steps.findIndex((st) => st.levelIndex === old.paging.levelIndex && st.repeat === old.paging.repeat) + 1;
    if (taken > 0) paging = { startedAt: old.paging.nextAt - steps[taken - 1]!.nextAt, fromLevel: 0, taken };
  }
  const timeline = old.timeline.map((e, i) => ({ ...e, seq: i + 1 }));
  const { paging: _old, integrationFailures, ...rest } = old;
  return {
    model: 2,
    incident: { ...rest, paging, followUpRefused: old.done.includes('follow-up') && old.followUp === null, timeline, recorded: timeline.length },
    effects: { pending: [], refusals: integrationFailures ?? [], refusedCount: integrationFailures?.length ?? 0 },
    projection: nothingProjected(),
  };
}

function toProjection(s: IncidentState, workflowId: string): IncidentProjection {
  const { incident } = s;
  return {
    id: incident.id,
    workflowId,
    externalId: incident.externalId,
    title: publicIncidentTitle(incident),
    severity: incident.severity,
    status: s.status,
    level: s.level,
    crisis: s.crisis !== null,
    customerTicketId: incident.customerTicketId,
    deskTicketId: incident.deskTicketId,
    createdAt: s.createdAt,
    acknowledgedAt: s.acknowledgedAt,
    acknowledgedBy: s.acknowledgedBy,
    resolvedAt: s.resolvedAt,
    documentUrl: s.document?.webUrl ?? null,
    followUpUrl: s.followUp?.webUrl ?? null,
    followUpClosedAt: s.followUp?.closedAt ?? null,
    version: s.version,
    private: incident.private === true,
  };
}

/** The "current details" operators see in the Temporal UI: state, paging, crisis and the timeline. */
function describeForOperators(view: IncidentView, carried: CarriedIncident, now: number): string {
  // Current details are not encrypted: a private emergency's reasons and notes stay out of them.
  const sealed = view.incident.private === true;
  const lines = [
    `**${view.status}** · ${view.incident.severity} · level ${view.level} paged · ` +
      `${view.crisis ? `**crisis**${sealed ? '' : ` (${view.crisis.reason})`}` : 'no crisis'} · ${view.escalationMode} escalation`,
    '',
    view.acknowledgeDueAt !== null
      ? `Acknowledgement due ${new Date(view.acknowledgeDueAt).toISOString()} (${formatDuration(view.acknowledgeDueAt - now)} left)`
      : `Acknowledged by ${view.acknowledgedBy ?? '—'}${view.breached ? ' (late)' : ''}`,
    `Responders: ${view.responders.join(', ') || 'none yet'}`,
  ];
  if (view.document) lines.push(`Incident document: ${view.document.webUrl}`);
  if (view.followUp) lines.push(`Follow-up: ${view.followUp.webUrl} (${view.followUp.closedAt ? 'closed' : `${view.followUp.reminders} reminders`})`);
  const { pending, refusals, refusedCount } = carried.effects;
  if (pending.length) lines.push('', `Effects going out: ${pending.length} (oldest queued ${new Date(pending[0]!.queuedAt).toISOString()})`);
  if (refusedCount) {
    lines.push('', `**Given up on (refused, or down past the give-up time): ${refusedCount}**`);
    for (const f of refusals.slice(-3)) lines.push(`- ${new Date(f.at).toISOString()} ${f.step}: ${f.message}`);
  }
  if (carried.projection.refused) lines.push('', `**Projection refused by PostgreSQL:** ${carried.projection.refused.message}`);
  lines.push('', '| when | what | who | note |', '|---|---|---|---|');
  for (const e of view.timeline.slice(-15)) {
    lines.push(`| ${new Date(e.at).toISOString()} | ${e.event} | ${e.by ?? ''} | ${sealed ? '' : (e.note ?? '').replace(/\|/g, '/')} |`);
  }
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}
