// The ticket workflow's timing on the time-skipping test server: SLA targets, escalation chain,
// pauses, re-tiering, hand-off, reopen and auto-close. Activities are the real ones, on PostgreSQL.
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_POLICY, resolveTicketPolicy, type Policy } from '../domain/policy';
import {
  acknowledgeUpdate,
  assignUpdate,
  changeTierUpdate,
  closeUpdate,
  handOffUpdate,
  reopenUpdate,
  replyUpdate,
  requesterRepliedSignal,
  resolveUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  waitOnRequesterUpdate,
  type TicketActionResult,
  type TicketIntake,
  type TicketView,
} from '../domain/ticket';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { ticketWorkflow } from './ticket';
import { eventually } from '../test/eventually';
import { actThenView, messageRef } from '../test/actions';
import type { UpdateDefinition } from '@temporalio/common';
import { ticketIntake } from '../test/intakes';

const H = 3_600_000;
const M = 60_000;
const taskQueue = 'ticket-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
// A fresh time-skipping server and desk worker for every test (test/time-skipping.ts says why).
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

async function fileTicket(
  overrides: Partial<TicketIntake> = {},
  policy: Policy = DEFAULT_POLICY,
  continueAsNewAfterEvents?: number,
): Promise<WorkflowHandle<typeof ticketWorkflow>> {
  const ticket = ticketIntake(overrides);
  const handle = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(policy, ticket.channel), continueAsNewAfterEvents }],
  });
  return handle;
}

const state = (h: WorkflowHandle): Promise<TicketView> => h.query(ticketStateQuery);
/** An action, then the ticket as the agent sees it afterwards. */
const act = <I>(h: WorkflowHandle, update: UpdateDefinition<TicketActionResult, [I]>, input: I): Promise<TicketView> =>
  actThenView(h, update as UpdateDefinition<unknown, [I]>, input, ticketStateQuery);

/**
 * Moves the test server's clock to `at` (workflow time). env.sleep is relative to the server's
 * current time, and real time spent in the test has already moved it on.
 */
/**
 * How long before a deadline a test looks that it has not happened yet. The look itself takes real
 * time, which moves the test server's clock on, so not 1 ms; "exactly at" is asserted on the times the
 * workflow recorded.
 */
const JUST_BEFORE = 10_000;

async function sleepUntil(at: number): Promise<void> {
  const now = await env.currentTimeMs();
  if (at > now) await env.sleep(at - now);
}

async function notificationsOf(ticketId: string, kind: string): Promise<Array<{ recipients: string[] }>> {
  const { rows } = await db.pool.query(
    'SELECT recipients FROM notifications WHERE ticket_id = $1 AND kind = $2 ORDER BY sent_at',
    [ticketId, kind],
  );
  return rows;
}

describe('acknowledgement SLA (4 h) and the escalation chain', () => {
  it('an unacknowledged ticket escalates to level 1 at exactly 4 h, not before, then to level 2 an hour later', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      const created = (await state(h)).createdAt;

      await env.sleep(3 * H + 1_000); // past the 75 % warning
      const warned = await eventually(() => state(h), (s) => s.timeline.some((e) => e.event === 'acknowledge warning'));
      expect(warned.timeline.some((e) => e.event === 'acknowledge warning')).toBe(true);

      const due = created + 4 * H;
      await sleepUntil(due - JUST_BEFORE); // just before the target
      const before = await state(h);
      expect(before.escalations).toEqual([]);
      expect(before.breached).toBe(false);

      await sleepUntil(due); // the 4 h mark
      const breached = await eventually(() => state(h), (s) => s.escalations.length === 1);
      expect(breached.breaches).toHaveLength(1);
      expect(breached.breaches[0]!.dueAt).toBe(created + 4 * H);
      expect(breached.escalations[0]).toMatchObject({ sla: 'acknowledge', level: 1, repeat: 1 });
      expect(breached.escalations[0]!.at - created).toBeGreaterThanOrEqual(4 * H);
      expect(breached.escalations[0]!.at - created).toBeLessThan(4 * H + 1_000);
      expect(breached.breached).toBe(true);
      // The notification is an activity that finishes after the escalation was recorded.
      const escalationRows = () => notificationsOf(h.workflowId.slice('ticket-'.length), 'escalation');
      expect(await eventually(escalationRows, (rows) => rows.length > 0)).toEqual([{ recipients: ['#support-escalations'] }]);

      const level2Due = created + 5 * H; // level 1 waits 1 h before level 2
      await sleepUntil(level2Due - JUST_BEFORE);
      expect((await state(h)).escalations).toHaveLength(1);
      await sleepUntil(level2Due);
      const level2 = await eventually(() => state(h), (s) => s.escalations.length === 2);
      expect(level2.escalations[1]).toMatchObject({ sla: 'acknowledge', level: 2, notified: ['support-manager'] });
      expect(level2.escalations[1]!.at - created).toBeGreaterThanOrEqual(5 * H);
      expect(level2.escalations[1]!.at - created).toBeLessThan(5 * H + 2_000);
    });
  });

  it('a ticket acknowledged in time never escalates', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      await env.sleep(2 * H);
      const acked = await act(h, acknowledgeUpdate, { by: 'alice' });
      expect(acked.status).toBe('acknowledged');
      expect(acked.clocks.acknowledge.status).toBe('met');

      await env.sleep(10 * H);
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Reset the token.') }] });
      await env.sleep(20 * H); // past both targets
      const s = await state(h);
      expect(s.escalations).toEqual([]);
      expect(s.breaches).toEqual([]);
      expect(s.clocks.resolution.status).toBe('met');
    });
  });

  it('an acknowledgement after the breach stops the escalation chain', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      await env.sleep(4 * H);
      await eventually(() => state(h), (s) => s.escalations.length === 1);
      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
      await env.sleep(6 * H);
      const s = await state(h);
      expect(s.escalations).toHaveLength(1);
      expect(s.clocks.acknowledge.status).toBe('met-late');
    });
  });
});

describe('the warning ladder', () => {
  it('warns at 50 %, 75 % and 90 % of the acknowledgement target, each once, none after the breach', async () => {
    await withWorker(async () => {
      const h = await fileTicket({}, { ...DEFAULT_POLICY, warningShares: [0.5, 0.75, 0.9] });
      const created = (await state(h)).createdAt;
      const warnings = async () => (await state(h)).timeline.filter((e) => e.event === 'acknowledge warning');
      await sleepUntil(created + 2 * H - JUST_BEFORE);
      expect(await warnings()).toEqual([]);
      await sleepUntil(created + 2 * H);
      await eventually(warnings, (w) => w.length === 1);
      await env.sleep(H); // 75 %
      await eventually(warnings, (w) => w.length === 2);
      await env.sleep(0.6 * H); // 90 % at 3.6 h
      const three = await eventually(warnings, (w) => w.length === 3);
      expect(three.map((w) => w.note)).toEqual(['2h left', '1h left', '24m left']);
      const offsets = three.map((w) => w.at - created);
      [2 * H, 3 * H, 3.6 * H].forEach((at, i) => {
        expect(offsets[i]).toBeGreaterThanOrEqual(at);
        expect(offsets[i]).toBeLessThan(at + 1_000);
      });
      await env.sleep(2 * H); // breached, escalated: no more warnings
      const after = await eventually(() => state(h), (v) => v.escalations.length >= 1);
      expect(after.timeline.filter((e) => e.event === 'acknowledge warning')).toHaveLength(3);
      expect(await eventually(() => notificationsOf(h.workflowId.slice('ticket-'.length), 'warning'), (r) => r.length === 3)).toHaveLength(3);
    });
  });
});

describe('resolution SLA', () => {
  it('waiting on the requester pauses the clock: 10 h of waiting moves the 24 h target to 34 h', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      const created = (await state(h)).createdAt;
      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
      await env.sleep(2 * H);
      const waiting = await act(h, waitOnRequesterUpdate, { by: 'alice', question: messageRef('Which VPN client version?') });
      expect(waiting.status).toBe('waiting-on-requester');
      expect(waiting.clocks.resolution.paused).toBe(true);
      expect(waiting.clocks.resolution.dueAt).toBeNull();

      await env.sleep(30 * H); // far past 24 h, but the clock is stopped
      expect((await state(h)).breaches).toEqual([]);

      await h.signal(requesterRepliedSignal, { message: messageRef('Version 5.1'), source: 'zendesk' });
      const resumed = await eventually(() => state(h), (s) => s.status === 'acknowledged');
      const at = (event: string) => resumed.timeline.find((e) => e.event === event)!.at;
      const pausedFor = at('resumed') - at('waiting on the requester');
      expect(pausedFor).toBeGreaterThanOrEqual(30 * H);
      expect(resumed.clocks.resolution.dueAt).toBe(created + 24 * H + pausedFor);
    });
  });

  it('a re-tier from 1 to 2 moves the due time from 24 h to 72 h', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      const created = (await state(h)).createdAt;
      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
      const retiered = await act(h, changeTierUpdate, { by: 'alice', tier: 2, reason: 'needs root-cause analysis' });
      expect(retiered.tier).toBe(2);
      expect(retiered.clocks.resolution.dueAt).toBe(created + 72 * H);

      await env.sleep(30 * H);
      expect((await state(h)).breaches).toEqual([]);
      await env.sleep(42 * H);
      const late = await eventually(() => state(h), (s) => s.breaches.length === 1);
      expect(late.breaches[0]).toMatchObject({ sla: 'resolution', dueAt: created + 72 * H });
    });
  });

  it('a hand-off to a centre of expertise meets the tier-3 target', async () => {
    await withWorker(async () => {
      const h = await fileTicket({ tier: 3 });
      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
      await env.sleep(20 * H);
      const handedOff = await act(h, handOffUpdate, { by: 'alice', team: 'total-rewards', reason: 'policy exception' });
      expect(handedOff.status).toBe('handed-off');
      expect(handedOff.clocks.resolutionKind).toBe('handoff');
      expect(handedOff.clocks.resolution.status).toBe('met');
      await env.sleep(10 * H);
      expect((await state(h)).breaches).toEqual([]);
    });
  });

  it('only a tier-3 ticket can be handed off; the rejection says why', async () => {
    await withWorker(async () => {
      const h = await fileTicket({ tier: 1 });
      const attempt = h.executeUpdate(handOffUpdate, { args: [{ by: 'alice', team: 'legal', reason: 'x' }] });
      await expect(attempt).rejects.toThrow(WorkflowUpdateFailedError);
      await expect(attempt).rejects.toMatchObject({
        cause: { message: 'only tier-3 tickets are handed off; change the tier to 3 first' },
      });
    });
  });
});

describe('after resolution', () => {
  it('the requester can reopen within the window; the resolution clock starts again', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Reset the token.') }] });
      await env.sleep(24 * H);
      const reopened = await act(h, reopenUpdate, { by: 'requester', reason: 'Still broken' });
      expect(reopened.status).toBe('acknowledged');
      const reopenedAt = reopened.timeline.find((e) => e.event === 'reopened')!.at;
      expect(reopened.clocks.resolution.startedAt).toBe(reopenedAt);
      expect(reopened.clocks.resolution.dueAt).toBe(reopenedAt + 24 * H);
      const reply = await act(h, replyUpdate, { by: 'alice', role: 'agent', message: messageRef('Looking again.') });
      expect(reply.status).toBe('acknowledged');
    });
  });

  it('a resolved ticket closes by itself when the reopen window (7 days) runs out, and then cannot be reopened', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Done.') }] });
      await env.sleep(7 * 24 * H - M);
      expect((await state(h)).status).toBe('resolved');
      await env.sleep(2 * M);
      const result = (await h.result()) as TicketView;
      expect(result.status).toBe('closed');
      await expect(
        h.executeUpdate(reopenUpdate, { args: [{ by: 'requester', reason: 'again' }] }),
      ).rejects.toThrow();
    });
  });

  it('an agent can close a ticket at any point; the workflow completes', async () => {
    await withWorker(async () => {
      const h = await fileTicket();
      const closed = await act(h, closeUpdate, { by: 'alice' });
      expect(closed.status).toBe('closed');
      expect(((await h.result()) as TicketView).status).toBe('closed');
    });
  });
});

describe('long-lived tickets', () => {
  it('continue as new before the history gets long, keeping their state and their timers', async () => {
    await withWorker(async () => {
      const h = await fileTicket({}, DEFAULT_POLICY, 30);
      const firstRun = (await h.describe()).runId;
      const created = (await state(h)).createdAt;
      for (const assignee of ['alice', 'bob', 'carol', 'dave', 'erin']) {
        await h.executeUpdate(assignUpdate, { args: [{ by: 'lead', assignee }] });
      }
      // The next wake-up (the warning) finds the history long and continues as new.
      await env.sleep(3 * H + 1_000);
      const later = env.client.workflow.getHandle(h.workflowId); // follows the latest run
      const carried = await eventually(
        () => later.describe(),
        (d) => d.runId !== firstRun,
      );
      expect(carried.runId).not.toBe(firstRun);
      const s = await state(later);
      expect(s.assignee).toBe('erin');
      expect(s.createdAt).toBe(created);
      expect(s.timeline.filter((e) => e.event === 'assigned')).toHaveLength(5);

      await env.sleep(H);
      const escalated = await eventually(() => state(later), (v) => v.escalations.length === 1);
      expect(escalated.escalations[0]).toMatchObject({ sla: 'acknowledge', level: 1 });
      expect(escalated.breaches[0]!.dueAt).toBe(created + 4 * H);
    });
  });
});
