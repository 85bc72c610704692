// End to end through the real drivers and local Slack and Zendesk: a Zendesk webhook opens a ticket,
// the Slack notifier posts about it to the fake Slack, a lead's :escalate: on that post escalates it,
// and an agent's slash command acknowledges it, which answers the requester in Zendesk.
import type { WorkflowBundle } from '@temporalio/worker';
import { integrationsFromEnv } from '../../activities/drivers';
import { IntegrationNotifier } from '../../activities/notifier';
import { ticketIdFor } from '../../api/ticket';
import { DEMO_POLICY } from '../../domain/policy';
import { slackAndZendeskVariables } from '../fakes/configuration';
import { FakeSlack, type SlackMessage } from '../fakes/slack';
import { FakeZendesk } from '../fakes/zendesk';
import { eventually } from '../eventually';
import { bundleWorkflows } from '../temporal';
import { quiet, SECRETS, startWebhookDesk, type WebhookDesk } from './desk';
import { slackHeaders, zendeskHeaders } from './signing';

let bundle: WorkflowBundle;
let desk: WebhookDesk;
let slack: FakeSlack;
let zendesk: FakeZendesk;

beforeAll(async () => {
  [bundle, slack, zendesk] = await Promise.all([bundleWorkflows(), new FakeSlack().start(), new FakeZendesk().start()]);
  // The same variables a user sets for the real services; only the base URLs point at the fakes.
  const integrations = integrationsFromEnv(slackAndZendeskVariables(slack, zendesk), quiet);
  desk = await startWebhookDesk({
    bundle,
    integrations,
    notifier: (pool) => new IntegrationNotifier(integrations, pool, quiet),
    // The demo policy (acknowledge within 20 s), warning the desk after 10 % of it: 2 s.
    policy: { ...DEMO_POLICY, warningShare: 0.1 },
  });
}, 180_000);

afterAll(async () => {
  await desk?.stop();
  await Promise.all([slack?.stop(), zendesk?.stop()]);
});

function signedJson(path: string, payload: unknown, headers: (body: Buffer) => Record<string, string>, extra = {}) {
  const body = Buffer.from(JSON.stringify(payload));
  return desk.post(path, body, { ...headers(body), ...extra });
}

test('a Zendesk ticket reaches Slack, is escalated from Slack, and an agent acknowledges it with /support', async () => {
  const zendeskId = String(880_000 + (process.pid % 1000));
  zendesk.addTicket(zendeskId);

  // 1. Zendesk: a customer opens a ticket.
  const created = await signedJson(
    '/webhooks/zendesk',
    {
      id: `evt-${zendeskId}`,
      type: 'zen:event-type:ticket.created',
      subject: `zen:ticket:${zendeskId}`,
      time: new Date().toISOString(),
      zendesk_event_version: '2022-11-06',
      detail: { id: zendeskId, subject: 'Invoices page is blank', description: 'Since the update.', priority: 'NORMAL', requester_id: '5150' },
      event: {},
    },
    (body) => zendeskHeaders(SECRETS.ZENDESK_WEBHOOK_SECRET, body),
    { 'x-zendesk-webhook-invocation-id': `inv-${zendeskId}` },
  );
  expect(created.status).toBe(200);
  const id = ticketIdFor('helpdesk', zendeskId);

  // 2. The Slack notifier tells the desk channel the acknowledgement target is running out.
  const aboutTicket = (m: SlackMessage) => m.text.includes(id);
  const [warning] = await eventually(
    async () => slack.messages.filter((m) => m.channel === '#support-desk' && aboutTicket(m)),
    (found) => found.length > 0,
    20_000,
  );
  expect(warning).toBeDefined();

  // 3. A lead reacts :escalate: to that post: Slack tells us which message, we find the ticket.
  const reacted = await signedJson(
    '/webhooks/slack',
    {
      type: 'event_callback',
      event_id: `EvE2E${zendeskId}`,
      event: { type: 'reaction_added', user: 'U0LEAD', reaction: 'escalate', item: { type: 'message', channel: warning!.channel, ts: warning!.ts } },
    },
    (body) => ({ 'content-type': 'application/json', ...slackHeaders(SECRETS.SLACK_SIGNING_SECRET, body) }),
  );
  expect(reacted.status).toBe(200);
  await eventually(
    async () => slack.messages.filter((m) => m.channel === '#support-escalations' && aboutTicket(m)),
    (found) => found.length === 1,
  );

  // 4. An agent acknowledges it with the slash command and is answered privately.
  const form = new URLSearchParams({
    command: '/support',
    text: `ack ${id}`,
    user_id: 'U0ALICE',
    user_name: 'alice',
    channel_id: 'C0DESK',
    response_url: 'http://127.0.0.1:9/unused',
    trigger_id: `trig-${zendeskId}`,
  }).toString();
  const ack = await desk.post('/webhooks/slack', form, {
    'content-type': 'application/x-www-form-urlencoded',
    ...slackHeaders(SECRETS.SLACK_SIGNING_SECRET, Buffer.from(form)),
  });
  expect(ack.body).toEqual({ response_type: 'ephemeral', text: expect.stringContaining(`Ticket ${id} acknowledged`) });

  // The requester hears it where they asked: a public comment on their Zendesk ticket.
  const ticket = await desk.ticket(id);
  expect(ticket).toMatchObject({ status: 'acknowledged', escalations: [expect.objectContaining({ manual: true, level: 1 })] });
  await eventually(async () => zendesk.tickets.get(zendeskId)!.comments, (c) => c.length > 0);
  expect(zendesk.tickets.get(zendeskId)!.comments).toEqual([
    expect.objectContaining({ public: true, body: 'We have your request "Invoices page is blank" and are on it.' }),
  ]);
  // One post per intended message on Slack: one warning, one escalation.
  expect(slack.messages.filter(aboutTicket).map((m) => m.channel).sort()).toEqual(['#support-desk', '#support-escalations']);
}, 60_000);
