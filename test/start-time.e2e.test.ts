// An item's clock starts when the item arrived (its workflow's start), not when a worker first ran it:
// an incident, a feature request and a ticket started while no worker runs, on the dev server with
// PostgreSQL, and the desk worker started about three seconds later.
//
// What used to happen (the first model, workflows/legacy/): each workflow took `Date.now()` in its
// first workflow task as the creation time, which is when a worker picked the task up: with the
// workers down or busy, createdAt, the incident's acknowledgement deadline and the ticket's SLA clocks
// all started late by as long as the backlog (here ~3 s), so an emergency's 5-minute page came late too.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { startIncident } from '../api/incident';
import { fileTicket } from '../api/ticket';
import { loadPolicy } from '../config/policy-schema';
import { incidentStateQuery, resolveIncidentPolicy, type IncidentView } from '../domain/incident';
import { resolveTicketPolicy, resolveWorkItemPolicy, type Policy } from '../domain/policy';
import { ticketStateQuery, type TicketView } from '../domain/ticket';
import { workItemStateQuery, workItemWorkflowId, type WorkItemView } from '../domain/work-item';
import { createDeskWorker } from '../workers/worker';
import { testKeys } from './encryption';
import { eventually } from './eventually';
import { createTestDatabase, type TestDatabase } from './postgres';
import { bundleWorkflows, devServerEnvironment } from './temporal';

/** How long the workflows wait for a worker: long enough that a late clock shows, short enough for a test. */
const NO_WORKER_MS = 3_000;

const taskQueue = `start-time-${process.pid}-${randomBytes(3).toString('hex')}`;
const quiet = pino({ level: 'silent' });

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let policy: Policy;
let workerStartedAt: number;
let incident: WorkflowHandle;
let feature: WorkflowHandle;
let ticket: WorkflowHandle;
let ticketId: string;

const startTimeOf = async (h: WorkflowHandle): Promise<number> => (await h.describe()).startTime.getTime();

beforeAll(async () => {
  let bundle;
  [env, db, bundle] = await Promise.all([devServerEnvironment(), createTestDatabase(), bundleWorkflows()]);
  policy = loadPolicy('demo');
  const deps = { client: env.client, policy, taskQueue };

  // Started as the API starts them, with no worker on the task queue yet.
  const suffix = randomBytes(4).toString('hex');
  const { workflowId: incidentWorkflowId } = await startIncident(deps, {
    id: `in-start-${suffix}`,
    externalId: null,
    title: 'Customer instance down',
    description: 'The customer cannot reach their instance at all.',
    severity: 'critical',
    customerTicketId: null,
    deskTicketId: null,
  });
  incident = env.client.workflow.getHandle(incidentWorkflowId);
  const featureId = `fr-start-${suffix}`;
  feature = await env.client.workflow.start('featureRequestWorkflow', {
    taskQueue,
    workflowId: workItemWorkflowId('feature-request', featureId),
    args: [
      {
        item: { id: featureId, kind: 'feature-request', externalId: null, title: 'Dark mode', description: 'Please.', requester: { name: 'Sam' } },
        policy: resolveWorkItemPolicy(policy, 'feature-request'),
      },
    ],
  });
  const filed = await fileTicket(deps, { externalId: `start-${suffix}`, channel: 'helpdesk', tier: 1, priority: 'normal', subject: 'VPN token expired', description: '', requester: {}, private: false });
  ticketId = filed.id;
  ticket = env.client.workflow.getHandle(filed.workflowId);

  // The one fixed wait of this file: the backlog the workers are behind by (not waiting for an effect).
  await new Promise((resolve) => setTimeout(resolve, NO_WORKER_MS));
  worker = await createDeskWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool: db.pool,
    notifier: new LogNotifier(quiet),
    integrations: logIntegrations(quiet),
    encryptionKeys: testKeys,
    workflowBundle: bundle,
  });
  workerStartedAt = Date.now();
  running = worker.run();
}, 120_000);

afterAll(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await env?.teardown();
  await db?.drop();
});

describe('started while no worker runs', () => {
  it('an incident was raised at its start: createdAt is the start time, and the acknowledgement is due from it', async () => {
    const startedAt = await startTimeOf(incident);
    expect(workerStartedAt - startedAt).toBeGreaterThanOrEqual(NO_WORKER_MS - 500);
    const view = await eventually(() => incident.query(incidentStateQuery) as Promise<IncidentView>, (v) => v.pages.length === 1);
    expect(view.createdAt).toBe(startedAt);
    expect(view.acknowledgeDueAt).toBe(startedAt + resolveIncidentPolicy(policy).acknowledgeWithinMs);
    expect(view.acknowledgeDueAt).toBe(startedAt + 20_000);
    // Level 1 was due the moment it was raised, though it could only go out once a worker ran.
    expect(view.pages[0]!.dueAt).toBe(startedAt);
    expect(view.pages[0]!.at - startedAt).toBeGreaterThanOrEqual(NO_WORKER_MS - 500);
    const row = await eventually(
      async () => (await db.pool.query<{ created_at: Date }>('SELECT created_at FROM incidents WHERE workflow_id = $1', [incident.workflowId])).rows,
      (rows) => rows.length === 1,
    );
    expect(row[0]!.created_at.getTime()).toBe(startedAt);
  });

  it('a feature request was created at its start: createdAt and its first stage are the start time', async () => {
    const startedAt = await startTimeOf(feature);
    expect(workerStartedAt - startedAt).toBeGreaterThanOrEqual(NO_WORKER_MS - 500);
    const view = await eventually(() => feature.query(workItemStateQuery) as Promise<WorkItemView>, (v) => v.version > 0);
    expect(view.createdAt).toBe(startedAt);
    expect(view.stageHistory[0]).toMatchObject({ stage: 'triage', enteredAt: startedAt });
    expect(view.timeline[0]).toMatchObject({ event: 'created', at: startedAt });
    const row = await eventually(
      async () =>
        (await db.pool.query<{ created_at: Date; stage_entered_at: Date }>('SELECT created_at, stage_entered_at FROM work_items WHERE workflow_id = $1', [feature.workflowId]))
          .rows,
      (rows) => rows.length === 1,
    );
    expect(row[0]!.created_at.getTime()).toBe(startedAt);
    expect(row[0]!.stage_entered_at.getTime()).toBe(startedAt);
  });

  it('a ticket was filed at its start: its acknowledgement clock runs from the start time', async () => {
    const startedAt = await startTimeOf(ticket);
    expect(workerStartedAt - startedAt).toBeGreaterThanOrEqual(NO_WORKER_MS - 500);
    const view = await eventually(() => ticket.query(ticketStateQuery) as Promise<TicketView>, (v) => v.version > 0);
    const ticketPolicy = resolveTicketPolicy(policy, 'helpdesk');
    const target = ticketPolicy.acknowledge;
    expect(target).toMatchObject({ withinMs: 20_000, clock: 'calendar' });
    expect(view.createdAt).toBe(startedAt);
    expect(view.clocks.acknowledge.dueAt).toBe(startedAt + target.withinMs);
    expect(view.clocks.resolution.dueAt).toBe(startedAt + ticketPolicy.resolve[1].withinMs);
    const row = await eventually(
      async () =>
        (await db.pool.query<{ created_at: Date; acknowledge_due_at: Date }>('SELECT created_at, acknowledge_due_at FROM tickets WHERE id = $1', [ticketId])).rows,
      (rows) => rows.length === 1,
    );
    expect(row[0]!.created_at.getTime()).toBe(startedAt);
    expect(row[0]!.acknowledge_due_at.getTime()).toBe(startedAt + target.withinMs);
  });
});
