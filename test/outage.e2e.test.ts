// Slack down while the desk works, on the dev server with the worker and the API in this process and
// the real Slack client pointed at a local Slack that answers 503: no timer waits for Slack, an agent's
// action answers while Slack is still down, and everything queued goes out once, after it is back.
// (Before the state model, the loop awaited each notification: a warning retrying against a Slack
// that was down held the breach and its escalation back until the warning was given up on, and an
// acknowledgement answered only once its notification was sent.)
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { integrationsFromEnv } from '../activities/drivers';
import { IntegrationNotifier } from '../activities/notifier';
import { createApp } from '../api/app';
import { parsePolicy } from '../config/policy-schema';
import { DEMO_POLICY, type Policy } from '../domain/policy';
import { ticketStateQuery, ticketWorkflowId, type TicketView } from '../domain/ticket';
import { createDeskWorker } from '../workers/worker';
import { bearer, TEST_ADMIN_KEY, testCredentials } from './credentials';
import { testKeys } from './encryption';
import { eventually } from './eventually';
import { FakeSlack } from './fakes/slack';
import { createTestDatabase, type TestDatabase } from './postgres';
import { bundleWorkflows, devServerEnvironment } from './temporal';

const ACK_MS = 6_000;
const taskQueue = `outage-${process.pid}`;

/** Acknowledge within 6 s, warn at half of it; the first escalation level waits a minute. */
const policy: Policy = parsePolicy(
  {
    ...DEMO_POLICY,
    warningShare: 0.5,
    notificationGiveUpMs: 10 * 60_000,
    escalationChains: { standard: [{ notify: ['#support-escalations'], waitMs: 60_000, repeats: 1 }] },
    channels: { default: { ...DEMO_POLICY.channels.default, acknowledge: { withinMs: ACK_MS, clock: 'calendar' } } },
  },
  'outage test policy',
);

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let slack: FakeSlack;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let api: string;

beforeAll(async () => {
  const [e, d, bundle, s] = await Promise.all([devServerEnvironment(), createTestDatabase(), bundleWorkflows(), new FakeSlack().start()]);
  [env, db, slack] = [e, d, s];
  const log = pino({ level: 'silent' });
  const integrations = integrationsFromEnv({ SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl }, log);
  worker = await createDeskWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool: db.pool,
    notifier: new IntegrationNotifier(integrations, db.pool, log),
    integrations,
    encryptionKeys: testKeys,
    workflowBundle: bundle,
  });
  running = worker.run();
  const { auth } = await testCredentials(db.pool);
  server = createApp({ client: env.client, pool: db.pool, policy, taskQueue, temporalUiUrl: 'http://ui', auth, encryptionKeys: testKeys }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  worker?.shutdown();
  await running;
  await slack?.stop();
  await env?.teardown();
  await db?.drop();
});

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY) }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const ticket = (id: string): Promise<TicketView> => env.client.workflow.getHandle(ticketWorkflowId(id)).query(ticketStateQuery);

test('with Slack answering 503, a breach escalates on time and an acknowledgement answers; after Slack is back each notification goes out once', async () => {
  slack.beginOutage({ status: 503 });

  // Nobody acknowledges A: its warning (at 3 s) goes to #support-desk and keeps failing.
  const a = await post('/tickets', { subject: 'Printer on fire', externalId: `outage-a-${Date.now()}` });
  expect(a.status).toBe(201);
  const created = (await ticket(a.body.id)).createdAt;

  // B came from a Slack DM: its acknowledgement goes back there, through Slack, which is down.
  const b = await post('/tickets', {
    subject: 'VPN down',
    externalId: `outage-b-${Date.now()}`,
    origin: { system: 'slack', channel: 'D0SAM', threadTs: '1700000000.000001', user: 'U0SAM' },
  });
  const acked = await post(`/tickets/${b.body.id}/acknowledge`, {});
  expect(acked.status).toBe(200);
  expect(acked.body).toMatchObject({ status: 'acknowledged', visible: true });
  expect(slack.messages).toEqual([]); // answered while Slack was still down

  const breached = await eventually(() => ticket(a.body.id), (t) => t.escalations.length === 1, ACK_MS + 20_000);
  expect(breached.escalations[0]).toMatchObject({ sla: 'acknowledge', level: 1, notified: ['#support-escalations'] });
  // Taken at the due time (give or take a busy worker), not after the warning it would once have waited
  // for: that one is still being retried behind it (given up on only after 10 minutes).
  expect(breached.escalations[0]!.at - (created + ACK_MS)).toBeGreaterThanOrEqual(0);
  expect(breached.escalations[0]!.at - (created + ACK_MS)).toBeLessThan(5_000);
  expect(breached.pendingEffects).toBeGreaterThan(0);
  expect(slack.messages).toEqual([]);

  slack.endOutage();
  await eventually(async () => slack.messages.length, (n) => n >= 3, 60_000);
  await eventually(() => Promise.all([ticket(a.body.id), ticket(b.body.id)]), ([x, y]) => x.pendingEffects === 0 && y.pendingEffects === 0, 30_000);
  const texts = slack.messages.map((m) => `${m.channel}: ${m.text}`);
  expect(texts.filter((t) => t.includes(`Ticket ${a.body.id}:`) && t.includes('left on the acknowledgement target'))).toHaveLength(1);
  expect(texts.filter((t) => t.includes(`Ticket ${a.body.id} missed its acknowledgement target`))).toHaveLength(1);
  expect(texts.filter((t) => t.startsWith('D0SAM') && t.includes('We have your request "VPN down"'))).toHaveLength(1);
  expect(slack.messages).toHaveLength(3);
}, 120_000);
