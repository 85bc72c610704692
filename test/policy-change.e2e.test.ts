// Policy changes for open work, on the dev server with the desk worker and the API in this process
// and PostgreSQL: a preview says which open tickets' deadlines a candidate policy would move and by
// how much; an apply gives the chosen tickets the new slice (a rollout workflow signalling them), each
// records it on its timeline, the audit trail has the apply, and the chosen ticket's timer fires at
// the new deadline while the others keep theirs. The demo policy (acknowledge within 20 s) keeps
// it to seconds of real time.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { createApp } from '../api/app';
import { DEMO_POLICY, type Policy } from '../domain/policy';
import { ticketStateQuery, ticketWorkflowId, type TicketView } from '../domain/ticket';
import { createDeskWorker } from '../workers/worker';
import { bearer, TEST_ADMIN_KEY, testCredentials, type TestCredentials } from './credentials';
import { testKeys } from './encryption';
import { eventually } from './eventually';
import { createTestDatabase, type TestDatabase } from './postgres';
import { bundleWorkflows, devServerEnvironment } from './temporal';

const taskQueue = `policy-${process.pid}`;
const ACK_MS = DEMO_POLICY.channels.default.acknowledge.withinMs; // 20 s
const FASTER_ACK_MS = 6_000;
const TIER1_MS = DEMO_POLICY.channels.default.resolve[1].withinMs;

/** The candidate: acknowledge within 6 s, tier 1 resolved in half the time; everything else the same. */
const faster: Policy = {
  ...DEMO_POLICY,
  name: 'faster',
  channels: {
    ...DEMO_POLICY.channels,
    default: {
      ...DEMO_POLICY.channels.default,
      acknowledge: { withinMs: FASTER_ACK_MS, clock: 'calendar' },
      resolve: { ...DEMO_POLICY.channels.default.resolve, 1: { withinMs: TIER1_MS / 2, clock: 'calendar' } },
    },
  },
};

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let api: string;
let credentials: TestCredentials;

beforeAll(async () => {
  const [e, d, bundle] = await Promise.all([devServerEnvironment(), createTestDatabase(), bundleWorkflows()]);
  [env, db] = [e, d];
  const silent = pino({ level: 'silent' });
  worker = await createDeskWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool: db.pool,
    notifier: new LogNotifier(silent),
    integrations: logIntegrations(silent),
    encryptionKeys: testKeys,
    workflowBundle: bundle,
  });
  running = worker.run();
  credentials = await testCredentials(db.pool);
  server = createApp({ client: env.client, pool: db.pool, policy: DEMO_POLICY, taskQueue, temporalUiUrl: 'http://ui', auth: credentials.auth, encryptionKeys: testKeys }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = bearer(TEST_ADMIN_KEY)) {
  const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const view = (id: string): Promise<TicketView> => env.client.workflow.getHandle(ticketWorkflowId(id)).query(ticketStateQuery);
const breachedAt = (v: TicketView) => v.breaches.find((b) => b.sla === 'acknowledge')?.at;

test('preview names the open tickets whose deadlines move; apply moves only the chosen one, on its timeline and in the audit', async () => {
  const a = await call('POST', '/tickets', { subject: 'Printer on fire', requester: { email: 'pat@example.com' } });
  const b = await call('POST', '/tickets', { subject: 'VPN down', tier: 2, requester: { email: 'sam@example.com' } });
  const c = await call('POST', '/tickets', { subject: 'Mail bounces', requester: { email: 'kim@example.com' } });
  expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
  expect((await call('POST', `/tickets/${c.body.id}/acknowledge`, {})).status).toBe(200);
  // The preview lists what PostgreSQL knows is open: wait for the three rows.
  await eventually(() => db.pool.query('SELECT count(*)::int AS n FROM tickets'), (r) => r.rows[0].n === 3);

  const preview = await call('POST', '/policy/preview', { policy: faster });
  expect(preview.status).toBe(200);
  expect(preview.body).toMatchObject({ policy: 'faster', checked: 3, unchanged: 0, notPreviewable: [], nextOffset: null });
  const moved = Object.fromEntries(preview.body.moved.map((m: { id: string }) => [m.id, m]));
  // Times are ISO; how far each deadline moves is in milliseconds.
  expect(moved[a.body.id].acknowledge.movedMs).toBe(FASTER_ACK_MS - ACK_MS);
  expect(Date.parse(moved[a.body.id].acknowledge.candidateDueAt) - Date.parse(moved[a.body.id].acknowledge.dueAt)).toBe(FASTER_ACK_MS - ACK_MS);
  expect(moved[a.body.id].resolution.movedMs).toBe(-TIER1_MS / 2);
  expect(moved[b.body.id].acknowledge.movedMs).toBe(FASTER_ACK_MS - ACK_MS);
  expect(moved[b.body.id].resolution.movedMs).toBe(0); // tier 2's target is the same
  expect(moved[c.body.id].acknowledge.movedMs).toBe(0); // met already: nothing to move
  expect(moved[c.body.id].resolution.movedMs).toBe(-TIER1_MS / 2);

  // A supervisor may look, not apply; a bad candidate or a ticket that is not open starts nothing.
  const supervisor = await credentials.headers('sue', 'supervisor');
  expect((await call('POST', '/policy/preview', { policy: faster }, supervisor)).status).toBe(200);
  expect((await call('POST', '/policy/apply', { policy: faster, tickets: [a.body.id], reason: 'faster SLA' }, supervisor)).status).toBe(403);
  const badPolicy = await call('POST', '/policy/apply', { policy: { ...faster, warningShare: 7 }, tickets: [a.body.id], reason: 'x' });
  expect(badPolicy).toMatchObject({ status: 400, body: { error: expect.stringContaining('warningShare') } });
  const notOpen = await call('POST', '/policy/apply', { policy: faster, tickets: [a.body.id, 'no-such-ticket'], reason: 'x' });
  expect(notOpen).toMatchObject({ status: 400, body: { error: expect.stringContaining('no-such-ticket') } });
  expect((await call('POST', '/policy/apply', { tickets: [a.body.id], reason: 'x' })).status).toBe(400);
  // Its words reach the audit trail and the timelines: text rules for every key and string, and a size.
  const nul = await call('POST', '/policy/apply', { policy: { ...faster, name: 'fast\u0000er' }, tickets: [a.body.id], reason: 'x' });
  expect(nul).toMatchObject({ status: 400, body: { details: [{ field: 'policy', message: expect.stringContaining('name must not contain the NUL') }] } });
  const calendar = { timeZone: 'UTC', weeklyHours: { mon: [{ start: '09:00', end: '17:00' }] } };
  const calendars = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`calendar-${i}`, calendar]));
  const huge = await call('POST', '/policy/preview', { policy: { ...faster, calendars } });
  expect(huge).toMatchObject({ status: 400, body: { error: expect.stringContaining('a policy may be at most 32768') } });

  const applied = await call('POST', '/policy/apply', { policy: faster, tickets: [a.body.id], reason: 'the new contract' }, { ...bearer(TEST_ADMIN_KEY), 'idempotency-key': 'rollout-1' });
  expect(applied).toMatchObject({ status: 202, body: { policy: 'faster', tickets: 1, started: true } });
  const again = await call('POST', '/policy/apply', { policy: faster, tickets: [a.body.id], reason: 'the new contract' }, { ...bearer(TEST_ADMIN_KEY), 'idempotency-key': 'rollout-1' });
  expect(again).toMatchObject({ status: 200, body: { rolloutId: applied.body.rolloutId, started: false } });
  const progress = await eventually(() => call('GET', `/policy/rollouts/${applied.body.rolloutId}`), (r) => r.body.remaining === 0, 30_000);
  expect(progress.body).toMatchObject({ total: 1, signalled: 1, skippedCount: 0 });
  // Finished, the key still names that rollout: a late retry starts nothing.
  const late = await call('POST', '/policy/apply', { policy: DEMO_POLICY, tickets: [b.body.id], reason: 'late retry' }, { ...bearer(TEST_ADMIN_KEY), 'idempotency-key': 'rollout-1' });
  expect(late).toMatchObject({ status: 200, body: { rolloutId: applied.body.rolloutId, started: false } });

  // A runs under the new slice, said on its timeline; B and C keep theirs.
  const changed = await eventually(() => view(a.body.id), (v) => v.timeline.some((e) => e.event === 'policy changed'));
  expect(changed.clocks.acknowledge.dueAt! - changed.createdAt).toBe(FASTER_ACK_MS);
  expect(changed.timeline.find((e) => e.event === 'policy changed')).toMatchObject({ by: 'admin', note: expect.stringContaining('policy demo → faster: acknowledge 20s → 6s') });
  const untouched = await view(b.body.id);
  expect(untouched.clocks.acknowledge.dueAt! - untouched.createdAt).toBe(ACK_MS);
  expect(untouched.timeline.some((e) => e.event === 'policy changed')).toBe(false);
  const { rows: audit } = await db.pool.query(`SELECT route, status, target FROM audit_log WHERE route = '/policy/apply' AND status = 202`);
  expect(audit).toEqual([{ route: '/policy/apply', status: 202, target: applied.body.workflowId }]);

  // The timers: A breaches at its new deadline (or at the apply, if that came later), B at its own.
  const breachedA = await eventually(() => view(a.body.id), (v) => breachedAt(v) !== undefined, ACK_MS + 20_000);
  expect(breachedAt(breachedA)! - breachedA.createdAt).toBeGreaterThanOrEqual(FASTER_ACK_MS);
  expect(breachedAt(breachedA)! - breachedA.createdAt).toBeLessThan(ACK_MS);
  const breachedB = await eventually(() => view(b.body.id), (v) => breachedAt(v) !== undefined, ACK_MS + 30_000);
  expect(breachedAt(breachedB)! - breachedB.createdAt).toBeGreaterThanOrEqual(ACK_MS);
}, 180_000);
