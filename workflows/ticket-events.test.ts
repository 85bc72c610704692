// The reporting event log from a real ticket workflow on the time-skipping server, with the real
// projection activity on PostgreSQL: every change appended once, typed, at the moment it happened in
// the workflow (skipped time included), with the measured times; a write sent again adds nothing.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTicketActivities } from '../activities/ticket';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../domain/policy';
import {
  acknowledgeUpdate,
  changeTierUpdate,
  rateSatisfactionUpdate,
  replyUpdate,
  resolveUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  waitOnRequesterUpdate,
  type TicketIntake,
  type TicketProjection,
} from '../domain/ticket';
import { messageRef } from '../test/actions';
import { testKeys } from '../test/encryption';
import { eventually } from '../test/eventually';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { ticketWorkflow } from './ticket';

const H = 3_600_000;
const taskQueue = 'ticket-events-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

it('a ticket run appends each change once, typed, at its workflow time, with the measured times', async () => {
  await withWorker(async () => {
    const ticket: TicketIntake = {
      id: `t-${randomBytes(4).toString('hex')}`,
      externalId: null,
      channel: 'helpdesk',
      tier: 1,
      priority: 'high',
      subject: 'VPN drops every hour',
      description: '',
      requester: { timeZone: 'Europe/Amsterdam' },
      private: false,
      region: 'emea',
    };
    const h = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
      taskQueue,
      workflowId: ticketWorkflowId(ticket.id),
      args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, ticket.channel) }],
    });
    await env.sleep(1 * H);
    await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
    await h.executeUpdate(waitOnRequesterUpdate, { args: [{ by: 'alice', question: messageRef('Which client version?') }] });
    await env.sleep(3 * H);
    await h.executeUpdate(replyUpdate, { args: [{ by: 'requester', role: 'requester', message: messageRef('4.2') }] });
    await h.executeUpdate(changeTierUpdate, { args: [{ by: 'sue', tier: 2, reason: 'needs the network team' }] });
    await env.sleep(2 * H);
    await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Upgrade to 4.3.') }] });
    await h.executeUpdate(rateSatisfactionUpdate, { args: [{ resolved: true, score: 4 }] });

    // Settled: every effect done (the satisfaction answers filed on the tracker too) and written.
    const state = await eventually(() => h.query(ticketStateQuery), (s) => s.pendingEffects === 0 && s.projection.version === s.version);
    const read = async () =>
      (
        await db.pool.query(
          `SELECT seq, type, event, (EXTRACT(EPOCH FROM at) * 1000)::bigint AS at, tier, region, priority, elapsed_ms, business_ms, score, said_resolved, open_delta
             FROM desk_events WHERE workflow_id = $1 ORDER BY seq`,
          [h.workflowId],
        )
      ).rows;
    const rows = await read();
    expect(rows.map((r) => r.type)).toEqual([
      'created', 'acknowledged', 'paused', 'requester-replied', 'resumed', 'retiered', 'resolved', 'satisfaction', 'noted',
    ]);
    expect(rows.at(-1).event).toBe('satisfaction filed');
    // The times are the workflow's (its timeline's), skipped hours included, not when a write ran.
    const created = state.createdAt;
    const minutes = (ms: number) => Math.round(ms / 60_000);
    expect(rows.map((r) => minutes(r.at - created))).toEqual([0, 60, 60, 240, 240, 240, 360, 360, 360]);
    for (const r of rows) expect(state.timeline.find((e) => e.seq === r.seq)).toMatchObject({ at: r.at, event: r.event });
    expect(rows.every((r) => r.region === 'emea' && r.priority === 'high')).toBe(true);
    // First reply 1 h; resolution 6 h less 3 h waiting; the satisfaction answers.
    const ack = rows.find((r) => r.type === 'acknowledged');
    expect(ack).toMatchObject({ elapsed_ms: ack.at - created, tier: 1 });
    const resolved = rows.find((r) => r.type === 'resolved');
    expect(resolved).toMatchObject({ tier: 2, open_delta: -1 });
    const paused = rows.find((r) => r.type === 'resumed').at - rows.find((r) => r.type === 'paused').at;
    expect(resolved.elapsed_ms).toBe(resolved.at - created - paused);
    expect(minutes(resolved.elapsed_ms)).toBe(180);
    expect(rows.find((r) => r.type === 'satisfaction')).toMatchObject({ score: 4, said_resolved: true });
    const row = (await db.pool.query('SELECT region, first_reply_ms, resolution_ms, paused_ms, acknowledge_sla, resolution_sla FROM tickets WHERE id = $1', [ticket.id])).rows[0];
    expect(row).toEqual({ region: 'emea', first_reply_ms: ack.elapsed_ms, resolution_ms: resolved.elapsed_ms, paused_ms: paused, acknowledge_sla: 'met', resolution_sla: 'met' });

    // The same write again (a retried attempt whose first one did reach PostgreSQL) adds nothing.
    const silent = pino({ level: 'silent' });
    const { recordTicket } = createTicketActivities({ pool: db.pool, notifier: new LogNotifier(silent), integrations: logIntegrations(silent), encryptionKeys: testKeys });
    const again: TicketProjection = {
      id: ticket.id, workflowId: h.workflowId, chainId: h.firstExecutionRunId, externalId: null, channel: 'helpdesk',
      tier: 2, priority: 'high', status: 'resolved', assignee: null, private: false, subject: ticket.subject, createdAt: created,
      acknowledgedAt: null, resolvedAt: null, closedAt: null, acknowledgeDueAt: null, resolutionDueAt: null, breached: false,
      escalations: 0, satisfaction: null, version: 1, events: state.timeline,
    };
    await recordTicket(again);
    expect(await read()).toEqual(rows);
  });
});
