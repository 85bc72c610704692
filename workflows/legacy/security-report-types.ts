// The security report's state and view as the first model kept them, for runs started before the state
// model of workflows/security-report.ts. Types only, plus the update and query definitions typed with
// the old answers; remove with workflows/legacy/security-report.ts.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { IntegrationRefusal } from '../../domain/effects';
import type {
  Disclosure,
  LinkFixInput,
  RespondInput,
  SecurityEscalationStep,
  SecurityReportIntake,
  SecurityReportStatus,
  SecurityWorkflowPolicy,
} from '../../domain/security-report';
import type { SlaClockState } from '../../domain/sla-clock';
import type { ActorInput, TimelineEntry } from '../../domain/ticket';

export interface LegacySecurityReportState {
  report: SecurityReportIntake;
  status: SecurityReportStatus;
  createdAt: number;
  respondedAt: number | null;
  respondedBy: string | null;
  breachedAt: number | null;
  escalating: { levelIndex: number; repeat: number; nextAt: number | null } | null;
  escalations: SecurityEscalationStep[];
  disclosure: Disclosure | null;
  scrubbed: { at: number; by: string } | null;
  fixLink: string | null;
  published: { at: number; iid: number; webUrl: string } | null;
  reminders: number;
  closedAt: number | null;
  timeline: TimelineEntry[];
  integrationFailures: IntegrationRefusal[];
  done: string[];
  version: number;
}

export interface LegacySecurityReportView extends Omit<LegacySecurityReportState, 'done' | 'escalating'> {
  id: string;
  workflowId: string;
  response: SlaClockState;
  disclosureBlockedBy: string[];
}

export interface LegacySecurityReportWorkflowInput {
  report: SecurityReportIntake;
  policy: SecurityWorkflowPolicy;
}

const update = <I>(name: string) => defineUpdate<LegacySecurityReportView, [I]>(name);
export const respondToReportUpdate = update<RespondInput>('respond');
export const requestDisclosureUpdate = update<ActorInput>('requestDisclosure');
export const markScrubbedUpdate = update<ActorInput>('markScrubbed');
export const linkFixUpdate = update<LinkFixInput>('linkFix');
export const acceptDisclosureUpdate = update<ActorInput>('acceptDisclosure');
export const closeReportUpdate = update<ActorInput>('close');
export const securityReportStateQuery = defineQuery<LegacySecurityReportView>('state');
