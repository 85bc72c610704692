// The API over a seeded database, for the report tests: no worker (the reports and lists read
// PostgreSQL), a time-skipping server for the client the app is built with.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../api/app';
import { seedTickets, type SeedOptions } from '../db/seed';
import { DEFAULT_POLICY } from '../domain/policy';
import { testCredentials, type TestCredentials } from './credentials';
import { testKeys } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { timeSkippingEnvironment } from './temporal';

export interface ReportsDesk {
  api: string;
  db: TestDatabase;
  credentials: TestCredentials;
  stop(): Promise<void>;
}

export async function seededReportsDesk(seed: SeedOptions): Promise<ReportsDesk> {
  const [env, db]: [TestWorkflowEnvironment, TestDatabase] = await Promise.all([timeSkippingEnvironment(), createTestDatabase()]);
  const credentials = await testCredentials(db.pool);
  await seedTickets(db.pool, DEFAULT_POLICY, seed);
  const app = createApp({
    client: env.client,
    pool: db.pool,
    policy: DEFAULT_POLICY,
    taskQueue: `reports-${process.pid}`,
    temporalUiUrl: 'http://localhost:8233',
    auth: credentials.auth,
    encryptionKeys: testKeys,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    api: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    db,
    credentials,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.drop();
      await env.teardown();
    },
  };
}
