// The whole desk in one process for the benchmark scripts: a Temporal dev server of its own (on free
// ports), a private PostgreSQL schema, the worker and the API, with the integrations a script gives
// (log drivers by default). Everything is torn down by stop().
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import pino from 'pino';
import { logIntegrations, type Integrations } from '../activities/integrations';
import { IntegrationNotifier } from '../activities/notifier';
import { createApp } from '../api/app';
import type { Policy } from '../domain/policy';
import { bearer, TEST_ADMIN_KEY, testCredentials } from '../test/credentials';
import { testKeys } from '../test/encryption';
import { createTestDatabase, type TestDatabase } from '../test/postgres';
import { bundleWorkflows, devServerEnvironment } from '../test/temporal';
import { createDeskWorker } from '../workers/worker';

export interface BenchDesk {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  api: string;
  post(path: string, body: unknown): Promise<{ status: number; body: any; ms: number }>;
  get(path: string): Promise<{ status: number; body: any; ms: number }>;
  stop(): Promise<void>;
}

export async function startBenchDesk(policy: Policy, integrations?: Integrations): Promise<BenchDesk> {
  const taskQueue = `bench-${process.pid}`;
  const [env, db, bundle] = await Promise.all([devServerEnvironment(), createTestDatabase(), bundleWorkflows()]);
  const log = pino({ level: 'silent' });
  const drivers = integrations ?? logIntegrations(log);
  const worker: Worker = await createDeskWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool: db.pool,
    notifier: new IntegrationNotifier(drivers, db.pool, log),
    integrations: drivers,
    encryptionKeys: testKeys,
    workflowBundle: bundle,
  });
  const running = worker.run();
  // The benchmark measures the desk, not its limits: rate limits off, the admin's key on every request.
  const { auth } = await testCredentials(db.pool);
  const rateLimits = { windowMs: 60_000, perCredential: 0, perAddress: 0 };
  const server: Server = createApp({ client: env.client, pool: db.pool, policy, taskQueue, temporalUiUrl: 'http://ui', auth, rateLimits, encryptionKeys: testKeys }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const started = performance.now();
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { ...bearer(TEST_ADMIN_KEY), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    return { status: res.status, body: json, ms: performance.now() - started };
  };
  return {
    env,
    db,
    api,
    post: (path, body) => call('POST', path, body),
    get: (path) => call('GET', path),
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      worker.shutdown();
      await running;
      await env.teardown();
      await db.drop();
    },
  };
}

/** p-th percentile (0-100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `tasks` with at most `concurrency` at a time. */
export async function inParallel<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** The value of `--name <value>` on the command line, or the fallback. */
export function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

export interface EscalationLag {
  id: string;
  /** When the acknowledgement was due (epoch ms). */
  due: number;
  /** Escalation notifications sent for the ticket: exactly one is right. */
  escalations: number;
  /** Due → the escalation recorded on the timeline (workflow time), ms. */
  step_lag: number | null;
  /** Due → the escalation notification sent, ms. */
  sent_lag: number | null;
}

/** How late each ticket's acknowledgement escalation came, and how many went out. */
export async function escalationLags(pool: Pool, ids: string[]): Promise<EscalationLag[]> {
  const { rows } = await pool.query<EscalationLag>(
    `SELECT t.id, extract(epoch FROM t.acknowledge_due_at) * 1000 AS due,
            (SELECT count(*)::int FROM notifications n WHERE n.ticket_id = t.id AND n.kind = 'escalation') AS escalations,
            (SELECT extract(epoch FROM min(e.at) - t.acknowledge_due_at) * 1000 FROM item_events e
              WHERE e.workflow_id = t.workflow_id AND e.chain_id = t.chain_id AND e.event = 'escalated acknowledge to level 1') AS step_lag,
            (SELECT extract(epoch FROM min(n.sent_at) - t.acknowledge_due_at) * 1000 FROM notifications n
              WHERE n.ticket_id = t.id AND n.kind = 'escalation') AS sent_lag
       FROM tickets t WHERE t.id = ANY($1)`,
    [ids],
  );
  return rows;
}
