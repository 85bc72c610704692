// Feature requests and bug reports: their stages, which action moves which stage where (as data),
// the tracker's `Workflow::` label per stage, and the messages that drive both workflows.
// Imported by the workflows and by the API, so it holds no Node imports and no zod.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EffectQueue, IntegrationRefusal, ProjectionProgress } from './effects';
import type { TimelineEntry } from './timeline';

export type { TimelineEntry } from './timeline';

export const WORK_ITEM_KINDS = ['feature-request', 'bug-report'] as const;
export type WorkItemKind = (typeof WORK_ITEM_KINDS)[number];

export const FEATURE_STAGES = ['triage', 'design', 'planning', 'development', 'validation', 'completed', 'rejected'] as const;
export const BUG_STAGES = ['triage', 'design', 'development', 'validation', 'production', 'completed', 'rejected'] as const;
export type FeatureStage = (typeof FEATURE_STAGES)[number];
export type BugStage = (typeof BUG_STAGES)[number];
export type Stage = FeatureStage | BugStage;

export const STAGES_OF: Record<WorkItemKind, readonly Stage[]> = {
  'feature-request': FEATURE_STAGES,
  'bug-report': BUG_STAGES,
};

/** The stages a work item ends in; the workflow closes the tracker issue and completes. */
export const FINAL_STAGES: readonly Stage[] = ['completed', 'rejected'];
export const isFinal = (stage: Stage): boolean => FINAL_STAGES.includes(stage);

/** Waiting (on input or a dependency) and Blocked can be entered from any active stage and left again. */
export type HoldKind = 'waiting' | 'blocked';
/** What a wait is for; `requester` is triage asking the requester for information (reminders, give-up). */
export type WaitingOn = 'input' | 'dependency' | 'requester';

// ---- the tracker's scoped labels -------------------------------------------------------------

export const LABEL_SCOPE = 'Workflow::';

export const STAGE_LABELS: Record<Stage, string> = {
  triage: 'Workflow::Triage',
  design: 'Workflow::Design',
  planning: 'Workflow::Planning',
  development: 'Workflow::In Progress',
  validation: 'Workflow::Verification',
  production: 'Workflow::Production',
  completed: 'Workflow::Complete',
  rejected: 'Workflow::Rejected',
};

export const HOLD_LABELS: Record<HoldKind, string> = {
  waiting: 'Workflow::Waiting',
  blocked: 'Workflow::Blocked',
};

// ---- actions: which stage each one is taken in, and where it can lead ----------------------------

/**
 * One action of the process. `from` lists the stages it may be taken in; `to` the stages it can lead
 * to (the same stage when it only records something). `needs` names what must be recorded first.
 * Hold actions (wait, block, resume) are not here: they work the same in every active stage.
 */
export interface StageAction {
  from: readonly Stage[];
  to: readonly Stage[];
  needs?: 'enoughInformation' | 'gamePlan' | 'milestone';
  /** Moving the tracker label to `to` counts as taking this action (no answers needed). */
  byLabel?: boolean;
}

export const FEATURE_ACTIONS_TABLE = {
  triage: { from: ['triage'], to: ['triage'] },
  'provide-information': { from: ['triage'], to: ['triage'] },
  'check-workload': { from: ['triage'], to: ['design', 'rejected'], needs: 'enoughInformation', byLabel: true },
  'record-game-plan': { from: ['design'], to: ['design'] },
  decide: { from: ['design'], to: ['planning', 'rejected'], needs: 'gamePlan', byLabel: true },
  'set-milestone': { from: ['planning'], to: ['planning'] },
  'start-development': { from: ['planning'], to: ['development'], needs: 'milestone', byLabel: true },
  'submit-for-validation': { from: ['development'], to: ['validation'], byLabel: true },
  accept: { from: ['validation'], to: ['completed'], byLabel: true },
  'request-changes': { from: ['validation'], to: ['development'], byLabel: true },
} as const satisfies Record<string, StageAction>;

export const BUG_ACTIONS_TABLE = {
  triage: { from: ['triage'], to: ['design', 'rejected'], byLabel: true },
  'record-game-plan': { from: ['design'], to: ['design'] },
  'start-development': { from: ['design'], to: ['development'], needs: 'gamePlan', byLabel: true },
  'submit-for-validation': { from: ['development'], to: ['validation'], byLabel: true },
  'confirm-fix': { from: ['validation'], to: ['production'], byLabel: true },
  'request-changes': { from: ['validation'], to: ['development'], byLabel: true },
  complete: { from: ['production'], to: ['completed'], byLabel: true },
} as const satisfies Record<string, StageAction>;

export type FeatureStageAction = keyof typeof FEATURE_ACTIONS_TABLE;
export type BugStageAction = keyof typeof BUG_ACTIONS_TABLE;
export const HOLD_ACTIONS = ['wait', 'block', 'resume'] as const;
export type HoldAction = (typeof HOLD_ACTIONS)[number];

export const ACTIONS_TABLE: Record<WorkItemKind, Record<string, StageAction>> = {
  'feature-request': FEATURE_ACTIONS_TABLE,
  'bug-report': BUG_ACTIONS_TABLE,
};

// ---- state --------------------------------------------------------------------------------------

export interface Requester {
  name?: string;
  email?: string;
  handle?: string;
}

/** What the intake API hands to a new work-item workflow. */
export interface WorkItemIntake {
  id: string;
  kind: WorkItemKind;
  externalId: string | null;
  title: string;
  description: string;
  requester: Requester;
}

/** The slice of the policy one work item needs, resolved at intake (domain/policy.ts). */
export interface WorkItemPolicy {
  policyName: string;
  /** Tracker project (GitLab path) the item's issue lives in. */
  trackerProject: string;
  /** While triage waits on the requester's information, remind them this often. */
  triageReminderMs: number;
  /** Close the request politely when the requester has not answered for this long. */
  informationGiveUpMs: number;
}

/** What the workflow carries when it continues as new. */
export interface CarriedWorkItem {
  model: 2;
  item: WorkItemState;
  effects: EffectQueue;
  projection: ProjectionProgress;
}

export interface WorkItemWorkflowInput {
  item: WorkItemIntake;
  policy: WorkItemPolicy;
  carried?: CarriedWorkItem;
  continueAsNewAfterEvents?: number;
  continueAsNewAfterBytes?: number;
}

export interface StageVisit {
  stage: Stage;
  enteredAt: number;
  leftAt: number | null;
  by: string;
  note?: string;
}

export interface Hold {
  kind: HoldKind;
  /** For waits only. */
  on?: WaitingOn;
  reason: string;
  stage: Stage;
  since: number;
  until: number | null;
  by: string;
  /** Reminders sent to the requester during this wait. */
  reminders?: number;
}

export interface Decision {
  approved: boolean;
  /** The three questions; null when the decision was taken by moving the tracker label. */
  answers: { technicallyPossible: boolean; feasible: boolean; exceedsCapacity: boolean } | null;
  note?: string;
  by: string;
  at: number;
}

export interface Milestone {
  title: string;
  startsAt: number;
}

export interface ValidationRound {
  accepted: boolean;
  reason?: string;
  by: string;
  at: number;
}

export interface TrackerIssue {
  project: string;
  iid: number;
  webUrl: string;
}

export interface WorkItemState {
  item: WorkItemIntake;
  stage: Stage;
  /** The open Waiting/Blocked episode, if any; the stage is where it returns to. */
  hold: Hold | null;
  tracker: TrackerIssue | null;
  stageHistory: StageVisit[];
  /** Every Waiting/Blocked episode, closed ones with `until`. */
  holds: Hold[];
  createdAt: number;
  closedAt: number | null;
  /** Triage: has the team found enough information? null until it says. */
  enoughInformation: boolean | null;
  gamePlan: string | null;
  /** Extra labels a bug's design recorded (e.g. `severity::2`), mirrored on the tracker. */
  labels: string[];
  decision: Decision | null;
  milestone: Milestone | null;
  validations: ValidationRound[];
  rejection: { reason: string; by: string; at: number } | null;
  /** The latest entries; every entry is also in item_events. */
  timeline: TimelineEntry[];
  recorded: number;
  /** How many label changes arrived from the tracker; keys the comments that answer them. */
  labelChangesSeen: number;
  /** What the tracker issue carries, as far as the workflow knows (what it set, or a label set there). */
  issue: {
    label: string | null;
    milestone: string | null;
    closed: boolean;
    mirrored: string[];
    /** What the tracker refused for good (a deleted issue): not asked again until the item moves on. */
    refused?: { label?: string; milestone?: string | null; close?: boolean };
  };
  /** The tracker refused to create the issue for good: nothing to mirror; the process goes on without it. */
  trackerRefused: boolean;
  /** Labels the workflow set lately, whose webhook echo may still arrive. */
  echoes: Array<{ label: string; at: number }>;
  /** Numbers the tracker changes the workflow queued (each its own idempotency key). */
  trackerSyncs: number;
  /** Bumped on every change; the projection ignores writes older than what it has. */
  version: number;
}

/** Time spent in Waiting and Blocked, the open episode counted up to now. */
export interface TimeOnHold {
  waitingMs: number;
  blockedMs: number;
}

/** What the state query answers with. */
export interface WorkItemView extends Omit<WorkItemState, 'echoes' | 'recorded'> {
  workflowId: string;
  timelineLength: number;
  integrationFailures: IntegrationRefusal[];
  /** Tracker changes queued or being carried out. */
  pendingEffects: number;
  projection: ProjectionProgress;
  /** The `Workflow::` label the tracker issue carries now. */
  label: string;
  timeOnHold: TimeOnHold;
  /** Actions the current stage allows, for the API's links. */
  allowedActions: string[];
}

// ---- messages -----------------------------------------------------------------------------------

export interface ActorInput {
  by: string;
}
export interface FeatureTriageInput extends ActorInput {
  enoughInformation: boolean;
  /** What to ask the requester when the information is not enough. */
  question?: string;
}
export interface ProvideInformationInput extends ActorInput {
  information: string;
}
export interface WorkloadCheckInput extends ActorInput {
  validForWorkload: boolean;
  reason?: string;
}
export interface GamePlanInput extends ActorInput {
  gamePlan: string;
  /** Bugs: labels to put on the issue (not `Workflow::` ones). */
  labels?: string[];
}
export interface DecisionInput extends ActorInput {
  technicallyPossible: boolean;
  feasible: boolean;
  exceedsCapacity: boolean;
  note?: string;
}
export interface MilestoneInput extends ActorInput {
  title: string;
  /** ISO 8601; the request moves to Development by itself when it arrives. */
  startsAt: string;
}
export interface NoteInput extends ActorInput {
  note?: string;
}
export interface ReasonInput extends ActorInput {
  reason: string;
}
export interface BugTriageInput extends ActorInput {
  valid: boolean;
  reason?: string;
}
export interface WaitInput extends ActorInput {
  on: 'input' | 'dependency';
  reason: string;
}

/** What every action answers with: small (it is stored in the history); the query has the rest. */
export interface WorkItemActionResult {
  id: string;
  stage: Stage;
  hold: HoldKind | null;
  version: number;
  event: string;
  /** The change is in the PostgreSQL projection (lists) already. */
  visible: boolean;
}

const view = <I>(name: string) => defineUpdate<WorkItemActionResult, [I]>(name);

// Shared by both kinds: the same name and input in both workflows.
export const recordGamePlanUpdate = view<GamePlanInput>('recordGamePlan');
export const submitForValidationUpdate = view<NoteInput>('submitForValidation');
export const requestChangesUpdate = view<ReasonInput>('requestChanges');
export const waitUpdate = view<WaitInput>('wait');
export const blockUpdate = view<ReasonInput>('block');
export const resumeUpdate = view<NoteInput>('resume');
export const startDevelopmentUpdate = view<NoteInput>('startDevelopment');
// Feature requests only.
export const featureTriageUpdate = view<FeatureTriageInput>('triageFeature');
export const provideInformationUpdate = view<ProvideInformationInput>('provideInformation');
export const checkWorkloadUpdate = view<WorkloadCheckInput>('checkWorkload');
export const decideUpdate = view<DecisionInput>('decide');
export const setMilestoneUpdate = view<MilestoneInput>('setMilestone');
export const acceptUpdate = view<ActorInput>('accept');
// Bug reports only.
export const bugTriageUpdate = view<BugTriageInput>('triageBug');
export const confirmFixUpdate = view<ActorInput>('confirmFix');
export const completeUpdate = view<NoteInput>('complete');

/** The API's `POST /feature-requests/:id/<action>`, one update each. */
export const FEATURE_ACTIONS = {
  triage: featureTriageUpdate,
  'provide-information': provideInformationUpdate,
  'check-workload': checkWorkloadUpdate,
  'record-game-plan': recordGamePlanUpdate,
  decide: decideUpdate,
  'set-milestone': setMilestoneUpdate,
  'start-development': startDevelopmentUpdate,
  'submit-for-validation': submitForValidationUpdate,
  accept: acceptUpdate,
  'request-changes': requestChangesUpdate,
  wait: waitUpdate,
  block: blockUpdate,
  resume: resumeUpdate,
} as const satisfies Record<FeatureStageAction | HoldAction, unknown>;

/** The API's `POST /bug-reports/:id/<action>`, one update each. */
export const BUG_ACTIONS = {
  triage: bugTriageUpdate,
  'record-game-plan': recordGamePlanUpdate,
  'start-development': startDevelopmentUpdate,
  'submit-for-validation': submitForValidationUpdate,
  'confirm-fix': confirmFixUpdate,
  'request-changes': requestChangesUpdate,
  complete: completeUpdate,
  wait: waitUpdate,
  block: blockUpdate,
  resume: resumeUpdate,
} as const satisfies Record<BugStageAction | HoldAction, unknown>;

/**
 * The issue's labels changed on the tracker (GitLab webhook). The workflow moves when the
 * `Workflow::` label names a stage it may move to now, and otherwise says why on the issue and puts
 * its own label back.
 */
export const trackerLabelsChangedSignal = defineSignal<[{ labels: string[]; by: string }]>('trackerLabelsChanged');

export const workItemStateQuery = defineQuery<WorkItemView>('state');

/** The failure type a validator uses when the stage does not allow an action (HTTP 409). */
export { ACTION_NOT_ALLOWED } from './ticket';

export const WORKFLOW_ID_PREFIX: Record<WorkItemKind, string> = {
  'feature-request': 'feature-',
  'bug-report': 'bug-',
};

export function workItemWorkflowId(kind: WorkItemKind, id: string): string {
  return `${WORKFLOW_ID_PREFIX[kind]}${id}`;
}

/** One row of the `work_items` projection the API's lists read. */
export interface WorkItemProjection {
  id: string;
  workflowId: string;
  /** The workflow chain (first run id). */
  chainId?: string;
  kind: WorkItemKind;
  externalId: string | null;
  title: string;
  stage: Stage;
  hold: HoldKind | null;
  holdReason: string | null;
  trackerProject: string | null;
  trackerIid: number | null;
  trackerUrl: string | null;
  milestone: string | null;
  milestoneStartsAt: number | null;
  createdAt: number;
  stageEnteredAt: number;
  closedAt: number | null;
  waitingMs: number;
  blockedMs: number;
  version: number;
  /** Timeline entries to append to item_events (new writes only). */
  events?: TimelineEntry[];
}
