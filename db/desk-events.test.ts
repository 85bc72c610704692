// The event log's backfill (migration 50) for items whose entries were written before desk_events
// existed: typed as the projection types them, so the reports count old and new items alike.
import fc from 'fast-check';
import pino from 'pino';
import { createTicketActivities } from '../activities/ticket';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../domain/policy';
import { REPORT_EVENT_TYPES, typeOfEntry } from '../domain/reporting';
import { simulateTicket } from '../domain/ticket-simulation';
import { testKeys } from '../test/encryption';
import { createTestDatabase, type TestDatabase } from '../test/postgres';
import { backfillDeskEvents } from './desk-events';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const at = (iso: string) => Date.parse(iso);
const message = (id: string) => ({ id, preview: id, length: id.length });

// Business times are not in a row from before, so the backfill leaves them out; the rest is the same.
it('entries written before the event log are backfilled with the same types, times, openings and measured times', async () => {
  const silent = pino({ level: 'silent' });
  const { recordTicket } = createTicketActivities({ pool: db.pool, notifier: new LogNotifier(silent), integrations: logIntegrations(silent), encryptionKeys: testKeys });
  const policy = resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk');
  const intake = (id: string) => ({ id, externalId: null, channel: 'helpdesk' as const, tier: 1 as const, priority: 'normal' as const, subject: id, description: '', requester: {}, private: id === 'P' });
  const lives = [
    simulateTicket(intake('R'), policy, at('2026-10-01T08:00:00Z'), [
      { at: at('2026-10-01T09:00:00Z'), command: { type: 'acknowledge', by: 'ann' } },
      { at: at('2026-10-01T10:00:00Z'), command: { type: 'resolve', by: 'ann', resolution: message('r') } },
      { at: at('2026-10-01T11:00:00Z'), command: { type: 'close', by: 'ann' } },
    ], at('2026-10-02T00:00:00Z'), { workflowId: 'ticket-R', chainId: 'c1' }),
    // Closed without being resolved, private: its entries' words are sealed, their types are not.
    simulateTicket(intake('P'), policy, at('2026-10-01T08:00:00Z'), [
      { at: at('2026-10-01T12:00:00Z'), command: { type: 'close', by: 'ann' } },
    ], at('2026-10-02T00:00:00Z'), { workflowId: 'ticket-P', chainId: 'c2' }),
  ];
  for (const life of lives) for (const w of life.writes) await recordTicket(w);
  const read = async () =>
    (
      await db.pool.query(
        `SELECT workflow_id, seq, item_id, kind, type, event, at, channel, tier, priority, open_delta, level, target, elapsed_ms FROM desk_events ORDER BY workflow_id, seq`,
      )
    ).rows;
  const written = await read();
  expect(written.filter((r) => r.workflow_id === 'ticket-R').map((r) => [r.type, r.open_delta, r.elapsed_ms])).toEqual([
    ['created', 1, null], ['acknowledged', 0, 3_600_000], ['resolved', -1, 7_200_000], ['closed', 0, null],
  ]);
  expect(written.filter((r) => r.workflow_id === 'ticket-P').map((r) => [r.type, r.open_delta]).at(-1)).toEqual(['closed', -1]);

  await db.pool.query('TRUNCATE desk_events');
  // R as a row from before the reports: no measured times, no standing.
  await db.pool.query(`UPDATE tickets SET first_reply_ms = NULL, resolution_ms = NULL, acknowledge_sla = NULL, resolution_sla = NULL, resolution_target = NULL WHERE id = 'R'`);
  const client = await db.pool.connect();
  try {
    // Pages of 3 entries: chains are split across pages, as they are on a large install.
    await backfillDeskEvents(client, 3);
  } finally {
    client.release();
  }
  expect(await read()).toEqual(written);
  const r = (await db.pool.query(`SELECT first_reply_ms, resolution_ms, acknowledge_sla, resolution_sla, resolution_target FROM tickets WHERE id = 'R'`)).rows[0];
  expect(r).toEqual({ first_reply_ms: 3_600_000, resolution_ms: 7_200_000, acknowledge_sla: 'met', resolution_sla: 'met', resolution_target: 'resolution' });
  // Running it again adds nothing.
  const again = await db.pool.connect();
  try {
    await backfillDeskEvents(again);
  } finally {
    again.release();
  }
  expect(await read()).toEqual(written);
});

it('a resolution written together with the reopen after it keeps the time it took', async () => {
  const silent = pino({ level: 'silent' });
  const { recordTicket } = createTicketActivities({ pool: db.pool, notifier: new LogNotifier(silent), integrations: logIntegrations(silent), encryptionKeys: testKeys });
  const policy = resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk');
  const intake = { id: 'W', externalId: null, channel: 'helpdesk' as const, tier: 1 as const, priority: 'normal' as const, subject: 'W', description: '', requester: {}, private: false };
  // One write for all of it, as when the worker writes late: the state it sees is reopened.
  const { writes } = simulateTicket(intake, policy, at('2026-10-05T08:00:00Z'), [
    { at: at('2026-10-05T08:30:00Z'), command: { type: 'acknowledge', by: 'ann' } },
    { at: at('2026-10-05T11:00:00Z'), command: { type: 'resolve', by: 'ann', resolution: message('w') } },
    { at: at('2026-10-05T12:00:00Z'), command: { type: 'reopen', by: 'ann', reason: 'still broken' } },
  ], at('2026-10-05T12:30:00Z'), { workflowId: 'ticket-W', chainId: 'c3', writeEach: false });
  expect(writes).toHaveLength(1);
  await recordTicket(writes[0]!);
  const { rows } = await db.pool.query(`SELECT type, elapsed_ms, business_ms FROM desk_events WHERE workflow_id = 'ticket-W' AND elapsed_ms IS NOT NULL ORDER BY seq`);
  // 2026-10-05 is a Monday: business hours from 09:00.
  expect(rows).toEqual([
    { type: 'acknowledged', elapsed_ms: 1_800_000, business_ms: 0 },
    { type: 'resolved', elapsed_ms: 3 * 3_600_000, business_ms: 2 * 3_600_000 },
  ]);
});

it('every timeline entry gets a type of the contract, and no text makes typing throw', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (event) => {
      expect(REPORT_EVENT_TYPES).toContain(typeOfEntry(event).type);
    }),
  );
  expect(typeOfEntry('escalated acknowledge to level 2')).toEqual({ type: 'escalated', target: 'acknowledge', level: 2 });
  expect(typeOfEntry('tier 1 → 3')).toEqual({ type: 'retiered', from: '1', to: '3' });
  expect(typeOfEntry('Design → Planning')).toEqual({ type: 'stage-moved', from: 'Design', to: 'Planning' });
  expect(typeOfEntry('paged level 3')).toEqual({ type: 'paged', level: 3 });
  expect(typeOfEntry('satisfaction filed')).toEqual({ type: 'noted' });
});
