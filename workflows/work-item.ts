// What the feature-request and bug-report workflows share, because it really is the same for both:
// the tracker issue and its mirrored `Workflow::` label, Waiting/Blocked, label changes made on the
// tracker, publishing, and the main loop. Each workflow adds its own stage actions on top. The tracker
// is brought in line with the state by queued effects (one lane, in order), never awaited by a handler;
// a tracker that refuses (a deleted issue, a wrong project) is recorded and the process goes on.
import { patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { emptyEffectQueue, nothingProjected, type IntegrationRefusal } from '../domain/effects';
import { formatDuration } from '../domain/format';
import { DESK_BLOCKED, DESK_KIND, DESK_MILESTONE, DESK_STAGE } from '../domain/search-attributes';
import { recordEntry, trimTimeline, unwrittenEntries } from '../domain/timeline';
import {
  blockUpdate,
  isFinal,
  resumeUpdate,
  trackerLabelsChangedSignal,
  waitUpdate,
  workItemStateQuery,
  type ActorInput,
  type CarriedWorkItem,
  type Stage,
  type WorkItemActionResult,
  type WorkItemProjection,
  type WorkItemState,
  type WorkItemView,
  type WorkItemWorkflowInput,
} from '../domain/work-item';
import {
  allowedActions,
  describeHold,
  endHold,
  interpretLabels,
  labelOf,
  moveTo,
  newWorkItem,
  record,
  refusal,
  stageName,
  startHold,
  timeOnHold,
  workflowLabelIn,
} from '../domain/work-item-machine';
import { INTEGRATION_GIVE_UP_MS, effectRunner } from './effects';
import { continueWith, mainLoop } from './main-loop';
import { operatorView, projectionWriter } from './publishing';
import { invalid, refuse, requireBoolean, requireText } from './validation';

/** Runs started before this model (no marker in their history) finish on the code they began with. */
export const WORK_ITEM_STATE_MODEL = 'work-item-state-model';

/**
 * Runs without it let the tracker's answer to "create the issue" overwrite a label change the tracker
 * had already reported, and then put the created label's successor on again.
 */
const TRACKER_LABEL_BEFORE_CREATED = 'tracker-label-before-created';

/**
 * How long after we set a label its webhook echo is still expected. GitLab delivers within seconds;
 * short, so that a person moving the label back soon after is rarely mistaken for an echo.
 */
const ECHO_WINDOW_MS = 60_000;

/** Something due at a time: the loop runs it in the first pass at or after `at`. */
export interface WakeUp {
  at: number;
  summary: string;
  run: () => void;
}

export type WorkItemRuntime = ReturnType<typeof workItemRuntime>;

/** True when this run is of today's model; false for runs started before it (they run legacy code). */
export const isCurrentModel = (): boolean => patched(WORK_ITEM_STATE_MODEL);

export function workItemRuntime(input: WorkItemWorkflowInput) {
  const { item, policy } = input;
  const kind = item.kind;
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const carried: CarriedWorkItem = input.carried ?? {
    model: 2,
    item: newWorkItem(item, info.startTime.getTime()),
    effects: emptyEffectQueue(),
    projection: nothingProjected(),
  };
  const state: WorkItemState = carried.item;
  // Before any handler: a signal that came with the start is delivered as its handler is registered.
  if (!input.carried) record(state, state.createdAt, 'created', 'intake', item.title);
  const loop = mainLoop();
  const noun = kind === 'feature-request' ? 'feature request' : 'bug report';
  const issue = () => ({ project: state.tracker!.project, iid: state.tracker!.iid });

  // ---- the tracker issue: brought in line with the state by queued effects -------------------------

  const effects = effectRunner({
    queue: carried.effects,
    keyPrefix: `${workflowId}:${info.firstExecutionRunId}`,
    giveUpMs: INTEGRATION_GIVE_UP_MS,
    changed: loop.wake,
    recordRefusal: (r: IntegrationRefusal) => record(state, Date.now(), 'tracker refused', 'system', `${r.step}: ${r.message}`),
    kinds: {
      'create-issue': {
        activity: 'createTrackerIssue',
        // The label is the one the item had when the issue was asked for: the stages it went through
        // before the tracker answered follow as label changes, in order, as they do afterwards.
        start: (data: { label?: string }, key) => {
          data.label ??= labelOf(state);
          return {
            args: {
              idempotencyKey: key,
              project: policy.trackerProject,
              title: item.title,
              description: `${item.description}\n\n(${kind} ${item.id}, workflow \`${workflowId}\`)`.trim(),
              labels: [data.label],
            },
          };
        },
        done: (data: { label: string }, created: { iid: number; webUrl: string }) => {
          state.tracker = { project: policy.trackerProject, iid: created.iid, webUrl: created.webUrl };
          // A label change reported by the tracker before its answer reached us happened on the
          // created issue, so it is newer than the label the issue was created with: keep it.
          const toldByTracker = state.issue.label !== null && patched(TRACKER_LABEL_BEFORE_CREATED);
          if (!toldByTracker) state.issue.label = data.label;
          noteOwnLabel(data.label);
          record(state, Date.now(), 'tracker issue created', 'system', created.webUrl);
        },
        refused: () => {
          state.trackerRefused = true;
        },
      },
      labels: {
        activity: 'setTrackerLabels',
        // Every stage the item went through is put on the issue in turn (its history shows them all);
        // what comes off is whatever the issue carries by then.
        start: (data: { label: string }, key) => {
          if (!state.tracker) return { skip: 'no tracker issue to label' };
          const wanted = data.label;
          const extra = state.labels.filter((l) => !state.issue.mirrored.includes(l));
          const moved = wanted !== state.issue.label;
          if (!moved && extra.length === 0) return null;
          const add = moved ? [wanted, ...extra] : extra;
          const remove = moved && state.issue.label !== null ? [state.issue.label] : [];
          return { args: { idempotencyKey: key, ...issue(), add, remove } };
        },
        done: (_data, applied: { add: string[] }) => {
          const label = workflowLabelIn(applied.add);
          if (label !== null) {
            state.issue.label = label;
            noteOwnLabel(label);
          }
          for (const l of applied.add) if (!l.startsWith('Workflow::') && !state.issue.mirrored.includes(l)) state.issue.mirrored.push(l);
        },
        // Refused (a deleted issue) or given up: recorded once, and not asked again for this change;
        // the next change of stage tries again.
        refused: (data: { label: string }) => {
          state.issue.refused = { ...state.issue.refused, label: data.label };
          for (const l of state.labels) if (!state.issue.mirrored.includes(l)) state.issue.mirrored.push(l);
        },
      },
      milestone: {
        activity: 'setTrackerMilestone',
        start: (_data, key) => {
          if (!state.tracker) return { skip: 'no tracker issue to set the milestone on' };
          const milestone = state.milestone?.title ?? null;
          return milestone === state.issue.milestone ? null : { args: { idempotencyKey: key, ...issue(), milestone } };
        },
        done: (_data, applied: { milestone: string | null }) => {
          state.issue.milestone = applied.milestone;
        },
        refused: () => {
          state.issue.refused = { ...state.issue.refused, milestone: state.milestone?.title ?? null };
        },
      },
      close: {
        activity: 'closeTrackerIssue',
        start: (_data, key) => (state.tracker ? { args: { idempotencyKey: key, ...issue() } } : null),
        done: () => {
          state.issue.closed = true;
        },
        // The item is over either way: a refused close is recorded, not retried.
        refused: () => {
          state.issue.refused = { ...state.issue.refused, close: true };
        },
      },
      comment: {
        activity: 'commentOnTracker',
        start: (data: { body: string }, key) =>
          state.tracker ? { args: { idempotencyKey: key, ...issue(), body: data.body } } : { skip: 'no tracker issue to comment on' },
      },
    },
  });

  // The issue is asked for before any handler is registered: an update that came with the start
  // (a triage in the first workflow task) then moves it on by a label change, as any later one does.
  if (!input.carried) syncTracker();

  /** Queues what the issue needs to show the state: created, label, labels, milestone, closed. */
  function syncTracker(): void {
    if (state.trackerRefused) return;
    if (!state.tracker) {
      if (!effects.pendingStep('issue')) {
        effects.add('issue', 'create-issue', { label: labelOf(state) }, { lane: 'tracker', summary: 'create the tracker issue' });
      }
      return;
    }
    const wanted = labelOf(state);
    const queued = carried.effects.pending.filter((p) => p.kind === 'labels');
    const last = queued.length ? (queued[queued.length - 1]!.data as { label: string }).label : state.issue.label;
    const extra = state.labels.some((l) => !state.issue.mirrored.includes(l));
    const refused = state.issue.refused ?? {};
    if ((wanted !== last && !(queued.length === 0 && refused.label === wanted)) || (extra && queued.length === 0)) {
      state.trackerSyncs += 1;
      effects.add(`labels:${state.trackerSyncs}`, 'labels', { label: wanted }, { lane: 'tracker', summary: `label → ${wanted}` });
    }
    const milestone = state.milestone?.title ?? null;
    if (milestone !== state.issue.milestone && milestone !== refused.milestone && !effects.pendingStep('milestone')) {
      state.trackerSyncs += 1;
      effects.add(`milestone:${state.trackerSyncs}`, 'milestone', {}, { lane: 'tracker', summary: 'milestone' });
    }
    if (isFinal(state.stage) && !state.issue.closed && !refused.close && !effects.pendingStep('close')) {
      effects.add('close', 'close', {}, { lane: 'tracker', summary: 'close the tracker issue' });
    }
  }

  /** A comment on the issue, after whatever was queued before it (the issue's creation first). */
  function comment(key: string, body: string, summary: string): void {
    effects.add(`comment:${key}`, 'comment', { body }, { lane: 'tracker', summary });
  }

  function noteOwnLabel(label: string): void {
    state.echoes.push({ label, at: Date.now() });
  }

  /**
   * GitLab sends a webhook for our own label changes too. Usually it names the label we are in (a
   * no-op), but when two moves come quickly the echo of the first can arrive after the second: a
   * label we set ourselves within ECHO_WINDOW_MS is such an echo, not someone's request to go back.
   */
  function takeOwnEcho(label: string): boolean {
    const now = Date.now();
    while (state.echoes.length > 0 && now - state.echoes[0]!.at > ECHO_WINDOW_MS) state.echoes.shift();
    const at = state.echoes.findIndex((o) => o.label === label);
    if (at < 0) return false;
    state.echoes.splice(at, 1);
    return true;
  }

  // ---- reading the state, publishing ------------------------------------------------------------

  function view(now: number): WorkItemView {
    const { echoes: _echoes, recorded, ...rest } = state;
    return {
      ...rest,
      workflowId,
      timelineLength: recorded,
      label: labelOf(state),
      timeOnHold: timeOnHold(state, now),
      allowedActions: allowedActions(kind, state),
      integrationFailures: carried.effects.refusals,
      pendingEffects: carried.effects.pending.length,
      projection: carried.projection,
    };
  }

  const projection = projectionWriter({
    progress: carried.projection,
    activity: 'recordWorkItem',
    version: () => state.version,
    snapshot: (eventSeq) => {
      const events = unwrittenEntries(state, eventSeq);
      const row: WorkItemProjection = { ...toProjection(state, workflowId, Date.now()), chainId: info.firstExecutionRunId, events };
      return { row, lastSeq: events[events.length - 1]?.seq ?? eventSeq };
    },
    changed: loop.wake,
  });

  // ---- changing the stage ------------------------------------------------------------------------

  function move(to: Stage, by: string, note?: string): void {
    moveTo(state, to, Date.now(), by, note);
  }

  function reject(reason: string, by: string): void {
    state.rejection = { reason, by, at: Date.now() };
    move('rejected', by, reason);
    comment('rejected', `This ${noun} is closed: ${reason}`, 'tell the requester why it is closed');
  }

  const requireInput = (i: unknown): void => {
    if (i === null || typeof i !== 'object') invalid('the action needs an object as its input');
  };

  /**
   * Registers one stage action as an update: the validator checks the input, then asks the stage
   * machine whether the action is allowed now; the handler changes the state (synchronously: the loop
   * carries out what follows on the tracker) and answers once the change is in the lists.
   */
  function action<I extends ActorInput>(
    update: UpdateDefinition<WorkItemActionResult, [I]>,
    name: string,
    check: (input: I) => void,
    run: (input: I) => void,
  ): void {
    setHandler(
      update,
      async (i) => {
        const before = state.recorded;
        run(i);
        loop.wake();
        const version = state.version;
        const visible = await projection.visible(version);
        const event = state.timeline.find((e) => (e.seq ?? 0) > before)?.event ?? 'no change';
        return { id: item.id, stage: state.stage, hold: state.hold?.kind ?? null, version, event, visible };
      },
      {
        validator: (i) => {
          requireInput(i);
          requireText(i.by, 'by', 'name');
          check(i);
          refuse(refusal(kind, state, name));
        },
      },
    );
  }

  // ---- Waiting and Blocked: the same in every active stage -------------------------------------

  action(
    waitUpdate,
    'wait',
    ({ on, reason }) => {
      if (on !== 'input' && on !== 'dependency') invalid('on must be "input" or "dependency"');
      requireText(reason, 'reason', 'note');
    },
    ({ by, on, reason }) => startHold(state, { kind: 'waiting', on, reason, since: Date.now(), by }),
  );
  action(
    blockUpdate,
    'block',
    ({ reason }) => requireText(reason, 'reason', 'note'),
    ({ by, reason }) => startHold(state, { kind: 'blocked', reason, since: Date.now(), by }),
  );
  action(
    resumeUpdate,
    'resume',
    ({ note }) => {
      if (note !== undefined) requireText(note, 'note', 'note');
    },
    ({ by, note }) => endHold(state, Date.now(), by, note),
  );

  setHandler(workItemStateQuery, () => view(Date.now()));

  // ---- label changes made on the tracker ------------------------------------------------------

  /**
   * `takeByLabel(action, to, by)` does what the action would do through the API, with what a label
   * cannot carry filled in (e.g. "moved on the tracker" as the reason).
   */
  function onTrackerLabels(takeByLabel: (action: string, to: Stage, by: string) => void): void {
    setHandler(trackerLabelsChangedSignal, (change) => {
      if (!Array.isArray(change?.labels) || typeof change.by !== 'string') return;
      const { labels, by } = change;
      state.labelChangesSeen += 1;
      const seen = state.labelChangesSeen;
      const wanted = workflowLabelIn(labels);
      loop.wake();
      if (wanted !== null && takeOwnEcho(wanted)) {
        // A late echo: say nothing, but make sure the issue shows where the item is now.
        state.issue.label = wanted;
        return;
      }
      const request = interpretLabels(kind, state, labels);
      if (request.type === 'none') return;
      // The issue carries this label now, whatever we decide: the next sync starts from it.
      state.issue.label = wanted;
      const who = `${by} on the tracker`;
      switch (request.type) {
        case 'move':
          takeByLabel(request.action, request.to, who);
          break;
        case 'wait':
          startHold(state, { kind: 'waiting', on: 'input', reason: `set on the tracker by ${by}`, since: Date.now(), by: who });
          break;
        case 'resume':
          endHold(state, Date.now(), who);
          break;
        case 'refuse':
          record(state, Date.now(), 'label change refused', who, request.reason);
          comment(
            `label-refused:${seen}`,
            `@${by} the label change was not applied: ${request.reason}. The label is back to ${labelOf(state)}.`,
            'explain a refused label change',
          );
          break;
      }
    });
  }

  // ---- the main loop ---------------------------------------------------------------------------

  /** Runs until a final stage (and the tracker caught up): what is due, the tracker, publishing. */
  async function run(nextWakeUp: () => WakeUp | null): Promise<WorkItemView> {
    const publishToOperators = operatorView();
    await loop.run({
      effects,
      projection,
      pass(now) {
        // Whatever fell due (a reminder, the milestone) runs now, however late; each run changes what is next.
        for (let next = nextWakeUp(); next && next.at <= now && !isFinal(state.stage); next = nextWakeUp()) next.run();
        syncTracker();
        trimTimeline(state, carried.projection.eventSeq);
      },
      publish(now) {
        publishToOperators(
          [
            { key: DESK_KIND, value: kind },
            { key: DESK_STAGE, value: state.stage },
            { key: DESK_MILESTONE, value: state.milestone?.title ?? 'none' },
            { key: DESK_BLOCKED, value: state.hold?.kind === 'blocked' },
          ],
          describeForOperators(state, carried, now),
        );
        projection.sync();
      },
      nextWakeUp: () => {
        const next = isFinal(state.stage) ? null : nextWakeUp();
        return next ? { at: next.at, summary: next.summary } : null;
      },
      finished: () => isFinal(state.stage),
      continueAsNew: () => continueWith<WorkItemWorkflowInput>({ ...input, carried }),
      limits: { events: input.continueAsNewAfterEvents, bytes: input.continueAsNewAfterBytes },
    });
    return view(Date.now());
  }

  return {
    state,
    policy,
    workflowId,
    invalid,
    requireText,
    requireBoolean,
    comment,
    move,
    reject,
    action,
    onTrackerLabels,
    run,
  };
}

function toProjection(state: WorkItemState, workflowId: string, now: number): WorkItemProjection {
  const held = timeOnHold(state, now);
  const current = state.stageHistory[state.stageHistory.length - 1]!;
  return {
    id: state.item.id,
    workflowId,
    kind: state.item.kind,
    externalId: state.item.externalId,
    title: state.item.title,
    stage: state.stage,
    hold: state.hold?.kind ?? null,
    holdReason: state.hold?.reason ?? null,
    trackerProject: state.tracker?.project ?? null,
    trackerIid: state.tracker?.iid ?? null,
    trackerUrl: state.tracker?.webUrl ?? null,
    milestone: state.milestone?.title ?? null,
    milestoneStartsAt: state.milestone?.startsAt ?? null,
    createdAt: state.createdAt,
    stageEnteredAt: current.enteredAt,
    closedAt: state.closedAt,
    waitingMs: held.waitingMs,
    blockedMs: held.blockedMs,
    version: state.version,
  };
}

/** The "current details" operators see in the Temporal UI: stage, hold, time on hold, stage history. */
function describeForOperators(state: WorkItemState, carried: CarriedWorkItem, now: number): string {
  const held = timeOnHold(state, now);
  const lines = [
    `**${stageName(state.stage)}**${state.hold ? ` · ${describeHold(state.hold)}` : ''} · label \`${labelOf(state)}\`` +
      (state.milestone ? ` · milestone ${state.milestone.title} (${new Date(state.milestone.startsAt).toISOString()})` : ''),
    '',
    `Time waiting: ${formatDuration(held.waitingMs)} · time blocked: ${formatDuration(held.blockedMs)}`,
    '',
    '| stage | entered | left | by | note |',
    '|---|---|---|---|---|',
    ...state.stageHistory.slice(-20).map(
      (v) =>
        `| ${stageName(v.stage)} | ${new Date(v.enteredAt).toISOString()} | ${v.leftAt === null ? '—' : new Date(v.leftAt).toISOString()} | ${v.by} | ${v.note ?? ''} |`,
    ),
  ];
  if (state.tracker) lines.push('', `Tracker: ${state.tracker.webUrl}`);
  else if (state.trackerRefused) lines.push('', '**The tracker refused to create the issue**: the item goes on without it.');
  const { pending, refusals, refusedCount } = carried.effects;
  if (pending.length) lines.push('', `Tracker changes going out: ${pending.length}`);
  if (refusedCount) {
    lines.push('', `**Refused by the tracker or given up: ${refusedCount}**`);
    for (const f of refusals.slice(-3)) lines.push(`- ${new Date(f.at).toISOString()} ${f.step}: ${f.message}`);
  }
  if (carried.projection.refused) lines.push('', `**Projection refused by PostgreSQL:** ${carried.projection.refused.message}`);
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}
