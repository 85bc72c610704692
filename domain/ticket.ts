// A support ticket's shape and the messages (updates, signals, queries) that drive its workflow.
// Imported by the workflow and by the API, so it holds no Node imports and no zod.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Channel, TicketPolicy, Tier } from './policy';
import type { TicketSlaClocks, TicketSlaEvent } from './sla-clock';

export const TICKET_STATUSES = [
  'open',
  'acknowledged',
  'waiting-on-requester',
  'handed-off',
  'resolved',
  'closed',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface Requester {
  name?: string;
  email?: string;
  /** Where to answer in place, e.g. a Slack user id or a forum handle. */
  handle?: string;
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
}

export interface TicketWorkflowInput {
  ticket: TicketIntake;
  policy: TicketPolicy;
  /** State carried over when the workflow continues as new. */
  carried?: TicketState;
  /** Continue as new after this many history events (default 5,000; the server may suggest earlier). */
  continueAsNewAfterEvents?: number;
}

export type SlaName = 'acknowledge' | 'resolution';

export interface TimelineEntry {
  at: number;
  event: string;
  by?: string;
  note?: string;
}

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
  at: number;
  /** Started by an agent (the `escalate` action) rather than by a breach. */
  manual?: boolean;
}

/** An escalation chain in progress for one breached SLA clock. */
export interface ActiveEscalation {
  episode: number;
  /** 0-based index into the chain. */
  levelIndex: number;
  repeat: number;
  /** When the next step is due; null once the chain has run out. */
  nextAt: number | null;
  /** An agent escalated before any breach: the chain runs although the target is not missed yet. */
  manual?: { by: string; reason: string; ordinal: number };
}

export interface Satisfaction {
  /** Question 1: did we resolve your request? */
  resolved: boolean;
  /** Question 2: how satisfied are you, 1 (not at all) to 5 (very)? */
  score: number;
  comment?: string;
  at: number;
}

export interface TicketState {
  ticket: TicketIntake;
  status: TicketStatus;
  tier: Tier;
  assignee: string | null;
  createdAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  resolution: string | null;
  handOff: { team: string; reason: string; at: number; confirmedAt: number | null } | null;
  satisfaction: Satisfaction | null;
  slaEvents: TicketSlaEvent[];
  timeline: TimelineEntry[];
  breaches: Breach[];
  escalations: EscalationStep[];
  escalating: Partial<Record<SlaName, ActiveEscalation>>;
  /** Keys of notifications already sent (warnings), so a wake-up never sends one twice. */
  sent: string[];
  /** Bumped on every change; the projection ignores writes older than what it has. */
  version: number;
  /** Notifications an external system refused for good (a 4xx): recorded, shown, not retried. */
  integrationFailures?: IntegrationFailure[];
}

export interface IntegrationFailure {
  at: number;
  kind: NotificationKind | 'satisfaction-feedback';
  audience: 'requester' | 'desk';
  /** Which system refused ("Slack", "Zendesk"), when the failure says. */
  system: string | null;
  message: string;
}

/** What a query and every action answer with: the state plus every SLA clock as of now. */
export interface TicketView extends Omit<TicketState, 'sent' | 'slaEvents' | 'escalating'> {
  id: string;
  workflowId: string;
  breached: boolean;
  clocks: TicketSlaClocks;
}

// ---- messages ----------------------------------------------------------------------------------

export interface ActorInput {
  /** Who acts: an agent's handle, or "requester". */
  by: string;
}
export interface ReplyInput extends ActorInput {
  role: 'agent' | 'requester';
  message: string;
}
export interface AssignInput extends ActorInput {
  assignee: string;
}
export interface ChangeTierInput extends ActorInput {
  tier: Tier;
  reason: string;
}
export interface WaitOnRequesterInput extends ActorInput {
  question: string;
}
export interface HandOffInput extends ActorInput {
  team: string;
  reason: string;
}
export interface ResolveInput extends ActorInput {
  resolution: string;
}
export interface ReopenInput extends ActorInput {
  reason: string;
}
export interface EscalateInput extends ActorInput {
  reason: string;
}
export interface SatisfactionInput {
  resolved: boolean;
  score: number;
  comment?: string;
}

export const acknowledgeUpdate = defineUpdate<TicketView, [ActorInput]>('acknowledge');
export const replyUpdate = defineUpdate<TicketView, [ReplyInput]>('reply');
export const assignUpdate = defineUpdate<TicketView, [AssignInput]>('assign');
export const changeTierUpdate = defineUpdate<TicketView, [ChangeTierInput]>('changeTier');
export const waitOnRequesterUpdate = defineUpdate<TicketView, [WaitOnRequesterInput]>('waitOnRequester');
export const handOffUpdate = defineUpdate<TicketView, [HandOffInput]>('handOff');
export const resolveUpdate = defineUpdate<TicketView, [ResolveInput]>('resolve');
export const reopenUpdate = defineUpdate<TicketView, [ReopenInput]>('reopen');
export const closeUpdate = defineUpdate<TicketView, [ActorInput]>('close');
/** An agent starts the escalation chain now (e.g. the :escalate: reaction in Slack). */
export const escalateUpdate = defineUpdate<TicketView, [EscalateInput]>('escalate');
/**
 * An agent takes the ticket to work on it: refused when it is someone else's. Only the first-in,
 * first-out queue (`POST /tickets/next`) uses it, so nobody skips a ticket.
 */
export const takeUpdate = defineUpdate<TicketView, [{ agent: string }]>('take');
export const rateSatisfactionUpdate = defineUpdate<TicketView, [SatisfactionInput]>('rateSatisfaction');

/** A requester's reply that arrived through the helpdesk (needs no answer). */
export const requesterRepliedSignal = defineSignal<[{ message: string; source: string }]>('requesterReplied');
/** The centre of expertise confirmed it took the hand-off. */
export const handOffConfirmedSignal = defineSignal<[{ team: string; by: string }]>('handOffConfirmed');

export const ticketStateQuery = defineQuery<TicketView>('state');

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

/** The failure type a validator uses when the ticket's state does not allow an action (HTTP 409). */
export const ACTION_NOT_ALLOWED = 'ActionNotAllowed';

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
  text: string;
  private: boolean;
  /** Where the ticket came from: requester notifications go back there. */
  origin?: TicketOrigin;
  /** Private Slack channels (from the policy) a private ticket's desk notifications may go to. */
  privateChannels?: string[];
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

/** One row of the PostgreSQL projection that lists and reports read. */
export interface TicketProjection {
  id: string;
  workflowId: string;
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
}
