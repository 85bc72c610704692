// Realistic demo data for the reports: tickets over the last days, each driven through the ticket
// machine (domain/ticket-simulation.ts) and written by the projection activity, as a workflow would
// write it, but without workflows. `npm run desk -- seed --tickets 100000 --days 90`.
//
// Seeded tickets are rows and events only: their ids are `seed-<n>`, their chain is `seed` (a real
// chain is a run id), and the API answers 404 for an action on one (there is no workflow to act on).
// Seeding again first removes what an earlier seed wrote: only rows of the `seed` chain.
import { createSecretKey, randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Pool } from 'pg';
import { createTicketActivities } from '../activities/ticket';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import type { EncryptionKeys } from '../config/encryption';
import { resolveTicketPolicy, type Channel, type Policy, type Tier } from '../domain/policy';
import type { TicketCommand } from '../domain/ticket-machine';
import { simulateTicket, type TimedCommand } from '../domain/ticket-simulation';
import type { Priority } from '../domain/ticket';

/** The chain every seeded row belongs to: how a later seed finds what to replace. */
export const SEED_CHAIN = 'seed';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface SeedOptions {
  tickets: number;
  days: number;
  /** The end of the seeded range (default now). */
  now?: number;
  /** The same seed gives the same tickets. */
  seed?: number;
  concurrency?: number;
  onProgress?: (written: number) => void;
}

/** mulberry32: small, fast and good enough for demo data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function weighted<T>(next: () => number, choices: ReadonlyArray<readonly [T, number]>): T {
  const total = choices.reduce((n, [, w]) => n + w, 0);
  let x = next() * total;
  for (const [value, w] of choices) if ((x -= w) < 0) return value;
  return choices[choices.length - 1]![0];
}

/** Log-normal around `median` (times people take are skewed: most quick, a few very slow). */
const lognormal = (next: () => number, median: number, spread = 1) => {
  const u = Math.max(next(), 1e-9);
  const v = next();
  return median * Math.exp(spread * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
};

const CHANNELS: ReadonlyArray<readonly [Channel, number]> = [
  ['helpdesk', 50], ['community', 12], ['forum', 10], ['social', 8], ['issue-tracker', 8], ['mailing-list', 5], ['stack-overflow', 4], ['reddit', 3],
];
const TIERS: ReadonlyArray<readonly [Tier, number]> = [[1, 60], [2, 30], [3, 10]];
const PRIORITIES: ReadonlyArray<readonly [Priority, number]> = [['low', 20], ['normal', 60], ['high', 15], ['urgent', 5]];
const REGIONS: ReadonlyArray<readonly [string, number]> = [['emea', 45], ['amer', 35], ['apac', 20]];
const AGENTS = ['ada', 'ben', 'cleo', 'dev', 'eli', 'fay', 'gus', 'hana', 'ivo', 'jo', 'kai', 'lin'];
const RESOLVE_MEDIAN: Record<Tier, number> = { 1: 6 * HOUR, 2: 30 * HOUR, 3: 8 * HOUR };

/** One ticket's life: what people did and when, up to `now`; later steps have not happened yet. */
function lifeOf(next: () => number, tier: Tier, createdAt: number, now: number): TimedCommand[] {
  const agent = AGENTS[Math.floor(next() * AGENTS.length)]!;
  const steps: TimedCommand[] = [];
  let at = createdAt;
  const step = (after: number, command: TicketCommand) => {
    at += Math.max(MINUTE, Math.round(after));
    steps.push({ at, command });
  };
  const message = (id: string) => ({ id, preview: 'seeded', length: 6 });
  step(lognormal(next, 40 * MINUTE, 1.2), { type: 'take', agent });
  step(lognormal(next, 20 * MINUTE), { type: 'acknowledge', by: agent });
  if (next() < 0.05 && tier < 3) step(lognormal(next, HOUR), { type: 'change-tier', by: 'lead', tier: (tier + 1) as Tier, reason: 'seeded' });
  if (next() < 0.25) {
    step(lognormal(next, HOUR), { type: 'wait-on-requester', by: agent, question: message('q') });
    step(lognormal(next, 5 * HOUR, 1.2), { type: 'reply', by: 'requester', role: 'requester', message: message('r') });
  }
  if (next() < 0.3) step(lognormal(next, 2 * HOUR), { type: 'reply', by: agent, role: 'agent', message: message('a') });
  if (tier === 3) {
    step(lognormal(next, RESOLVE_MEDIAN[3], 1.1), { type: 'hand-off', by: agent, team: 'engineering', reason: 'seeded' });
    return steps.filter((s) => s.at <= now);
  }
  step(lognormal(next, RESOLVE_MEDIAN[tier], 1.1), { type: 'resolve', by: agent, resolution: message('z') });
  if (next() < 0.08) {
    step(lognormal(next, 10 * HOUR), { type: 'reopen', by: agent, reason: 'seeded' });
    step(lognormal(next, RESOLVE_MEDIAN[tier] / 2), { type: 'resolve', by: agent, resolution: message('y') });
  }
  if (next() < 0.4) {
    const score = weighted(next, [[5, 45], [4, 25], [3, 12], [2, 8], [1, 10]] as const);
    step(lognormal(next, 3 * HOUR), { type: 'satisfaction', resolved: score >= 3 ? next() < 0.9 : next() < 0.3, score });
  }
  return steps.filter((s) => s.at <= now);
}

/** Seeds `tickets` tickets created over the last `days` days; resolves with how many were written. */
export async function seedTickets(pool: Pool, policy: Policy, options: SeedOptions): Promise<number> {
  // Seeded tickets are not private: nothing of theirs is sealed, so a key of this run's own will do.
  const keys: EncryptionKeys = [{ id: 'seed', key: createSecretKey(randomBytes(32)) }];
  const now = options.now ?? Date.now();
  const next = random(options.seed ?? 1);
  const silent = pino({ level: 'silent' });
  const { recordTicket } = createTicketActivities({ pool, notifier: new LogNotifier(silent), integrations: logIntegrations(silent), encryptionKeys: keys });
  for (const table of ['desk_events', 'item_events', 'tickets']) await pool.query(`DELETE FROM ${table} WHERE chain_id = $1`, [SEED_CHAIN]);
  const width = String(options.tickets).length;
  let made = 0;
  let written = 0;
  const one = async () => {
    const n = ++made;
    const channel = weighted(next, CHANNELS);
    const tier = weighted(next, TIERS);
    const createdAt = Math.floor(now - next() * options.days * DAY);
    const id = `seed-${String(n).padStart(width, '0')}`;
    const intake = {
      id, externalId: null, channel, tier, priority: weighted(next, PRIORITIES), subject: `Seeded ticket ${n}`, description: '',
      requester: {}, private: false, region: weighted(next, REGIONS),
    };
    const { writes } = simulateTicket(intake, resolveTicketPolicy(policy, channel), createdAt, lifeOf(next, tier, createdAt, now), now, {
      // A step that came too late (a reopen after the window closed) did not happen, nor what follows it.
      workflowId: `ticket-${id}`, chainId: SEED_CHAIN, writeEach: false, stopWhenRefused: true,
    });
    for (const w of writes) await recordTicket(w);
    written += 1;
    if (written % 1000 === 0) options.onProgress?.(written);
  };
  const workers = Array.from({ length: options.concurrency ?? 8 }, async () => {
    while (made < options.tickets) await one();
  });
  await Promise.all(workers);
  return written;
}
