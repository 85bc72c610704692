// The SLA/escalation policy as plain data: targets per channel and tier, business calendars and
// escalation chains. Shared by workflows and the API, so no Node imports and no zod here
// (validation lives in config/policy-schema.ts).

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
  /** How long after resolution a requester may reopen; after it the ticket closes by itself. */
  reopenWindowMs: number;
  /** Who hears about a target at `warningShare` when the ticket has no assignee (default: #support-desk). */
  warningRecipients?: string[];
  calendars: Record<string, BusinessCalendar>;
  escalationChains: Record<string, EscalationChain>;
  /** Policy per channel; channels not listed use `default`. */
  channels: Partial<Record<Channel, Partial<ChannelPolicy>>> & { default: ChannelPolicy };
}

/**
 * What a single ticket needs from the policy, resolved at intake so the workflow never depends on a
 * policy file changing underneath it: targets for every tier (a re-tier needs them) and the chain.
 */
export interface TicketPolicy {
  policyName: string;
  warningShare: number;
  reopenWindowMs: number;
  warningRecipients?: string[];
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
    reopenWindowMs: policy.reopenWindowMs,
    warningRecipients: policy.warningRecipients,
    acknowledge: own.acknowledge ?? base.acknowledge,
    resolve,
    calendars: policy.calendars,
    escalationChain: policy.escalationChains[chainName] ?? [],
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

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
};

export const BUILT_IN_POLICIES: Record<string, Policy> = { default: DEFAULT_POLICY, demo: DEMO_POLICY };
