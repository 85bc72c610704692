// OpenTelemetry tracing with OTEL_EXPORTER_OTLP_ENDPOINT set: the API and the worker as processes
// export their spans over OTLP/HTTP to a local collector (this file's HTTP server, reading the OTLP
// JSON the exporter sends): the API's calls to Temporal, and the worker's activities, each naming the
// ticket's workflow. The other tests run without the variable, so nothing is exported there.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnService, waitForHttp, type RunningService } from '../scripts/dev-services';
import { bearer, TEST_ADMIN_KEY } from './credentials';
import { freePort } from './desk-processes';
import { TEST_ENCRYPTION_KEYS } from './encryption';
import { eventually } from './eventually';
import { createTestDatabase, type TestDatabase } from './postgres';
import { devServerEnvironment } from './temporal';

const tsx = require.resolve('.bin/tsx', { paths: [process.cwd() + '/node_modules'] });

interface Span {
  service: string;
  name: string;
  traceId: string;
  attributes: Record<string, string>;
}

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let collector: Server;
let apiPort: number;
const spans: Span[] = [];
const processes: RunningService[] = [];

/** OTLP/HTTP JSON: resourceSpans → scopeSpans → spans, attributes as {key, value: {stringValue}}. */
function collect(body: any): void {
  const attrs = (list: any[] = []) => Object.fromEntries(list.map((a) => [a.key, String(Object.values(a.value ?? {})[0] ?? '')]));
  for (const rs of body.resourceSpans ?? []) {
    const service = attrs(rs.resource?.attributes)['service.name'] ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) spans.push({ service, name: s.name, traceId: s.traceId, attributes: attrs(s.attributes) });
    }
  }
}

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) collect(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  [env, db, apiPort] = await Promise.all([devServerEnvironment(), createTestDatabase(), freePort()]);
  const processEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: `tracing-${process.pid}`,
    DATABASE_URL: db.url,
    PORT: String(apiPort),
    SUPPORT_DESK_POLICY: 'demo',
    SUPPORT_DESK_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    SUPPORT_DESK_ADMIN_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const api = spawnService({ name: 'api', command: tsx, args: ['api/main.ts'], env: processEnv, quiet: true });
  const worker = spawnService({ name: 'worker', command: tsx, args: ['workers/main.ts'], env: processEnv, quiet: true });
  processes.push(api, worker);
  await waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, { timeoutMs: 120_000, service: api });
}, 180_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await new Promise((resolve) => collector?.close(resolve));
  await env?.teardown();
  await db?.drop();
});

test("the API's calls to Temporal and the worker's activities reach the OTLP endpoint, naming the ticket's workflow", async () => {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, { method: 'POST', headers: { ...bearer(TEST_ADMIN_KEY), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  const created = await call('/tickets', { subject: 'Printer on fire', requester: { email: 'pat@example.com' } });
  expect(created.status).toBe(201);
  expect((await call(`/tickets/${created.body.id}/acknowledge`, {})).status).toBe(200);
  const workflowId = created.body.workflowId as string;

  const of = (service: string, prefix: string) =>
    spans.filter((s) => s.service === service && s.name.startsWith(prefix) && s.attributes.temporalWorkflowId === workflowId);
  await eventually(async () => of('support-desk-worker', 'RunActivity:recordTicket').length, (n) => n > 0, 60_000);
  expect(of('support-desk-api', 'StartWorkflow:ticketWorkflow')).toHaveLength(1);
  // Each process sends its spans in batches, on its own schedule.
  await eventually(async () => of('support-desk-api', 'StartWorkflowUpdate:acknowledge').length, (n) => n > 0, 30_000);
  expect(of('support-desk-api', 'StartWorkflowUpdate:acknowledge').length).toBeGreaterThanOrEqual(1);
  expect(of('support-desk-worker', 'RunActivity:recordTicket').every((s) => /^[0-9a-f]{32}$/.test(s.traceId))).toBe(true);
  // Ids only: no subject or e-mail in any span.
  expect(JSON.stringify(spans)).not.toMatch(/Printer on fire|pat@example\.com/);
}, 120_000);
