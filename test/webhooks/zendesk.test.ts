// POST /webhooks/zendesk against the real API, the dev server and PostgreSQL: a new helpdesk ticket
// files a desk ticket, the requester's comment is their reply, and only Zendesk's signature counts.
import type { WorkflowBundle } from '@temporalio/worker';
import { ticketIdFor } from '../../api/ticket';
import { ticketWorkflowId } from '../../domain/ticket';
import { eventually } from '../eventually';
import { bundleWorkflows } from '../temporal';
import { SECRETS, startWebhookDesk, type WebhookDesk } from './desk';
import { zendeskHeaders } from './signing';

let bundle: WorkflowBundle;
let desk: WebhookDesk;

beforeAll(async () => {
  bundle = await bundleWorkflows();
  desk = await startWebhookDesk({ bundle });
}, 180_000);

afterAll(async () => {
  await desk?.stop();
});

let sequence = 0;
const nextZendeskId = () => String(70_000 + process.pid * 10 + ++sequence);

function ticketCreated(zendeskId: string, overrides: Record<string, unknown> = {}) {
  return {
    account_id: 1234,
    id: `evt-created-${zendeskId}`,
    type: 'zen:event-type:ticket.created',
    subject: `zen:ticket:${zendeskId}`,
    time: new Date().toISOString(),
    zendesk_event_version: '2022-11-06',
    detail: {
      id: zendeskId,
      subject: 'VPN token expired',
      description: 'I cannot log in to the VPN since this morning.',
      priority: 'HIGH',
      requester_id: '9001',
      status: 'NEW',
      ...overrides,
    },
    event: {},
  };
}

function commentAdded(zendeskId: string, commentId: string, author: { id: string; is_staff: boolean }) {
  return {
    account_id: 1234,
    id: `evt-comment-${commentId}`,
    type: 'zen:event-type:ticket.comment_added',
    subject: `zen:ticket:${zendeskId}`,
    time: new Date().toISOString(),
    zendesk_event_version: '2022-11-06',
    detail: { id: zendeskId, subject: 'VPN token expired', requester_id: '9001', priority: 'HIGH', status: 'OPEN' },
    event: { comment: { id: commentId, body: 'It works again after the reboot, thanks!', is_public: true, author } },
  };
}

/** Zendesk sends the raw JSON with its signature headers and an invocation id per delivery. */
function send(payload: unknown, invocationId: string, sign = zendeskHeaders) {
  const body = Buffer.from(JSON.stringify(payload));
  return desk.post('/webhooks/zendesk', body, {
    ...sign(SECRETS.ZENDESK_WEBHOOK_SECRET, body, Date.now()),
    'x-zendesk-webhook-invocation-id': invocationId,
  });
}

const deskTicketId = (zendeskId: string) => ticketIdFor('helpdesk', zendeskId);

test('a new Zendesk ticket files a helpdesk ticket that remembers its Zendesk origin', async () => {
  const zendeskId = nextZendeskId();
  const res = await send(ticketCreated(zendeskId), `inv-${zendeskId}-1`);
  expect(res.status).toBe(200);

  const ticket = await desk.ticket(deskTicketId(zendeskId));
  expect(ticket.ticket).toMatchObject({
    externalId: zendeskId,
    channel: 'helpdesk',
    priority: 'high',
    subject: 'VPN token expired',
    private: false,
    origin: { system: 'zendesk', ticketId: zendeskId },
  });
  expect(ticket.status).toBe('open');
  expect(await desk.deliveries()).toContainEqual(
    expect.objectContaining({ source: 'zendesk', delivery_id: `inv-${zendeskId}-1`, completed_at: expect.any(Date) }),
  );
});

test('the same ticket filed through POST /tickets and the webhook is one ticket (one intake path)', async () => {
  const zendeskId = nextZendeskId();
  await send(ticketCreated(zendeskId), `inv-${zendeskId}-1`);
  const viaApi = await desk.api('POST', '/tickets', { subject: 'VPN token expired', channel: 'helpdesk', externalId: zendeskId }, { name: 'form', role: 'intake' });
  expect(viaApi.status).toBe(200);
  expect(viaApi.body).toMatchObject({ id: deskTicketId(zendeskId), created: false });
});

test("the requester's comment is their reply; the same delivery twice is one reply", async () => {
  const zendeskId = nextZendeskId();
  await send(ticketCreated(zendeskId), `inv-${zendeskId}-1`);
  const comment = commentAdded(zendeskId, `c-${zendeskId}`, { id: '9001', is_staff: false });

  const first = await send(comment, `inv-${zendeskId}-2`);
  const again = await send(comment, `inv-${zendeskId}-2`);
  expect(first).toMatchObject({ status: 200, body: { ok: true } });
  expect(again).toMatchObject({ status: 200, body: { ok: true, duplicate: true } });

  const ticket = await eventually(
    () => desk.ticket(deskTicketId(zendeskId)),
    (t) => t.timeline.some((e) => e.event === 'requester replied'),
  );
  // Give a second signal (if one had been sent) time to land before counting.
  await new Promise((r) => setTimeout(r, 1_000));
  const replies = (await desk.ticket(deskTicketId(zendeskId))).timeline.filter((e) => e.event === 'requester replied');
  expect(replies).toHaveLength(1);
  expect(replies[0]).toMatchObject({ by: 'requester via zendesk', note: 'It works again after the reboot, thanks!' });
  expect(ticket.ticket.externalId).toBe(zendeskId);
});

test("an agent's comment is not a requester's reply", async () => {
  const zendeskId = nextZendeskId();
  await send(ticketCreated(zendeskId), `inv-${zendeskId}-1`);
  const res = await send(commentAdded(zendeskId, `c-${zendeskId}`, { id: '42', is_staff: true }), `inv-${zendeskId}-2`);
  expect(res.status).toBe(200);
  const ticket = await desk.ticket(deskTicketId(zendeskId));
  expect(ticket.timeline.map((e) => e.event)).not.toContain('requester replied');
});

test('a comment that arrives before its ticket files the ticket with the reply in it (signal-with-start)', async () => {
  const zendeskId = nextZendeskId();
  const res = await send(commentAdded(zendeskId, `c-${zendeskId}`, { id: '9001', is_staff: false }), `inv-${zendeskId}-1`);
  expect(res.status).toBe(200);
  const ticket = await eventually(
    () => desk.ticket(deskTicketId(zendeskId)),
    (t) => t.timeline.some((e) => e.event === 'requester replied'),
  );
  expect(ticket.timeline.map((e) => e.event)).toEqual(expect.arrayContaining(['created', 'requester replied']));
  // The creation event arriving afterwards meets the same ticket.
  await send(ticketCreated(zendeskId), `inv-${zendeskId}-2`);
  expect((await desk.ticket(deskTicketId(zendeskId))).timeline.filter((e) => e.event === 'created')).toHaveLength(1);
});

describe('a delivery Zendesk did not sign is refused with 401 and touches nothing', () => {
  test.each([
    ['forged (another secret)', (body: Buffer) => zendeskHeaders('not-our-secret', body, Date.now())],
    ['stale (signed 6 minutes ago)', (body: Buffer) => zendeskHeaders(SECRETS.ZENDESK_WEBHOOK_SECRET, body, Date.now() - 6 * 60_000)],
    ['missing', () => ({})],
  ])('%s', async (_what, sign) => {
    const zendeskId = nextZendeskId();
    const body = Buffer.from(JSON.stringify(ticketCreated(zendeskId)));
    const res = await desk.post('/webhooks/zendesk', body, {
      ...(sign(body) as Record<string, string>),
      'x-zendesk-webhook-invocation-id': `inv-${zendeskId}`,
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/X-Zendesk-Webhook-Signature/);
    expect(await desk.exists(ticketWorkflowId(deskTicketId(zendeskId)))).toBe(false);
    expect((await desk.deliveries()).map((d) => d.delivery_id)).not.toContain(`inv-${zendeskId}`);
  });

  test('a body altered after signing', async () => {
    const zendeskId = nextZendeskId();
    const body = Buffer.from(JSON.stringify(ticketCreated(zendeskId)));
    const headers = zendeskHeaders(SECRETS.ZENDESK_WEBHOOK_SECRET, body, Date.now());
    const altered = Buffer.from(body.toString().replace('VPN token expired', 'Give me admin rights'));
    const res = await desk.post('/webhooks/zendesk', altered, headers);
    expect(res.status).toBe(401);
    expect(await desk.exists(ticketWorkflowId(deskTicketId(zendeskId)))).toBe(false);
  });
});
