// An emergency incident's shape, its policy slice and the messages (updates, signals, queries) that
// drive its workflow. Imported by the workflow, the API and the webhooks: no Node imports, no zod.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { DEFAULT_POLICY, type EscalationMode, type IncidentPolicy, type Policy } from './policy';
import type { ActorInput, TimelineEntry } from './ticket';

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

/**
 * An external system refused an incident's or a security report's effect for good (a 4xx), or stayed
 * down past the give-up time: recorded, no longer retried, and the workflow goes on.
 */
export interface IntegrationRefusal {
  at: number;
  /** The workflow's step, e.g. `hand-off:alice` or `announce:#general`. */
  step: string;
  /** Which system refused ("Slack", "GitLab"), when the failure says. */
  system: string | null;
  message: string;
}

/** The incident's slice of the policy, resolved at intake so a policy change never moves an open incident. */
export interface IncidentWorkflowPolicy extends IncidentPolicy {
  policyName: string;
  /** The policy's `notificationGiveUpMs`: how long an effect is retried before it is given up on (default 15 min). */
  notificationGiveUpMs?: number;
}

export interface IncidentWorkflowInput {
  incident: IncidentIntake;
  policy: IncidentWorkflowPolicy;
  carried?: IncidentState;
  continueAsNewAfterEvents?: number;
}

/** One page sent to a level of the paging chain. */
export interface PageStep {
  /** 1-based. */
  level: number;
  repeat: number;
  notified: string[];
  at: number;
  reason: 'paging chain' | 'crisis';
}

export interface PagingProgress {
  /** 0-based index into the paging chain. */
  levelIndex: number;
  repeat: number;
  /** When the next page is due; null once the chain has run out or PagerDuty escalates. */
  nextAt: number | null;
}

export interface Crisis {
  at: number;
  by: string;
  reason: string;
}

export interface IncidentState {
  incident: IncidentIntake;
  status: IncidentStatus;
  createdAt: number;
  /** The highest level paged so far (DeskLevel). */
  level: number;
  paging: PagingProgress;
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
  followUp: { iid: number; webUrl: string; createdAt: number; closedAt: number | null; reminders: number } | null;
  closedAt: number | null;
  timeline: TimelineEntry[];
  /** Effects a system refused for good (a 4xx) or that stayed down past the give-up time; each counts as done. */
  integrationFailures: IntegrationRefusal[];
  /** Steps whose external effect is done, so a wake-up never repeats one. */
  done: string[];
  version: number;
}

export interface IncidentView extends Omit<IncidentState, 'done'> {
  id: string;
  workflowId: string;
  /** When the page is due to be acknowledged; null once acknowledged. */
  acknowledgeDueAt: number | null;
  /** Not acknowledged within the target. */
  breached: boolean;
  escalationMode: EscalationMode;
}

/** The acknowledge update's answer: a second acknowledgement (API after PagerDuty or vice versa) is a no-op. */
export interface AcknowledgeIncidentResult extends IncidentView {
  alreadyAcknowledged: boolean;
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

export const acknowledgeIncidentUpdate = defineUpdate<AcknowledgeIncidentResult, [ActorInput]>('acknowledge');
export const addResponderUpdate = defineUpdate<IncidentView, [AddResponderInput]>('addResponder');
export const declareCrisisUpdate = defineUpdate<IncidentView, [DeclareCrisisInput]>('declareCrisis');
export const resolveIncidentUpdate = defineUpdate<IncidentView, [ResolveIncidentInput]>('resolve');
export const closeFollowUpUpdate = defineUpdate<IncidentView, [ActorInput]>('closeFollowUp');

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
}
