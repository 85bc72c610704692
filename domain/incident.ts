// An emergency incident's shape, its policy slice and the messages (updates, signals, queries) that
// drive its workflow. Imported by the workflow, the API and the webhooks: no Node imports, no zod.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EffectQueue, IntegrationRefusal, ProjectionProgress } from './effects';
import type { ChainRun } from './escalation';
import { DEFAULT_POLICY, type EscalationMode, type IncidentPolicy, type Policy } from './policy';
import type { ActorInput } from './ticket';
import type { TimelineEntry } from './timeline';

/** PagerDuty's severities; DeskSeverity in the UI. */
export const INCIDENT_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** triggered → acknowledged → resolved → closed (the follow-up task is done). */
export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** What the intake (POST /incidents, or an emergency ticket) hands to a new incident workflow. */
export interface IncidentIntake {
  id: string;
  externalId: string | null;
  title: string;
  description: string;
  severity: IncidentSeverity;
  /** The customer's helpdesk (Zendesk) ticket, commented on when acknowledged and resolved. */
  customerTicketId: string | null;
  /** The desk's own ticket, when the incident came from an emergency ticket. */
  deskTicketId: string | null;
  /**
   * A private emergency: the title and description stay in the workflow's own state; pages,
   * announcements, the document, the follow-up and the UI get a neutral title and no description.
   * Optional so incidents started before the flag existed read as not private.
   */
  private?: boolean;
}

/** The title the outside world sees (pages, chat, tracker, UI, projection): neutral for a private emergency. */
export function publicIncidentTitle(incident: IncidentIntake): string {
  if (!incident.private) return incident.title;
  return incident.deskTicketId ? `Emergency on ticket ${incident.deskTicketId}` : `Private emergency ${incident.id}`;
}

export type { IntegrationRefusal } from './effects';

/** The incident's slice of the policy, resolved at intake so a policy change never moves an open incident. */
export interface IncidentWorkflowPolicy extends IncidentPolicy {
  policyName: string;
  /** The policy's `notificationGiveUpMs`: how long an effect is retried before it is given up on (default 15 min). */
  notificationGiveUpMs?: number;
}

/** What the workflow carries when it continues as new. */
export interface CarriedIncident {
  model: 2;
  incident: IncidentState;
  effects: EffectQueue;
  projection: ProjectionProgress;
}

export interface IncidentWorkflowInput {
  incident: IncidentIntake;
  policy: IncidentWorkflowPolicy;
  /** State carried over when the workflow continues as new (or a run of the earlier model's state). */
  carried?: CarriedIncident | unknown;
  continueAsNewAfterEvents?: number;
  continueAsNewAfterBytes?: number;
}

/** One page sent to a level of the paging chain. */
export interface PageStep {
  /** 1-based. */
  level: number;
  repeat: number;
  notified: string[];
  /** When it was sent, and when it was due (they differ only when the desk was down). */
  at: number;
  dueAt?: number;
  reason: 'paging chain' | 'crisis';
}

export interface Crisis {
  at: number;
  by: string;
  reason: string;
}

export interface FollowUp {
  iid: number;
  webUrl: string;
  createdAt: number;
  closedAt: number | null;
  reminders: number;
}

export interface IncidentState {
  incident: IncidentIntake;
  status: IncidentStatus;
  createdAt: number;
  /** The highest level paged so far (DeskLevel). */
  level: number;
  /** The run of the paging chain being climbed; null once it ran out, or when PagerDuty escalates. */
  paging: ChainRun | null;
  pages: PageStep[];
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  /** `api`, or the paging service that reported it (e.g. `pagerduty`). */
  acknowledgedVia: string | null;
  responders: string[];
  crisis: Crisis | null;
  /** The shared incident document (a tracker issue open to the customer and the team). */
  document: { iid: number; webUrl: string } | null;
  /** Crisis announcement per channel: status updates go into its thread. */
  announcements: Array<{ channel: string; ts: string }>;
  statusUpdates: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolution: string | null;
  followUp: FollowUp | null;
  /** The tracker refused the follow-up task: an agent closes the follow-up by hand. */
  followUpRefused: boolean;
  closedAt: number | null;
  /** The latest entries; every entry is also in item_events. */
  timeline: TimelineEntry[];
  recorded: number;
  /** Steps whose effects were queued, so a pass never queues one twice. */
  done: string[];
  version: number;
}

export interface IncidentView extends Omit<IncidentState, 'done' | 'paging' | 'recorded'> {
  id: string;
  workflowId: string;
  timelineLength: number;
  /** When the page is due to be acknowledged; null once acknowledged. */
  acknowledgeDueAt: number | null;
  /** Not acknowledged within the target. */
  breached: boolean;
  escalationMode: EscalationMode;
  integrationFailures: IntegrationRefusal[];
  /** Pages, posts and tracker changes queued or being carried out. */
  pendingEffects: number;
  projection: ProjectionProgress;
}

/** What every action answers with: small (it is stored in the history); the query has the rest. */
export interface IncidentActionResult {
  id: string;
  status: IncidentStatus;
  level: number;
  crisis: boolean;
  version: number;
  event: string;
  visible: boolean;
  acknowledgedBy: string | null;
  acknowledgedVia: string | null;
  /** The acknowledge action: someone (the paging service or another agent) was first. */
  alreadyAcknowledged?: boolean;
}

// ---- messages ----------------------------------------------------------------------------------

export interface AddResponderInput extends ActorInput {
  responder: string;
}
export interface DeclareCrisisInput extends ActorInput {
  reason: string;
}
export interface ResolveIncidentInput extends ActorInput {
  resolution: string;
}

export const acknowledgeIncidentUpdate = defineUpdate<IncidentActionResult, [ActorInput]>('acknowledge');
export const addResponderUpdate = defineUpdate<IncidentActionResult, [AddResponderInput]>('addResponder');
export const declareCrisisUpdate = defineUpdate<IncidentActionResult, [DeclareCrisisInput]>('declareCrisis');
export const resolveIncidentUpdate = defineUpdate<IncidentActionResult, [ResolveIncidentInput]>('resolve');
export const closeFollowUpUpdate = defineUpdate<IncidentActionResult, [ActorInput]>('closeFollowUp');

/** The paging service (PagerDuty webhook) reports an acknowledgement. */
export const pageAcknowledgedSignal = defineSignal<[{ by: string; source: string }]>('pageAcknowledged');
/** The paging service (PagerDuty webhook) reports a resolution. */
export const pageResolvedSignal = defineSignal<[{ by: string; source: string; resolution?: string }]>('pageResolved');
/** The tracker (GitLab webhook) reports the follow-up issue closed. */
export const followUpClosedSignal = defineSignal<[{ by: string; source: string }]>('followUpClosed');

export const incidentStateQuery = defineQuery<IncidentView>('state');

/** `POST /incidents/:id/<action>`, each backed by one update. */
export const INCIDENT_ACTIONS = {
  acknowledge: acknowledgeIncidentUpdate,
  'add-responder': addResponderUpdate,
  'declare-crisis': declareCrisisUpdate,
  resolve: resolveIncidentUpdate,
  'close-follow-up': closeFollowUpUpdate,
} as const;
export type IncidentAction = keyof typeof INCIDENT_ACTIONS;

/** Also the PagerDuty dedup key, so a PagerDuty webhook finds the workflow. */
export function incidentWorkflowId(incidentId: string): string {
  return `incident-${incidentId}`;
}

/** The incident a paging-service dedup key belongs to (null when it is not one of ours). */
export function incidentIdFromDedupKey(dedupKey: string): string | null {
  return dedupKey.startsWith('incident-') ? dedupKey.slice('incident-'.length) : null;
}

/** The policy's incident section, or the built-in default when a policy file has none. */
export function resolveIncidentPolicy(policy: Policy): IncidentWorkflowPolicy {
  return {
    policyName: policy.name,
    ...(policy.incident ?? DEFAULT_POLICY.incident!),
    ...(policy.notificationGiveUpMs ? { notificationGiveUpMs: policy.notificationGiveUpMs } : {}),
  };
}

/** One row of the `incidents` projection. */
export interface IncidentProjection {
  id: string;
  workflowId: string;
  /** The workflow chain (first run id). */
  chainId?: string;
  externalId: string | null;
  title: string;
  severity: IncidentSeverity;
  status: IncidentStatus;
  level: number;
  crisis: boolean;
  customerTicketId: string | null;
  deskTicketId: string | null;
  createdAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  documentUrl: string | null;
  followUpUrl: string | null;
  followUpClosedAt: number | null;
  version: number;
  /** A private emergency: its timeline entries are sealed in PostgreSQL. Absent from runs before it existed. */
  private?: boolean;
  /** Timeline entries to append to item_events (new writes only). */
  events?: TimelineEntry[];
}
