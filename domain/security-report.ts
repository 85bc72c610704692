// A security report from the bug-bounty platform: its shape, its policy slice and the messages that
// drive its workflow. Shared by the workflow and the API: no Node imports, no zod.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { IntegrationRefusal } from './incident';
import type { BusinessCalendar, EscalationChain, Policy, SlaTarget } from './policy';
import type { SlaClockState } from './sla-clock';
import type { ActorInput, TimelineEntry } from './ticket';

export const SECURITY_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type SecuritySeverity = (typeof SECURITY_SEVERITIES)[number];

/** new → responded → disclosure-requested → published; or closed without a disclosure. */
export const SECURITY_REPORT_STATUSES = ['new', 'responded', 'disclosure-requested', 'published', 'closed'] as const;
export type SecurityReportStatus = (typeof SECURITY_REPORT_STATUSES)[number];

export interface SecurityReportIntake {
  id: string;
  externalId: string | null;
  title: string;
  description: string;
  severity: SecuritySeverity;
  /** The reporter's handle on the bug-bounty platform. */
  reporter: string;
}

/** Resolved at intake: the response target with its calendars, the escalation chain, disclosure rules. */
export interface SecurityWorkflowPolicy {
  policyName: string;
  respond: SlaTarget;
  calendars: Record<string, BusinessCalendar>;
  warningShare: number;
  escalationChain: EscalationChain;
  disclosureAfterMs: number;
  remindEveryMs: number;
  team: string[];
  disclosureProject: string;
  /** The policy's `notificationGiveUpMs`: how long an effect is retried before it is given up on (default 15 min). */
  notificationGiveUpMs?: number;
}

export interface SecurityReportWorkflowInput {
  report: SecurityReportIntake;
  policy: SecurityWorkflowPolicy;
}

export interface SecurityEscalationStep {
  level: number;
  repeat: number;
  notified: string[];
  at: number;
}

export interface Disclosure {
  requestedAt: number;
  requestedBy: string;
  /** requestedAt + disclosureAfterMs: publication is allowed from then on (once scrubbed and linked). */
  dueAt: number;
  acceptedAt: number | null;
  acceptedBy: string | null;
}

export interface SecurityReportState {
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
  /** Reminders sent while a due disclosure waits on scrubbing or the fix link. */
  reminders: number;
  closedAt: number | null;
  timeline: TimelineEntry[];
  /** Messages or the publication a system refused for good (a 4xx): recorded, shown, not retried. */
  integrationFailures: IntegrationRefusal[];
  done: string[];
  version: number;
}

export interface SecurityReportView extends Omit<SecurityReportState, 'done' | 'escalating'> {
  id: string;
  workflowId: string;
  response: SlaClockState;
  /** What still stands between a requested disclosure and its publication. */
  disclosureBlockedBy: string[];
}

export interface RespondInput extends ActorInput {
  message: string;
}
export interface LinkFixInput extends ActorInput {
  url: string;
}

export const respondToReportUpdate = defineUpdate<SecurityReportView, [RespondInput]>('respond');
export const requestDisclosureUpdate = defineUpdate<SecurityReportView, [ActorInput]>('requestDisclosure');
export const markScrubbedUpdate = defineUpdate<SecurityReportView, [ActorInput]>('markScrubbed');
export const linkFixUpdate = defineUpdate<SecurityReportView, [LinkFixInput]>('linkFix');
export const acceptDisclosureUpdate = defineUpdate<SecurityReportView, [ActorInput]>('acceptDisclosure');
export const closeReportUpdate = defineUpdate<SecurityReportView, [ActorInput]>('close');

export const securityReportStateQuery = defineQuery<SecurityReportView>('state');

export const SECURITY_REPORT_ACTIONS = {
  respond: respondToReportUpdate,
  'request-disclosure': requestDisclosureUpdate,
  'mark-scrubbed': markScrubbedUpdate,
  'link-fix': linkFixUpdate,
  'accept-disclosure': acceptDisclosureUpdate,
  close: closeReportUpdate,
} as const;
export type SecurityReportAction = keyof typeof SECURITY_REPORT_ACTIONS;

export function securityReportWorkflowId(reportId: string): string {
  return `security-${reportId}`;
}

/**
 * The policy's security section; the response target and chain fall back to the `security` channel
 * (then `default`), so an older policy file keeps working.
 */
export function resolveSecurityPolicy(policy: Policy): SecurityWorkflowPolicy {
  const section = policy.security ?? {
    disclosureAfterMs: 30 * 86_400_000,
    remindEveryMs: 86_400_000,
    team: ['#security'],
    disclosureProject: 'support/security-disclosures',
  };
  const channel = policy.channels.security ?? {};
  const chainName = section.escalationChain ?? channel.escalationChain ?? policy.channels.default.escalationChain;
  return {
    policyName: policy.name,
    respond: section.respond ?? channel.acknowledge ?? policy.channels.default.acknowledge,
    calendars: policy.calendars,
    warningShare: policy.warningShare,
    escalationChain: policy.escalationChains[chainName] ?? [],
    disclosureAfterMs: section.disclosureAfterMs,
    remindEveryMs: section.remindEveryMs,
    team: section.team,
    disclosureProject: section.disclosureProject,
    ...(policy.notificationGiveUpMs ? { notificationGiveUpMs: policy.notificationGiveUpMs } : {}),
  };
}

export interface SecurityReportProjection {
  id: string;
  workflowId: string;
  externalId: string | null;
  title: string;
  severity: SecuritySeverity;
  reporter: string;
  status: SecurityReportStatus;
  createdAt: number;
  respondDueAt: number | null;
  respondedAt: number | null;
  breached: boolean;
  disclosureRequestedAt: number | null;
  disclosureDueAt: number | null;
  scrubbed: boolean;
  fixLink: string | null;
  publishedAt: number | null;
  version: number;
}
