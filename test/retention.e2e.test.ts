// A ticket's workflow id used again after the namespace's retention deleted the closed execution: the
// API in-process (createApp on the dev server's client), the desk worker in-process, PostgreSQL. A
// Zendesk ticket is filed, answered and closed; its execution is deleted as retention would; then the
// requester's late comment arrives through the Zendesk webhook, which signal-with-starts a new
// workflow under the same id, a new chain (a new first run id).
//
// What used to happen (before workflows and projections were keyed by the chain): idempotency keys
// were `<workflowId>:<step>`, so the new chain's first notifications had the keys the old chain had
// already used (`reply:1`, ...) and were taken as sent (the `notifications` row existed): the desk was
// never told. And the `tickets` row kept the old chain's higher version, so the version guard refused
// every write of the new chain (version 1, 2, ...) and the lists kept showing the closed ticket.
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { IntegrationNotifier } from '../activities/notifier';
import { createApp } from '../api/app';
import { ticketIdFor } from '../api/ticket';
import { DEFAULT_POLICY } from '../domain/policy';
import { SEARCH_ATTRIBUTE_KEYS } from '../domain/search-attributes';
import { temporalBinaries } from '../scripts/tools';
import { ticketStateQuery, ticketWorkflowId, type TicketView } from '../domain/ticket';
import { createDeskWorker } from '../workers/worker';
import { bearer, TEST_ADMIN_KEY, testCredentials } from './credentials';
import { testDataConverter, testKeys } from './encryption';
import { eventually } from './eventually';
import { createTestDatabase, type TestDatabase } from './postgres';
import { recordingIntegrations, type RecordingIntegrations } from './recording-integrations';
import { bundleWorkflows } from './temporal';

const ZENDESK_SECRET = 'zendesk-webhook-secret-for-retention-tests';
const taskQueue = `retention-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const quiet = pino({ level: 'silent' });

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let recorder: RecordingIntegrations;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let url: string;

/**
 * The dev server as devServerEnvironment() starts it (its client with the tests' key), except that a
 * deleted closed execution is gone at once: by default the server first waits for the visibility queue
 * to acknowledge the close (about half a minute on the dev server), which is all that
 * DeleteWorkflowExecution waits for here.
 */
async function devServerDeletingAtOnce(): Promise<TestWorkflowEnvironment> {
  Runtime.install({ logger: new DefaultLogger('WARN') }); // as test/temporal.ts does: the SDK quiet unless a test fails
  const { temporal } = await temporalBinaries();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporal },
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      extraArgs: [
        '--log-level', 'error',
        '--dynamic-config-value', 'history.transferProcessorEnsureCloseBeforeDelete=false',
        '--dynamic-config-value', 'history.visibilityProcessorEnsureCloseBeforeDelete=false',
      ],
    },
    client: { dataConverter: testDataConverter },
  });
}

beforeAll(async () => {
  let bundle;
  [env, db, bundle] = await Promise.all([devServerDeletingAtOnce(), createTestDatabase(), bundleWorkflows()]);
  recorder = recordingIntegrations();
  worker = await createDeskWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool: db.pool,
    // The real notifier (each post under once()) on the recording drivers: what was really sent.
    notifier: new IntegrationNotifier(recorder.integrations, db.pool, quiet),
    integrations: recorder.integrations,
    encryptionKeys: testKeys,
    workflowBundle: bundle,
  });
  running = worker.run();
  // The webhook secret is read when the app is built, from the environment as a user sets it.
  const saved = process.env.ZENDESK_WEBHOOK_SECRET;
  process.env.ZENDESK_WEBHOOK_SECRET = ZENDESK_SECRET;
  const { auth } = await testCredentials(db.pool);
  const app = createApp({ client: env.client, pool: db.pool, policy: DEFAULT_POLICY, taskQueue, temporalUiUrl: 'http://localhost:8233', auth, encryptionKeys: testKeys });
  if (saved === undefined) delete process.env.ZENDESK_WEBHOOK_SECRET;
  else process.env.ZENDESK_WEBHOOK_SECRET = saved;
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (worker) {
    worker.shutdown();
    await running;
  }
  await env?.teardown();
  await db?.drop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** A Zendesk ticket event, signed as Zendesk signs it (base64 HMAC of timestamp + body). */
function zendesk(payload: unknown, invocationId: string) {
  const body = JSON.stringify(payload);
  const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signature = createHmac('sha256', ZENDESK_SECRET).update(timestamp).update(body).digest('base64');
  return post('/webhooks/zendesk', body, {
    'x-zendesk-webhook-signature-timestamp': timestamp,
    'x-zendesk-webhook-signature': signature,
    'x-zendesk-webhook-invocation-id': invocationId,
  });
}

const detail = (zendeskId: string) => ({ id: zendeskId, subject: 'VPN token expired', description: 'I cannot log in.', priority: 'HIGH', requester_id: '9001' });
const created = (zendeskId: string) => ({ id: `evt-created-${zendeskId}`, type: 'zen:event-type:ticket.created', detail: detail(zendeskId), event: {} });
const commented = (zendeskId: string, commentId: string, body: string) => ({
  id: `evt-comment-${commentId}`,
  type: 'zen:event-type:ticket.comment_added',
  detail: detail(zendeskId),
  event: { comment: { id: commentId, body, is_public: true, author: { id: '9001', is_staff: false } } },
});

async function gone(h: WorkflowHandle): Promise<boolean> {
  try {
    await h.describe();
    return false;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return true;
    throw err;
  }
}

interface TicketRow {
  status: string;
  version: number;
  chain_id: string;
  created_at: Date;
}
const ticketRow = async (id: string): Promise<TicketRow | undefined> =>
  (await db.pool.query<TicketRow>('SELECT status, version, chain_id, created_at FROM tickets WHERE id = $1', [id])).rows[0];
const notificationKeys = async (workflowId: string): Promise<string[]> =>
  (await db.pool.query<{ idempotency_key: string }>('SELECT idempotency_key FROM notifications WHERE starts_with(idempotency_key, $1) ORDER BY sent_at', [`${workflowId}:`])).rows.map(
    (r) => r.idempotency_key,
  );

describe('a ticket id used again after retention deleted the closed workflow', () => {
  it("the requester's late reply starts a new chain whose notifications are sent and whose projection row is written", async () => {
    const zendeskId = String(80_000 + (process.pid % 10_000));
    const id = ticketIdFor('helpdesk', zendeskId);
    const h = env.client.workflow.getHandle(ticketWorkflowId(id));

    // The first chain, filed through Zendesk: the requester's comment arrives before the ticket's
    // creation event (webhooks are not ordered) and files it; an agent answers and closes it.
    expect((await zendesk(commented(zendeskId, `c-${zendeskId}-1`, 'Still broken after the reboot.'), `inv-${zendeskId}-1`)).status).toBe(200);
    const firstChain = (await h.describe()).runId;
    expect((await zendesk(created(zendeskId), `inv-${zendeskId}-2`)).status).toBe(200);
    const firstReply = await eventually(
      async () => (await notificationKeys(h.workflowId)).find((k) => k.startsWith(`${h.workflowId}:${firstChain}:reply:`)),
      (k) => k !== undefined,
    );
    expect(firstReply).toBeDefined();
    expect((await post(`/tickets/${id}/reply`, { message: 'Please try the new token we sent.' })).status).toBe(200);
    expect((await post(`/tickets/${id}/close`, {})).status).toBe(200);
    expect(((await h.result()) as TicketView).status).toBe('closed');
    const closedRow = await eventually(() => ticketRow(id), (r) => r?.status === 'closed');
    expect(closedRow).toMatchObject({ status: 'closed', chain_id: firstChain });
    expect(closedRow!.version).toBeGreaterThanOrEqual(4);
    const firstKeys = await notificationKeys(h.workflowId);

    // A closed ticket's id is not reused while its execution is kept: the late comment is ignored then.
    expect((await zendesk(commented(zendeskId, `c-${zendeskId}-early`, 'Thanks anyway.'), `inv-${zendeskId}-3`)).status).toBe(200);
    expect((await h.describe()).runId).toBe(firstChain);

    // Retention deletes the closed execution (the dev server does it as the namespace's retention would).
    await env.connection.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: h.workflowId } });
    expect(await eventually(() => gone(h), (g) => g, 30_000)).toBe(true);

    // The requester's late reply: signal-with-start files the ticket again, under the same id.
    const late = 'It broke again this morning.';
    expect((await zendesk(commented(zendeskId, `c-${zendeskId}-2`, late), `inv-${zendeskId}-4`)).status).toBe(200);
    const secondChain = (await h.describe()).runId;
    expect(secondChain).not.toBe(firstChain);
    const refiled = await eventually(
      () => h.query(ticketStateQuery) as Promise<TicketView>,
      (t) => t.pendingEffects === 0 && t.timeline.some((e) => e.event === 'requester replied'),
    );
    expect(refiled.status).toBe('open');
    expect(refiled.version).toBeLessThan(closedRow!.version);
    expect(refiled.timeline.map((e) => e.event).sort()).toEqual(['created', 'requester replied']);
    expect(refiled.integrationFailures).toEqual([]);

    // Its notification was really sent: a row under the new chain's key, a post that reached Slack.
    const keys = await eventually(
      () => notificationKeys(h.workflowId),
      (k) => k.some((key) => key.startsWith(`${h.workflowId}:${secondChain}:reply:`)),
    );
    const secondReply = keys.find((key) => key.startsWith(`${h.workflowId}:${secondChain}:reply:`))!;
    expect(keys).toEqual([...firstKeys, secondReply]);
    // The same step as the first chain's reply (`reply:1`): without the chain in the key, the same key.
    const stepOf = (key: string) => key.split(':').slice(2).join(':');
    expect(stepOf(secondReply)).toBe(stepOf(firstReply!));
    const told = recorder.calls.filter((c) => c.system === 'chat' && c.action === 'postMessage' && c.args.channel === '#support-desk');
    expect(told).toHaveLength(2);
    const effect = await db.pool.query('SELECT completed_at FROM external_effects WHERE idempotency_key = $1', [`${secondReply}:to:slack:#support-desk`]);
    expect(effect.rows[0]?.completed_at).toBeInstanceOf(Date);

    // Its projection row replaced the old chain's: the new chain, its own (lower) version, open again.
    const row = await eventually(() => ticketRow(id), (r) => r?.chain_id === secondChain && r.version === refiled.version);
    expect(row).toMatchObject({ status: 'open', chain_id: secondChain, version: refiled.version });
    expect(row!.created_at.getTime()).toBe((await h.describe()).startTime.getTime());
    const listed = (await fetch(`${url}/tickets?status=open`, { headers: bearer(TEST_ADMIN_KEY) }).then((r) => r.json())) as { tickets: Array<{ id: string }> };
    expect(listed.tickets.map((t) => t.id)).toContain(id);
    // The new chain's timeline is its own in item_events, from seq 1, the old one's kept apart.
    const events = await eventually(
      async () =>
        (await db.pool.query<{ chain_id: string; seq: number; event: string }>('SELECT chain_id, seq, event FROM item_events WHERE workflow_id = $1 AND chain_id = $2 ORDER BY seq', [h.workflowId, secondChain])).rows,
      (rows) => rows.length === 2,
    );
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
    expect(events.map((e) => e.event).sort()).toEqual(['created', 'requester replied']);
    // The late reply's body is stored (the notifier read it from there).
    const stored = await db.pool.query('SELECT body FROM messages WHERE workflow_id = $1', [h.workflowId]);
    expect(stored.rows.map((m) => m.body)).toContain(late);
  });

  // A late reply after retention files its ticket by signal-with-start, like any reply that comes
  // before its ticket: the API stores the body first, then starts the workflow. GET /tickets/:id/messages
  // lists the messages stored since the ticket's creation (its workflow's start), so the reply that
  // filed the ticket, stored a few milliseconds before that start, must still be among them.
  it('the reply that filed the ticket (signal-with-start) is among its messages', async () => {
    const zendeskId = String(90_000 + (process.pid % 10_000));
    const id = ticketIdFor('helpdesk', zendeskId);
    const body = 'It broke again this morning, the second time this week.';
    expect((await zendesk(commented(zendeskId, `c-${zendeskId}-1`, body), `inv-${zendeskId}-1`)).status).toBe(200);
    await eventually(() => ticketRow(id), (r) => r !== undefined);
    const messages = (await fetch(`${url}/tickets/${id}/messages`, { headers: bearer(TEST_ADMIN_KEY) }).then((r) => r.json())) as { messages: Array<{ body: string }> };
    expect(messages.messages.map((m) => m.body)).toEqual([body]);
  });
});
