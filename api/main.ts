// API entry point: connects to Temporal and PostgreSQL, migrates, and serves HTTP on PORT.
import { Client, Connection } from '@temporalio/client';
import { deskDataConverter, encryptionKeysFromEnv } from '../config/encryption';
import { loadConfig } from '../config/env';
import { logger } from '../config/logger';
import { migrate } from '../db/migrations';
import { createPool } from '../db/pool';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const encryptionKeys = encryptionKeysFromEnv();
  const pool = createPool(config.databaseUrl);
  await migrate(pool);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.namespace, dataConverter: deskDataConverter(encryptionKeys) });
  const app = createApp({
    client,
    pool,
    policy: config.policy,
    taskQueue: config.taskQueue,
    temporalUiUrl: process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233',
  });
  const server = app.listen(config.port, () => {
    logger.info({ url: `http://localhost:${config.port}`, policy: config.policy.name }, 'API listening');
  });

  const stop = () => {
    logger.info('API stopping');
    server.close(() => {
      void Promise.allSettled([connection.close(), pool.end()]).then(() => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  logger.error({ err }, 'API failed to start');
  process.exit(1);
});
