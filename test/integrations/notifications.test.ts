// A ticket's notifications through the worker with the real Slack and Zendesk drivers configured by
// environment (only the base URLs point at local fakes), on the time-skipping server and PostgreSQL.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { integrationsFromEnv } from '../../activities/drivers';
import { IntegrationNotifier } from '../../activities/notifier';
import { DEFAULT_POLICY, resolveTicketPolicy, type Policy } from '../../domain/policy';
import {
  acknowledgeUpdate,
  resolveUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  type TicketIntake,
  type TicketView,
} from '../../domain/ticket';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { testCredentials } from '../credentials';
import type { ticketWorkflow } from '../../workflows/ticket';
import { eventually } from '../eventually';
import { messageRef } from '../actions';
import { FakeSlack } from '../fakes/slack';
import { FakeZendesk } from '../fakes/zendesk';
import { slackAndZendeskVariables } from '../fakes/configuration';
import { testKeys } from '../encryption';
import type { TestDatabase } from '../postgres';
import { timeSkippingDesk } from '../time-skipping';
import { ticketIntake } from '../intakes';

const H = 3_600_000;
const taskQueue = 'notification-tests';

let db: TestDatabase;
let env: TestWorkflowEnvironment;
let slack: FakeSlack;
let zendesk: FakeZendesk;
/** Everything the worker logged, to prove a private ticket's words stay out of it. */
let logLines: string[];

/** A fresh time-skipping server and a worker configured like production, pointed at the fakes. */
const withDeskWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: (database) => {
    logLines = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    const integrations = integrationsFromEnv(slackAndZendeskVariables(slack, zendesk), log);
    return { notifier: new IntegrationNotifier(integrations, database.pool, log), integrations };
  },
});

/** Fresh fakes for every test, stopped after it. */
async function withWorker<T>(fn: () => Promise<T>): Promise<T> {
  [slack, zendesk] = await Promise.all([new FakeSlack().start(), new FakeZendesk().start()]);
  try {
    return await withDeskWorker(fn);
  } finally {
    await Promise.all([slack.stop(), zendesk.stop()]);
  }
}

async function fileTicket(overrides: Partial<TicketIntake>, policy: Policy = DEFAULT_POLICY): Promise<WorkflowHandle<typeof ticketWorkflow>> {
  const ticket = ticketIntake(overrides);
  return env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(policy, ticket.channel) }],
  });
}

const state = (h: WorkflowHandle): Promise<TicketView> => h.query(ticketStateQuery);

describe('ticket notifications through the real drivers', () => {
  test("a Zendesk ticket's warning reaches the desk's Slack channel and its acknowledgement is a public Zendesk comment", async () => {
    await withWorker(async () => {
      const helpdeskTicket = zendesk.addTicket('4242');
      const h = await fileTicket({ origin: { system: 'zendesk', ticketId: '4242' } });

      await env.sleep(3 * H + 1_000); // past 75 % of the 4 h acknowledgement target
      await eventually(async () => slack.messages.length, (n) => n === 1);
      expect(slack.messages).toEqual([
        expect.objectContaining({ channel: '#support-desk', text: expect.stringContaining('left on the acknowledgement target') }),
      ]);

      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'ana' }] });
      // The comment is an activity that finishes after the update answered.
      await eventually(async () => helpdeskTicket.comments.length, (n) => n > 0);
      expect(helpdeskTicket.comments).toEqual([
        { id: expect.any(Number), body: 'We have your request "Cannot log in to the VPN" and are on it.', public: true },
      ]);
      expect(slack.messages).toHaveLength(1);
    });
  });

  test('a private ticket never reaches a public channel: only DMs and the private channel the policy names', async () => {
    const policy: Policy = { ...DEFAULT_POLICY, warningRecipients: ['#support-desk', '#desk-private'], privateChannels: ['#desk-private'] };
    await withWorker(async () => {
      const h = await fileTicket(
        {
          private: true,
          subject: 'Salary slip shows the wrong IBAN',
          origin: { system: 'slack', channel: '#general', threadTs: '1700000000.000100', user: 'U42' },
        },
        policy,
      );

      await env.sleep(3 * H + 1_000); // warning to #support-desk and #desk-private
      await eventually(async () => slack.messages.length, (n) => n > 0);
      await env.sleep(H); // breach: level 1 is #support-escalations
      await eventually(() => state(h), (s) => s.escalations.length === 1);
      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'ana' }] });

      // Both are activities that finish after the escalation was queued and the update answered.
      const withheld = (l: string) => l.includes('#support-escalations') && l.includes('[private]');
      await eventually(async () => logLines.some(withheld), (logged) => logged);
      await eventually(async () => slack.messages.some((m) => m.channel === 'DU42'), (sent) => sent);
      const channels = slack.messages.map((m) => m.channel);
      expect(channels).toEqual(['#desk-private', 'DU42']);
      expect(slack.messages[1]!.text).toContain('Salary slip shows the wrong IBAN');
      for (const m of slack.messages) expect(m.channel === '#desk-private' || m.channel.startsWith('D')).toBe(true);
      // What was withheld is logged without the ticket's words.
      expect(logLines.join('\n')).not.toContain('Salary slip');
      expect(logLines.some(withheld)).toBe(true);
    });
  });

  test('a notification Zendesk refuses (404) is recorded on the ticket and shown to operators, and the ticket goes on', async () => {
    await withWorker(async () => {
      const h = await fileTicket({ origin: { system: 'zendesk', ticketId: '999' } });

      const answer = await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'ana' }] });
      expect(answer.status).toBe('acknowledged');
      // The refusal comes back beside the loop; the acknowledgement itself answered at once.
      const acknowledged = await eventually(() => h.query(ticketStateQuery), (v) => v.integrationFailures.length === 1);
      expect(acknowledged.integrationFailures).toEqual([
        {
          at: expect.any(Number),
          step: expect.stringMatching(/^acknowledgement:/),
          system: 'Zendesk',
          message: expect.stringMatching(/^Zendesk answered 404 .*ticket 999/),
        },
      ]);
      expect(acknowledged.timeline.map((e) => e.event)).toContain('notification refused');
      expect(zendesk.requests).toHaveLength(1); // not retried

      const metadata = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toContain('Notifications refused or given up (not retried): 1');

      await h.executeUpdate(resolveUpdate, { args: [{ by: 'ana', resolution: messageRef('Reset the token.') }] });
      const resolved = await eventually(() => h.query(ticketStateQuery), (v) => v.integrationFailures.length === 3);
      expect(resolved.status).toBe('resolved');
      expect(resolved.integrationFailures.map((f) => f.step.split(':')[0]).sort()).toEqual(['acknowledgement', 'resolution', 'satisfaction-survey']);
    });
  });

  test('POST /tickets carries the origin through, and an agent acknowledging through the API answers on the Zendesk ticket', async () => {
    await withWorker(async () => {
      const helpdeskTicket = zendesk.addTicket('777');
      const credentials = await testCredentials(db.pool);
      const ana = await credentials.headers('ana', 'agent');
      const app = createApp({ client: env.client, pool: db.pool, policy: DEFAULT_POLICY, taskQueue, temporalUiUrl: 'http://ui', auth: credentials.auth, encryptionKeys: testKeys });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const filed = await fetch(`${api}/tickets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...ana },
          body: JSON.stringify({
            externalId: `zd-777-${randomBytes(3).toString('hex')}`,
            subject: 'Invoice missing',
            origin: { system: 'zendesk', ticketId: '777' },
          }),
        });
        expect(filed.status).toBe(201);
        const { id } = (await filed.json()) as { id: string };
        const acknowledged = await fetch(`${api}/tickets/${id}/acknowledge`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...ana },
          body: JSON.stringify({}),
        });
        expect(acknowledged.status).toBe(200);
        expect(await acknowledged.json()).toMatchObject({ status: 'acknowledged', links: { self: `/tickets/${id}` } });
        const ticket = (await (await fetch(`${api}/tickets/${id}`, { headers: ana })).json()) as TicketView;
        expect(ticket.ticket.origin).toEqual({ system: 'zendesk', ticketId: '777' });
        await eventually(async () => helpdeskTicket.comments.length, (n) => n === 1);
        expect(helpdeskTicket.comments.map((c) => [c.body, c.public])).toEqual([['We have your request "Invoice missing" and are on it.', true]]);

        const invalid = await fetch(`${api}/tickets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...ana },
          body: JSON.stringify({ subject: 'x', origin: { system: 'slack', channel: '#help' } }),
        });
        expect(invalid.status).toBe(400);
        expect(JSON.stringify(await invalid.json())).toContain('origin');
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
