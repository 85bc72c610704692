// The incident's state and view as the first model kept them, for runs started before the state model
// of workflows/incident.ts. Types only, plus the update and query definitions typed with the old
// answers; remove with workflows/legacy/incident.ts.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  AddResponderInput,
  Crisis,
  DeclareCrisisInput,
  IncidentIntake,
  IncidentStatus,
  IncidentWorkflowPolicy,
  ResolveIncidentInput,
} from '../../domain/incident';
import type { IntegrationRefusal } from '../../domain/effects';
import type { EscalationMode } from '../../domain/policy';
import type { ActorInput, TimelineEntry } from '../../domain/ticket';

export interface LegacyPageStep {
  level: number;
  repeat: number;
  notified: string[];
  at: number;
  reason: 'paging chain' | 'crisis';
}

export interface LegacyPagingProgress {
  levelIndex: number;
  repeat: number;
  nextAt: number | null;
}

export interface LegacyIncidentState {
  incident: IncidentIntake;
  status: IncidentStatus;
  createdAt: number;
  level: number;
  paging: LegacyPagingProgress;
  pages: LegacyPageStep[];
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  acknowledgedVia: string | null;
  responders: string[];
  crisis: Crisis | null;
  document: { iid: number; webUrl: string } | null;
  announcements: Array<{ channel: string; ts: string }>;
  statusUpdates: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolution: string | null;
  followUp: { iid: number; webUrl: string; createdAt: number; closedAt: number | null; reminders: number } | null;
  closedAt: number | null;
  timeline: TimelineEntry[];
  integrationFailures: IntegrationRefusal[];
  done: string[];
  version: number;
}

export interface LegacyIncidentView extends Omit<LegacyIncidentState, 'done'> {
  id: string;
  workflowId: string;
  acknowledgeDueAt: number | null;
  breached: boolean;
  escalationMode: EscalationMode;
}

export interface LegacyIncidentWorkflowInput {
  incident: IncidentIntake;
  policy: IncidentWorkflowPolicy;
  carried?: LegacyIncidentState;
  continueAsNewAfterEvents?: number;
}

export const acknowledgeIncidentUpdate = defineUpdate<LegacyIncidentView & { alreadyAcknowledged: boolean }, [ActorInput]>('acknowledge');
export const addResponderUpdate = defineUpdate<LegacyIncidentView, [AddResponderInput]>('addResponder');
export const declareCrisisUpdate = defineUpdate<LegacyIncidentView, [DeclareCrisisInput]>('declareCrisis');
export const resolveIncidentUpdate = defineUpdate<LegacyIncidentView, [ResolveIncidentInput]>('resolve');
export const closeFollowUpUpdate = defineUpdate<LegacyIncidentView, [ActorInput]>('closeFollowUp');
export const incidentStateQuery = defineQuery<LegacyIncidentView>('state');
