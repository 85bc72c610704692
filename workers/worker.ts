// Builds the worker that runs every support-desk workflow and activity on one task queue.
// Shared by the entry point (workers/main.ts) and the tests, which pass a pre-built bundle.
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import type { Integrations } from '../activities/integrations';
import type { Notifier } from '../activities/notifier';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import { deskDataConverter, type EncryptionKeys } from '../config/encryption';
import type { WorkerTuning } from '../config/worker-tuning';

export interface DeskWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: Pool;
  notifier: Notifier;
  integrations: Integrations;
  /**
   * Every payload the worker writes is encrypted with the first key; every key decrypts. The same keys
   * seal a personal item's words in PostgreSQL.
   */
  encryptionKeys: EncryptionKeys;
  /**
   * The workflow code, bundled with the failure converter (workers/workflow-bundle.ts): `npm run build`'s
   * dist/workflow-bundle.js in production, one bundle per file in tests. Absent, the SDK bundles
   * workflows/index.ts itself.
   */
  workflowBundle?: WorkflowBundle;
  /** The worker's limits (config/worker-tuning.ts); the SDK's own defaults when absent (tests). */
  tuning?: WorkerTuning;
}

export function createDeskWorker(opts: DeskWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    dataConverter: deskDataConverter(opts.encryptionKeys),
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    ...(opts.tuning
      ? {
          maxCachedWorkflows: opts.tuning.maxCachedWorkflows,
          maxConcurrentWorkflowTaskExecutions: opts.tuning.maxConcurrentWorkflowTaskExecutions,
          maxConcurrentActivityTaskExecutions: opts.tuning.maxConcurrentActivityTaskExecutions,
          maxConcurrentLocalActivityExecutions: opts.tuning.maxConcurrentLocalActivityExecutions,
          // On SIGTERM the worker stops polling, lets running activities finish this long, then cancels them.
          shutdownGraceTime: `${opts.tuning.shutdownGraceSeconds}s`,
        }
      : {}),
    // A span per activity (config/tracing.ts); a no-op while no tracer is registered.
    interceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    activities: createActivities({
      pool: opts.pool,
      notifier: opts.notifier,
      integrations: opts.integrations,
      encryptionKeys: opts.encryptionKeys,
    }),
  });
}
