// Worker entry point: connects to Temporal and PostgreSQL, migrates, and runs until SIGINT/SIGTERM.
import { getHeapStatistics } from 'node:v8';
import { NativeConnection } from '@temporalio/worker';
import { describeIntegrations, integrationsFromEnv } from '../activities/drivers';
import { IntegrationNotifier } from '../activities/notifier';
import { describeEncryptionKeys, encryptionKeysFromEnv } from '../config/encryption';
import { loadConfig } from '../config/env';
import { logger } from '../config/logger';
import { migrate } from '../db/migrations';
import { createPool } from '../db/pool';
import { sealPlainRows } from '../db/seal-plain-rows';
import { heapProblem, workerTuningFromEnv } from '../config/worker-tuning';
import { createDeskWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
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
  const integrations = integrationsFromEnv(process.env, logger);
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

  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createDeskWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    pool,
    notifier,
    integrations,
    encryptionKeys,
    tuning,
  });
  logger.info(
    {
      taskQueue: config.taskQueue,
      temporal: config.temporalAddress,
      ...describeEncryptionKeys(encryptionKeys),
      ...tuning,
      heapLimitMb: Math.round(heapLimitMb),
    },
    'worker running',
  );
  try {
    await worker.run(); // returns after SIGINT/SIGTERM once in-flight tasks are done
  } finally {
    await connection.close();
    await pool.end();
  }
}

main().catch((err) => {
  logger.error({ err }, 'worker failed');
  process.exit(1);
});
