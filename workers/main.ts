// Worker entry point: connects to Temporal and PostgreSQL, migrates, and runs until SIGINT/SIGTERM.
import { getHeapStatistics } from 'node:v8';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { describeIntegrations, integrationsFromEnv } from '../activities/drivers';
import { IntegrationNotifier } from '../activities/notifier';
import { describeEncryptionKeys, encryptionKeysFromEnv } from '../config/encryption';
import { loadConfig, portFromEnv } from '../config/env';
import { tracingFromEnv } from '../config/tracing';
import { checkTemporalNamespace, connectionOptions, describeTemporalConnection } from '../config/temporal-connection';
import { logger } from '../config/logger';
import { migrate } from '../db/migrations';
import { createPool } from '../db/pool';
import { sealPlainRows } from '../db/seal-plain-rows';
import { heapProblem, workerTuningFromEnv } from '../config/worker-tuning';
import { collectDefaultMetrics } from 'prom-client';
import { workerRegistry } from '../activities/metrics';
import { workerHealthServer } from './health';
import { createDeskWorker } from './worker';
import { keepRetentionScheduled } from './retention-schedule';
import { loadWorkflowBundle } from './workflow-bundle';

async function main(): Promise<void> {
  const config = loadConfig();
  installRuntime();
  // Activity spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (config/tracing.ts).
  const tracing = tracingFromEnv('support-desk-worker');
  let worker: Worker | undefined;
  const healthPort = portFromEnv('WORKER_HEALTH_PORT');
  if (healthPort !== undefined) {
    collectDefaultMetrics({ register: workerRegistry });
    const health = workerHealthServer({
      state: () => worker?.getState() ?? 'INITIALIZED', // migrating, connecting, loading the bundle
      metrics: async () => ({ contentType: workerRegistry.contentType, body: await workerRegistry.metrics() }),
    });
    health.once('error', (err) => {
      logger.error({ err }, `WORKER_HEALTH_PORT=${healthPort} cannot be listened on; choose a free port`);
      process.exit(1);
    });
    health.listen(healthPort, process.env.HOST || '0.0.0.0');
    health.unref();
  }
  const encryptionKeys = encryptionKeysFromEnv();
  const tuning = workerTuningFromEnv();
  const heapLimitMb = getHeapStatistics().heap_size_limit / 2 ** 20;
  const tooSmall = heapProblem(tuning, heapLimitMb);
  if (tooSmall) logger.warn({ heapLimitMb: Math.round(heapLimitMb), ...tuning }, tooSmall);
  const pool = createPool(config.databaseUrl);
  await migrate(pool);
  // Rows a personal item wrote before its words were sealed: sealed now, once. Counts only, never text.
  const sealed = await sealPlainRows(pool, encryptionKeys);
  logger.info({ sealed, key: encryptionKeys[0].id }, 'plain rows of personal items sealed');
  // Credentials present → the real service; absent → the log driver (README, "Configuration").
  const integrations = integrationsFromEnv(process.env, logger, pool);
  const notifier = new IntegrationNotifier(integrations, pool, logger);
  logger.info(
    {
      notifier: notifier.driver,
      chat: integrations.chat.driver,
      helpdesk: integrations.helpdesk.driver,
      tracker: integrations.tracker.driver,
      pager: integrations.pager.driver,
      policy: config.policy.name,
    },
    describeIntegrations(integrations),
  );

  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const { warning } = await checkTemporalNamespace(connection, config.temporal);
  if (warning) logger.warn(warning);
  const workflows = await loadWorkflowBundle();
  logger.info({ bundle: workflows.source, sha256: workflows.sha256 }, 'workflow bundle');
  worker = await createDeskWorker({
    connection,
    namespace: config.temporal.namespace,
    workflowBundle: workflows.bundle,
    taskQueue: config.taskQueue,
    pool,
    notifier,
    integrations,
    encryptionKeys,
    tuning,
  });
  // Housekeeping (README "Housekeeping"): the retention schedule, created or brought up to date.
  await keepRetentionScheduled({ connection, namespace: config.temporal.namespace, taskQueue: config.taskQueue, encryptionKeys });
  logger.info(
    {
      taskQueue: config.taskQueue,
      temporal: describeTemporalConnection(config.temporal),
      workflowBundle: workflows.sha256,
      tracing: tracing.enabled ? 'OTLP' : 'off',
      ...(healthPort !== undefined ? { health: `http://0.0.0.0:${healthPort}/readyz` } : {}),
      ...describeEncryptionKeys(encryptionKeys),
      ...tuning,
      heapLimitMb: Math.round(heapLimitMb),
    },
    'worker running',
  );
  try {
    await worker.run(); // returns after SIGINT/SIGTERM once in-flight tasks are done
  } finally {
    await tracing.shutdown().catch(() => undefined);
    await connection.close();
    await pool.end();
  }
}

/**
 * The SDK's runtime, before the first connection, with its own Prometheus endpoint (task latencies,
 * slots, polls, sticky cache) on WORKER_SDK_METRICS_PORT when set; the SDK's defaults otherwise.
 */
function installRuntime(): void {
  const sdkMetricsPort = portFromEnv('WORKER_SDK_METRICS_PORT');
  if (sdkMetricsPort === undefined) return;
  Runtime.install({
    telemetryOptions: {
      metrics: { prometheus: { bindAddress: `${process.env.HOST || '0.0.0.0'}:${sdkMetricsPort}` } },
    },
  });
}

main().catch((err) => {
  logger.error({ err }, 'worker failed');
  process.exit(1);
});
