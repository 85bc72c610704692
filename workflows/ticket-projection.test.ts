// The PostgreSQL projection never holds up a clock, on the time-skipping server with the real
// activities: a row PostgreSQL refuses for good (here a NUL in the subject, which a client reaching
// Temporal directly could send; the API refuses it at the boundary) is recorded on the ticket and shown
// to operators, and the ticket still warns, breaches and escalates on time. (Before the state model
// the loop awaited the write, which was retried for ever: no timer of that ticket ever ran.)
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../domain/policy';
import { acknowledgeUpdate, ticketStateQuery, ticketWorkflowId, type TicketIntake } from '../domain/ticket';
import { eventually } from '../test/eventually';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { ticketWorkflow } from './ticket';

const H = 3_600_000;
const taskQueue = 'ticket-projection-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

it('a projection PostgreSQL refuses is recorded and shown; the ticket still escalates at exactly 4 h', async () => {
  await withWorker(async () => {
    const ticket: TicketIntake = {
      id: `t-${randomBytes(4).toString('hex')}`,
      externalId: null,
      channel: 'helpdesk',
      tier: 1,
      priority: 'normal',
      subject: 'a\u0000b',
      description: '',
      requester: {},
      private: false,
    };
    const h = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
      taskQueue,
      workflowId: ticketWorkflowId(ticket.id),
      args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, ticket.channel) }],
    });
    const refused = await eventually(() => h.query(ticketStateQuery), (s) => s.projection.refused !== null);
    expect(refused.projection.refused!.message).toMatch(/PostgreSQL refused the projection \(22/);
    const metadata = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('Projection refused by PostgreSQL');
    expect((await db.pool.query('SELECT 1 FROM tickets WHERE id = $1', [ticket.id])).rowCount).toBe(0);

    const created = refused.createdAt;
    await env.sleep(4 * H + 1_000);
    const escalated = await eventually(() => h.query(ticketStateQuery), (s) => s.escalations.length === 1);
    expect(escalated.timeline.map((e) => e.event)).toEqual(expect.arrayContaining(['acknowledge warning', 'acknowledge breached']));
    expect(escalated.escalations[0]!.at - created).toBeGreaterThanOrEqual(4 * H);
    expect(escalated.escalations[0]!.at - created).toBeLessThan(4 * H + 1_000);

    // An update still answers (its change cannot be in the lists: visible false), and says so at once.
    const answer = await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
    expect(answer).toMatchObject({ status: 'acknowledged', visible: false });
  });
});
