// Retention's prune activities on the real PostgreSQL: whatever the mix of rows, their ages, the items
// they belong to (open or over) and the batch size, pruning each table batch by batch until it is done
// deletes exactly the rows past their retention that nothing open still needs: never a younger row,
// never an open item's effect, notification or log entry, never part of an item's log.
import fc from 'fast-check';
import type { PruneBatch, PruneResult } from '../domain/retention';
import { createTestDatabase, type TestDatabase } from '../test/postgres';
import { createRetentionActivities, type RetentionActivities } from './retention';

/** Items the rows belong to; `none` is a workflow without a projection (a tracker issue's announcement). */
const KINDS = ['ticket', 'incident', 'security-report', 'feature-request', 'none'] as const;
type Kind = (typeof KINDS)[number];

interface Item {
  kind: Kind;
  open: boolean;
}

interface Mix {
  items: Item[];
  /** Ages in hours, always half an hour off the whole hours the retentions end at. */
  deliveries: number[];
  effects: Array<{ item: number; created: number; claimed: number; completed: number | null }>;
  notifications: Array<{ item: number; sent: number }>;
  chains: Array<{ item: number; events: Array<{ age: number; delta: number }> }>;
  pace: number[];
}

interface Days {
  deliveries: number;
  effects: number;
  notifications: number;
  events: number;
  batchSize: number;
}

let db: TestDatabase;
let prune: RetentionActivities;
/** integration_pace comes with the pacing's migration; the property holds with or without it. */
let paced: boolean;

beforeAll(async () => {
  db = await createTestDatabase();
  prune = createRetentionActivities({ pool: db.pool });
  paced = (await db.pool.query(`SELECT to_regclass('integration_pace') IS NOT NULL AS present`)).rows[0].present;
});

afterAll(async () => {
  await db?.drop();
});

const age = fc.integer({ min: 0, max: 12 * 24 }).map((h) => h + 0.5);

function mixOf(items: Item[]): fc.Arbitrary<Mix> {
  const item = fc.nat({ max: items.length - 1 });
  return fc.record({
    items: fc.constant(items),
    deliveries: fc.array(age, { maxLength: 12 }),
    // created, then claimed (a takeover claims later), then completed: each no older than the one before.
    effects: fc.array(
      fc.record({ item, ages: fc.tuple(age, age, fc.option(age)) }).map(({ item, ages: [a, b, c] }) => {
        const [created, claimed, completed] = [a, b, c ?? 0].sort((x, y) => y - x) as [number, number, number];
        return { item, created, claimed, completed: c === null ? null : completed };
      }),
      { maxLength: 12 },
    ),
    notifications: fc.array(fc.record({ item, sent: age }), { maxLength: 10 }),
    chains: fc.array(
      fc.record({ item, events: fc.array(fc.record({ age, delta: fc.constantFrom(-1, 0, 0, 1) }), { minLength: 1, maxLength: 5 }) }),
      { maxLength: 8 },
    ),
    pace: fc.array(fc.integer({ min: 0, max: 72 }).map((h) => h + 0.5), { maxLength: 8 }),
  });
}

const mix = fc.array(fc.record({ kind: fc.constantFrom(...KINDS), open: fc.boolean() }), { minLength: 1, maxLength: 6 }).chain(mixOf);
const days = fc.record({
  deliveries: fc.integer({ min: 1, max: 8 }),
  effects: fc.integer({ min: 1, max: 8 }),
  notifications: fc.integer({ min: 1, max: 8 }),
  events: fc.integer({ min: 1, max: 8 }),
  batchSize: fc.integer({ min: 1, max: 6 }),
});

const id = (i: number) => `x${i}`;
const workflowOf = (items: Item[], i: number) => (items[i]!.kind === 'none' ? `tracker-issue-desk#${i}` : `${items[i]!.kind}-${id(i)}`);
const openItem = (items: Item[], i: number) => items[i]!.kind !== 'none' && items[i]!.open;

it('pruning deletes exactly what is past its retention and no open item needs, whatever the mix and the batch size', async () => {
  await fc.assert(
    fc.asyncProperty(mix, days, async (m, d) => {
      await store(m);
      await pruneUntilDone(prune.pruneWebhookDeliveries, d.deliveries, d.batchSize);
      await pruneUntilDone(prune.pruneExternalEffects, d.effects, d.batchSize);
      await pruneUntilDone(prune.pruneNotifications, d.notifications, d.batchSize);
      await pruneUntilDone(prune.pruneDeskEvents, d.events, d.batchSize);
      await pruneUntilDone(prune.pruneIntegrationPace, 1, d.batchSize);
      expect(await remaining()).toEqual(expected(m, d));
    }),
    { numRuns: 40 },
  );
});

it('each batch walks its table by an index and deletes by the rows\' addresses, never reading the whole table', async () => {
  const busy = await createTestDatabase();
  try {
    await busy.pool.query(`
      INSERT INTO tickets (id, workflow_id, channel, tier, priority, status, private, subject, created_at, version)
      SELECT 't' || g, 'ticket-t' || g, 'helpdesk', 1, 'normal', 'closed', false, 'VPN', now(), 1 FROM generate_series(1, 20000) g;
      INSERT INTO incidents (id, workflow_id, title, severity, status, level, created_at, version)
      SELECT 'i' || g, 'incident-i' || g, 'Outage', 'sev1', 'closed', 1, now(), 1 FROM generate_series(1, 5000) g;
      INSERT INTO security_reports (id, workflow_id, title, severity, reporter, status, created_at, version)
      SELECT 's' || g, 'security-report-s' || g, 'XSS', 'high', 'r', 'closed', now(), 1 FROM generate_series(1, 5000) g;
      INSERT INTO work_items (id, workflow_id, kind, title, stage, created_at, stage_entered_at, closed_at, version)
      SELECT 'w' || g, 'feature-request-w' || g, 'feature-request', 'CSV', 'done', now(), now(), now(), 1 FROM generate_series(1, 5000) g;
      INSERT INTO webhook_deliveries (source, delivery_id, received_at) SELECT 'slack', 'd' || g, now() - g * interval '1 minute' FROM generate_series(1, 100000) g;
      INSERT INTO external_effects (idempotency_key, system, result, created_at, claimed_at, completed_at)
      SELECT 'ticket-t' || (g % 20000) || ':c:' || g, 'chat', '{}', now() - g * interval '2 minutes', now() - g * interval '2 minutes', now() - g * interval '2 minutes'
        FROM generate_series(1, 100000) g;
      INSERT INTO notifications (idempotency_key, ticket_id, kind, audience, recipients, body, private, driver, sent_at)
      SELECT 'ticket-t' || (g % 20000) || ':c:' || g, 't' || (g % 20000), 'reply', 'requester', '{}', 'Hello', false, 'log', now() - g * interval '2 minutes'
        FROM generate_series(1, 100000) g;
      INSERT INTO desk_events (workflow_id, chain_id, seq, item_id, kind, at, type, event, open_delta)
      SELECT 'ticket-t' || g, 'c', s, 't' || g, 'ticket', now() - g * interval '30 minutes' + s * interval '1 minute', 'noted', 'noted',
             CASE s WHEN 1 THEN 1 WHEN 3 THEN -1 ELSE 0 END
        FROM generate_series(1, 20000) g, generate_series(1, 3) s;
      ANALYZE;
    `);
    const sent = new Map<string, unknown[]>();
    const recording = {
      query: (text: string, values?: unknown[]) => (sent.set(text, values ?? []), busy.pool.query(text, values)),
    } as unknown as TestDatabase['pool'];
    const activities = createRetentionActivities({ pool: recording });
    // Two batches of each, so the statements that go on from where the last one stopped are seen too.
    const twice = async <C>(batch: (b: PruneBatch<C>) => Promise<PruneResult<C>>, olderThanDays: number) => {
      const first = await batch({ olderThanDays, batchSize: 1000 });
      await batch({ olderThanDays, batchSize: 1000, ...(first.after !== undefined ? { after: first.after } : {}) });
    };
    await twice(activities.pruneWebhookDeliveries, 30);
    await twice(activities.pruneExternalEffects, 90);
    await twice(activities.pruneNotifications, 90);
    await twice(activities.pruneDeskEvents, 300);

    for (const [text, values] of sent) {
      const { rows } = await busy.pool.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
      // The projections an open item is looked up in may be hashed once per batch, when the planner finds that cheaper.
      const scans = planNodes(rows[0]['QUERY PLAN'][0].Plan)
        .filter((n) => n['Node Type'] === 'Seq Scan' && PRUNED.includes(n['Relation Name'] ?? ''))
        .map((n) => n['Relation Name']);
      expect({ statement: text, scans }).toEqual({ statement: text, scans: [] });
    }
  } finally {
    await busy.drop();
  }
});

const PRUNED = ['webhook_deliveries', 'external_effects', 'notifications', 'desk_events'];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

it('the pacing reservations are left alone where their table does not exist', async () => {
  const bare = await createTestDatabase();
  try {
    await bare.pool.query('DROP TABLE IF EXISTS integration_pace');
    const activities = createRetentionActivities({ pool: bare.pool });
    await expect(activities.pruneIntegrationPace({ olderThanDays: 1, batchSize: 10 })).resolves.toEqual({ deleted: 0, done: true });
  } finally {
    await bare.drop();
  }
});

it('a batch the policy makes impossible fails for good, not retried', async () => {
  await expect(prune.pruneWebhookDeliveries({ olderThanDays: 30, batchSize: 0 })).rejects.toMatchObject({
    type: 'InvalidRetentionPolicy',
    nonRetryable: true,
  });
});

async function pruneUntilDone<C>(batch: (b: PruneBatch<C>) => Promise<PruneResult<C>>, olderThanDays: number, batchSize: number): Promise<void> {
  let after: C | undefined;
  for (let i = 0; i < 10_000; i++) {
    const r = await batch({ olderThanDays, batchSize, ...(after !== undefined ? { after } : {}) });
    if (r.done) return;
    after = r.after;
  }
  throw new Error('pruning never finished');
}

/** What should be left: the keys of each table, sorted. */
function expected(m: Mix, d: Days) {
  const young = (ageHours: number, retentionDays: number) => ageHours < retentionDays * 24;
  return {
    deliveries: m.deliveries.flatMap((a, i) => (young(a, d.deliveries) ? [`d${i}`] : [])).sort(),
    effects: m.effects
      .flatMap((e, i) => (young(e.completed ?? e.claimed, d.effects) || openItem(m.items, e.item) ? [effectKey(m, e.item, i)] : []))
      .sort(),
    notifications: m.notifications
      .flatMap((n, i) => (young(n.sent, d.notifications) || (m.items[n.item]!.kind === 'ticket' && openItem(m.items, n.item)) ? [`n${i}`] : []))
      .sort(),
    events: m.chains
      .flatMap((c, i) => {
        const newest = Math.min(...c.events.map((e) => e.age));
        const openings = c.events.reduce((sum, e) => sum + e.delta, 0);
        const kept = young(newest, d.events) || openings !== 0 || openItem(m.items, c.item);
        return kept ? c.events.map((_, seq) => `${workflowOf(m.items, c.item)}/chain-${i}/${seq + 1}`) : [];
      })
      .sort(),
    pace: paced ? m.pace.flatMap((a, i) => (young(a, 1) ? [`p${i}`] : [])).sort() : [],
  };
}

const effectKey = (m: Mix, item: number, i: number) => `${workflowOf(m.items, item)}:chain:step-${i}`;

async function remaining() {
  const keys = async (sql: string) => (await db.pool.query<{ k: string }>(sql)).rows.map((r) => r.k).sort();
  return {
    deliveries: await keys('SELECT delivery_id AS k FROM webhook_deliveries'),
    effects: await keys('SELECT idempotency_key AS k FROM external_effects'),
    notifications: await keys('SELECT idempotency_key AS k FROM notifications'),
    events: await keys(`SELECT workflow_id || '/' || chain_id || '/' || seq AS k FROM desk_events`),
    pace: paced ? await keys('SELECT key AS k FROM integration_pace') : [],
  };
}

/** The mix as rows, every time counted back from now. */
async function store(m: Mix): Promise<void> {
  const q = (sql: string, params: unknown[]) => db.pool.query(sql, params);
  const ago = (param: string) => `now() - ${param} * interval '1 hour'`;
  await db.pool.query(
    `TRUNCATE webhook_deliveries, external_effects, notifications, desk_events, tickets, incidents, security_reports, work_items${paced ? ', integration_pace' : ''}`,
  );
  for (const [i, item] of m.items.entries()) {
    const status = item.open ? 'open' : 'closed';
    if (item.kind === 'ticket') {
      await q(
        `INSERT INTO tickets (id, workflow_id, channel, tier, priority, status, private, subject, created_at, version)
         VALUES ($1, $2, 'helpdesk', 1, 'normal', $3, false, 'VPN', now(), 1)`,
        [id(i), workflowOf(m.items, i), status],
      );
    } else if (item.kind === 'incident') {
      await q(
        `INSERT INTO incidents (id, workflow_id, title, severity, status, level, created_at, version)
         VALUES ($1, $2, 'Outage', 'sev1', $3, 1, now(), 1)`,
        [id(i), workflowOf(m.items, i), item.open ? 'resolved' : 'closed'],
      );
    } else if (item.kind === 'security-report') {
      await q(
        `INSERT INTO security_reports (id, workflow_id, title, severity, reporter, status, created_at, version)
         VALUES ($1, $2, 'XSS', 'high', 'r', $3, now(), 1)`,
        [id(i), workflowOf(m.items, i), item.open ? 'published' : 'closed'],
      );
    } else if (item.kind === 'feature-request') {
      await q(
        `INSERT INTO work_items (id, workflow_id, kind, title, stage, created_at, stage_entered_at, closed_at, version)
         VALUES ($1, $2, 'feature-request', 'CSV export', 'triage', now(), now(), CASE WHEN $3 THEN NULL ELSE now() END, 1)`,
        [id(i), workflowOf(m.items, i), item.open],
      );
    }
  }
  await q(
    `INSERT INTO webhook_deliveries (source, delivery_id, received_at, completed_at, outcome)
     SELECT 'slack', 'd' || (i - 1), ${ago('h')}, ${ago('h')}, 'done' FROM unnest($1::float8[]) WITH ORDINALITY AS u(h, i)`,
    [m.deliveries],
  );
  await q(
    `INSERT INTO external_effects (idempotency_key, system, result, created_at, claimed_at, completed_at)
     SELECT k, 'chat', '{"ts": "1.2"}', ${ago('c')}, ${ago('l')}, ${ago('f')}
       FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[]) AS u(k, c, l, f)`,
    [m.effects.map((e, i) => effectKey(m, e.item, i)), m.effects.map((e) => e.created), m.effects.map((e) => e.claimed), m.effects.map((e) => e.completed)],
  );
  await q(
    `INSERT INTO notifications (idempotency_key, ticket_id, kind, audience, recipients, body, private, driver, sent_at)
     SELECT 'n' || (i - 1), t, 'reply', 'requester', '{}', 'Hello', false, 'log', ${ago('h')}
       FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS u(t, h, i)`,
    [m.notifications.map((n) => id(n.item)), m.notifications.map((n) => n.sent)],
  );
  const events = m.chains.flatMap((c, i) =>
    c.events.map((e, seq) => ({
      workflow: workflowOf(m.items, c.item),
      chain: `chain-${i}`,
      seq: seq + 1,
      kind: m.items[c.item]!.kind === 'none' ? 'bug-report' : m.items[c.item]!.kind,
      age: e.age,
      delta: e.delta,
    })),
  );
  await q(
    `INSERT INTO desk_events (workflow_id, chain_id, seq, item_id, kind, at, type, event, open_delta)
     SELECT w, c, s, w, k, ${ago('h')}, 'noted', 'noted', d
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::float8[], $6::int[]) AS u(w, c, s, k, h, d)`,
    [events.map((e) => e.workflow), events.map((e) => e.chain), events.map((e) => e.seq), events.map((e) => e.kind), events.map((e) => e.age), events.map((e) => e.delta)],
  );
  if (!paced) return;
  await q(
    `INSERT INTO integration_pace (system, key, at) SELECT 'slack', 'p' || (i - 1), ${ago('h')} FROM unnest($1::float8[]) WITH ORDINALITY AS u(h, i)`,
    [m.pace],
  );
}
