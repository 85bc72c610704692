// The retention schedule on the dev server, as workers starting make it: one schedule however many
// start at once, brought up to date by the next start with an operator's pause kept, and a run it
// starts prunes through the desk worker on PostgreSQL.
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { DEFAULT_RETENTION, RETENTION_SCHEDULE_ID } from '../domain/retention';
import { testKeys } from '../test/encryption';
import { eventually } from '../test/eventually';
import { createTestDatabase, type TestDatabase } from '../test/postgres';
import { bundleWorkflows, devServerEnvironment } from '../test/temporal';
import { scheduleRetention, type RetentionScheduleOptions } from './retention-schedule';
import { createDeskWorker } from './worker';

const taskQueue = `retention-schedule-${process.pid}`;
const quiet = pino({ level: 'silent' });

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let options: RetentionScheduleOptions;

beforeAll(async () => {
  let bundle;
  [env, db, bundle] = await Promise.all([devServerEnvironment(), createTestDatabase(), bundleWorkflows()]);
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
  running = worker.run();
  options = { connection: env.nativeConnection, namespace: 'default', taskQueue, encryptionKeys: testKeys, policy: DEFAULT_RETENTION };
}, 180_000);

afterAll(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await env?.teardown();
  await db?.drop();
});

const schedule = () => env.client.schedule.getHandle(RETENTION_SCHEDULE_ID);

it('two workers starting at once make one schedule: one creates it, the other finds it and brings it up to date', async () => {
  const outcomes = await Promise.all([scheduleRetention(options), scheduleRetention(options)]);
  expect(outcomes.sort()).toEqual(['created', 'updated']);

  const described = await schedule().describe();
  expect(described.spec.intervals).toMatchObject([{ every: 3_600_000 }]);
  expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
  expect(described.action).toMatchObject({
    type: 'startWorkflow',
    workflowType: 'retentionWorkflow',
    workflowId: RETENTION_SCHEDULE_ID,
    taskQueue,
    args: [{ policy: DEFAULT_RETENTION }],
  });
  const listed = await eventually(
    async () => {
      const ids: string[] = [];
      for await (const s of env.client.schedule.list()) ids.push(s.scheduleId);
      return ids;
    },
    (ids) => ids.includes(RETENTION_SCHEDULE_ID),
  );
  expect(listed.filter((id) => id === RETENTION_SCHEDULE_ID)).toHaveLength(1);
});

it('a worker starting later takes the new periods and keeps the pause an operator set', async () => {
  await schedule().pause('paused by the operator for the migration');
  await expect(scheduleRetention({ ...options, policy: { ...DEFAULT_RETENTION, webhookDeliveriesDays: 7 } })).resolves.toBe('updated');

  const described = await schedule().describe();
  expect(described.state).toMatchObject({ paused: true, note: 'paused by the operator for the migration' });
  expect(described.action.args).toEqual([{ policy: { ...DEFAULT_RETENTION, webhookDeliveriesDays: 7 } }]);
});

it('a run the schedule starts prunes through the desk worker', async () => {
  await db.pool.query(
    `INSERT INTO webhook_deliveries (source, delivery_id, received_at)
     VALUES ('slack', 'Ev-old', now() - interval '8 days'), ('slack', 'Ev-new', now() - interval '6 days')`,
  );
  await schedule().unpause();
  await schedule().trigger();

  const started = await eventually(
    () => schedule().describe(),
    (d) => d.info.recentActions.length > 0,
  );
  const run = started.info.recentActions[0]!.action.workflow;
  const summary = await env.client.workflow.getHandle(run.workflowId, undefined, { firstExecutionRunId: run.firstExecutionRunId }).result();
  expect(summary).toMatchObject({ deleted: { webhook_deliveries: 1 }, runs: 1 });
  const { rows } = await db.pool.query('SELECT delivery_id FROM webhook_deliveries');
  expect(rows).toEqual([{ delivery_id: 'Ev-new' }]);
});
