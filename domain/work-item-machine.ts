// The stage machine both work-item workflows share, as pure functions over WorkItemState: may this
// action be taken now (and if not, why), apply a move, enter and leave Waiting/Blocked with the time
// accounted, and what a label set on the tracker asks for. No clock of its own: `now` is an argument.
import {
  ACTIONS_TABLE,
  HOLD_LABELS,
  LABEL_SCOPE,
  STAGE_LABELS,
  STAGES_OF,
  isFinal,
  type Hold,
  type HoldKind,
  type Stage,
  type TimeOnHold,
  type WorkItemKind,
  type WorkItemState,
} from './work-item';
import { recordEntry } from './timeline';

const NOUN: Record<WorkItemKind, string> = { 'feature-request': 'feature request', 'bug-report': 'bug report' };

/** "Development" for messages people read. */
export function stageName(stage: Stage): string {
  return stage === 'production' ? 'In production' : stage[0]!.toUpperCase() + stage.slice(1);
}

const list = (stages: readonly Stage[]): string => stages.map(stageName).join(' or ');

/** Where a stage can lead (stage-changing actions only; Waiting/Blocked are not stages). */
export function movesFrom(kind: WorkItemKind, from: Stage): Stage[] {
  const targets = new Set<Stage>();
  for (const action of Object.values(ACTIONS_TABLE[kind])) {
    if (!action.from.includes(from)) continue;
    for (const to of action.to) if (to !== from) targets.add(to);
  }
  return STAGES_OF[kind].filter((s) => targets.has(s));
}

export function isAllowedMove(kind: WorkItemKind, from: Stage, to: Stage): boolean {
  return movesFrom(kind, from).includes(to);
}

/** The action that takes `from` to `to`, if any. */
export function actionForMove(kind: WorkItemKind, from: Stage, to: Stage): string | null {
  for (const [name, action] of Object.entries(ACTIONS_TABLE[kind])) {
    if (from !== to && action.from.includes(from) && action.to.includes(to)) return name;
  }
  return null;
}

/** Why `action` cannot be taken now, or null when it can. Validators turn a reason into a 409. */
export function refusal(kind: WorkItemKind, state: WorkItemState, action: string): string | null {
  const noun = NOUN[kind];
  if (isFinal(state.stage)) return `the ${noun} is ${state.stage}; nothing more can happen to it`;
  const hold = state.hold;
  if (action === 'wait' || action === 'block') {
    return hold ? `the ${noun} is already ${describeHold(hold)}; resume it first` : null;
  }
  if (action === 'resume') return hold ? null : `the ${noun} is neither waiting nor blocked`;
  if (action === 'provide-information') {
    return hold?.on === 'requester' ? null : `nobody asked the requester for information on this ${noun}`;
  }
  const rule = ACTIONS_TABLE[kind][action];
  if (!rule) return `a ${noun} has no action "${action}"`;
  if (hold) return `the ${noun} is ${describeHold(hold)}; resume it first`;
  if (!rule.from.includes(state.stage)) {
    return `"${action}" is taken in ${list(rule.from)}; the ${noun} is in ${stageName(state.stage)}`;
  }
  if (rule.needs === 'enoughInformation' && state.enoughInformation !== true) {
    return 'triage has not found enough information yet; mark it with "triage" first';
  }
  if (rule.needs === 'gamePlan' && state.gamePlan === null) return 'record a game plan first';
  if (rule.needs === 'milestone' && state.milestone === null) return 'set a milestone first';
  return null;
}

/** Every action `refusal` allows now, for the API's links and the tests. */
export function allowedActions(kind: WorkItemKind, state: WorkItemState): string[] {
  const all = [...Object.keys(ACTIONS_TABLE[kind]), 'provide-information', 'wait', 'block', 'resume'];
  return [...new Set(all)].filter((a) => (a === 'provide-information' && kind !== 'feature-request' ? false : refusal(kind, state, a) === null));
}

export function describeHold(hold: Hold): string {
  if (hold.kind === 'blocked') return `blocked (${hold.reason})`;
  const on = hold.on === 'requester' ? 'the requester' : hold.on === 'dependency' ? 'a dependency' : 'input';
  return `waiting on ${on} (${hold.reason})`;
}

// ---- changing the state -----------------------------------------------------------------------

export function record(state: WorkItemState, at: number, event: string, by?: string, note?: string): void {
  recordEntry(state, at, event, by, note);
}

/** Leaves the current stage for `to`; the history keeps when each stage was entered and left. */
export function moveTo(state: WorkItemState, to: Stage, at: number, by: string, note?: string): void {
  const current = state.stageHistory[state.stageHistory.length - 1];
  if (current && current.leftAt === null) current.leftAt = at;
  state.stageHistory.push({ stage: to, enteredAt: at, leftAt: null, by, ...(note ? { note } : {}) });
  const from = state.stage;
  state.stage = to;
  if (isFinal(to)) state.closedAt = at;
  record(state, at, `${stageName(from)} → ${stageName(to)}`, by, note);
}

export function startHold(state: WorkItemState, hold: Omit<Hold, 'stage' | 'until'>): void {
  const opened: Hold = { ...hold, stage: state.stage, until: null };
  state.hold = opened;
  state.holds.push(opened);
  record(state, hold.since, hold.kind, hold.by, hold.reason);
}

/** Ends Waiting/Blocked; the item is back in the stage it was in. */
export function endHold(state: WorkItemState, at: number, by: string, note?: string): void {
  if (!state.hold) return;
  const kind = state.hold.kind;
  state.hold.until = at;
  state.hold = null;
  record(state, at, `${kind} ended`, by, note);
}

export function timeOnHold(state: WorkItemState, now: number): TimeOnHold {
  const total: TimeOnHold = { waitingMs: 0, blockedMs: 0 };
  for (const h of state.holds) {
    const ms = (h.until ?? now) - h.since;
    if (h.kind === 'waiting') total.waitingMs += ms;
    else total.blockedMs += ms;
  }
  return total;
}

// ---- the tracker's labels ---------------------------------------------------------------------

/** The label the tracker issue should carry: the hold's while held, otherwise the stage's. */
export function labelOf(state: Pick<WorkItemState, 'stage' | 'hold'>): string {
  return state.hold ? HOLD_LABELS[state.hold.kind] : STAGE_LABELS[state.stage];
}

export function workflowLabelIn(labels: readonly string[]): string | null {
  return labels.find((l) => l.startsWith(LABEL_SCOPE)) ?? null;
}

function targetOfLabel(kind: WorkItemKind, label: string): Stage | HoldKind | null {
  for (const stage of STAGES_OF[kind]) if (STAGE_LABELS[stage] === label) return stage;
  for (const hold of ['waiting', 'blocked'] as const) if (HOLD_LABELS[hold] === label) return hold;
  return null;
}

/** What a label change made on the tracker asks the workflow to do. */
export type LabelRequest =
  | { type: 'none' }
  | { type: 'move'; action: string; to: Stage }
  | { type: 'wait' }
  | { type: 'resume' }
  | { type: 'refuse'; reason: string };

export function interpretLabels(kind: WorkItemKind, state: WorkItemState, labels: readonly string[]): LabelRequest {
  const noun = NOUN[kind];
  const current = labelOf(state);
  const wanted = workflowLabelIn(labels);
  if (wanted === current) return { type: 'none' };
  if (wanted === null) return { type: 'refuse', reason: `the ${LABEL_SCOPE} label was removed; this ${noun} is in ${stageName(state.stage)}` };
  const target = targetOfLabel(kind, wanted);
  const allLabels = [...STAGES_OF[kind].map((s) => STAGE_LABELS[s]), ...Object.values(HOLD_LABELS)];
  if (target === null) return { type: 'refuse', reason: `"${wanted}" is not a stage of a ${noun}; use one of ${allLabels.join(', ')}` };
  if (isFinal(state.stage)) return { type: 'refuse', reason: `the ${noun} is ${state.stage}; nothing more can happen to it` };
  if (target === 'blocked') {
    return { type: 'refuse', reason: `Blocked needs a reason: use the "block" action with the reason instead of the label` };
  }
  if (target === 'waiting') {
    return state.hold ? { type: 'refuse', reason: `the ${noun} is ${describeHold(state.hold)}; resume it first` } : { type: 'wait' };
  }
  if (state.hold) {
    if (target === state.stage) return { type: 'resume' };
    return {
      type: 'refuse',
      reason: `the ${noun} is ${describeHold(state.hold)}; put ${STAGE_LABELS[state.stage]} back to resume it first`,
    };
  }
  const action = actionForMove(kind, state.stage, target);
  if (action === null) {
    const next = movesFrom(kind, state.stage);
    return {
      type: 'refuse',
      reason: `a ${noun} cannot move from ${stageName(state.stage)} to ${stageName(target)}; from ${stageName(state.stage)} it moves to ${list(next)}`,
    };
  }
  const why = refusal(kind, state, action);
  if (why !== null) return { type: 'refuse', reason: `cannot move to ${stageName(target)}: ${why}` };
  return { type: 'move', action, to: target };
}

/** A fresh item in Triage. */
export function newWorkItem(item: WorkItemState['item'], now: number): WorkItemState {
  return {
    item,
    stage: 'triage',
    hold: null,
    tracker: null,
    stageHistory: [{ stage: 'triage', enteredAt: now, leftAt: null, by: 'intake' }],
    holds: [],
    createdAt: now,
    closedAt: null,
    enoughInformation: null,
    gamePlan: null,
    labels: [],
    decision: null,
    milestone: null,
    validations: [],
    rejection: null,
    timeline: [],
    recorded: 0,
    labelChangesSeen: 0,
    issue: { label: null, milestone: null, closed: false, mirrored: [] },
    trackerRefused: false,
    echoes: [],
    trackerSyncs: 0,
    version: 0,
  };
}
