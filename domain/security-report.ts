// A security report from the bug-bounty platform: its shape, its policy slice and the messages that
// drive its workflow. Shared by the workflow and the API: no Node imports, no zod.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { EffectQueue, IntegrationRefusal, ProjectionProgress } from './effects';
import type { ChainRun } from './escalation';
import type { BusinessCalendar, EscalationChain, Policy, SlaTarget } from './policy';
import type { SlaClockState } from './sla-clock';
import type { ActorInput } from './ticket';
import type { TimelineEntry } from './timeline';

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

/** What the workflow carries when it continues as new. */
export interface CarriedSecurityReport {
  model: 2;
  report: SecurityReportState;
  effects: EffectQueue;
  projection: ProjectionProgress;
}

export interface SecurityReportWorkflowInput {
  report: SecurityReportIntake;
  policy: SecurityWorkflowPolicy;
  carried?: CarriedSecurityReport;
  continueAsNewAfterEvents?: number;
  continueAsNewAfterBytes?: number;
}

export interface SecurityEscalationStep {
  level: number;
  repeat: number;
  notified: string[];
  at: number;
  dueAt?: number;
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
  /** The escalation chain's run after a missed response, from the moment the response was due. */
  escalating: ChainRun | null;
  escalations: SecurityEscalationStep[];
  disclosure: Disclosure | null;
  scrubbed: { at: number; by: string } | null;
  fixLink: string | null;
  published: { at: number; iid: number; webUrl: string } | null;
  /** The tracker refused the publication for good: the team publishes by hand and closes the report. */
  publicationRefused: boolean;
  /** Reminders sent while a due disclosure waits on scrubbing or the fix link. */
  reminders: number;
  closedAt: number | null;
  /** The latest entries; every entry is also in item_events. */
  timeline: TimelineEntry[];
  recorded: number;
  /** Steps whose effects were queued, so a pass never queues one twice. */
  done: string[];
  version: number;
}

export interface SecurityReportView extends Omit<SecurityReportState, 'done' | 'escalating' | 'recorded'> {
  id: string;
  workflowId: string;
  timelineLength: number;
  response: SlaClockState;
  /** What still stands between a requested disclosure and its publication. */
  disclosureBlockedBy: string[];
  integrationFailures: IntegrationRefusal[];
  pendingEffects: number;
  projection: ProjectionProgress;
}

/** What every action answers with: small (it is stored in the history); the query has the rest. */
export interface SecurityReportActionResult {
  id: string;
  status: SecurityReportStatus;
  version: number;
  event: string;
  visible: boolean;
}

export interface RespondInput extends ActorInput {
  message: string;
}
export interface LinkFixInput extends ActorInput {
  url: string;
}

const action = <I>(name: string) => defineUpdate<SecurityReportActionResult, [I]>(name);
export const respondToReportUpdate = action<RespondInput>('respond');
export const requestDisclosureUpdate = action<ActorInput>('requestDisclosure');
export const markScrubbedUpdate = action<ActorInput>('markScrubbed');
export const linkFixUpdate = action<LinkFixInput>('linkFix');
export const acceptDisclosureUpdate = action<ActorInput>('acceptDisclosure');
export const closeReportUpdate = action<ActorInput>('close');

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
  /** The workflow chain (first run id). */
  chainId?: string;
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
  /** Timeline entries to append to item_events (new writes only). */
  events?: TimelineEntry[];
}
