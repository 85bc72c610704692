// The incident workflow of the first model, kept only so that runs started before workflows/incident.ts
// (the `incident-state-model` patch) replay and finish as they began; remove it with deprecatePatch
// once no such run is open.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities/incident';
import {
  followUpClosedSignal,
  pageAcknowledgedSignal,
  pageResolvedSignal,
  publicIncidentTitle,
  type IncidentIntake,
  type IncidentProjection,
} from '../../domain/incident';
import {
  acknowledgeIncidentUpdate,
  addResponderUpdate,
  closeFollowUpUpdate,
  declareCrisisUpdate,
  incidentStateQuery,
  resolveIncidentUpdate,
  type LegacyIncidentState as IncidentState,
  type LegacyIncidentView as IncidentView,
  type LegacyIncidentWorkflowInput as IncidentWorkflowInput,
  type LegacyPageStep as PageStep,
} from './incident-types';
import { DESK_CRISIS, DESK_LEVEL, DESK_SEVERITY, DESK_STATUS } from '../../domain/search-attributes';
import { ACTION_NOT_ALLOWED } from '../../domain/ticket';
import { formatDuration } from '../../domain/format';
import { EFFECT_OPTIONS, INTEGRATION_GIVE_UP_MS, effectOptions as summarised, gaveUp } from '../effects';

const activities = proxyActivities<IncidentActivities>(EFFECT_OPTIONS);
/** A page that is already late (the next one due now) still gets one quick attempt before the next goes out. */
const LATE_PAGE_TRY_MS = 1_000;

const MAX_HISTORY_EVENTS = 5_000;

export async function legacyIncidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentView> {
  const { incident, policy } = input;
  const chain = policy.pagingChain;
  // A state carried over from before integrationFailures existed has none yet.
  const state: IncidentState = input.carried
    ? { ...input.carried, integrationFailures: input.carried.integrationFailures ?? [] }
    : openIncident(incident, Date.now());
  /** What pages, chat, the tracker and the follow-up call it: neutral for a private emergency. */
  const title = publicIncidentTitle(incident);
  const isPrivate = incident.private === true;
  const workflowId = workflowInfo().workflowId;
  // The PagerDuty dedup key is the workflow id, so a PagerDuty webhook finds this workflow.
  const dedupKey = workflowId;
  const historyLimit = input.continueAsNewAfterEvents ?? MAX_HISTORY_EVENTS;
  /** A chat post, comment or tracker issue whose system stays down is given up on after this (policy may say). */
  const giveUpMs = policy.notificationGiveUpMs ?? INTEGRATION_GIVE_UP_MS;

  // ---- reading the state ----------------------------------------------------------------------

  const isOpen = (): boolean => state.status === 'triggered' || state.status === 'acknowledged';
  const acknowledgeDueAt = (): number => state.createdAt + policy.acknowledgeWithinMs;
  const isBreached = (now: number): boolean =>
    state.acknowledgedAt !== null ? state.acknowledgedAt > acknowledgeDueAt() : isOpen() && now >= acknowledgeDueAt();

  function view(): IncidentView {
    const { done: _done, ...rest } = state;
    const now = Date.now();
    return {
      ...rest,
      id: incident.id,
      workflowId,
      acknowledgeDueAt: state.acknowledgedAt === null && state.status === 'triggered' ? acknowledgeDueAt() : null,
      breached: isBreached(now),
      escalationMode: policy.escalationMode,
    };
  }

  // ---- changing the state (handlers and the loop) ---------------------------------------------

  /** Set by a handler's change; the main loop runs a pass for it. */
  let dirty = false;
  /** The main loop is carrying out what is due (activities may be in flight). */
  let passRunning = false;

  function record(event: string, by?: string, note?: string): void {
    state.version += 1;
    state.timeline.push({ at: Date.now(), event, ...(by ? { by } : {}), ...(note ? { note } : {}) });
  }

  function changed(): void {
    dirty = true;
  }

  /** An update answers once the main loop has carried out every change so far (its own included). */
  async function settled(): Promise<void> {
    await condition(() => !dirty && !passRunning);
  }

  function addResponder(person: string): void {
    if (!state.responders.includes(person)) state.responders.push(person);
  }

  /** Whichever comes first (the API or the paging service) acknowledges; the other is a no-op. */
  function acknowledge(by: string, via: string): boolean {
    if (state.acknowledgedAt !== null || !isOpen()) return false;
    state.acknowledgedAt = Date.now();
    state.acknowledgedBy = by;
    state.acknowledgedVia = via;
    state.status = 'acknowledged';
    state.paging.nextAt = null;
    addResponder(by);
    record('acknowledged', by, `via ${via}`);
    return true;
  }

  function declareCrisis(by: string, reason: string): void {
    if (state.crisis || !isOpen()) return;
    state.crisis = { at: Date.now(), by, reason };
    record('crisis declared', by, reason);
  }

  function resolve(by: string, resolution: string, via: string): boolean {
    if (!isOpen()) return false;
    state.status = 'resolved';
    state.resolvedAt = Date.now();
    state.resolvedBy = by;
    state.resolution = resolution;
    state.paging.nextAt = null;
    record('resolved', by, `${resolution} (via ${via})`);
    return true;
  }

  /** The follow-up task is open, or the tracker refused it (then an agent closes the follow-up by hand). */
  const followUpPending = (): boolean =>
    state.status === 'resolved' && (state.followUp !== null || state.done.includes('follow-up'));

  function closeFollowUp(by: string, via: string): boolean {
    if (!followUpPending() || state.followUp?.closedAt != null) return false;
    const now = Date.now();
    if (state.followUp) state.followUp.closedAt = now;
    state.status = 'closed';
    state.closedAt = now;
    record('follow-up closed', by, `via ${via}`);
    return true;
  }

  // ---- external effects, each once (state.done) and idempotent (the activity's key) -------------

  const key = (step: string): string => `${workflowId}:${step}`;

  async function once(step: string, effect: () => Promise<void>): Promise<void> {
    if (state.done.includes(step)) return;
    await effect();
    state.done.push(step);
  }

  /**
   * Runs one external effect. A system that refused it for good (a 4xx) or stayed down past the give-up
   * time is recorded and shown, the step counts as done (undefined), and the incident goes on: paging
   * never stops for a refused DM or a chat system that is down.
   */
  async function attempt<T>(step: string, effect: () => Promise<T>): Promise<T | undefined> {
    try {
      return await effect();
    } catch (err) {
      const given = gaveUp(err);
      if (!given) throw err;
      const refusal = { at: Date.now(), step, ...given };
      state.integrationFailures.push(refusal);
      record('integration refused', 'system', `${step}: ${refusal.message}`);
      return undefined;
    }
  }

  /** Everyone paged so far: acknowledging and resolving reach each of their alerts. */
  const pagedTargets = (): string[] => [...new Set(state.pages.flatMap((p) => p.notified))];

  /** Pages every target of a level of the paging chain. */
  async function pageLevel(levelIndex: number, repeat: number, reason: PageStep['reason']): Promise<void> {
    const level = chain[levelIndex]!;
    const step: PageStep = { level: levelIndex + 1, repeat, notified: level.notify, at: Date.now(), reason };
    state.pages.push(step);
    state.level = Math.max(state.level, step.level);
    record(`paged level ${step.level}`, 'system', `${level.notify.join(', ')}${repeat > 1 ? ` (page ${repeat})` : ''}; ${reason}`);
    for (const target of level.notify) {
      const pageStep = `page:${reason === 'crisis' ? 'crisis:' : ''}${step.level}:${repeat}:${target}`;
      await attempt(pageStep, () =>
        activities.pageOnCall.executeWithOptions(summarised(`page level ${step.level} → ${target}`, pageGiveUpMs()), [
          {
            idempotencyKey: key(pageStep),
            dedupKey,
            target,
            summary: `Emergency: ${title}`,
            severity: incident.severity,
            details: { incident: incident.id, level: step.level, repeat, customerTicket: incident.customerTicketId },
          },
        ]),
      );
    }
  }

  /**
   * The page is the one effect that must get through, so it is retried right up to the moment the next
   * page of the chain is due (that page takes over), and never past it: a paging service that stays down
   * never delays the next level. With no next page scheduled (PagerDuty escalates by itself, the chain
   * has ended, a crisis page after the acknowledgement) it is given up on like any other effect, since
   * retrying longer would hold up the acknowledgement, the customer and the crisis announcements.
   */
  function pageGiveUpMs(): number {
    const nextAt = state.status === 'triggered' ? state.paging.nextAt : null;
    if (nextAt === null) return giveUpMs;
    return Math.max(nextAt - Date.now(), LATE_PAGE_TRY_MS);
  }

  /** Level 1 at once; in `engine` mode the next step of the chain whenever one falls due. */
  async function pageDueLevels(now: number): Promise<void> {
    if (state.status !== 'triggered') return;
    const paging = state.paging;
    if (state.pages.length === 0) {
      paging.nextAt = policy.escalationMode === 'engine' ? state.createdAt + chain[0]!.waitMs : null;
      await pageLevel(0, 1, 'paging chain');
      return;
    }
    if (paging.nextAt === null || now < paging.nextAt) return;
    const current = chain[paging.levelIndex];
    if (current && paging.repeat < current.repeats) paging.repeat += 1;
    else {
      paging.levelIndex += 1;
      paging.repeat = 1;
    }
    const next = chain[paging.levelIndex];
    if (!next) {
      paging.nextAt = null;
      record('paging chain ended', 'system', 'nobody acknowledged');
      return;
    }
    // From the moment it was due, not from when the worker got to it: the chain keeps its rhythm.
    paging.nextAt += next.waitMs;
    await pageLevel(paging.levelIndex, paging.repeat, 'paging chain');
  }

  async function acknowledgementEffects(): Promise<void> {
    if (state.acknowledgedAt === null) return;
    // Harmless when PagerDuty itself reported it: acknowledging an acknowledged incident changes nothing.
    // Every target paged has its own alert (one routing key per level), so each is acknowledged.
    await once('page-acknowledged', async () => {
      await attempt('page-acknowledged', () =>
        activities.acknowledgePage.executeWithOptions(summarised('acknowledge the page', giveUpMs), [
          { idempotencyKey: key('page-acknowledged'), dedupKey, targets: pagedTargets() },
        ]),
      );
    });
    const ticketId = incident.customerTicketId;
    if (ticketId) {
      await once('customer-told-who-handles-it', async () => {
        await attempt('customer-told-who-handles-it', () =>
          activities.commentOnCustomerTicket.executeWithOptions(summarised('tell the customer who handles it', giveUpMs), [
            {
              idempotencyKey: key('customer-told-who-handles-it'),
              ticketId,
              body:
                `${state.acknowledgedBy} from our on-call team is handling your emergency now. ` +
                'What is the best way to reach you right away (phone number, video call link or chat)?',
            },
          ]),
        );
      });
    }
  }

  function crisisIsDue(now: number): string | null {
    if (!isOpen() || state.crisis) return null;
    if (now >= state.createdAt + policy.crisis.afterOpenMs) {
      return `still open after ${formatDuration(policy.crisis.afterOpenMs)}`;
    }
    if (state.responders.length > policy.crisis.maxResponders) {
      return `${state.responders.length} responders (more than ${policy.crisis.maxResponders})`;
    }
    return null;
  }

  async function crisisEffects(now: number): Promise<void> {
    const crisis = state.crisis;
    if (!crisis || !isOpen()) return;
    const { escalateToLevel, documentProject, announceChannels, statusUpdateEveryMs } = policy.crisis;
    await once('crisis-escalation', async () => {
      const levelIndex = escalateToLevel - 1;
      if (state.level >= escalateToLevel || !chain[levelIndex]) return;
      if (state.status === 'triggered' && policy.escalationMode === 'engine') {
        // The chain goes on from the crisis level.
        state.paging = { levelIndex, repeat: 1, nextAt: now + chain[levelIndex]!.waitMs };
      }
      await pageLevel(levelIndex, 1, 'crisis');
    });
    await once('crisis-document', async () => {
      const document = await attempt('crisis-document', () =>
        activities.openTrackerIssue.executeWithOptions(summarised('shared incident document', giveUpMs), [
          {
            idempotencyKey: key('crisis-document'),
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
        ]),
      );
      if (!document) return;
      state.document = document;
      record('incident document opened', 'system', document.webUrl);
    });
    for (const channel of announceChannels) {
      await once(`announce:${channel}`, async () => {
        const posted = await attempt(`announce:${channel}`, () =>
          activities.postOnChat.executeWithOptions(summarised(`announce → ${channel}`, giveUpMs), [
            {
              idempotencyKey: key(`announce:${channel}`),
              to: channel,
              text:
                `:rotating_light: Crisis: ${title} (${incident.severity}). ${crisis.reason}. ` +
                `Incident document: ${state.document?.webUrl ?? 'not available'}. Status updates in this thread.`,
            },
          ]),
        );
        // Without an announcement there is no thread for the status updates in that channel.
        if (posted) state.announcements.push({ channel, ts: posted.ts });
      });
    }
    const due = Math.floor((now - crisis.at) / statusUpdateEveryMs);
    if (due > state.statusUpdates) {
      state.statusUpdates = due;
      record(`status update ${due}`, 'system');
      await postInCrisisThreads(`status-update:${due}`, statusText(now));
    }
  }

  async function postInCrisisThreads(step: string, text: string): Promise<void> {
    for (const { channel, ts } of state.announcements) {
      await attempt(`${step}:${channel}`, () =>
        activities.postOnChat.executeWithOptions(summarised(`${step} → ${channel}`, giveUpMs), [
          { idempotencyKey: key(`${step}:${channel}`), to: channel, text, threadTs: ts },
        ]),
      );
    }
  }

  function statusText(now: number): string {
    return (
      `Status of ${title}: ${state.status}, open ${formatDuration(now - state.createdAt)}, ` +
      `level ${state.level} paged, responders: ${state.responders.join(', ') || 'none yet'}.`
    );
  }

  async function resolutionEffects(): Promise<void> {
    if (state.resolvedAt === null) return;
    await once('page-resolved', async () => {
      await attempt('page-resolved', () =>
        activities.resolvePage.executeWithOptions(summarised('resolve the page', giveUpMs), [
          { idempotencyKey: key('page-resolved'), dedupKey, targets: pagedTargets() },
        ]),
      );
    });
    if (state.crisis) {
      await once('crisis-resolved', () => postInCrisisThreads('crisis-resolved', `Resolved: ${state.resolution}`));
    }
    const ticketId = incident.customerTicketId;
    if (ticketId) {
      await once('customer-told-resolved', async () => {
        await attempt('customer-told-resolved', () =>
          activities.commentOnCustomerTicket.executeWithOptions(summarised('tell the customer it is resolved', giveUpMs), [
            { idempotencyKey: key('customer-told-resolved'), ticketId, body: `The emergency is resolved: ${state.resolution}` },
          ]),
        );
      });
    }
    await once('follow-up', async () => {
      const issue = await attempt('follow-up', () =>
        activities.openTrackerIssue.executeWithOptions(summarised('follow-up task', giveUpMs), [
          {
            idempotencyKey: key('follow-up'),
            project: policy.followUp.project,
            title: `Follow-up of incident ${incident.id}: ${title}`,
            description:
              'Move what we learned into the documentation or the issue trackers.\n\n' +
              `Resolution: ${state.resolution}\n\nTimeline:\n` +
              state.timeline.map((e) => `- ${new Date(e.at).toISOString()} ${e.event}${e.by ? ` (${e.by})` : ''}`).join('\n'),
            labels: ['incident-follow-up', 'documentation'],
            confidential: isPrivate,
          },
        ]),
      );
      // Refused: no task to remind about; an agent closes the follow-up by hand (close-follow-up).
      if (!issue) return;
      state.followUp = { ...issue, createdAt: Date.now(), closedAt: null, reminders: 0 };
      record('follow-up task opened', 'system', issue.webUrl);
    });
    // People who carried the incident get a hand-off so they can recover.
    for (const person of involvedPeople()) {
      await once(`hand-off:${person}`, async () => {
        await attempt(`hand-off:${person}`, () =>
          activities.postOnChat.executeWithOptions(summarised(`hand-off → ${person}`, giveUpMs), [
            {
              idempotencyKey: key(`hand-off:${person}`),
              to: person,
              text:
                `Thank you for handling "${title}". It is resolved; the follow-up task is ` +
                `${state.followUp?.webUrl ?? 'not opened (see the incident)'}. ` +
                'Hand over anything still on your plate and take the time you need to recover.',
            },
          ]),
        );
      });
    }
  }

  const involvedPeople = (): string[] =>
    [...new Set([...state.responders, ...(state.resolvedBy ? [state.resolvedBy] : [])])].filter((p) => !p.startsWith('#'));

  const nextReminderAt = (): number | null =>
    state.followUp && state.followUp.closedAt === null
      ? state.followUp.createdAt + (state.followUp.reminders + 1) * policy.followUp.remindEveryMs
      : null;

  async function followUpReminders(now: number): Promise<void> {
    const at = nextReminderAt();
    const followUp = state.followUp;
    if (at === null || !followUp || now < at) return;
    followUp.reminders += 1;
    record(`follow-up reminder ${followUp.reminders}`, 'system');
    const owner = state.resolvedBy ?? state.acknowledgedBy ?? policy.crisis.announceChannels[0] ?? '#incidents';
    const step = `follow-up-reminder:${followUp.reminders}`;
    await attempt(step, () =>
      activities.postOnChat.executeWithOptions(summarised(`follow-up reminder → ${owner}`, giveUpMs), [
        {
          idempotencyKey: key(step),
          to: owner,
          text: `Reminder: the follow-up of incident "${title}" is still open: ${followUp.webUrl}`,
        },
      ]),
    );
  }

  async function runDueWork(): Promise<void> {
    const now = Date.now();
    await pageDueLevels(now);
    await acknowledgementEffects();
    const crisisReason = crisisIsDue(now);
    if (crisisReason) declareCrisis('system', crisisReason);
    await crisisEffects(now);
    await resolutionEffects();
    await followUpReminders(now);
  }

  function nextWakeUp(now: number): { at: number; summary: string } | null {
    const candidates: Array<{ at: number; summary: string }> = [];
    const paging = state.paging;
    if (state.status === 'triggered' && paging.nextAt !== null) {
      const level = chain[paging.levelIndex]!;
      const nextLevel = paging.repeat < level.repeats ? paging.levelIndex + 1 : paging.levelIndex + 2;
      candidates.push({
        at: paging.nextAt,
        summary: state.pages.length === 1 ? `page acknowledgement due (then level ${nextLevel})` : `next page: level ${nextLevel}`,
      });
    }
    if (isOpen() && !state.crisis) {
      candidates.push({ at: state.createdAt + policy.crisis.afterOpenMs, summary: 'crisis if still open' });
    }
    if (isOpen() && state.crisis) {
      candidates.push({
        at: state.crisis.at + (state.statusUpdates + 1) * policy.crisis.statusUpdateEveryMs,
        summary: 'status update due',
      });
    }
    const reminder = nextReminderAt();
    if (reminder !== null) candidates.push({ at: reminder, summary: 'follow-up reminder due' });
    candidates.sort((a, b) => a.at - b.at);
    return candidates[0] ?? null;
  }

  // ---- publishing: search attributes, UI details, the PostgreSQL projection -------------------

  let lastSearchAttributes = '';
  let projectedVersion = -1;

  async function publish(): Promise<void> {
    const attributes = [
      { key: DESK_STATUS, value: state.status },
      { key: DESK_SEVERITY, value: incident.severity },
      { key: DESK_LEVEL, value: state.level },
      { key: DESK_CRISIS, value: state.crisis !== null },
    ];
    const serialized = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
    if (serialized !== lastSearchAttributes) {
      upsertSearchAttributes(attributes);
      lastSearchAttributes = serialized;
    }
    setCurrentDetails(describeForOperators(state, view(), Date.now()));
    if (state.version > projectedVersion) {
      const version = state.version;
      await activities.recordIncident(toProjection(state, workflowId));
      projectedVersion = Math.max(projectedVersion, version);
    }
  }

  // ---- agents' actions (updates) and the paging service's and tracker's reports (signals) ------

  const allowIf = (ok: boolean, reason: string): void => {
    if (!ok) throw ApplicationFailure.create({ type: ACTION_NOT_ALLOWED, message: reason, nonRetryable: true });
  };
  const requireText = (value: unknown, field: string): void => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw ApplicationFailure.create({ type: 'InvalidInput', message: `${field} is required`, nonRetryable: true });
    }
  };
  const notOpenReason = (): string => `the incident is already ${state.status}`;

  setHandler(incidentStateQuery, view);

  setHandler(
    acknowledgeIncidentUpdate,
    async ({ by }) => {
      const first = acknowledge(by, 'api');
      if (first) changed();
      await settled();
      return { ...view(), alreadyAcknowledged: !first };
    },
    {
      validator: ({ by }) => {
        requireText(by, 'by');
        allowIf(isOpen() || state.acknowledgedAt !== null, notOpenReason());
      },
    },
  );

  setHandler(pageAcknowledgedSignal, ({ by, source }) => {
    if (acknowledge(by, source)) changed();
  });

  setHandler(
    addResponderUpdate,
    async ({ by, responder }) => {
      addResponder(responder);
      record('responder joined', by, responder);
      changed();
      await settled();
      return view();
    },
    {
      validator: ({ by, responder }) => {
        requireText(by, 'by');
        requireText(responder, 'responder');
        allowIf(isOpen(), notOpenReason());
        allowIf(!state.responders.includes(responder), `${responder} is already a responder`);
      },
    },
  );

  setHandler(
    declareCrisisUpdate,
    async ({ by, reason }) => {
      declareCrisis(by, reason);
      changed();
      await settled();
      return view();
    },
    {
      validator: ({ by, reason }) => {
        requireText(by, 'by');
        requireText(reason, 'reason');
        allowIf(isOpen(), notOpenReason());
        allowIf(state.crisis === null, `the incident is already a crisis (${state.crisis?.reason})`);
      },
    },
  );

  setHandler(
    resolveIncidentUpdate,
    async ({ by, resolution }) => {
      resolve(by, resolution, 'api');
      changed();
      await settled();
      return view();
    },
    {
      validator: ({ by, resolution }) => {
        requireText(by, 'by');
        requireText(resolution, 'resolution');
        allowIf(isOpen(), notOpenReason());
      },
    },
  );

  setHandler(pageResolvedSignal, ({ by, source, resolution }) => {
    if (resolve(by, resolution ?? `resolved in ${source}`, source)) changed();
  });

  setHandler(
    closeFollowUpUpdate,
    async ({ by }) => {
      closeFollowUp(by, 'api');
      changed();
      await settled();
      return view();
    },
    {
      validator: ({ by }) => {
        requireText(by, 'by');
        allowIf(followUpPending(), state.status === 'closed'
          ? 'the follow-up task is already closed'
          : 'there is no follow-up task yet: resolve the incident first');
      },
    },
  );

  setHandler(followUpClosedSignal, ({ by, source }) => {
    if (closeFollowUp(by, source)) changed();
  });

  // ---- the main loop: do what is due, then sleep until the next deadline or the next change -----

  if (!input.carried) record('raised', 'intake', `${incident.severity}; ${policy.escalationMode} pages the chain`);

  const isClosed = (): boolean => state.status === 'closed';
  for (;;) {
    passRunning = true;
    dirty = false;
    await runDueWork();
    await publish();
    passRunning = false;
    if (isClosed()) break;

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > historyLimit) {
      await condition(() => allHandlersFinished() || dirty);
      if (!dirty) await continueAsNew<typeof legacyIncidentWorkflow>({ ...input, carried: state });
    }

    const now = Date.now();
    const next = nextWakeUp(now);
    if (next === null) await condition(() => dirty);
    else await condition(() => dirty, Math.max(next.at - now, 1), { summary: next.summary });
  }

  await condition(allHandlersFinished);
  return view();
}

function openIncident(incident: IncidentIntake, now: number): IncidentState {
  return {
    incident,
    status: 'triggered',
    createdAt: now,
    level: 0,
    paging: { levelIndex: 0, repeat: 1, nextAt: null },
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
    closedAt: null,
    timeline: [],
    integrationFailures: [],
    done: [],
    version: 0,
  };
}

function toProjection(state: IncidentState, workflowId: string): IncidentProjection {
  const { incident } = state;
  return {
    id: incident.id,
    workflowId,
    externalId: incident.externalId,
    title: publicIncidentTitle(incident),
    severity: incident.severity,
    status: state.status,
    level: state.level,
    crisis: state.crisis !== null,
    customerTicketId: incident.customerTicketId,
    deskTicketId: incident.deskTicketId,
    createdAt: state.createdAt,
    acknowledgedAt: state.acknowledgedAt,
    acknowledgedBy: state.acknowledgedBy,
    resolvedAt: state.resolvedAt,
    documentUrl: state.document?.webUrl ?? null,
    followUpUrl: state.followUp?.webUrl ?? null,
    followUpClosedAt: state.followUp?.closedAt ?? null,
    version: state.version,
    // Activity input only (replay does not compare it): the projection row says the emergency is private.
    private: incident.private === true,
  };
}

/** The "current details" operators see in the Temporal UI: state, paging, crisis and the timeline. */
function describeForOperators(state: IncidentState, view: IncidentView, now: number): string {
  const lines = [
    `**${state.status}** · ${state.incident.severity} · level ${state.level} paged · ` +
      `${state.crisis ? `**crisis** (${state.crisis.reason})` : 'no crisis'} · ${view.escalationMode} escalation`,
    '',
    view.acknowledgeDueAt !== null
      ? `Acknowledgement due ${new Date(view.acknowledgeDueAt).toISOString()} (${formatDuration(view.acknowledgeDueAt - now)} left)`
      : `Acknowledged by ${state.acknowledgedBy ?? '—'}${view.breached ? ' (late)' : ''}`,
    `Responders: ${state.responders.join(', ') || 'none yet'}`,
  ];
  if (state.document) lines.push(`Incident document: ${state.document.webUrl}`);
  if (state.followUp) lines.push(`Follow-up: ${state.followUp.webUrl} (${state.followUp.closedAt ? 'closed' : `${state.followUp.reminders} reminders`})`);
  const refused = state.integrationFailures;
  if (refused.length) {
    lines.push('', `**Given up on (refused, or down past the give-up time): ${refused.length}**`);
    for (const f of refused.slice(-3)) lines.push(`- ${new Date(f.at).toISOString()} ${f.step}: ${f.message}`);
  }
  lines.push('', '| when | what | who | note |', '|---|---|---|---|');
  for (const e of state.timeline.slice(-15)) {
    lines.push(`| ${new Date(e.at).toISOString()} | ${e.event} | ${e.by ?? ''} | ${(e.note ?? '').replace(/\|/g, '/')} |`);
  }
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}
