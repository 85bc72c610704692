// POST /webhooks/slack against the real API, the dev server and PostgreSQL: a DM to the bot opens a
// private ticket, :escalate: escalates the ticket a message belongs to, /support and the buttons act.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { once } from '../../activities/effects';
import { ticketIdFor } from '../../api/ticket';
import { ticketWorkflowId } from '../../domain/ticket';
import { eventually } from '../eventually';
import { bundleWorkflows } from '../temporal';
import { SECRETS, startWebhookDesk, type WebhookDesk } from './desk';
import { slackHeaders } from './signing';

let bundle: WorkflowBundle;
let desk: WebhookDesk;
/** Stands in for the response_url Slack gives with a command or a button click: what was posted to which path. */
let responseUrl: { server: Server; url: string; answers: Array<{ path: string; body: any }> };

beforeAll(async () => {
  bundle = await bundleWorkflows();
  desk = await startWebhookDesk({ bundle });
  const answers: Array<{ path: string; body: any }> = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      answers.push({ path: req.url ?? '', body: JSON.parse(raw) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  responseUrl = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answers };
}, 180_000);

afterAll(async () => {
  responseUrl?.server.close();
  await desk?.stop();
});

let sequence = 0;
const nextTs = () => `${1_800_000_000 + process.pid}.${String(++sequence).padStart(6, '0')}`;

function signed(body: string, contentType = 'application/json', signedAt = Date.now()) {
  return { 'content-type': contentType, ...slackHeaders(SECRETS.SLACK_SIGNING_SECRET, Buffer.from(body), signedAt) };
}

function sendEvent(event: Record<string, unknown>, eventId = `Ev${nextTs().replace('.', '')}`) {
  const body = JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: 'T0001',
    api_app_id: 'A0001',
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    event,
  });
  return desk.post('/webhooks/slack', body, signed(body));
}

function directMessage(text: string, extra: Record<string, unknown> = {}) {
  return { type: 'message', channel_type: 'im', channel: 'D0BOTDM01', user: 'U0SAM', text, ts: nextTs(), ...extra };
}

function slashCommand(text: string, user: string, responsePath: string) {
  const body = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0001',
    channel_id: 'C0DESK',
    user_id: 'U0ALICE',
    user_name: user,
    command: '/support',
    text,
    response_url: `${responseUrl.url}${responsePath}`,
    trigger_id: `trig-${nextTs()}`,
  }).toString();
  return desk.post('/webhooks/slack', body, signed(body, 'application/x-www-form-urlencoded'));
}

/**
 * What the agent who typed the command reads. The desk answers within Slack's deadline
 * (ANSWER_BUDGET_MS.slack) when it is quick; when it is not (a busy machine), it answers "Working on
 * it…" at once and posts the result to the command's response_url. Either way: one answer, private.
 */
async function commandAnswer(text: string, user = 'alice'): Promise<{ response_type: string; text: string }> {
  const path = `/commands/${++sequence}`;
  const res = await slashCommand(text, user, path);
  expect(res.status).toBe(200);
  if (res.body?.text !== 'Working on it…') {
    expect(res.body).toEqual({ response_type: 'ephemeral', text: expect.any(String) });
    return res.body;
  }
  expect(res.body).toEqual({ response_type: 'ephemeral', text: 'Working on it…' });
  const posted = await eventually(
    async () => responseUrl.answers.filter((a) => a.path === path),
    (found) => found.length > 0,
    30_000,
  );
  expect(posted).toHaveLength(1);
  expect(posted[0]!.body).toEqual({ response_type: 'ephemeral', replace_original: false, text: expect.any(String) });
  return { response_type: posted[0]!.body.response_type, text: posted[0]!.body.text };
}

/** The ticket's state, or null while no ticket of that id was filed (yet). */
const ticketIfFiled = (id: string) =>
  desk.ticket(id).catch((err) => {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  });

/**
 * An event acted on within the answer budget is answered 200; one the desk is still acting on when the
 * budget runs out is answered 202 and finished in the background (the test then waits for its effect).
 */
function expectAccepted(res: { status: number; body: any }): void {
  if (res.status === 202) expect(res.body).toEqual({ ok: true, accepted: true });
  else expect(res).toEqual({ status: 200, body: { ok: true } });
}

/** Sends the event and waits until the desk has finished acting on it (its delivery recorded as done). */
async function actedOn(event: Record<string, unknown>): Promise<void> {
  const eventId = `Ev${nextTs().replace('.', '')}`;
  expectAccepted(await sendEvent(event, eventId));
  const done = await eventually(
    async () => (await desk.deliveries()).find((d) => d.source === 'slack' && d.delivery_id === eventId),
    (d) => d?.completed_at != null,
  );
  expect(done?.completed_at).toEqual(expect.any(Date));
}

async function fileTicket(subject = 'Laptop will not boot'): Promise<string> {
  const res = await desk.api('POST', '/tickets', { subject, requester: { handle: 'U0SAM' } });
  return res.body.id;
}

test("Slack's URL verification challenge is echoed", async () => {
  const body = JSON.stringify({ token: 'x', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
  const res = await desk.post('/webhooks/slack', body, signed(body));
  expect(res).toEqual({ status: 200, body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' } });
});

test('a direct message to the bot opens a private Slack ticket that remembers the conversation', async () => {
  const message = directMessage('My payslip shows the wrong bank account\nIt is IBAN NL00 BANK 0123 4567 89');
  expectAccepted(await sendEvent(message));
  const id = ticketIdFor('slack', `${message.channel}:${message.ts}`);
  // Answered 202 (slower than the budget), the ticket is still being filed: wait until it is there.
  const ticket = (await eventually(() => ticketIfFiled(id), (t) => t !== null))!;
  expect(ticket).not.toBeNull();
  expect(ticket.ticket).toMatchObject({
    channel: 'slack',
    private: true,
    subject: 'My payslip shows the wrong bank account',
    requester: { handle: 'U0SAM' },
    origin: { system: 'slack', channel: 'D0BOTDM01', threadTs: message.ts, user: 'U0SAM' },
  });
});

test("the bot's own messages and edits in a DM open nothing", async () => {
  const fromBot = directMessage('We have your request', { bot_id: 'B0BOT' });
  const edited = directMessage('edited text', { subtype: 'message_changed' });
  await actedOn(fromBot);
  await actedOn(edited);
  expect(await desk.exists(ticketWorkflowId(ticketIdFor('slack', `${fromBot.channel}:${fromBot.ts}`)))).toBe(false);
  expect(await desk.exists(ticketWorkflowId(ticketIdFor('slack', `${edited.channel}:${edited.ts}`)))).toBe(false);
});

test("a reply in the ticket's DM thread is the requester's reply; the same event twice is one reply", async () => {
  const opening = directMessage('Cannot open the expenses tool');
  expectAccepted(await sendEvent(opening));
  const id = ticketIdFor('slack', `${opening.channel}:${opening.ts}`);
  // A reply to a ticket not filed yet is ignored: the thread is the ticket's once it is there.
  await eventually(() => ticketIfFiled(id), (t) => t !== null);
  const reply = directMessage('Here is a screenshot', { thread_ts: opening.ts });
  const eventId = `EvReply${sequence}`;
  expectAccepted(await sendEvent(reply, eventId));
  expect(await sendEvent(reply, eventId)).toMatchObject({ status: 200, body: { duplicate: true } });
  await eventually(() => desk.ticket(id), (t) => t.timeline.some((e) => e.event === 'requester replied'));
  await new Promise((r) => setTimeout(r, 1_000));
  expect((await desk.ticket(id)).timeline.filter((e) => e.event === 'requester replied')).toHaveLength(1);
});

test(':escalate: on a message the desk posted about a ticket escalates that ticket, once per delivery', async () => {
  const id = await fileTicket();
  // What the Slack notifier keeps when it posts about the ticket: Slack's channel and ts, under a
  // key that starts with the workflow id (activities/notifier.ts, through once()).
  await once(desk.db.pool, `${ticketWorkflowId(id)}:warning:acknowledge:0:to:slack:#support-desk`, 'chat', async () => ({
    channel: 'C0DESK',
    ts: '1800000000.999001',
  }));
  const reaction = {
    type: 'reaction_added',
    user: 'U0LEAD',
    reaction: 'escalate',
    item_user: 'U0BOT',
    item: { type: 'message', channel: 'C0DESK', ts: '1800000000.999001' },
    event_ts: nextTs(),
  };
  expectAccepted(await sendEvent(reaction, 'EvEscalate1'));
  expect((await sendEvent(reaction, 'EvEscalate1')).body).toMatchObject({ duplicate: true });

  const ticket = await eventually(() => desk.ticket(id), (t) => t.escalations.length > 0);
  expect(ticket.escalations).toEqual([expect.objectContaining({ sla: 'resolution', level: 1, manual: true })]);
  expect(ticket.timeline).toContainEqual(
    expect.objectContaining({ event: 'escalated by an agent', by: 'slack:U0LEAD', note: 'the :escalate: reaction in Slack' }),
  );
});

test('POST /tickets/:id/escalate is the same action; a resolved ticket refuses it with 409', async () => {
  const id = await fileTicket();
  const escalated = await desk.api('POST', `/tickets/${id}/escalate`, { reason: 'VIP customer' }, { name: 'alice' });
  expect(escalated.status).toBe(200);
  expect(escalated.body).toMatchObject({ event: 'escalated by an agent' });
  expect((await desk.ticket(id)).escalations).toEqual([expect.objectContaining({ level: 1, manual: true, notified: ['#support-escalations'] })]);
  expect((await desk.api('POST', `/tickets/${id}/escalate`, { reason: 'again' }, { name: 'alice' })).body.error).toMatch(
    /already escalating \(level 1\)/,
  );
  expect((await desk.api('POST', `/tickets/${id}/escalate`, {}, { name: 'alice' })).status).toBe(400);

  const other = await fileTicket();
  await desk.api('POST', `/tickets/${other}/resolve`, { resolution: 'Done.' }, { name: 'alice' });
  const refused = await desk.api('POST', `/tickets/${other}/escalate`, { reason: 'too late' }, { name: 'alice' });
  expect(refused).toMatchObject({ status: 409, body: { error: expect.stringMatching(/resolved/) } });
});

test('other reactions, and :escalate: on a message of no ticket, change nothing', async () => {
  const id = await fileTicket();
  await once(desk.db.pool, `${ticketWorkflowId(id)}:warning:acknowledge:0:to:slack:#support-desk`, 'chat', async () => ({
    channel: 'C0DESK',
    ts: '1800000000.999002',
  }));
  const thumbsUp = { type: 'reaction_added', user: 'U0LEAD', reaction: '+1', item: { type: 'message', channel: 'C0DESK', ts: '1800000000.999002' } };
  const elsewhere = { type: 'reaction_added', user: 'U0LEAD', reaction: 'escalate', item: { type: 'message', channel: 'C0RANDOM', ts: '1.2' } };
  await actedOn(thumbsUp);
  await actedOn(elsewhere);
  expect((await desk.ticket(id)).escalations).toEqual([]);
});

test('/support ack acknowledges the ticket and answers the agent privately', async () => {
  const id = await fileTicket();
  const answer = await commandAnswer(`ack ${id}`);
  expect(answer).toEqual({ response_type: 'ephemeral', text: expect.stringContaining(`Ticket ${id} acknowledged`) });
  // The answer is given once the ticket took the action.
  const ticket = await desk.ticket(id);
  expect(ticket.status).toBe('acknowledged');
  expect(ticket.timeline).toContainEqual(expect.objectContaining({ event: 'acknowledged', by: 'slack:U0ALICE' }));

  // A second ack is refused by the ticket itself, and the agent is told why.
  expect((await commandAnswer(`ack ${id}`)).text).toMatch(/already acknowledged/);
});

test('/support resolve and /support status', async () => {
  const id = await fileTicket();
  const resolved = await commandAnswer(`resolve ${id} Replaced the battery; it boots again.`);
  expect(resolved.text).toContain(`Ticket ${id} resolved`);
  const ticket = await desk.ticket(id);
  // The resolution is a message of the conversation: its body is stored, the ticket keeps a preview.
  expect(ticket).toMatchObject({ status: 'resolved', resolution: { preview: 'Replaced the battery; it boots again.' } });
  expect((await commandAnswer(`status ${id}`)).text).toBe(`Ticket ${id} is resolved, tier 1, assignee nobody.`);
  expect((await commandAnswer(`resolve ${id}`)).text).toMatch(/Say how it was resolved/);
  expect((await commandAnswer('status tk-does-not-exist')).text).toMatch(/no such ticket|no ticket/);
  expect((await commandAnswer('dance')).text).toMatch(/^Usage/);
});

test('the ticket_ack button acknowledges and the result goes to the response_url', async () => {
  const id = await fileTicket();
  const payload = {
    type: 'block_actions',
    user: { id: 'U0BOB', username: 'bob' },
    trigger_id: `trig-${nextTs()}`,
    response_url: `${responseUrl.url}/clicks/${++sequence}`,
    actions: [{ action_id: 'ticket_ack', block_id: 'b1', value: id, type: 'button', action_ts: nextTs() }],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await desk.post('/webhooks/slack', body, signed(body, 'application/x-www-form-urlencoded'));
  expect(res.status).toBe(200);
  const answer = await eventually(
    async () => responseUrl.answers.find((a) => String(a.body.text).includes(id))?.body,
    (a) => a !== undefined,
  );
  expect(answer).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(`Ticket ${id} acknowledged`) });
  expect((await desk.ticket(id)).timeline).toContainEqual(expect.objectContaining({ event: 'acknowledged', by: 'slack:U0BOB' }));
});

describe('a request Slack did not sign is refused with 401 and touches nothing', () => {
  test.each([
    ['forged', (body: string) => ({ 'content-type': 'application/json', ...slackHeaders('another-secret', Buffer.from(body)) })],
    ['stale (6 minutes old)', (body: string) => signed(body, 'application/json', Date.now() - 6 * 60_000)],
    ['missing', () => ({ 'content-type': 'application/json' })],
  ])('%s', async (_what, headers) => {
    const message = directMessage('Please reset my password');
    const eventId = `EvUnsigned${sequence}`;
    const body = JSON.stringify({ type: 'event_callback', event_id: eventId, event: message });
    const res = await desk.post('/webhooks/slack', body, headers(body));
    expect(res.status).toBe(401);
    expect(await desk.exists(ticketWorkflowId(ticketIdFor('slack', `${message.channel}:${message.ts}`)))).toBe(false);
    expect((await desk.deliveries()).map((d) => d.delivery_id)).not.toContain(eventId);
  });

  test('a forged slash command acknowledges nothing', async () => {
    const id = await fileTicket();
    const body = new URLSearchParams({ command: '/support', text: `ack ${id}`, user_name: 'mallory' }).toString();
    const res = await desk.post('/webhooks/slack', body, {
      'content-type': 'application/x-www-form-urlencoded',
      ...slackHeaders('guessed-secret', Buffer.from(body)),
    });
    expect(res.status).toBe(401);
    expect((await desk.ticket(id)).status).toBe('open');
  });
});
