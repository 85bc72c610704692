// OpenTelemetry tracing with OTEL_EXPORTER_OTLP_ENDPOINT set: the API and the worker as processes
// export their spans over OTLP/HTTP to a local collector (this file's HTTP server, reading the OTLP
// JSON the exporter sends): the API's calls to Temporal, and the worker's activities, each naming the
// ticket's workflow. The other tests run without the variable, so nothing is exported there.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eventually } from './eventually';
import { createTestDatabase, type TestDatabase } from './postgres';
import { spawnDesk, type SpawnedDesk } from './spawned-desk';
import { devServerEnvironment } from './temporal';


interface Span {
  service: string;
  name: string;
  traceId: string;
  attributes: Record<string, string>;
}

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let collector: Server;
let desk: SpawnedDesk | undefined;
const spans: Span[] = [];

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
  [env, db] = await Promise.all([devServerEnvironment(), createTestDatabase()]);
  desk = await spawnDesk({
    env: {
      TEMPORAL_ADDRESS: env.address,
      DATABASE_URL: db.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
  });
}, 180_000);

afterAll(async () => {
  await desk?.stop();
  await new Promise((resolve) => collector?.close(resolve));
  await env?.teardown();
  await db?.drop();
});

test("the API's calls to Temporal and the worker's activities reach the OTLP endpoint, naming the ticket's workflow", async () => {
  const call = (path: string, body: unknown) => desk!.call('POST', path, body);
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
