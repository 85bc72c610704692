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

const policySchema = z
  .object({
    name: z.string().min(1),
    warningShare: z.number().gt(0).lt(1),
    reopenWindowMs: z.number().int().nonnegative(),
    warningRecipients: z.array(z.string().min(1)).optional(),
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
  })
  .superRefine((policy, ctx) => {
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
