// One time-skipping test file's set-up: the workflows bundled once and a test database for the file,
// and for each test a fresh time-skipping server with a desk worker on it, torn down afterwards.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import type { Pool } from 'pg';
import pino from 'pino';
import { logIntegrations, type Integrations } from '../activities/integrations';
import { LogNotifier, type Notifier } from '../activities/notifier';
import { createDeskWorker } from '../workers/worker';
import { testKeys } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { bundleWorkflows, timeSkippingEnvironment } from './temporal';

/** What a running test works with: its own server and the file's database. */
export interface TimeSkippingTest {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
}

export interface TimeSkippingDeskOptions {
  taskQueue: string;
  /** Called at the start of every test with its server and database, for the file's own helpers. */
  use: (test: TimeSkippingTest) => void;
  /**
   * The worker's notifier and integrations, built per test (by default the silent log ones), and the
   * pool its activities write with (by default the file's database).
   */
  worker?: (db: TestDatabase) => { notifier?: Notifier; integrations?: Integrations; pool?: Pool };
}

/**
 * Registers the file's beforeAll/afterAll and answers `withWorker(fn)`, which runs `fn` on a fresh
 * time-skipping server with a desk worker. One server per test, never shared: the test server stops
 * skipping time for good after a rejected update or a signal.
 */
export function timeSkippingDesk(options: TimeSkippingDeskOptions): <T>(fn: () => Promise<T>) => Promise<T> {
  let bundle: WorkflowBundle;
  let db: TestDatabase;

  beforeAll(async () => {
    [bundle, db] = await Promise.all([bundleWorkflows(), createTestDatabase()]);
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  return async function withWorker<T>(fn: () => Promise<T>): Promise<T> {
    const env = await timeSkippingEnvironment();
    try {
      const silent = pino({ level: 'silent' });
      const chosen = options.worker?.(db) ?? {};
      const worker = await createDeskWorker({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue: options.taskQueue,
        pool: chosen.pool ?? db.pool,
        notifier: chosen.notifier ?? new LogNotifier(silent),
        integrations: chosen.integrations ?? logIntegrations(silent),
        encryptionKeys: testKeys,
        workflowBundle: bundle,
      });
      options.use({ env, db });
      return await worker.runUntil(fn);
    } finally {
      await env.teardown();
    }
  };
}
