// A support ticket's shape and the messages (updates, signals, queries) that drive its workflow.
// Imported by the workflow and by the API, so it holds no Node imports and no zod.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { TicketMeasures } from './reporting';
import type { EffectQueue, IntegrationRefusal, ProjectionProgress } from './effects';
import type { ChainRun } from './escalation';
import type { Channel, TicketPolicy, Tier } from './policy';
import type { TicketSlaClocks, TicketSlaEvent } from './sla-clock';
import type { TimelineEntry } from './timeline';

export type { TimelineEntry } from './timeline';

export const TICKET_STATUSES = [
  'open',
  'acknowledged',
  'waiting-on-requester',
  'handed-off',
  'resolved',
  'closed',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
/** A ticket is open (in the backlog) until it is resolved or closed. */
export const TICKET_DONE_STATUSES: readonly TicketStatus[] = ['resolved', 'closed'];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface Requester {
  name?: string;
  email?: string;
  /** Where to answer in place, e.g. a Slack user id or a forum handle. */
  handle?: string;
  /** The requester's IANA time zone, e.g. "America/Chicago": the hours their answers are read in. */
  timeZone?: string;
}

/** Where a ticket came from, so answers to the requester go back to the same place. */
export type TicketOrigin =
  | { system: 'zendesk'; ticketId: string }
  | { system: 'slack'; channel: string; threadTs?: string; user: string };

/** What the intake API hands to a new ticket workflow. */
export interface TicketIntake {
  id: string;
  externalId: string | null;
  channel: Channel;
  tier: Tier;
  priority: Priority;
  subject: string;
  description: string;
  requester: Requester;
  /** Contains personal or sensitive data: never posted to a public channel. */
  private: boolean;
  /** The helpdesk ticket or Slack conversation it came from, when it came from one. */
  origin?: TicketOrigin;
  /** Where the requester is served from, e.g. "emea": a dimension of the reports. */
  region?: string;
}

/**
 * A message of the conversation (a reply, a question, a resolution). Its body is stored once in
 * PostgreSQL (the `messages` table, written by the API or the webhook before the workflow hears of
 * it); the workflow keeps the id and a preview, so its state and history stay small.
 */
export interface MessageRef {
  id: string;
  preview: string;
  /** The body's length in characters. */
  length: number;
}

/** What the workflow carries when it continues as new. */
export interface CarriedTicket {
  model: 2;
  ticket: TicketState;
  effects: EffectQueue;
  projection: ProjectionProgress;
}

export interface TicketWorkflowInput {
  ticket: TicketIntake;
  policy: TicketPolicy;
  /** State carried over when the workflow continues as new (or a run of the earlier model's state). */
  carried?: CarriedTicket | unknown;
  /** Continue as new after this many history events (default 4,000; the server may suggest earlier). */
  continueAsNewAfterEvents?: number;
  /** ... or this many bytes of history (default 512 KiB). */
  continueAsNewAfterBytes?: number;
}

export type SlaName = 'acknowledge' | 'resolution';

export interface Breach {
  sla: SlaName;
  /** Resolution episodes restart at each reopen. */
  episode: number;
  at: number;
  dueAt: number;
}

export interface EscalationStep {
  sla: SlaName;
  episode: number;
  /** 1-based, as people say "level 1". */
  level: number;
  repeat: number;
  notified: string[];
  /** When it was taken, and when it was due (they differ only when the desk was down). */
  at: number;
  dueAt?: number;
  /** Started by an agent (the `escalate` action) rather than by a breach. */
  manual?: boolean;
}

/** A run of the escalation chain for one SLA clock: after a breach, or started by an agent. */
export interface EscalationRun extends ChainRun {
  episode: number;
  /** Part of every step's notification key: `b<n>` after the n-th breach, `m<n>` for the n-th manual run. */
  key: string;
  /** An agent escalated before any breach: the chain runs although the target is not missed yet. */
  manual?: { by: string; reason: string };
  /** The target was missed while the (manual) run was going. */
  breached?: boolean;
  /** Held since then (the clock paused, or a re-tier gave it more time); goes on when breached again. */
  suspendedAt?: number;
}

export interface Satisfaction {
  /** Question 1: did we resolve your request? */
  resolved: boolean;
  /** Question 2: how satisfied are you, 1 (not at all) to 5 (very)? */
  score: number;
  comment?: string;
  at: number;
}

export interface HandOff {
  team: string;
  reason: string;
  at: number;
  confirmedAt: number | null;
}

/** The ticket as its workflow keeps it: small and bounded whatever the conversation. */
export interface TicketState {
  ticket: TicketIntake;
  status: TicketStatus;
  tier: Tier;
  assignee: string | null;
  createdAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  resolution: MessageRef | null;
  handOff: HandOff | null;
  satisfaction: Satisfaction | null;
  slaEvents: TicketSlaEvent[];
  /** The latest entries; every entry is also in item_events. */
  timeline: TimelineEntry[];
  /** Entries ever recorded (the seq of the last one). */
  recorded: number;
  breaches: Breach[];
  /** The latest steps (at most 50 kept); `escalationCount` counts them all. */
  escalations: EscalationStep[];
  escalationCount: number;
  escalating: Partial<Record<SlaName, EscalationRun>>;
  /** Manual escalation runs so far (numbers their keys). */
  manualRuns: number;
  /** Warning rungs sent, as `<sla>:<episode>:<withinMs>:<share>`. */
  warned: string[];
  /** Messages in the conversation (replies, questions, requester answers). */
  messages: number;
  /** Bumped on every change; the projection ignores writes older than what it has. */
  version: number;
}

/** What the state query answers: the ticket, every SLA clock as of now, and what is still going out. */
export interface TicketView {
  id: string;
  workflowId: string;
  ticket: TicketIntake;
  status: TicketStatus;
  tier: Tier;
  assignee: string | null;
  createdAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  resolution: MessageRef | null;
  handOff: HandOff | null;
  satisfaction: Satisfaction | null;
  /** The latest entries; `GET /tickets/:id/timeline` has them all. */
  timeline: TimelineEntry[];
  timelineLength: number;
  messages: number;
  breaches: Breach[];
  escalations: EscalationStep[];
  escalationCount: number;
  breached: boolean;
  clocks: TicketSlaClocks;
  integrationFailures: IntegrationRefusal[];
  /** Notifications queued or being sent. */
  pendingEffects: number;
  projection: ProjectionProgress;
  version: number;
}

/** What every action answers with: small (it is stored in the history), the query has the rest. */
export interface TicketActionResult {
  id: string;
  status: TicketStatus;
  tier: Tier;
  assignee: string | null;
  version: number;
  /** What the action recorded, e.g. "acknowledged". */
  event: string;
  /** The change is in the PostgreSQL projection (lists) already; false when that took too long. */
  visible: boolean;
}

// ---- messages ----------------------------------------------------------------------------------

export interface ActorInput {
  /** Who acts: an agent's handle, or "requester". */
  by: string;
}
export interface ReplyInput extends ActorInput {
  role: 'agent' | 'requester';
  message: MessageRef;
}
export interface AssignInput extends ActorInput {
  assignee: string;
}
export interface ChangeTierInput extends ActorInput {
  tier: Tier;
  reason: string;
}
export interface WaitOnRequesterInput extends ActorInput {
  question: MessageRef;
}
export interface HandOffInput extends ActorInput {
  team: string;
  reason: string;
}
export interface ResolveInput extends ActorInput {
  resolution: MessageRef;
}
export interface ReopenInput extends ActorInput {
  reason: string;
}
export interface EscalateInput extends ActorInput {
  reason: string;
}
export interface TakeInput {
  agent: string;
}
export interface SatisfactionInput {
  resolved: boolean;
  score: number;
  comment?: string;
}
export interface RequesterRepliedInput {
  message: MessageRef;
  source: string;
}

export const acknowledgeUpdate = defineUpdate<TicketActionResult, [ActorInput]>('acknowledge');
export const replyUpdate = defineUpdate<TicketActionResult, [ReplyInput]>('reply');
export const assignUpdate = defineUpdate<TicketActionResult, [AssignInput]>('assign');
export const changeTierUpdate = defineUpdate<TicketActionResult, [ChangeTierInput]>('changeTier');
export const waitOnRequesterUpdate = defineUpdate<TicketActionResult, [WaitOnRequesterInput]>('waitOnRequester');
export const handOffUpdate = defineUpdate<TicketActionResult, [HandOffInput]>('handOff');
export const resolveUpdate = defineUpdate<TicketActionResult, [ResolveInput]>('resolve');
export const reopenUpdate = defineUpdate<TicketActionResult, [ReopenInput]>('reopen');
export const closeUpdate = defineUpdate<TicketActionResult, [ActorInput]>('close');
/** An agent starts the escalation chain now (e.g. the :escalate: reaction in Slack). */
export const escalateUpdate = defineUpdate<TicketActionResult, [EscalateInput]>('escalate');
/**
 * An agent takes the ticket to work on it: refused when it is someone else's. Only the first-in,
 * first-out queue (`POST /tickets/next`) uses it, so nobody skips a ticket.
 */
export const takeUpdate = defineUpdate<TicketActionResult, [TakeInput]>('take');
export const rateSatisfactionUpdate = defineUpdate<TicketActionResult, [SatisfactionInput]>('rateSatisfaction');

/** A requester's reply that arrived through the helpdesk or chat (needs no answer). */
export const requesterRepliedSignal = defineSignal<[RequesterRepliedInput]>('requesterReplied');
/** The centre of expertise confirmed it took the hand-off. */
export const handOffConfirmedSignal = defineSignal<[{ team: string; by: string }]>('handOffConfirmed');

export const ticketStateQuery = defineQuery<TicketView>('state');

/** How a ticket's two deadlines would stand under a candidate policy slice (POST /policy/preview). */
export interface PolicyPreview {
  id: string;
  status: TicketStatus;
  tier: Tier;
  /** The policy the ticket runs under now (its name). */
  policy: string;
  acknowledge: DeadlineMove;
  resolution: DeadlineMove;
}

/** A deadline now and under the candidate (null: met, or paused, so not known). */
export interface DeadlineMove {
  dueAt: number | null;
  candidateDueAt: number | null;
  /** candidateDueAt - dueAt; 0 when neither is known or they are the same. */
  movedMs: number;
}

export const policyPreviewQuery = defineQuery<PolicyPreview, [TicketPolicy]>('policyPreview');

/** A new policy slice for an open ticket, from a policy rollout (POST /policy/apply). */
export interface ChangePolicyInput {
  policy: TicketPolicy;
  by: string;
  reason: string;
  rolloutId: string;
}

export const changePolicySignal = defineSignal<[ChangePolicyInput]>('changePolicy');

/** The action names the API exposes as `POST /tickets/:id/<action>`, each backed by one update. */
export const TICKET_ACTIONS = {
  acknowledge: acknowledgeUpdate,
  reply: replyUpdate,
  assign: assignUpdate,
  'change-tier': changeTierUpdate,
  'wait-on-requester': waitOnRequesterUpdate,
  'hand-off': handOffUpdate,
  resolve: resolveUpdate,
  reopen: reopenUpdate,
  close: closeUpdate,
  satisfaction: rateSatisfactionUpdate,
  escalate: escalateUpdate,
} as const;
export type TicketAction = keyof typeof TICKET_ACTIONS;

/** The actions whose body carries a message (stored in PostgreSQL; the update gets a MessageRef). */
export const MESSAGE_FIELDS = { reply: 'message', 'wait-on-requester': 'question', resolve: 'resolution' } as const;

/** The failure type a validator uses when the ticket's state does not allow an action (HTTP 409). */
export const ACTION_NOT_ALLOWED = 'ActionNotAllowed';
/** The failure type a validator uses when an input is not acceptable (HTTP 400). */
export const INVALID_INPUT = 'InvalidInput';

export function ticketWorkflowId(ticketId: string): string {
  return `ticket-${ticketId}`;
}

// ---- notifications (sent through the notifier activity) ---------------------------------------

export type NotificationKind =
  | 'acknowledgement'
  | 'reply'
  | 'question'
  | 'warning'
  | 'breach'
  | 'escalation'
  | 'hand-off'
  | 'resolution'
  | 'satisfaction-survey'
  | 'reopened'
  | 'closed';

export interface Notification {
  /** Deterministic per intended message, so a retry or a replay sends it once. */
  idempotencyKey: string;
  ticketId: string;
  kind: NotificationKind;
  /** The requester (answered in the thread of the original interaction) or people on the desk. */
  audience: 'requester' | 'desk';
  recipients: string[];
  /** What is sent; for a message of the conversation, its preview (the body is read by `messageId`). */
  text: string;
  /** The stored message whose body is sent (replies, questions, resolutions). */
  messageId?: string;
  private: boolean;
  /** Where the ticket came from: requester notifications go back there. */
  origin?: TicketOrigin;
  /** Private Slack channels (from the policy) a private ticket's desk notifications may go to. */
  privateChannels?: string[];
  /**
   * An escalation: when its step was due, for the escalation lag metric. Only in the activity's input
   * (replay compares commands, not their inputs); runs started before it send none and are not measured.
   */
  dueAt?: number;
}

/** A satisfaction-pulse answer, filed as an issue in the feedback project for reporting. */
export interface SatisfactionFeedback {
  idempotencyKey: string;
  project: string;
  ticketId: string;
  channel: Channel;
  tier: Tier;
  private: boolean;
  satisfaction: Satisfaction;
}

/** One row of the PostgreSQL projection that lists and reports read, with the timeline entries not yet written. */
export interface TicketProjection {
  id: string;
  workflowId: string;
  /** The workflow chain (first run id): a reused workflow id after retention is a new chain. */
  chainId?: string;
  externalId: string | null;
  channel: Channel;
  tier: Tier;
  priority: Priority;
  status: TicketStatus;
  assignee: string | null;
  private: boolean;
  subject: string;
  createdAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  acknowledgeDueAt: number | null;
  resolutionDueAt: number | null;
  breached: boolean;
  escalations: number;
  satisfaction: Satisfaction | null;
  version: number;
  /** Timeline entries to append to item_events (new writes only). */
  events?: TimelineEntry[];
  /** Absent from runs (and tickets) from before the reports. */
  region?: string | null;
  measures?: TicketMeasures;
}
