// POST /webhooks/pagerduty against the real API and the dev server: an incident the desk paged,
// acknowledged or resolved in PagerDuty, is signalled to its workflow (found by its incident_key,
// which is the dedup_key the desk paged with: the workflow id). One test runs the real incident
// workflow; the others use a stand-in that records every signal, to count them exactly.
import { Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { incidentStateQuery, incidentWorkflowId } from '../../domain/incident';
import { testDataConverter } from '../encryption';
import { eventually } from '../eventually';
import { bundleWorkflows } from '../temporal';
import { SECRETS, startWebhookDesk, type WebhookDesk } from './desk';
import { receivedQuery, type incidentStandIn } from './incident-stand-in';
import { pagerDutyHeaders } from './signing';

let desk: WebhookDesk;
let worker: Worker;
let running: Promise<void>;
let standInQueue: string;
const [OLD_SECRET, NEW_SECRET] = SECRETS.PAGERDUTY_WEBHOOK_SECRETS.split(',') as [string, string];

beforeAll(async () => {
  desk = await startWebhookDesk({ bundle: await bundleWorkflows() });
  standInQueue = `${desk.taskQueue}-stand-in`;
  const bundle = await bundleWorkflows(require.resolve('./incident-stand-in'));
  worker = await Worker.create({
    connection: desk.env.nativeConnection,
    taskQueue: standInQueue,
    workflowBundle: bundle,
    dataConverter: testDataConverter,
  });
  running = worker.run();
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await desk?.stop();
});

async function pagedIncident() {
  const workflowId = `incident-${randomBytes(4).toString('hex')}`;
  return desk.client.workflow.start<typeof incidentStandIn>('incidentStandIn', { taskQueue: standInQueue, workflowId });
}

/** A v3 webhook as PagerDuty sends it (event envelope, incident in `data`). */
function incidentEvent(type: string, incidentKey: string, extra: Record<string, unknown> = {}) {
  return {
    event: {
      id: `01${randomBytes(8).toString('hex').toUpperCase()}`,
      event_type: type,
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: { html_url: 'https://acme.pagerduty.com/users/PLH1HKV', id: 'PLH1HKV', self: null, summary: 'Dana On-Call', type: 'user_reference' },
      client: null,
      data: {
        id: 'PGR0VU2',
        type: 'incident',
        self: 'https://api.pagerduty.com/incidents/PGR0VU2',
        html_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
        number: 2,
        status: type === 'incident.resolved' ? 'resolved' : 'acknowledged',
        incident_key: incidentKey,
        title: 'Customer instance down',
        urgency: 'high',
        ...extra,
      },
    },
  };
}

function send(payload: unknown, webhookId: string, secrets: string[] = [NEW_SECRET]) {
  const body = Buffer.from(JSON.stringify(payload));
  return desk.post('/webhooks/pagerduty', body, {
    ...pagerDutyHeaders(secrets, body),
    'x-webhook-id': webhookId,
    'x-webhook-subscription': 'PY1OL64',
  });
}

test('acknowledged then resolved in PagerDuty: the incident hears both, once each even when redelivered', async () => {
  const incident = await pagedIncident();
  const ack = incidentEvent('incident.acknowledged', incident.workflowId);
  expect((await send(ack, 'wh-ack-1')).status).toBe(200);
  expect((await send(ack, 'wh-ack-1')).body).toMatchObject({ duplicate: true });
  const resolved = incidentEvent('incident.resolved', incident.workflowId, { resolve_reason: null });
  expect((await send(resolved, 'wh-res-1')).status).toBe(200);

  const received = await eventually(() => incident.query(receivedQuery), (r) => r.length >= 2);
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await incident.query(receivedQuery)).toEqual([
    { name: 'pageAcknowledged', args: { by: 'Dana On-Call', source: 'pagerduty' } },
    { name: 'pageResolved', args: { by: 'Dana On-Call', source: 'pagerduty' } },
  ]);
  expect(received).toHaveLength(2);
});

test('an incident raised through POST /incidents is acknowledged and resolved from PagerDuty', async () => {
  const raised = await desk.api('POST', '/incidents', { title: 'Customer instance down', severity: 'critical' });
  expect(raised.status).toBe(201);
  const workflowId = incidentWorkflowId(raised.body.id);
  const incident = desk.client.workflow.getHandle(workflowId);

  expect((await send(incidentEvent('incident.acknowledged', workflowId), 'wh-real-ack')).status).toBe(200);
  const acknowledged = await eventually(() => incident.query(incidentStateQuery), (s) => s.acknowledgedAt !== null);
  expect(acknowledged).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'Dana On-Call', acknowledgedVia: 'pagerduty' });

  expect((await send(incidentEvent('incident.resolved', workflowId), 'wh-real-res')).status).toBe(200);
  const resolved = await eventually(() => incident.query(incidentStateQuery), (s) => s.status !== 'acknowledged');
  expect(resolved.status).toBe('resolved');
});

test('while PagerDuty rotates its secret, a delivery signed with both the old and the new secret is accepted', async () => {
  const incident = await pagedIncident();
  const res = await send(incidentEvent('incident.acknowledged', incident.workflowId), 'wh-rot-1', [OLD_SECRET, 'a-secret-we-do-not-know']);
  expect(res.status).toBe(200);
  await eventually(() => incident.query(receivedQuery), (r) => r.length === 1);
  expect(await incident.query(receivedQuery)).toHaveLength(1);
});

test('an incident PagerDuty knows but the desk did not page is left alone', async () => {
  const res = await send(incidentEvent('incident.acknowledged', 'd3640fbd41094207a1c11e58e46b1662'), 'wh-foreign-1');
  expect(res).toMatchObject({ status: 200, body: { ok: true } });
});

test('other event types (and the subscription ping) are answered and ignored', async () => {
  const res = await send({ event: { id: 'ping', event_type: 'pagey.ping', resource_type: 'pagey', data: { message: 'Hello from your friend Pagey!' } } }, 'wh-ping');
  expect(res).toMatchObject({ status: 200, body: { ignored: 'pagey.ping' } });
});

describe('a delivery PagerDuty did not sign is refused with 401 and signals nothing', () => {
  test.each([
    ['forged', (body: Buffer) => pagerDutyHeaders(['someone-else'], body)],
    ['missing', () => ({})],
  ])('%s', async (_what, sign) => {
    const incident = await pagedIncident();
    const body = Buffer.from(JSON.stringify(incidentEvent('incident.resolved', incident.workflowId)));
    const res = await desk.post('/webhooks/pagerduty', body, { ...(sign(body) as Record<string, string>), 'x-webhook-id': `wh-bad-${incident.workflowId}` });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(await incident.query(receivedQuery)).toEqual([]);
    expect((await desk.deliveries()).map((d) => d.delivery_id)).not.toContain(`wh-bad-${incident.workflowId}`);
  });
});
