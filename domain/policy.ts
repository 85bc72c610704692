// The SLA/escalation policy as plain data: targets per channel and tier, business calendars and
// escalation chains. Shared by workflows and the API, so no Node imports and no zod here
// (validation lives in config/policy-schema.ts).
import type { Permission } from './access';
import type { WorkItemKind, WorkItemPolicy } from './work-item';

export type Tier = 1 | 2 | 3;
export const TIERS: readonly Tier[] = [1, 2, 3];

/** Channels in order of priority, strictest SLA first (domain.md, "Channels"). */
export const CHANNELS = [
  'emergency',
  'security',
  'helpdesk',
  'blog',
  'social',
  'issue-tracker',
  'community',
  'mailing-list',
  'forum',
  'stack-overflow',
  'reddit',
  'quora',
  'slack',
  'people-desk',
  'other',
] as const;
export type Channel = (typeof CHANNELS)[number];

/** "HH:mm"–"HH:mm" in the calendar's time zone; a day may have several (split shifts). */
export interface OpeningInterval {
  start: string;
  end: string;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface BusinessCalendar {
  /** IANA time zone, e.g. "Europe/Amsterdam". */
  timeZone: string;
  /** Opening hours per weekday; a missing or empty day is closed. */
  weeklyHours: Partial<Record<Weekday, OpeningInterval[]>>;
  /** Closed dates, "YYYY-MM-DD" in the calendar's time zone. */
  holidays: string[];
}

/** `calendar` counts every millisecond; `business` counts only the calendar's opening hours. */
export type ClockKind = 'calendar' | 'business';

export interface SlaTarget {
  /** How much (calendar or business) time the desk has, in milliseconds. */
  withinMs: number;
  clock: ClockKind;
  /** Name of a calendar in the policy; required when clock is `business`. */
  calendar?: string;
}

export interface EscalationLevel {
  /** Who is told, e.g. "team-lead", "#support-escalations", "oncall-secondary". */
  notify: string[];
  /** How long to wait after this level is notified before moving to the next one. */
  waitMs: number;
  /** How many times this level is notified (once every waitMs) before moving on. */
  repeats: number;
}

/** Ordered levels, run one after another until the target is met or the chain ends. */
export type EscalationChain = EscalationLevel[];

export interface ChannelPolicy {
  acknowledge: SlaTarget;
  /** Tier 1 and 2 are resolution targets; tier 3 is the hand-off to a centre of expertise. */
  resolve: Record<Tier, SlaTarget>;
  escalationChain: string;
}

export interface Policy {
  name: string;
  /** Share of a target after which a warning goes out (0.75 = at 75 % of the target). */
  warningShare: number;
  /**
   * A warning ladder: a warning at each of these shares of a target, e.g. [0.5, 0.75, 0.9]. Each
   * strictly between 0 and 1, in increasing order, at most 5.
   */
  warningShares?: number[];
  /** How long after resolution a requester may reopen; after it the ticket closes by itself. */
  reopenWindowMs: number;
  /** Who hears about a target at `warningShare` when the ticket has no assignee (default: #support-desk). */
  warningRecipients?: string[];
  /** Private Slack channels a private ticket's desk notifications may go to (besides DMs). */
  privateChannels?: string[];
  /** Tracker project where every satisfaction-pulse answer is filed as an issue (default support/feedback). */
  feedbackProject?: string;
  /** How long a notification is retried before it is recorded on the ticket as given up (default 15 min). */
  notificationGiveUpMs?: number;
  calendars: Record<string, BusinessCalendar>;
  escalationChains: Record<string, EscalationChain>;
  /** Policy per channel; channels not listed use `default`. */
  channels: Partial<Record<Channel, Partial<ChannelPolicy>>> & { default: ChannelPolicy };
  /** Emergency incidents: paging, crisis mode, follow-up (domain/incident.ts has the defaults). */
  incident?: IncidentPolicy;
  /** Security reports from the bug-bounty platform: response target, disclosure. */
  security?: SecurityPolicy;
  /** Feature requests and bug reports (optional; WORK_ITEM_DEFAULTS when left out). */
  workItems?: WorkItemsPolicy;
  /** Roles and what each may do; a role listed here replaces the default of that name (domain/access.ts). */
  roles?: Partial<Record<string, Permission[]>>;
}

/** Where feature requests and bug reports live on the tracker, and how long triage waits on a requester. */
export interface WorkItemsPolicy {
  /** Tracker project (GitLab path) of feature requests' issues. */
  featureRequestProject: string;
  /** Tracker project of bug reports' issues. */
  bugReportProject: string;
  /** While triage waits on the requester's information, remind them this often. */
  triageReminderMs: number;
  /** No answer from the requester for this long: the request is closed politely. */
  informationGiveUpMs: number;
}

/**
 * `engine`: the engine pages each level itself (PagerDuty's escalation policy should be one level, or
 * it pages twice). `pagerduty`: the engine triggers once and PagerDuty escalates; the engine only
 * mirrors acknowledgement and resolution.
 */
export type EscalationMode = 'engine' | 'pagerduty';

export interface IncidentPolicy {
  /** The paged level must acknowledge within this; then the next level is paged (domain.md: 5 min). */
  acknowledgeWithinMs: number;
  /**
   * Level 1 is paged at once, each level `repeats` times `waitMs` apart, then the next one, until
   * someone acknowledges. Level 1 lasts exactly acknowledgeWithinMs (waitMs × repeats).
   */
  pagingChain: EscalationChain;
  escalationMode: EscalationMode;
  crisis: {
    /** Still open this long after it was raised: crisis (domain.md: one hour). */
    afterOpenMs: number;
    /** More responders than this: crisis. */
    maxResponders: number;
    /** The level a crisis escalates to (1-based; domain.md: the second level). */
    escalateToLevel: number;
    /** Tracker project of the shared incident document, open to the customer and the team. */
    documentProject: string;
    announceChannels: string[];
    statusUpdateEveryMs: number;
  };
  followUp: {
    /** Tracker project of the follow-up task that moves the know-how into the docs. */
    project: string;
    remindEveryMs: number;
  };
}

export interface SecurityPolicy {
  /** Response target (domain.md: one business day); falls back to the `security` channel's acknowledge target. */
  respond?: SlaTarget;
  /** Escalation chain on a missed response; falls back to the `security` channel's chain. */
  escalationChain?: string;
  /** A disclosure request may be published this long after it was made (domain.md: 30 days). */
  disclosureAfterMs: number;
  /** While a due disclosure waits on scrubbing or the fix link, remind this often. */
  remindEveryMs: number;
  /** Who hears about reports, reminders and publications. */
  team: string[];
  /** Tracker project where a disclosure is published (a public issue). */
  disclosureProject: string;
}

/**
 * What a single ticket needs from the policy, resolved at intake so the workflow never depends on a
 * policy file changing underneath it: targets for every tier (a re-tier needs them) and the chain.
 */
export interface TicketPolicy {
  policyName: string;
  warningShare: number;
  /** The warning ladder (policy.warningShares); absent on tickets opened before it existed. */
  warningShares?: number[];
  reopenWindowMs: number;
  warningRecipients?: string[];
  privateChannels?: string[];
  feedbackProject?: string;
  notificationGiveUpMs?: number;
  acknowledge: SlaTarget;
  resolve: Record<Tier, SlaTarget>;
  calendars: Record<string, BusinessCalendar>;
  escalationChain: EscalationChain;
}

export function resolveTicketPolicy(policy: Policy, channel: Channel): TicketPolicy {
  const own = policy.channels[channel] ?? {};
  const base = policy.channels.default;
  const resolve = { ...base.resolve, ...(own.resolve ?? {}) };
  const chainName = own.escalationChain ?? base.escalationChain;
  return {
    policyName: policy.name,
    warningShare: policy.warningShare,
    ...(policy.warningShares ? { warningShares: policy.warningShares } : {}),
    reopenWindowMs: policy.reopenWindowMs,
    warningRecipients: policy.warningRecipients,
    ...(policy.privateChannels ? { privateChannels: policy.privateChannels } : {}),
    ...(policy.feedbackProject ? { feedbackProject: policy.feedbackProject } : {}),
    ...(policy.notificationGiveUpMs ? { notificationGiveUpMs: policy.notificationGiveUpMs } : {}),
    acknowledge: own.acknowledge ?? base.acknowledge,
    resolve,
    calendars: policy.calendars,
    escalationChain: policy.escalationChains[chainName] ?? [],
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Work-item defaults: remind a silent requester every 3 days, close politely after 14. */
export const WORK_ITEM_DEFAULTS: WorkItemsPolicy = {
  featureRequestProject: 'support/feature-requests',
  bugReportProject: 'support/bugs',
  triageReminderMs: 3 * DAY,
  informationGiveUpMs: 14 * DAY,
};

/** Defaults from domain.md: acknowledge in 4 h; tier 1 resolved in 24 h, tier 2 in 72 h, tier 3 handed off in 24 h. */
export const DEFAULT_POLICY: Policy = {
  name: 'default',
  warningShare: 0.75,
  reopenWindowMs: 7 * DAY,
  calendars: {
    'business-hours': {
      timeZone: 'UTC',
      weeklyHours: {
        mon: [{ start: '09:00', end: '17:00' }],
        tue: [{ start: '09:00', end: '17:00' }],
        wed: [{ start: '09:00', end: '17:00' }],
        thu: [{ start: '09:00', end: '17:00' }],
        fri: [{ start: '09:00', end: '17:00' }],
      },
      holidays: [],
    },
  },
  escalationChains: {
    standard: [
      { notify: ['#support-escalations'], waitMs: 1 * HOUR, repeats: 1 },
      { notify: ['support-manager'], waitMs: 4 * HOUR, repeats: 2 },
    ],
    urgent: [
      { notify: ['oncall-primary'], waitMs: 5 * MINUTE, repeats: 1 },
      { notify: ['oncall-secondary'], waitMs: 15 * MINUTE, repeats: 3 },
    ],
  },
  channels: {
    default: {
      acknowledge: { withinMs: 4 * HOUR, clock: 'calendar' },
      resolve: {
        1: { withinMs: 24 * HOUR, clock: 'calendar' },
        2: { withinMs: 72 * HOUR, clock: 'calendar' },
        3: { withinMs: 24 * HOUR, clock: 'calendar' },
      },
      escalationChain: 'standard',
    },
    security: {
      // One business day.
      acknowledge: { withinMs: 8 * HOUR, clock: 'business', calendar: 'business-hours' },
      escalationChain: 'urgent',
    },
    emergency: {
      acknowledge: { withinMs: 5 * MINUTE, clock: 'calendar' },
      escalationChain: 'urgent',
    },
  },
  incident: {
    acknowledgeWithinMs: 5 * MINUTE,
    pagingChain: [
      { notify: ['oncall-primary'], waitMs: 5 * MINUTE, repeats: 1 },
      { notify: ['oncall-secondary'], waitMs: 5 * MINUTE, repeats: 3 },
      { notify: ['engineering-manager'], waitMs: 15 * MINUTE, repeats: 4 },
    ],
    escalationMode: 'engine',
    crisis: {
      afterOpenMs: 1 * HOUR,
      maxResponders: 3,
      escalateToLevel: 2,
      documentProject: 'support/incidents',
      announceChannels: ['#infrastructure', '#development', '#general'],
      statusUpdateEveryMs: 30 * MINUTE,
    },
    followUp: { project: 'support/docs', remindEveryMs: 1 * DAY },
  },
  security: {
    disclosureAfterMs: 30 * DAY,
    remindEveryMs: 1 * DAY,
    team: ['#security'],
    disclosureProject: 'support/security-disclosures',
  },
  workItems: WORK_ITEM_DEFAULTS,
};

/** The same shape with targets in seconds, so a person can watch escalation happen live. */
export const DEMO_POLICY: Policy = {
  name: 'demo',
  warningShare: 0.75,
  reopenWindowMs: 2 * MINUTE,
  calendars: {},
  escalationChains: {
    standard: [
      { notify: ['#support-escalations'], waitMs: 10_000, repeats: 1 },
      { notify: ['support-manager'], waitMs: 10_000, repeats: 2 },
    ],
  },
  channels: {
    default: {
      acknowledge: { withinMs: 20_000, clock: 'calendar' },
      resolve: {
        1: { withinMs: 60_000, clock: 'calendar' },
        2: { withinMs: 120_000, clock: 'calendar' },
        3: { withinMs: 60_000, clock: 'calendar' },
      },
      escalationChain: 'standard',
    },
  },
  incident: {
    acknowledgeWithinMs: 20_000,
    pagingChain: [
      { notify: ['oncall-primary'], waitMs: 20_000, repeats: 1 },
      { notify: ['oncall-secondary'], waitMs: 10_000, repeats: 2 },
    ],
    escalationMode: 'engine',
    crisis: {
      afterOpenMs: 2 * MINUTE,
      maxResponders: 3,
      escalateToLevel: 2,
      documentProject: 'support/incidents',
      announceChannels: ['#infrastructure', '#development', '#general'],
      statusUpdateEveryMs: 30_000,
    },
    followUp: { project: 'support/docs', remindEveryMs: MINUTE },
  },
  security: {
    respond: { withinMs: 30_000, clock: 'calendar' },
    escalationChain: 'standard',
    disclosureAfterMs: 2 * MINUTE,
    remindEveryMs: 30_000,
    team: ['#security'],
    disclosureProject: 'support/security-disclosures',
  },
  workItems: {
    featureRequestProject: 'support/feature-requests',
    bugReportProject: 'support/bugs',
    triageReminderMs: 20_000,
    informationGiveUpMs: MINUTE,
  },
};

/** A work item's slice of the policy, fixed at intake like a ticket's. */
export function resolveWorkItemPolicy(policy: Policy, kind: WorkItemKind): WorkItemPolicy {
  const w = policy.workItems ?? WORK_ITEM_DEFAULTS;
  return {
    policyName: policy.name,
    trackerProject: kind === 'feature-request' ? w.featureRequestProject : w.bugReportProject,
    triageReminderMs: w.triageReminderMs,
    informationGiveUpMs: w.informationGiveUpMs,
  };
}

export const BUILT_IN_POLICIES: Record<string, Policy> = { default: DEFAULT_POLICY, demo: DEMO_POLICY };
