// Slack's signature proves the request came from the workspace, not that its user is a desk agent:
// with SLACK_AGENT_USERS set, only those Slack users acknowledge, resolve or escalate from Slack.
import type { WorkflowBundle } from '@temporalio/worker';
import { eventually } from '../eventually';
import { bundleWorkflows } from '../temporal';
import { SECRETS, startWebhookDesk, type WebhookDesk } from './desk';
import { slackHeaders } from './signing';

let bundle: WorkflowBundle;
let desk: WebhookDesk;

beforeAll(async () => {
  bundle = await bundleWorkflows();
  desk = await startWebhookDesk({ bundle, env: { SLACK_AGENT_USERS: 'U0ALICE, U0BOB' } });
});

afterAll(async () => {
  await desk?.stop();
});

function command(text: string, userId: string) {
  const body = new URLSearchParams({ team_id: 'T0001', channel_id: 'C0DESK', user_id: userId, user_name: userId.toLowerCase(), command: '/support', text }).toString();
  return desk.post('/webhooks/slack', body, { ...slackHeaders(SECRETS.SLACK_SIGNING_SECRET, Buffer.from(body)), 'content-type': 'application/x-www-form-urlencoded' });
}

test('a Slack user who is not listed is told so and changes nothing; a listed one acts', async () => {
  const filed = await desk.api('POST', '/tickets', { subject: 'Laptop will not boot' }, { name: 'form', role: 'intake' });
  const id = filed.body.id as string;
  const refused = await command(`ack ${id}`, 'U0MALLORY');
  expect(refused.body).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/SLACK_AGENT_USERS/) });
  expect((await command(`resolve ${id} done`, 'U0MALLORY')).body.text).toMatch(/SLACK_AGENT_USERS/);
  expect((await desk.ticket(id)).status).toBe('open');
  // Reading the status is not acting.
  expect((await command(`status ${id}`, 'U0MALLORY')).body.text).toBe(`Ticket ${id} is open, tier 1, assignee nobody.`);

  const acked = await command(`ack ${id}`, 'U0BOB');
  expect(acked.body.text).toContain(`Ticket ${id} acknowledged`);
  const ticket = await eventually(() => desk.ticket(id), (t) => t.status === 'acknowledged');
  expect(ticket.timeline).toContainEqual(expect.objectContaining({ event: 'acknowledged', by: 'slack:U0BOB' }));
});
