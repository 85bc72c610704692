// What happens around a ticket's notifications, on the time-skipping server: the satisfaction pulse
// filed in the feedback project, a requester writing after resolution, and a chat system that stays
// down, which must not hold up the escalation chain.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { logIntegrations, type Integrations } from '../activities/integrations';
import type { Notifier } from '../activities/notifier';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../domain/policy';
import {
  rateSatisfactionUpdate,
  requesterRepliedSignal,
  resolveUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  type Notification,
  type TicketActionResult,
  type TicketIntake,
  type TicketView,
} from '../domain/ticket';
import type { WorkflowHandle } from '@temporalio/client';
import { eventually } from '../test/eventually';
import { actThenView, messageRef } from '../test/actions';
import type { UpdateDefinition } from '@temporalio/common';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { ticketWorkflow } from './ticket';

const H = 3_600_000;
const taskQueue = 'ticket-feedback-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;

/** Issues the tracker was asked to create, as the feedback project would receive them. */
const issuesFiled: Array<Parameters<Integrations['tracker']['createIssue']>[0]> = [];
/** Chat that is down: every warning fails as a 503 would, retryably, for as long as it is asked. */
let chatDown = false;
const flakyNotifier: Notifier = {
  driver: 'test',
  async deliver(n: Notification) {
    if (chatDown && n.kind === 'warning') throw ApplicationFailure.retryable('Slack answered 503', 'Unavailable');
  },
};

const withWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: () => {
    const log = logIntegrations(pino({ level: 'silent' }));
    return {
      notifier: flakyNotifier,
      integrations: {
        ...log,
        tracker: {
          ...log.tracker,
          async createIssue(issue) {
            issuesFiled.push(issue);
            return log.tracker.createIssue(issue);
          },
        },
      },
    };
  },
});

beforeEach(() => {
  issuesFiled.length = 0;
  chatDown = false;
});

/** An action, then the ticket as the agent sees it afterwards. */
const act = <I>(h: WorkflowHandle, update: UpdateDefinition<TicketActionResult, [I]>, input: I): Promise<TicketView> =>
  actThenView(h, update as UpdateDefinition<unknown, [I]>, input, ticketStateQuery);

async function fileTicket(overrides: Partial<TicketIntake> = {}, policy = DEFAULT_POLICY) {
  const ticket: TicketIntake = {
    id: `t-${randomBytes(4).toString('hex')}`,
    externalId: null,
    channel: 'helpdesk',
    tier: 1,
    priority: 'normal',
    subject: 'Payslip shows the wrong address',
    description: '',
    requester: { name: 'Sam' },
    private: false,
    ...overrides,
  };
  return env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(policy, ticket.channel) }],
  });
}

describe('the satisfaction pulse', () => {
  it('files both answers once as an issue in the feedback project', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Corrected.') }] });
      await act(h, rateSatisfactionUpdate, { resolved: true, score: 4, comment: 'Quick, thanks' });
      // Filed beside the loop: the answer to the action does not wait for the tracker.
      const rated = await eventually(() => h.query(ticketStateQuery), (v) => v.timeline.some((e) => e.event === 'satisfaction filed'));
      expect(rated.timeline.map((e) => e.event)).toContain('satisfaction filed');
      expect(issuesFiled).toHaveLength(1);
      expect(issuesFiled[0]).toMatchObject({
        project: 'support/feedback',
        title: expect.stringContaining('4/5'),
        labels: ['satisfaction', 'satisfaction::4', 'resolved::yes'],
        confidential: false,
      });
      expect(issuesFiled[0]!.description).toContain('Comment: Quick, thanks');
      const { rows } = await db.pool.query('SELECT 1 FROM external_effects WHERE idempotency_key = $1', [
        `${h.workflowId}:${h.firstExecutionRunId}:satisfaction-feedback:0`,
      ]);
      expect(rows).toHaveLength(1);
    });
  });

  it("a private ticket's feedback issue is confidential and leaves the comment out", async () => {
    await withWorker(async () => {
      const h = await fileTicket({ private: true });
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Corrected.') }] });
      await h.executeUpdate(rateSatisfactionUpdate, { args: [{ resolved: false, score: 2, comment: 'my address is 1 Main St' }] });
      await eventually(async () => issuesFiled.length, (n) => n === 1);
      expect(issuesFiled).toHaveLength(1);
      expect(issuesFiled[0]!.confidential).toBe(true);
      expect(issuesFiled[0]!.description).not.toContain('Main St');
      expect(issuesFiled[0]!.title).not.toContain('Payslip');
    });
  });
});

describe('a requester writing after resolution', () => {
  it('is recorded and the desk is told, so they can reopen', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Corrected.') }] });
      await h.signal(requesterRepliedSignal, { message: messageRef('Still the old address'), source: 'zendesk' });
      const s = await eventually(
        () => h.query(ticketStateQuery),
        (v) => v.timeline.some((e) => e.event === 'requester replied after resolution'),
      );
      expect(s.status).toBe('resolved');
      expect(s.timeline.find((e) => e.event === 'requester replied after resolution')?.note).toBe('Still the old address');
      const desk = await eventually(
        () => db.pool.query("SELECT recipients FROM notifications WHERE ticket_id = $1 AND kind = 'reply'", [s.id]),
        (r) => r.rowCount === 1,
      );
      expect(desk.rows).toEqual([{ recipients: ['#support-desk'] }]);
    });
  });
});

describe('a chat system that stays down', () => {
  // The test server does not skip time while an activity is being retried, so the policy gives up after
  // 3 s here (15 minutes by default).
  it('is given up on after the policy\'s limit and recorded; the breach still escalates at exactly 4 h', async () => {
    await withWorker(async () => {
      chatDown = true;
      const h = await fileTicket({}, { ...DEFAULT_POLICY, notificationGiveUpMs: 3_000 });
      const created = (await h.query(ticketStateQuery)).createdAt;
      await env.sleep(4 * H + 1_000);
      const s = await eventually(() => h.query(ticketStateQuery), (v) => v.escalations.length === 1);
      expect(s.integrationFailures).toEqual([expect.objectContaining({ step: expect.stringMatching(/^warning:acknowledge:/) })]);
      expect(s.escalations[0]!.at - created).toBeGreaterThanOrEqual(4 * H);
      expect(s.escalations[0]!.at - created).toBeLessThan(4 * H + 1_000);
    });
  });
});
