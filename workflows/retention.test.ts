// The retention workflow on the time-skipping server, with the desk worker and its real prune activities
// on PostgreSQL: one run goes through every table in batches, continuing as new as it goes, deletes what
// is past its retention and keeps what is recent or still needed by an open item.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_RETENTION } from '../domain/retention';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { retentionWorkflow } from './retention';

const taskQueue = 'retention-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

it('a run prunes every table in batches, continuing as new, and keeps what is recent or an open item needs', async () => {
  await withWorker(async () => {
    const paced = await seed();
    const summary = await env.client.workflow.execute<typeof retentionWorkflow>('retentionWorkflow', {
      taskQueue,
      workflowId: 'desk-retention-test',
      // Two rows a batch and three batches a run: 13 batches make five runs.
      args: [{ policy: { ...DEFAULT_RETENTION, batchSize: 2 }, batchesPerRun: 3 }],
    });

    expect(summary).toEqual({
      deleted: { webhook_deliveries: 5, external_effects: 3, notifications: 3, desk_events: 3, integration_pace: paced ? 3 : 0 },
      // Deliveries 2+2+1; effects and notifications 2+2+0 of the 4 old ones (one of each is an open item's);
      // events: the closed ticket's 3 entries with the first batch, the open one's entry in the second; pacing 2+1.
      batches: 3 + 3 + 3 + 2 + (paced ? 2 : 1),
      runs: paced ? 5 : 4,
    });

    const keys = async (sql: string) => (await db.pool.query<{ k: string }>(sql)).rows.map((r) => r.k).sort();
    expect(await keys('SELECT delivery_id AS k FROM webhook_deliveries')).toEqual(['recent-1', 'recent-2']);
    expect(await keys('SELECT idempotency_key AS k FROM external_effects')).toEqual([
      'incident-i1:c1:follow-up', // the open incident's follow-up: the GitLab webhook still looks it up
      'ticket-t1:c1:reply:9:to:slack:#desk', // recent
    ]);
    expect(await keys('SELECT idempotency_key AS k FROM notifications')).toEqual(['ticket-t1:c1:reply:9', 'ticket-t2:c1:reply:1']);
    expect(await keys(`SELECT workflow_id || '/' || seq AS k FROM desk_events`)).toEqual(['ticket-t2/1', 'ticket-t3/1', 'ticket-t3/2']);
    if (paced) expect(await keys('SELECT key AS k FROM integration_pace')).toEqual(['recent']);
  });
});

/** Rows of three tickets (t1 and t3 closed, t2 open) and an open incident, old and recent. Whether pacing is there. */
async function seed(): Promise<boolean> {
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  const daysAgo = (days: number) => `now() - ${days} * interval '1 day'`;
  for (const [id, status] of [['t1', 'closed'], ['t2', 'open'], ['t3', 'closed']]) {
    await q(
      `INSERT INTO tickets (id, workflow_id, channel, tier, priority, status, private, subject, created_at, version)
       VALUES ($1, $2, 'slack', 1, 'normal', $3, false, 'VPN', now(), 1)`,
      [id, `ticket-${id}`, status],
    );
  }
  await q(`INSERT INTO incidents (id, workflow_id, title, severity, status, level, created_at, version)
           VALUES ('i1', 'incident-i1', 'Outage', 'sev1', 'acknowledged', 1, now(), 1)`);

  for (let i = 1; i <= 5; i++) await q(`INSERT INTO webhook_deliveries (source, delivery_id, received_at) VALUES ('zendesk', $1, ${daysAgo(30 + i)})`, [`old-${i}`]);
  for (let i = 1; i <= 2; i++) await q(`INSERT INTO webhook_deliveries (source, delivery_id, received_at) VALUES ('zendesk', $1, ${daysAgo(29)})`, [`recent-${i}`]);

  const effect = (key: string, days: number) =>
    q(`INSERT INTO external_effects (idempotency_key, system, result, created_at, claimed_at, completed_at)
       VALUES ($1, 'chat', '{"channel": "#desk", "ts": "1.1"}', ${daysAgo(days)}, ${daysAgo(days)}, ${daysAgo(days)})`, [key]);
  for (let i = 1; i <= 3; i++) await effect(`ticket-t1:c1:reply:${i}:to:slack:#desk`, 91 + i);
  await effect('incident-i1:c1:follow-up', 200);
  await effect('ticket-t1:c1:reply:9:to:slack:#desk', 10);

  const notification = (key: string, ticket: string, days: number) =>
    q(`INSERT INTO notifications (idempotency_key, ticket_id, kind, audience, recipients, body, private, driver, sent_at)
       VALUES ($1, $2, 'reply', 'requester', '{}', 'Hello', false, 'log', ${daysAgo(days)})`, [key, ticket]);
  for (let i = 1; i <= 3; i++) await notification(`ticket-t1:c1:reply:${i}`, 't1', 91 + i);
  await notification('ticket-t2:c1:reply:1', 't2', 120);
  await notification('ticket-t1:c1:reply:9', 't1', 10);

  const event = (ticket: string, seq: number, days: number, type: string, openDelta: number) =>
    q(`INSERT INTO desk_events (workflow_id, chain_id, seq, item_id, kind, at, type, event, open_delta)
       VALUES ($1, 'c1', $2, $3, 'ticket', ${daysAgo(days)}, $4, $4, $5)`, [`ticket-${ticket}`, seq, ticket, type, openDelta]);
  await event('t1', 1, 803, 'created', 1);
  await event('t1', 2, 802, 'resolved', -1);
  await event('t1', 3, 801, 'closed', 0);
  await event('t2', 1, 800, 'created', 1); // still open: its opening counts in every backlog since
  await event('t3', 1, 12, 'created', 1);
  await event('t3', 2, 10, 'resolved', -1);

  const paced = (await q(`SELECT to_regclass('integration_pace') IS NOT NULL AS present`)).rows[0].present as boolean;
  if (paced) {
    for (let i = 1; i <= 3; i++) await q(`INSERT INTO integration_pace (system, key, at) VALUES ('slack', $1, ${daysAgo(2)})`, [`old-${i}`]);
    await q(`INSERT INTO integration_pace (system, key, at) VALUES ('slack', 'recent', now() - interval '1 hour')`);
  }
  return paced;
}
