// The `escalate` action (an agent, the :escalate: reaction, POST /tickets/:id/escalate) on the
// time-skipping test server with the real activities on PostgreSQL: the escalation chain starts at
// level 1 at once and runs on its own timers, stops when the ticket is resolved, and a breach that
// comes later is recorded without starting the chain over.
import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../domain/policy';
import {
  acknowledgeUpdate,
  escalateUpdate,
  resolveUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  type TicketActionResult,
  type TicketIntake,
  type TicketView,
} from '../domain/ticket';
import { eventually } from '../test/eventually';
import { actThenView, messageRef } from '../test/actions';
import type { UpdateDefinition } from '@temporalio/common';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { ticketWorkflow } from './ticket';

const H = 3_600_000;
const taskQueue = 'ticket-escalate-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
// A fresh time-skipping server and desk worker for every test (test/time-skipping.ts says why).
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

async function fileAcknowledgedTicket(): Promise<WorkflowHandle<typeof ticketWorkflow>> {
  const ticket: TicketIntake = {
    id: `t-${randomBytes(4).toString('hex')}`,
    externalId: null,
    channel: 'helpdesk',
    tier: 1,
    priority: 'normal',
    subject: 'Payroll export fails',
    description: '',
    requester: {},
    private: false,
  };
  const handle = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, ticket.channel) }],
  });
  // Acknowledged, so only the resolution clock (24 h for tier 1) is running.
  await handle.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
  return handle;
}

const state = (h: WorkflowHandle): Promise<TicketView> => h.query(ticketStateQuery);
/** An action, then the ticket as the agent sees it afterwards. */
const act = <I>(h: WorkflowHandle, update: UpdateDefinition<TicketActionResult, [I]>, input: I): Promise<TicketView> =>
  actThenView(h, update as UpdateDefinition<unknown, [I]>, input, ticketStateQuery);
const escalationsOf = async (ticketId: string) =>
  (
    await db.pool.query<{ recipients: string[]; body: string }>(
      "SELECT recipients, body FROM notifications WHERE ticket_id = $1 AND kind = 'escalation' ORDER BY sent_at",
      [ticketId],
    )
  ).rows;

it("an agent's escalation notifies level 1 at once and level 2 an hour later, though no target was missed", async () => {
  await withWorker(async () => {
    const h = await fileAcknowledgedTicket();
    const id = h.workflowId.slice('ticket-'.length);
    const escalated = await act(h, escalateUpdate, { by: 'lead', reason: 'key account' });
    expect(escalated.escalations).toEqual([expect.objectContaining({ sla: 'resolution', level: 1, repeat: 1, manual: true })]);
    expect(escalated.breached).toBe(false);
    expect(escalated.timeline).toContainEqual(expect.objectContaining({ event: 'escalated by an agent', by: 'lead', note: 'key account' }));
    // The notification goes out beside the loop, not before the action answers.
    expect(await eventually(() => escalationsOf(id), (rows) => rows.length > 0)).toEqual([
      { recipients: ['#support-escalations'], body: `Ticket ${id} was escalated by lead (key account): escalation level 1.` },
    ]);

    // env.sleep is relative to the server's current time, which real time spent above has moved on:
    // the moments are computed from the escalation's own (workflow) time.
    const level2Due = escalated.escalations[0]!.at + H;
    await env.sleep(level2Due - 10_000 - (await env.currentTimeMs())); // just before; the look takes real time
    expect((await state(h)).escalations).toHaveLength(1);
    await env.sleep(Math.max(0, level2Due - (await env.currentTimeMs())));
    const next = await eventually(() => state(h), (s) => s.escalations.length === 2);
    expect(next.escalations[1]).toMatchObject({ level: 2, repeat: 1, notified: ['support-manager'], manual: true, dueAt: level2Due });
    // Both moments are workflow time: level 2 not before 1 h after level 1, and not much later either.
    const gap = next.escalations[1]!.at - next.escalations[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(H);
    expect(gap).toBeLessThan(H + 5_000);
    expect(next.breaches).toEqual([]);
  });
});

it('resolving the ticket stops an escalation an agent started', async () => {
  await withWorker(async () => {
    const h = await fileAcknowledgedTicket();
    await h.executeUpdate(escalateUpdate, { args: [{ by: 'lead', reason: 'key account' }] });
    await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Fixed the export.') }] });
    await env.sleep(6 * H);
    const s = await eventually(() => state(h), (v) => v.timeline.some((e) => e.event === 'escalation of resolution stopped'));
    expect(s.escalations).toHaveLength(1);
    expect(s.timeline).toContainEqual(expect.objectContaining({ event: 'escalation of resolution stopped', note: 'target met' }));
  });
});

it('a breach during an escalation an agent started is recorded, and the chain carries on rather than starting over', async () => {
  await withWorker(async () => {
    const h = await fileAcknowledgedTicket();
    await env.sleep(23 * H);
    await h.executeUpdate(escalateUpdate, { args: [{ by: 'lead', reason: 'customer called twice' }] });
    await env.sleep(H + 1_000); // the 24 h resolution target, and the chain's next step
    const s = await eventually(() => state(h), (v) => v.breaches.length === 1 && v.escalations.length === 2);
    expect(s.breaches).toEqual([expect.objectContaining({ sla: 'resolution', episode: 0 })]);
    expect(s.timeline).toContainEqual(expect.objectContaining({ event: 'resolution breached', note: 'already escalated by an agent' }));
    expect(s.escalations.map((e) => [e.level, e.repeat])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });
});

it('an escalation is refused while one is running, and on a resolved ticket', async () => {
  await withWorker(async () => {
    const h = await fileAcknowledgedTicket();
    await h.executeUpdate(escalateUpdate, { args: [{ by: 'lead', reason: 'key account' }] });
    await expect(h.executeUpdate(escalateUpdate, { args: [{ by: 'lead', reason: 'again' }] })).rejects.toThrow(WorkflowUpdateFailedError);
    await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Done.') }] });
    const refused = await h.executeUpdate(escalateUpdate, { args: [{ by: 'lead', reason: 'late' }] }).catch((e) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refused.cause).toMatchObject({ type: 'ActionNotAllowed', message: 'the ticket is resolved; reopen it first' });
  });
});
