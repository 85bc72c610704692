// Validates an SLA/escalation policy (built-in or a JSON file) at start: every value a workflow will
// compute with, so a bad one refuses the start (each problem named by its path) instead of stalling
// tickets later. Workflows never import this: they get a resolved TicketPolicy.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PERMISSIONS, rolesOf } from '../domain/access';
import { businessTargetProblem, calendarProblems } from '../domain/calendar';
import { BUILT_IN_POLICIES, CHANNELS, WEEKDAYS, type BusinessCalendar, type Policy, type SlaTarget } from '../domain/policy';

/**
 * An object that refuses keys it does not know: a typo ("warningshare") must fail the start, not
 * leave the field silently at its default.
 */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject(shape, { error: unknownKeys(Object.keys(shape)) });
}

/** One unknown key is named by its path (see parsePolicy), so its message only says what to write instead. */
function unknownKeys(known: readonly string[]) {
  const like = (key: string) =>
    known.find((k) => k.toLowerCase() === key.toLowerCase()) ??
    known.find((k) => editDistance(k, key) <= Math.min(2, Math.floor(k.length / 3))) ??
    known.find((k) => k.length >= 3 && key.toLowerCase().startsWith(k.toLowerCase())); // "monday" → "mon"
  return (issue: z.core.$ZodRawIssue): string | undefined => {
    if (issue.code !== 'unrecognized_keys') return undefined;
    if (issue.keys.length === 1) {
      const suggestion = like(issue.keys[0]!);
      return suggestion ? `unknown field; did you mean "${suggestion}"?` : `unknown field; the fields here are ${known.join(', ')}`;
    }
    const named = issue.keys.map((key) => (like(key) ? `"${key}" (did you mean "${like(key)}"?)` : `"${key}"`));
    return `unknown fields ${named.join(', ')}; the fields here are ${known.join(', ')}`;
  };
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

// Only the shape here: what a time zone, an opening time or a holiday must look like is the
// calendar arithmetic's own reading (calendarProblems), so the two can never disagree.
const calendarSchema = strict({
  timeZone: z.string(),
  weeklyHours: z.partialRecord(z.enum(WEEKDAYS as [string, ...string[]]), z.array(strict({ start: z.string(), end: z.string() })), {
    error: unknownKeys(WEEKDAYS),
  }),
  holidays: z.array(z.string()),
}).superRefine((calendar, ctx) => {
  for (const problem of calendarProblems(calendar as BusinessCalendar)) {
    ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  }
});

const targetSchema = strict({
  withinMs: z.number().int().positive(),
  clock: z.enum(['calendar', 'business']),
  calendar: z.string().optional(),
});

const tierTargets = strict({ 1: targetSchema, 2: targetSchema, 3: targetSchema });

const escalationLevelSchema = strict({
  notify: z.array(z.string().min(1)).min(1),
  waitMs: z.number().int().positive(),
  repeats: z.number().int().min(1),
});

const channelPolicySchema = strict({
  acknowledge: targetSchema,
  resolve: tierTargets,
  escalationChain: z.string(),
});

const incidentSchema = strict({
  acknowledgeWithinMs: z.number().int().positive(),
  pagingChain: z.array(escalationLevelSchema).min(1, 'needs at least level 1'),
  escalationMode: z.enum(['engine', 'pagerduty']),
  crisis: strict({
    afterOpenMs: z.number().int().positive(),
    maxResponders: z.number().int().min(1),
    escalateToLevel: z.number().int().min(1),
    documentProject: z.string().min(1),
    announceChannels: z.array(z.string().min(1)),
    statusUpdateEveryMs: z.number().int().positive(),
  }),
  followUp: strict({ project: z.string().min(1), remindEveryMs: z.number().int().positive() }),
});

const securitySchema = strict({
  respond: targetSchema.optional(),
  escalationChain: z.string().optional(),
  disclosureAfterMs: z.number().int().positive(),
  remindEveryMs: z.number().int().positive(),
  team: z.array(z.string().min(1)).min(1),
  disclosureProject: z.string().min(1),
});

const workItemsSchema = strict({
  featureRequestProject: z.string().min(1),
  bugReportProject: z.string().min(1),
  triageReminderMs: z.number().int().positive(),
  informationGiveUpMs: z.number().int().positive(),
});

const MAX_WARNING_SHARES = 5;

const warningSharesSchema = z
  .array(z.number().gt(0, 'a warning share lies strictly between 0 and 1').lt(1, 'a warning share lies strictly between 0 and 1'))
  .max(MAX_WARNING_SHARES, `at most ${MAX_WARNING_SHARES} warnings per target`)
  .superRefine((shares, ctx) => {
    shares.forEach((share, i) => {
      if (i > 0 && !(share > shares[i - 1]!)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `must be greater than the warning before it (${shares[i - 1]}): list them in increasing order` });
      }
    });
  });

const policyShape = strict({
  name: z.string().min(1),
  warningShare: z.number().gt(0).lt(1),
  warningShares: warningSharesSchema.optional(),
  reopenWindowMs: z.number().int().nonnegative(),
  warningRecipients: z.array(z.string().min(1)).optional(),
  feedbackProject: z.string().min(1).optional(),
  notificationGiveUpMs: z.number().int().positive().optional(),
  privateChannels: z
    .array(z.string().regex(/^(#\S+|[CG][A-Z0-9]{2,})$/, 'a private channel is #name or a Slack channel id'))
    .optional(),
  calendars: z.record(z.string(), calendarSchema),
  escalationChains: z.record(z.string(), z.array(escalationLevelSchema)),
  channels: z
    .object({ default: channelPolicySchema })
    .catchall(channelPolicySchema.partial().extend({ resolve: tierTargets.partial().optional() })),
  incident: incidentSchema.optional(),
  security: securitySchema.optional(),
  workItems: workItemsSchema.optional(),
  roles: z.record(z.string(), z.array(z.enum(PERMISSIONS))).optional(),
});

type ParsedPolicy = z.infer<typeof policyShape>;

/**
 * What the fields alone cannot say: names that must exist elsewhere in the policy, and business-time
 * targets a workflow could not compute. `now` is when the policy is loaded: tickets start from then on.
 */
function checkAcrossSections(policy: ParsedPolicy, ctx: z.RefinementCtx, now: number): void {
  const checkTarget = businessTargetChecker(policy, ctx, now);
  for (const channel of Object.keys(policy.channels)) {
    if (channel !== 'default' && !(CHANNELS as readonly string[]).includes(channel)) {
      ctx.addIssue({ code: 'custom', path: ['channels', channel], message: `unknown channel; use one of ${CHANNELS.join(', ')}` });
    }
    const cp = policy.channels[channel] as Partial<z.infer<typeof channelPolicySchema>>;
    if (cp.escalationChain !== undefined) checkChainName(policy, ctx, cp.escalationChain, ['channels', channel, 'escalationChain']);
    // Only the targets written here: what a channel inherits is `default`'s, checked under that name.
    if (cp.acknowledge) checkTarget(cp.acknowledge, ['channels', channel, 'acknowledge']);
    for (const [tier, target] of Object.entries(cp.resolve ?? {})) {
      if (target) checkTarget(target, ['channels', channel, 'resolve', tier]);
    }
  }
  checkIncident(policy, ctx);
  if (policy.roles && !Object.values(rolesOf(policy as Policy)).some((permissions) => permissions.includes('manage'))) {
    ctx.addIssue({ code: 'custom', path: ['roles'], message: 'no role grants "manage": nobody could manage keys; keep it on "admin"' });
  }
  for (const [role, permissions] of Object.entries(policy.roles ?? {})) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(role)) {
      ctx.addIssue({ code: 'custom', path: ['roles', role], message: 'a role is a lowercase word such as "agent" (letters, digits, -)' });
    }
    if (permissions?.includes('decode') && !(permissions.includes('read-private') && permissions.includes('security'))) {
      ctx.addIssue({
        code: 'custom',
        path: ['roles', role],
        message: 'decode shows every payload, private items and security reports included: a role with it needs read-private and security too',
      });
    }
  }
  const chain = policy.security?.escalationChain;
  if (chain !== undefined) checkChainName(policy, ctx, chain, ['security', 'escalationChain']);
  if (policy.security?.respond) checkTarget(policy.security.respond, ['security', 'respond']);
}

function checkChainName(policy: ParsedPolicy, ctx: z.RefinementCtx, name: string, path: Array<string | number>): void {
  if (!Object.hasOwn(policy.escalationChains, name)) {
    const known = Object.keys(policy.escalationChains).join(', ') || 'none';
    ctx.addIssue({ code: 'custom', path, message: `no escalation chain named "${name}" in "escalationChains" (known: ${known})` });
  }
}

/** Level 1 is the acknowledgement window; a crisis escalates to a level the chain has. */
function checkIncident(policy: ParsedPolicy, ctx: z.RefinementCtx): void {
  const first = policy.incident?.pagingChain[0];
  if (policy.incident && first && first.waitMs * first.repeats !== policy.incident.acknowledgeWithinMs) {
    ctx.addIssue({ code: 'custom', path: ['incident', 'pagingChain', 0], message: 'level 1 must last exactly acknowledgeWithinMs (waitMs × repeats): the next level is paged when the acknowledgement is due' });
  }
  const incident = policy.incident;
  if (incident && incident.crisis.escalateToLevel > incident.pagingChain.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['incident', 'crisis', 'escalateToLevel'],
      message: `the paging chain has ${incident.pagingChain.length} level(s): a crisis cannot escalate to level ${incident.crisis.escalateToLevel}`,
    });
  }
}

/**
 * A business-time target must name a calendar that exists, is open at some time, and reaches the
 * target within the calendar arithmetic's search limit; otherwise every workflow task computing the
 * deadline would fail and the ticket would stall. Each (calendar, withinMs) is searched once.
 */
function businessTargetChecker(policy: ParsedPolicy, ctx: z.RefinementCtx, now: number) {
  const searched = new Map<string, string | undefined>();
  return (target: SlaTarget, path: Array<string | number>): void => {
    if (target.clock !== 'business') return;
    const name = target.calendar;
    if (name === undefined || !Object.hasOwn(policy.calendars, name)) {
      const known = Object.keys(policy.calendars).join(', ') || 'none';
      const which = name === undefined ? '' : ` (there is no calendar "${name}"; known: ${known})`;
      ctx.addIssue({ code: 'custom', path, message: `a business-time target needs "calendar" naming a calendar in "calendars"${which}` });
      return;
    }
    const calendar = policy.calendars[name] as BusinessCalendar;
    if (calendarProblems(calendar).length > 0) return; // reported under calendars.<name>
    const key = `${name}\u0000${target.withinMs}`;
    if (!searched.has(key)) searched.set(key, businessTargetProblem(calendar, target.withinMs, now));
    const problem = searched.get(key);
    if (problem) ctx.addIssue({ code: 'custom', path, message: `calendar "${name}": ${problem}` });
  };
}

export class PolicyError extends Error {}

export interface PolicyCheckOptions {
  /** When tickets start on this policy from (default: now); business-time targets are tried from then. */
  now?: number;
}

/** Checks a policy object; throws a PolicyError listing every problem as `path: message`. */
export function parsePolicy(raw: unknown, source: string, options: PolicyCheckOptions = {}): Policy {
  const now = options.now ?? Date.now();
  const result = policyShape.superRefine((policy, ctx) => checkAcrossSections(policy, ctx, now)).safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      // A single unknown key is shown where it is, like any other wrong field.
      const path = i.code === 'unrecognized_keys' && i.keys.length === 1 ? [...i.path, i.keys[0]!] : i.path;
      return `  ${path.join('.') || '(root)'}: ${i.message}`;
    });
    throw new PolicyError(`invalid SLA policy in ${source}:\n${problems.join('\n')}`);
  }
  return result.data as Policy;
}

/** `default`, `demo`, or a path to a JSON policy file. */
export function loadPolicy(nameOrPath: string, options: PolicyCheckOptions = {}): Policy {
  const builtIn = Object.hasOwn(BUILT_IN_POLICIES, nameOrPath) ? BUILT_IN_POLICIES[nameOrPath] : undefined;
  if (builtIn) return parsePolicy(builtIn, `built-in policy "${nameOrPath}"`, options);
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch {
    throw new PolicyError(
      `SUPPORT_DESK_POLICY="${nameOrPath}" is neither a built-in policy (${Object.keys(BUILT_IN_POLICIES).join(', ')}) nor a readable JSON file`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`${nameOrPath} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePolicy(raw, nameOrPath, options);
}
