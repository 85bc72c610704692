// The metrics as Prometheus scrapes them, after a walkthrough against the desk as processes (dev
// server, worker, API, PostgreSQL, the local Slack): the API's METRICS_PORT (HTTP by route and
// status, intake, actions by result, the desk's open and breached tickets), the worker's
// WORKER_HEALTH_PORT /metrics (failed Slack calls, escalation lag) and the SDK's own endpoint on
// WORKER_SDK_METRICS_PORT. Values are the walkthrough's, not merely present.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEMO_POLICY } from '../domain/policy';
import { freePort } from './desk-processes';
import { eventually } from './eventually';
import { FakeSlack } from './fakes/slack';
import { createTestDatabase, type TestDatabase } from './postgres';
import { spawnDesk, type SpawnedDesk } from './spawned-desk';
import { devServerEnvironment } from './temporal';

const ESCALATION_CHANNEL = DEMO_POLICY.escalationChains.standard![0]!.notify[0]!;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let slack: FakeSlack;
let ports: { api: number; apiMetrics: number; worker: number; sdk: number };
let desk: SpawnedDesk | undefined;

beforeAll(async () => {
  let free: number[];
  [env, db, slack, ...free] = await Promise.all([devServerEnvironment(), createTestDatabase(), new FakeSlack().start(), freePort(), freePort(), freePort(), freePort()]);
  ports = { api: free[0]!, apiMetrics: free[1]!, worker: free[2]!, sdk: free[3]! };
  // The escalation channel does not exist: every escalation post fails, which the worker counts.
  slack.missingChannels.add(ESCALATION_CHANNEL);
  desk = await spawnDesk({
    env: {
      TEMPORAL_ADDRESS: env.address,
      DATABASE_URL: db.url,
      PORT: String(ports.api),
      METRICS_PORT: String(ports.apiMetrics),
      WORKER_HEALTH_PORT: String(ports.worker),
      WORKER_SDK_METRICS_PORT: String(ports.sdk),
      HOST: '127.0.0.1',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
    },
  });
  await eventually(() => fetch(`http://127.0.0.1:${ports.worker}/readyz`).then((r) => r.status, () => 0), (s) => s === 200, 120_000);
}, 180_000);

afterAll(async () => {
  await desk?.stop();
  await env?.teardown();
  await slack?.stop();
  await db?.drop();
});

/** Prometheus' text format: `name{a="x",b="y"} value` → a lookup by name and labels. */
async function scrape(port: number): Promise<(name: string, labels?: Record<string, string>) => number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const samples = (await res.text())
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line)!;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
  return (name, labels = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const call = (method: string, route: string, body?: unknown) => desk!.call(method, route, body);

test('after the walkthrough the API, the worker and the SDK expose the documented series with its values', async () => {
  const a = await call('POST', '/tickets', { subject: 'Printer on fire', tier: 2, requester: { email: 'pat@example.com' } });
  const b = await call('POST', '/tickets', { subject: 'VPN down', requester: { email: 'sam@example.com' } });
  const c = await call('POST', '/tickets', { subject: 'Mail bounces', externalId: 'ext-1', requester: { email: 'kim@example.com' } });
  const again = await call('POST', '/tickets', { subject: 'Mail bounces', externalId: 'ext-1', requester: { email: 'kim@example.com' } });
  expect([a.status, b.status, c.status, again.status]).toEqual([201, 201, 201, 200]);
  expect((await call('POST', `/tickets/${a.body.id}/acknowledge`, {})).status).toBe(200);
  expect((await call('POST', `/tickets/${a.body.id}/acknowledge`, {})).status).toBe(409);
  expect((await call('POST', `/tickets/${a.body.id}/launch-rocket`, {})).status).toBeGreaterThanOrEqual(400);

  // B and C are not acknowledged: 20 s later they breach and escalate to a channel Slack does not know.
  const worker = await eventually(
    () => scrape(ports.worker),
    (m) => (m('desk_escalation_lag_seconds_count') ?? 0) >= 2 && (m('desk_notification_failures_total', { system: 'chat' }) ?? 0) >= 2,
    120_000,
  );
  expect(worker('desk_escalation_lag_seconds_count')).toBeGreaterThanOrEqual(2);
  // Due → activity start on an idle desk: well under the 10 s of the demo policy's next step.
  expect(worker('desk_escalation_lag_seconds_sum')! / worker('desk_escalation_lag_seconds_count')!).toBeLessThan(10);
  expect(worker('desk_notification_failures_total', { system: 'chat' })).toBeGreaterThanOrEqual(2);
  expect(worker('process_resident_memory_bytes')).toBeGreaterThan(0);

  const api = await eventually(() => scrape(ports.apiMetrics), (m) => m('desk_open_breached_tickets', { tier: '1' }) === 2, 60_000);
  expect(api('desk_intake_total', { kind: 'ticket', outcome: 'created' })).toBe(3);
  expect(api('desk_intake_total', { kind: 'ticket', outcome: 'duplicate' })).toBe(1);
  expect(api('desk_actions_total', { kind: 'ticket', action: 'acknowledge', result: 'ok' })).toBe(1);
  expect(api('desk_actions_total', { kind: 'ticket', action: 'acknowledge', result: 'refused' })).toBe(1);
  expect(api('desk_actions_total', { kind: 'ticket', action: 'other', result: 'refused' })).toBe(1); // a made-up action is not a label
  expect(api('http_request_duration_seconds_count', { method: 'POST', route: '/tickets', status: '201' })).toBe(3);
  expect(api('http_request_duration_seconds_count', { method: 'POST', route: '/tickets/:id/:action', status: '200' })).toBe(1);
  expect(api('desk_open_tickets', { status: 'acknowledged', tier: '2' })).toBe(1);
  expect(api('desk_open_tickets', { status: 'open', tier: '1' })).toBe(2);
  expect(api('desk_open_breached_tickets', { tier: '1' })).toBe(2);
  expect(api('desk_sla_breaches_24h', { kind: 'ticket', target: 'acknowledgement' })).toBe(2);

  // The SDK's own endpoint: its pollers and task slots, from the Core runtime.
  const sdk = await scrape(ports.sdk);
  expect(sdk('temporal_worker_task_slots_available', { worker_type: 'WorkflowWorker' })).toBeGreaterThan(0);
}, 240_000);
