// Validates an SLA/escalation policy (built-in or a JSON file) at start, with errors that say
// exactly which field is wrong. Workflows never import this: they get a resolved TicketPolicy.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BUILT_IN_POLICIES, CHANNELS, WEEKDAYS, type Policy } from '../domain/policy';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'use "HH:mm" (00:00 to 24:00)');

const calendarSchema = z.object({
  timeZone: z.string().refine(isTimeZone, 'not an IANA time zone, e.g. "Europe/Amsterdam"'),
  weeklyHours: z.partialRecord(
    z.enum(WEEKDAYS as [string, ...string[]]),
    z.array(z.object({ start: hhmm, end: hhmm }).refine((i) => i.start < i.end, 'start must be before end')),
  ),
  holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use "YYYY-MM-DD"')),
});

const targetSchema = z.object({
  withinMs: z.number().int().positive(),
  clock: z.enum(['calendar', 'business']),
  calendar: z.string().optional(),
});

const tierTargets = z.object({ 1: targetSchema, 2: targetSchema, 3: targetSchema });

const channelPolicySchema = z.object({
  acknowledge: targetSchema,
  resolve: tierTargets,
  escalationChain: z.string(),
});

const escalationLevelSchema = z.object({
  notify: z.array(z.string().min(1)).min(1),
  waitMs: z.number().int().positive(),
  repeats: z.number().int().min(1),
});

const incidentSchema = z.object({
  acknowledgeWithinMs: z.number().int().positive(),
  pagingChain: z.array(escalationLevelSchema).min(1, 'needs at least level 1'),
  escalationMode: z.enum(['engine', 'pagerduty']),
  crisis: z.object({
    afterOpenMs: z.number().int().positive(),
    maxResponders: z.number().int().min(1),
    escalateToLevel: z.number().int().min(1),
    documentProject: z.string().min(1),
    announceChannels: z.array(z.string().min(1)),
    statusUpdateEveryMs: z.number().int().positive(),
  }),
  followUp: z.object({ project: z.string().min(1), remindEveryMs: z.number().int().positive() }),
});

const securitySchema = z.object({
  respond: targetSchema.optional(),
  escalationChain: z.string().optional(),
  disclosureAfterMs: z.number().int().positive(),
  remindEveryMs: z.number().int().positive(),
  team: z.array(z.string().min(1)).min(1),
  disclosureProject: z.string().min(1),
});

const workItemsSchema = z.object({
  featureRequestProject: z.string().min(1),
  bugReportProject: z.string().min(1),
  triageReminderMs: z.number().int().positive(),
  informationGiveUpMs: z.number().int().positive(),
});

const policySchema = z
  .object({
    name: z.string().min(1),
    warningShare: z.number().gt(0).lt(1),
    reopenWindowMs: z.number().int().nonnegative(),
    warningRecipients: z.array(z.string().min(1)).optional(),
    feedbackProject: z.string().min(1).optional(),
    notificationGiveUpMs: z.number().int().positive().optional(),
    privateChannels: z
      .array(z.string().regex(/^(#\S+|[CG][A-Z0-9]{2,})$/, 'a private channel is #name or a Slack channel id'))
      .optional(),
    calendars: z.record(z.string(), calendarSchema),
    escalationChains: z.record(
      z.string(),
      z.array(
        z.object({
          notify: z.array(z.string().min(1)).min(1),
          waitMs: z.number().int().positive(),
          repeats: z.number().int().min(1),
        }),
      ),
    ),
    channels: z
      .object({ default: channelPolicySchema })
      .catchall(
        channelPolicySchema.partial().extend({ resolve: tierTargets.partial().optional() }),
      ),
    incident: incidentSchema.optional(),
    security: securitySchema.optional(),
    workItems: workItemsSchema.optional(),
  })
  .superRefine((policy, ctx) => {
    checkIncidentAndSecurity(policy, ctx);
    for (const channel of Object.keys(policy.channels)) {
      if (channel !== 'default' && !(CHANNELS as readonly string[]).includes(channel)) {
        ctx.addIssue({ code: 'custom', path: ['channels', channel], message: `unknown channel; use one of ${CHANNELS.join(', ')}` });
      }
      const cp = policy.channels[channel] as Partial<z.infer<typeof channelPolicySchema>>;
      if (cp.escalationChain && !policy.escalationChains[cp.escalationChain]) {
        ctx.addIssue({ code: 'custom', path: ['channels', channel, 'escalationChain'], message: `no escalation chain named "${cp.escalationChain}"` });
      }
      const targets = [['acknowledge', cp.acknowledge], ...Object.entries(cp.resolve ?? {}).map(([t, v]) => [`resolve.${t}`, v])] as const;
      for (const [where, target] of targets) {
        const t = target as z.infer<typeof targetSchema> | undefined;
        if (t?.clock === 'business' && (!t.calendar || !policy.calendars[t.calendar])) {
          ctx.addIssue({ code: 'custom', path: ['channels', channel, ...String(where).split('.')], message: 'a business-time target needs "calendar" naming a calendar in "calendars"' });
        }
      }
    }
  });

/** Level 1 is the acknowledgement window; names used by the security section must exist. */
function checkIncidentAndSecurity(
  policy: { incident?: z.infer<typeof incidentSchema>; security?: z.infer<typeof securitySchema>; escalationChains: Record<string, unknown>; calendars: Record<string, unknown> },
  ctx: z.RefinementCtx,
): void {
  const first = policy.incident?.pagingChain[0];
  if (policy.incident && first && first.waitMs * first.repeats !== policy.incident.acknowledgeWithinMs) {
    ctx.addIssue({ code: 'custom', path: ['incident', 'pagingChain', 0], message: 'level 1 must last exactly acknowledgeWithinMs (waitMs × repeats): the next level is paged when the acknowledgement is due' });
  }
  const chain = policy.security?.escalationChain;
  if (chain && !policy.escalationChains[chain]) {
    ctx.addIssue({ code: 'custom', path: ['security', 'escalationChain'], message: `no escalation chain named "${chain}"` });
  }
  const respond = policy.security?.respond;
  if (respond?.clock === 'business' && (!respond.calendar || !policy.calendars[respond.calendar])) {
    ctx.addIssue({ code: 'custom', path: ['security', 'respond'], message: 'a business-time target needs "calendar" naming a calendar in "calendars"' });
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export class PolicyError extends Error {}

/** Checks a policy object; throws a PolicyError listing every problem as `path: message`. */
export function parsePolicy(raw: unknown, source: string): Policy {
  const result = policySchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new PolicyError(`invalid SLA policy in ${source}:\n${problems.join('\n')}`);
  }
  return result.data as Policy;
}

/** `default`, `demo`, or a path to a JSON policy file. */
export function loadPolicy(nameOrPath: string): Policy {
  const builtIn = BUILT_IN_POLICIES[nameOrPath];
  if (builtIn) return parsePolicy(builtIn, `built-in policy "${nameOrPath}"`);
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
  return parsePolicy(raw, nameOrPath);
}
