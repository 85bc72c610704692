// The work-item runtime of the first model, kept only so that feature requests and bug reports started
// before workflows/work-item.ts (the `work-item-state-model` patch) replay and finish as they began;
// remove it, and legacy/feature-request.ts and legacy/bug-report.ts, with deprecatePatch once no such
// run is open.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import type { WorkItemActivities } from '../../activities/work-item';
import { formatDuration } from '../../domain/format';
import { DESK_BLOCKED, DESK_KIND, DESK_MILESTONE, DESK_STAGE } from '../../domain/search-attributes';
import {
  ACTION_NOT_ALLOWED,
  blockUpdate,
  isFinal,
  resumeUpdate,
  trackerLabelsChangedSignal,
  waitUpdate,
  workItemStateQuery,
  type ActorInput,
  type Stage,
  type WorkItemProjection,
  type WorkItemState,
  type WorkItemWorkflowInput,
} from '../../domain/work-item';
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
} from '../../domain/work-item-machine';

const tracker = proxyActivities<WorkItemActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * How long after we set a label its webhook echo is still expected. GitLab delivers within seconds;
 * short, so that a person moving the label back soon after is rarely mistaken for an echo.
 */
const ECHO_WINDOW_MS = 60_000;

/** Something due at a time: the workflow sleeps until the earliest one (or the next change). */
export interface WakeUp {
  at: number;
  summary: string;
  run: () => Promise<void>;
}

/** What a query and every action answered with then. */
export interface LegacyWorkItemView extends WorkItemState {
  workflowId: string;
  label: string;
  timeOnHold: { waitingMs: number; blockedMs: number };
  allowedActions: string[];
}
type WorkItemView = LegacyWorkItemView;

export type WorkItemRuntime = ReturnType<typeof workItemRuntime>;

export function workItemRuntime(input: WorkItemWorkflowInput) {
  const { item, policy } = input;
  const kind = item.kind;
  const workflowId = workflowInfo().workflowId;
  const state: WorkItemState = newWorkItem(item, Date.now());

  // ---- reading the state ----------------------------------------------------------------------

  function view(): WorkItemView {
    return {
      ...state,
      workflowId,
      label: labelOf(state),
      timeOnHold: timeOnHold(state, Date.now()),
      allowedActions: allowedActions(kind, state),
    };
  }

  const allowIf = (reason: string | null): void => {
    if (reason !== null) throw ApplicationFailure.create({ type: ACTION_NOT_ALLOWED, message: reason, nonRetryable: true });
  };
  const invalid = (message: string): never => {
    throw ApplicationFailure.create({ type: 'InvalidInput', message, nonRetryable: true });
  };
  const requireText = (value: unknown, field: string): void => {
    if (typeof value !== 'string' || value.trim() === '') invalid(`${field} is required`);
  };
  const requireBoolean = (value: unknown, field: string): void => {
    if (typeof value !== 'boolean') invalid(`${field} must be true or false`);
  };

  // ---- the tracker issue: one effect per step, keyed by the workflow id ---------------------------

  /** The `Workflow::` label the issue carries as far as we know (ours, or one set on the tracker). */
  let issueLabel: string | null = null;
  /** Labels we put on the issue lately, whose webhook echo may still arrive (see takeOwnEcho). */
  const ownLabels: Array<{ label: string; at: number }> = [];
  const mirroredLabels = new Set<string>();
  let issueMilestone: string | null = null;
  let issueClosed = false;

  const issue = () => ({ project: state.tracker!.project, iid: state.tracker!.iid });

  async function comment(key: string, body: string, summary: string): Promise<void> {
    // An action can arrive while the issue is still being created: the comment waits for it.
    await condition(() => state.tracker !== null);
    await tracker.commentOnTracker.executeWithOptions(
      {
        startToCloseTimeout: '30 seconds',
        retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
        summary,
      },
      [{ idempotencyKey: `${workflowId}:comment:${key}`, ...issue(), body }],
    );
  }

  /** Brings the issue in line with the state: created, label, extra labels, milestone, closed. */
  async function syncTracker(): Promise<void> {
    if (!state.tracker) {
      // An action may change the stage while the issue is being created: remember what it got.
      const initialLabel = labelOf(state);
      const created = await tracker.createTrackerIssue({
        idempotencyKey: `${workflowId}:issue`,
        project: policy.trackerProject,
        title: item.title,
        description: `${item.description}\n\n(${kind} ${item.id}, workflow \`${workflowId}\`)`.trim(),
        labels: [initialLabel],
      });
      state.tracker = { project: policy.trackerProject, iid: created.iid, webUrl: created.webUrl };
      issueLabel = initialLabel;
      ownLabels.push({ label: initialLabel, at: Date.now() });
      record(state, Date.now(), 'tracker issue created', 'system', created.webUrl);
    }
    const wanted = labelOf(state);
    const extra = state.labels.filter((l) => !mirroredLabels.has(l));
    if (wanted !== issueLabel || extra.length > 0) {
      const add = wanted !== issueLabel ? [wanted, ...extra] : extra;
      const remove = wanted !== issueLabel && issueLabel !== null ? [issueLabel] : [];
      await tracker.setTrackerLabels.executeWithOptions(
        { startToCloseTimeout: '30 seconds', summary: `label → ${add.join(', ')}` },
        [
          {
            idempotencyKey: `${workflowId}:labels:${state.version}:${state.labelChangesSeen}:${add.join(',')}`,
            ...issue(),
            add,
            remove,
          },
        ],
      );
      if (wanted !== issueLabel) ownLabels.push({ label: wanted, at: Date.now() });
      issueLabel = wanted;
      for (const l of extra) mirroredLabels.add(l);
    }
    const milestone = state.milestone?.title ?? null;
    if (milestone !== issueMilestone) {
      await tracker.setTrackerMilestone({
        idempotencyKey: `${workflowId}:milestone:${state.version}`,
        ...issue(),
        milestone,
      });
      issueMilestone = milestone;
    }
    if (isFinal(state.stage) && !issueClosed) {
      await tracker.closeTrackerIssue({ idempotencyKey: `${workflowId}:close`, ...issue() });
      issueClosed = true;
    }
  }

  // ---- publishing: search attributes, UI details, the projection -------------------------------

  let lastSearchAttributes = '';
  let projectedVersion = -1;
  let publishing: Promise<void> = Promise.resolve();

  /** Serialised: two handlers finishing together must not swap the same label twice. */
  function publish(): Promise<void> {
    publishing = publishing.catch(() => undefined).then(publishNow);
    return publishing;
  }

  async function publishNow(): Promise<void> {
    await syncTracker();
    const attributes = [
      { key: DESK_KIND, value: kind },
      { key: DESK_STAGE, value: state.stage },
      { key: DESK_MILESTONE, value: state.milestone?.title ?? 'none' },
      { key: DESK_BLOCKED, value: state.hold?.kind === 'blocked' },
    ];
    const serialized = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
    if (serialized !== lastSearchAttributes) {
      upsertSearchAttributes(attributes);
      lastSearchAttributes = serialized;
    }
    setCurrentDetails(describeForOperators(state, Date.now()));
    if (state.version > projectedVersion) {
      const version = state.version;
      await tracker.recordWorkItem(toProjection(state, workflowId, Date.now()));
      projectedVersion = Math.max(projectedVersion, version);
    }
  }

  // ---- changing the stage ------------------------------------------------------------------------

  function move(to: Stage, by: string, note?: string): void {
    moveTo(state, to, Date.now(), by, note);
  }

  async function reject(reason: string, by: string): Promise<void> {
    state.rejection = { reason, by, at: Date.now() };
    move('rejected', by, reason);
    await comment('rejected', `This ${noun()} is closed: ${reason}`, 'tell the requester why it is closed');
  }

  const noun = () => (kind === 'feature-request' ? 'feature request' : 'bug report');

  /**
   * Registers one stage action as an update: the validator checks the input, then asks the stage
   * machine whether the action is allowed now; the handler changes the state and publishes.
   */
  function action<I extends ActorInput>(
    // The definitions are typed with today's answers; this runtime answers with its own view.
    update: UpdateDefinition<any, [I]>,
    name: string,
    check: (input: I) => void,
    run: (input: I) => Promise<void> | void,
  ): void {
    setHandler(
      update,
      async (i) => {
        await run(i);
        await publish();
        return view();
      },
      {
        validator: (i) => {
          requireText(i?.by, 'by');
          check(i);
          allowIf(refusal(kind, state, name));
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
      requireText(reason, 'reason');
    },
    ({ by, on, reason }) => startHold(state, { kind: 'waiting', on, reason, since: Date.now(), by }),
  );
  action(
    blockUpdate,
    'block',
    ({ reason }) => requireText(reason, 'reason'),
    ({ by, reason }) => startHold(state, { kind: 'blocked', reason, since: Date.now(), by }),
  );
  action(
    resumeUpdate,
    'resume',
    () => undefined,
    ({ by, note }) => endHold(state, Date.now(), by, note),
  );

  setHandler(workItemStateQuery as unknown as QueryDefinition<WorkItemView, []>, view);

  // ---- label changes made on the tracker ------------------------------------------------------

  /**
   * GitLab sends a webhook for our own label changes too. Usually it names the label we are in (a
   * no-op), but when two moves come quickly the echo of the first can arrive after the second: a
   * label we set ourselves within ECHO_WINDOW_MS is such an echo, not someone's request to go back.
   */
  function takeOwnEcho(label: string): boolean {
    const now = Date.now();
    while (ownLabels.length > 0 && now - ownLabels[0]!.at > ECHO_WINDOW_MS) ownLabels.shift();
    const at = ownLabels.findIndex((o) => o.label === label);
    if (at < 0) return false;
    ownLabels.splice(at, 1);
    return true;
  }

  /**
   * `takeByLabel(action, to, by)` does what the action would do through the API, with what a label
   * cannot carry filled in (e.g. "moved on the tracker" as the reason).
   */
  function onTrackerLabels(takeByLabel: (action: string, to: Stage, by: string) => Promise<void>): void {
    setHandler(trackerLabelsChangedSignal, async ({ labels, by }) => {
      state.labelChangesSeen += 1;
      const seen = state.labelChangesSeen;
      const wanted = workflowLabelIn(labels);
      if (wanted !== null && takeOwnEcho(wanted)) {
        if (wanted === labelOf(state)) return;
        // A late echo: say nothing, but make sure the issue shows where the item is now.
        issueLabel = wanted;
        await publish();
        return;
      }
      const request = interpretLabels(kind, state, labels);
      if (request.type === 'none') return;
      // The issue carries this label now, whatever we decide: the next sync starts from it.
      issueLabel = wanted;
      const who = `${by} on the tracker`;
      switch (request.type) {
        case 'move':
          await takeByLabel(request.action, request.to, who);
          break;
        case 'wait':
          startHold(state, { kind: 'waiting', on: 'input', reason: `set on the tracker by ${by}`, since: Date.now(), by: who });
          break;
        case 'resume':
          endHold(state, Date.now(), who);
          break;
        case 'refuse':
          record(state, Date.now(), 'label change refused', who, request.reason);
          await comment(
            `label-refused:${seen}`,
            `@${by} the label change was not applied: ${request.reason}. The label is back to ${labelOf(state)}.`,
            'explain a refused label change',
          );
          break;
      }
      await publish();
    });
  }

  // ---- the main loop ---------------------------------------------------------------------------

  /** Sleeps until the next thing due or the next change, runs what is due, until a final stage. */
  async function run(nextWakeUp: () => WakeUp | null): Promise<WorkItemView> {
    record(state, Date.now(), 'created', 'intake', item.title);
    await publish();
    while (!isFinal(state.stage)) {
      const now = Date.now();
      const next = nextWakeUp();
      if (next && next.at <= now) {
        await next.run();
        await publish();
        continue;
      }
      const seen = state.version;
      if (next === null) await condition(() => state.version !== seen || isFinal(state.stage));
      else await condition(() => state.version !== seen, next.at - now, { summary: next.summary });
    }
    await condition(allHandlersFinished);
    await publish();
    return view();
  }

  return {
    state,
    view,
    invalid,
    requireText,
    requireBoolean,
    comment,
    move,
    reject,
    action,
    onTrackerLabels,
    run,
    policy,
    workflowId,
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
function describeForOperators(state: WorkItemState, now: number): string {
  const held = timeOnHold(state, now);
  const lines = [
    `**${stageName(state.stage)}**${state.hold ? ` · ${describeHold(state.hold)}` : ''} · label \`${labelOf(state)}\`` +
      (state.milestone ? ` · milestone ${state.milestone.title} (${new Date(state.milestone.startsAt).toISOString()})` : ''),
    '',
    `Time waiting: ${formatDuration(held.waitingMs)} · time blocked: ${formatDuration(held.blockedMs)}`,
    '',
    '| stage | entered | left | by | note |',
    '|---|---|---|---|---|',
    ...state.stageHistory.map(
      (v) =>
        `| ${stageName(v.stage)} | ${new Date(v.enteredAt).toISOString()} | ${v.leftAt === null ? '—' : new Date(v.leftAt).toISOString()} | ${v.by} | ${v.note ?? ''} |`,
    ),
  ];
  if (state.tracker) lines.push('', `Tracker: ${state.tracker.webUrl}`);
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}
