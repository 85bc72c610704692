// Worker entry point: connects to Temporal and PostgreSQL, migrates, and runs until SIGINT/SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { loadConfig } from '../config/env';
import { logger } from '../config/logger';
import { migrate } from '../db/migrations';
import { createPool } from '../db/pool';
import { createDeskWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const pool = createPool(config.databaseUrl);
  await migrate(pool);
  const notifier = new LogNotifier(logger);
  const integrations = logIntegrations(logger);
  logger.info(
    {
      notifier: notifier.driver,
      chat: integrations.chat.driver,
      helpdesk: integrations.helpdesk.driver,
      tracker: integrations.tracker.driver,
      pager: integrations.pager.driver,
      policy: config.policy.name,
    },
    'integration drivers',
  );

  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createDeskWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    pool,
    notifier,
    integrations,
  });
  logger.info({ taskQueue: config.taskQueue, temporal: config.temporalAddress }, 'worker running');
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
