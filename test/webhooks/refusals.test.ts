// A signed delivery whose payload breaks the schema, for each sender: refused with the answer that
// sender does not retry, recorded once, nothing started or signalled, and its redelivery changes
// nothing. After each refusal a valid delivery does act, so "nothing happened" is the refusal's doing.
import { randomBytes } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { ticketIdFor } from '../../api/ticket';
import { ticketWorkflowId } from '../../domain/ticket';
import { testDataConverter } from '../encryption';
import { eventually } from '../eventually';
import { bundleWorkflows } from '../temporal';
import { SECRETS, startWebhookDesk, type WebhookDesk } from './desk';
import { receivedQuery, type incidentStandIn } from './incident-stand-in';
import { gitlabHeaders, pagerDutyHeaders, slackHeaders, zendeskHeaders } from './signing';

let desk: WebhookDesk;
let worker: Worker;
let running: Promise<void>;
let standInQueue: string;

beforeAll(async () => {
  // No desk worker: a refused delivery must start nothing, and a started workflow is visible without one.
  desk = await startWebhookDesk({ noWorker: true });
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

const unique = () => randomBytes(4).toString('hex');

/** A delivery as the sender makes it; the answer with its headers (Slack's X-Slack-No-Retry). */
async function deliver(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${desk.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, noRetry: res.headers.get('x-slack-no-retry'), body: (await res.json()) as any };
}

async function recorded(source: string, deliveryId: string) {
  const { rows } = await desk.db.pool.query('SELECT outcome, refusal FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2', [
    source,
    deliveryId,
  ]);
  return rows;
}

const fieldsOf = (body: { details?: Array<{ field: string }> }) => (body.details ?? []).map((d) => d.field);

async function standInIncident() {
  return desk.client.workflow.start<typeof incidentStandIn>('incidentStandIn', { taskQueue: standInQueue, workflowId: `incident-${unique()}` });
}

// ---- Slack ---------------------------------------------------------------------------------------

function slackEvent(eventId: string, event: Record<string, unknown>) {
  const body = JSON.stringify({ token: 'x', team_id: 'T0001', api_app_id: 'A0001', type: 'event_callback', event_id: eventId, event_time: 1, event });
  return { body, headers: (retry?: number) => ({ ...slackHeaders(SECRETS.SLACK_SIGNING_SECRET, Buffer.from(body)), ...(retry ? { 'x-slack-retry-num': String(retry) } : {}) }) };
}

const directMessage = (ts: string, text: unknown) => ({ type: 'message', channel_type: 'im', channel: 'D0REFUSE1', user: 'U0SAM', text, ts });

describe.each([
  ['event.text a number', 42],
  ['a NUL in a direct message', 'my laptop\u0000 will not boot'],
  ['a lone surrogate in a direct message', 'broken \uD83D text'],
])('Slack: %s', (_, text) => {
  test('is refused with 422 and X-Slack-No-Retry, recorded, files no ticket, and its retry changes nothing', async () => {
    const ts = `1800000000.${unique()}`;
    const eventId = `EvRefused${unique()}`;
    const { body, headers } = slackEvent(eventId, directMessage(ts, text));
    const ticketWorkflow = ticketWorkflowId(ticketIdFor('slack', `D0REFUSE1:${ts}`));

    const refused = await deliver('/webhooks/slack', body, headers());
    expect(refused).toMatchObject({ status: 422, noRetry: '1', body: { refused: true } });
    expect(fieldsOf(refused.body)).toEqual(['event.text']);
    expect(await recorded('slack', eventId)).toEqual([{ outcome: 'refused', refusal: expect.stringContaining('event.text') }]);

    // Slack retries with X-Slack-Retry-Num when it did not take the answer; the same answer, no effect.
    const retried = await deliver('/webhooks/slack', body, headers(1));
    expect(retried).toMatchObject({ status: 422, noRetry: '1', body: { refused: true } });
    expect(await recorded('slack', eventId)).toHaveLength(1);
    expect(await desk.exists(ticketWorkflow)).toBe(false);

    // The same message, well formed, does file its ticket.
    const valid = slackEvent(`EvValid${unique()}`, directMessage(ts, 'my laptop will not boot'));
    expect((await deliver('/webhooks/slack', valid.body, valid.headers())).status).toBe(200);
    expect(await desk.exists(ticketWorkflow)).toBe(true);
  });
});

test('Slack: an event callback without an event_id is a 400 Slack does not retry, and nothing is recorded', async () => {
  const body = JSON.stringify({ type: 'event_callback', event: directMessage(`1800000000.${unique()}`, 'hello') });
  const before = await desk.db.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries');
  const res = await deliver('/webhooks/slack', body, slackHeaders(SECRETS.SLACK_SIGNING_SECRET, Buffer.from(body)));
  expect(res).toMatchObject({ status: 400, noRetry: '1' });
  expect(fieldsOf(res.body)).toEqual(['event_id']);
  expect((await desk.db.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries')).rows[0].n).toBe(before.rows[0].n);
});

// ---- Zendesk -------------------------------------------------------------------------------------

function zendeskTicketCreated(zendeskId: string, subject: unknown, invocationId: string) {
  const body = JSON.stringify({
    account_id: 1234,
    id: `evt-${invocationId}`,
    type: 'zen:event-type:ticket.created',
    detail: { id: zendeskId, subject, description: 'Since this morning.', priority: 'HIGH', requester_id: '9001', status: 'NEW' },
    event: {},
  });
  return { body, headers: { ...zendeskHeaders(SECRETS.ZENDESK_WEBHOOK_SECRET, Buffer.from(body)), 'x-zendesk-webhook-invocation-id': invocationId } };
}

test('Zendesk: a NUL in a ticket subject is refused with 422, recorded, files no ticket, and its redelivery changes nothing', async () => {
  const zendeskId = String(80_000_000 + Math.floor(Math.random() * 1_000_000));
  const invocationId = `inv-refused-${unique()}`;
  const delivery = zendeskTicketCreated(zendeskId, 'VPN\u0000 token expired', invocationId);
  const ticketWorkflow = ticketWorkflowId(ticketIdFor('helpdesk', zendeskId));

  for (const attempt of [1, 2]) {
    const res = await deliver('/webhooks/zendesk', delivery.body, delivery.headers);
    expect({ attempt, status: res.status, refused: res.body.refused }).toEqual({ attempt, status: 422, refused: true });
    expect(fieldsOf(res.body)).toEqual(['detail.subject']);
  }
  expect(await recorded('zendesk', invocationId)).toEqual([{ outcome: 'refused', refusal: expect.stringContaining('detail.subject') }]);
  expect(await desk.exists(ticketWorkflow)).toBe(false);

  const valid = zendeskTicketCreated(zendeskId, 'VPN token expired', `inv-valid-${unique()}`);
  expect((await deliver('/webhooks/zendesk', valid.body, valid.headers)).status).toBe(200);
  expect(await desk.exists(ticketWorkflow)).toBe(true);
});

// ---- PagerDuty -----------------------------------------------------------------------------------

function pagerDutyAcknowledged(incidentKey: unknown, agentSummary: unknown, webhookId: string) {
  const body = JSON.stringify({
    event: {
      id: `01${unique().toUpperCase()}`,
      event_type: 'incident.acknowledged',
      resource_type: 'incident',
      agent: { id: 'PLH1HKV', summary: agentSummary, type: 'user_reference' },
      data: { id: 'PGR0VU2', type: 'incident', incident_key: incidentKey, status: 'acknowledged' },
    },
  });
  const [, secret] = SECRETS.PAGERDUTY_WEBHOOK_SECRETS.split(',') as [string, string];
  return { body, headers: { ...pagerDutyHeaders([secret], Buffer.from(body)), 'x-webhook-id': webhookId } };
}

describe.each([
  ['a NUL in the agent who acknowledged', 'event.agent.summary', (key: string) => [key, 'Dana\u0000 On-Call']],
  ['an incident_key that is a number', 'event.data.incident_key', () => [12345, 'Dana On-Call']],
])('PagerDuty: %s', (_, field, make) => {
  test('is refused with 422, recorded, signals nothing, and its redelivery changes nothing', async () => {
    const incident = await standInIncident();
    const [key, agent] = make(incident.workflowId);
    const webhookId = `wh-refused-${unique()}`;
    const delivery = pagerDutyAcknowledged(key, agent, webhookId);

    for (const attempt of [1, 2]) {
      const res = await deliver('/webhooks/pagerduty', delivery.body, delivery.headers);
      expect({ attempt, status: res.status, refused: res.body.refused }).toEqual({ attempt, status: 422, refused: true });
      expect(fieldsOf(res.body)).toEqual([field]);
    }
    expect(await recorded('pagerduty', webhookId)).toEqual([{ outcome: 'refused', refusal: expect.stringContaining(field) }]);
    expect(await incident.query(receivedQuery)).toEqual([]);

    const valid = pagerDutyAcknowledged(incident.workflowId, 'Dana On-Call', `wh-valid-${unique()}`);
    expect((await deliver('/webhooks/pagerduty', valid.body, valid.headers)).status).toBe(200);
    const received = await eventually(() => incident.query(receivedQuery), (r) => r.length > 0);
    expect(received).toEqual([{ name: 'pageAcknowledged', args: { by: 'Dana On-Call', source: 'pagerduty' } }]);
  });
});

// ---- GitLab --------------------------------------------------------------------------------------

function gitlabIssueClosed(iid: unknown, url: string, idempotencyKey: string) {
  const body = JSON.stringify({
    object_kind: 'issue',
    event_type: 'issue',
    user: { id: 7, name: 'Robin Reporter', username: 'robin' },
    project: { id: 42, path_with_namespace: 'support/incidents' },
    object_attributes: { id: 9001, iid, title: 'Follow-up: checkout down', action: 'close', state: 'closed', confidential: false, url },
    changes: {},
  });
  return { body, headers: { ...gitlabHeaders(SECRETS.GITLAB_WEBHOOK_TOKEN), 'x-gitlab-event': 'Issue Hook', 'idempotency-key': idempotencyKey } };
}

test("GitLab: object_attributes.iid a string is refused with 400, recorded, does not close the incident's follow-up, and its redelivery changes nothing", async () => {
  const incident = await standInIncident();
  const webUrl = `https://gitlab.example.com/support/incidents/-/issues/${unique()}`;
  // The incident opened its follow-up issue through once(): that record names the incident.
  await desk.db.pool.query(`INSERT INTO external_effects (idempotency_key, system, result) VALUES ($1, 'tracker', $2)`, [
    `${incident.workflowId}:follow-up`,
    { iid: 7, webUrl },
  ]);
  const idempotencyKey = `idem-refused-${unique()}`;
  const delivery = gitlabIssueClosed('7', webUrl, idempotencyKey);

  for (const attempt of [1, 2]) {
    const res = await deliver('/webhooks/gitlab', delivery.body, delivery.headers);
    expect({ attempt, status: res.status, refused: res.body.refused }).toEqual({ attempt, status: 400, refused: true });
    expect(fieldsOf(res.body)).toEqual(['object_attributes.iid']);
  }
  expect(await recorded('gitlab', idempotencyKey)).toEqual([{ outcome: 'refused', refusal: expect.stringContaining('object_attributes.iid') }]);
  expect(await incident.query(receivedQuery)).toEqual([]);

  const valid = gitlabIssueClosed(7, webUrl, `idem-valid-${unique()}`);
  expect((await deliver('/webhooks/gitlab', valid.body, valid.headers)).status).toBe(200);
  const received = await eventually(() => incident.query(receivedQuery), (r) => r.length > 0);
  expect(received).toEqual([{ name: 'followUpClosed', args: { by: 'robin', source: 'gitlab' } }]);
});

test('GitLab: a label change on an iid past int4 (what GitLab and the desk store) is refused with 400 and recorded, not a 500 on every redelivery', async () => {
  const idempotencyKey = `idem-iid-${unique()}`;
  const body = JSON.stringify({
    object_kind: 'issue',
    project: { path_with_namespace: 'support/feature-requests' },
    object_attributes: { iid: 9_007_199_254_740_990, action: 'update' },
    changes: { labels: { previous: [], current: [{ title: 'Workflow::Design' }] } },
  });
  const headers = { ...gitlabHeaders(SECRETS.GITLAB_WEBHOOK_TOKEN), 'x-gitlab-event': 'Issue Hook', 'idempotency-key': idempotencyKey };
  for (const attempt of [1, 2]) {
    const res = await deliver('/webhooks/gitlab', body, headers);
    expect({ attempt, status: res.status, fields: fieldsOf(res.body) }).toEqual({ attempt, status: 400, fields: ['object_attributes.iid'] });
  }
  expect(await recorded('gitlab', idempotencyKey)).toEqual([{ outcome: 'refused', refusal: expect.stringContaining('object_attributes.iid') }]);
});
