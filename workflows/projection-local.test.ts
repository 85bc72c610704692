// The projection written as a local activity, on the time-skipping server with the real activities and
// a PostgreSQL that can be cut off (a TCP proxy in front of the real one): a change's row is written in
// the workflow task that made it (no activity task); while PostgreSQL is away the write falls over to
// an ordinary activity, retried beside the loop, and no clock waits for it; once a write went through,
// the next is local again.
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Pool } from 'pg';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../domain/policy';
import { acknowledgeUpdate, ticketStateQuery, ticketWorkflowId, type TicketIntake } from '../domain/ticket';
import { eventually } from '../test/eventually';
import { ticketIntake } from '../test/intakes';
import type { TestDatabase } from '../test/postgres';
import { tcpProxy, type TcpProxy } from '../test/tcp-proxy';
import { timeSkippingDesk } from '../test/time-skipping';
import type { ticketWorkflow } from './ticket';

const H = 3_600_000;
const taskQueue = 'projection-local-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let proxy: TcpProxy;
let proxied: Pool;

beforeAll(async () => {
  const url = new URL(process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test');
  proxy = await tcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});
afterAll(async () => {
  await proxy?.close();
});

const withWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: (database) => {
    const url = new URL(database.url);
    url.port = String(proxy.port);
    proxied = new Pool({ connectionString: url.toString(), max: 4, connectionTimeoutMillis: 1_000 });
    return { pool: proxied };
  },
});
afterEach(async () => {
  proxy.restore();
  await proxied?.end();
});

const intake = (): TicketIntake => ticketIntake({ subject: 'Printer on fire', description: '', requester: {} });

async function start(ticket: TicketIntake): Promise<WorkflowHandle<typeof ticketWorkflow>> {
  return env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, ticket.channel) }],
  });
}

/** recordTicket as ordinary activity tasks, and local activity markers, in the run's history so far. */
async function writes(h: WorkflowHandle): Promise<{ ordinary: number; local: number }> {
  const { events } = await h.fetchHistory();
  return {
    ordinary: (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordTicket').length,
    local: (events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
  };
}

const row = async (id: string) =>
  (await db.pool.query<{ status: string; escalations: number }>('SELECT status, escalations FROM tickets WHERE id = $1', [id])).rows[0];

it('a change is in the lists when its update answers, written inside the workflow task: no activity task', async () => {
  await withWorker(async () => {
    const ticket = intake();
    const h = await start(ticket);
    await eventually(() => row(ticket.id), (r) => r !== undefined);
    const answer = await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
    expect(answer).toMatchObject({ status: 'acknowledged', visible: true });
    expect(await row(ticket.id)).toMatchObject({ status: 'acknowledged' });
    const counted = await writes(h);
    expect(counted.ordinary).toBe(0);
    expect(counted.local).toBeGreaterThanOrEqual(2);
  });
});

it('with PostgreSQL away the write goes to an ordinary activity, the ticket still escalates at 4 h, and writes go local again once one went through', async () => {
  await withWorker(async () => {
    proxy.cut();
    const ticket = intake();
    const h = await start(ticket);
    // The local attempt failed fast and the same write went to an ordinary activity, retried.
    await eventually(() => writes(h), (w) => w.ordinary === 1 && w.local >= 1);
    expect(await row(ticket.id)).toBeUndefined();

    const created = (await h.query(ticketStateQuery)).createdAt;
    await env.sleep(4 * H + 1_000);
    const escalated = await eventually(() => h.query(ticketStateQuery), (s) => s.escalations.length === 1);
    expect(escalated.escalations[0]!.at - created).toBeGreaterThanOrEqual(4 * H);
    expect(escalated.escalations[0]!.at - created).toBeLessThan(4 * H + 1_000);
    expect(await row(ticket.id)).toBeUndefined();

    proxy.restore();
    await env.sleep(60_000); // past the ordinary activity's next retry
    await eventually(() => row(ticket.id), (r) => r?.escalations === 1, 30_000);
    const before = await writes(h);

    const answer = await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
    expect(answer).toMatchObject({ status: 'acknowledged', visible: true });
    const after = await writes(h);
    expect(after.ordinary).toBe(before.ordinary);
    expect(after.local).toBeGreaterThan(before.local);
    expect(await row(ticket.id)).toMatchObject({ status: 'acknowledged', escalations: 1 });
  });
});
