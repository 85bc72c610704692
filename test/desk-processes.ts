// The desk as `npm start` runs it, for end-to-end tests: the Temporal dev server, PostgreSQL, and the
// worker and the API as separate processes on a free port, which a test may kill -9 and start again.
import { createServer } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnService, waitForHttp, type RunningService } from '../scripts/dev-services';
import { bearer, TEST_ADMIN_KEY, testCredentials, type TestCredentials } from './credentials';
import { TEST_ENCRYPTION_KEYS } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { devServerEnvironment } from './temporal';

const tsx = require.resolve('.bin/tsx', { paths: [process.cwd() + '/node_modules'] });

export interface DeskProcessesOptions {
  taskQueue: string;
  /** Called once the desk answers, with its server and database, for the file's own helpers. */
  use: (desk: { env: TestWorkflowEnvironment; db: TestDatabase }) => void;
  /** More environment for the worker and the API (rate limits, webhook secrets). */
  env?: Record<string, string>;
}

export interface HttpOptions {
  contentType?: string;
  /** Who acts: the name of the key the request is sent with. */
  as?: string;
  role?: string;
}

export interface DeskProcesses {
  /** Where the API listens, e.g. http://127.0.0.1:41234 (once beforeAll ran). */
  url(): string;
  /**
   * A request to the API; a string body is sent as it is (to test what is not JSON). As the bootstrap
   * admin unless `as` names who acts (a supervisor's key by that name, or `role`'s); a string is the
   * content type.
   */
  http(method: string, path: string, body?: unknown, options?: string | HttpOptions): Promise<{ status: number; body: any }>;
  /** Spawns the worker and the API (after kill()). */
  start(): void;
  waitUntilReady(): Promise<void>;
  /** kill -9: no clean shutdown, in-flight work is simply cut off. */
  kill(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * Registers the file's beforeAll (servers up, desk started and answering /readyz) and afterAll
 * (processes stopped, servers down), with the `demo` policy (acknowledge within 20 s).
 */
export function deskProcesses(options: DeskProcessesOptions): DeskProcesses {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let port: number;
  let worker: RunningService;
  let api: RunningService;
  let credentials: TestCredentials;

  const desk: DeskProcesses = {
    url: () => `http://127.0.0.1:${port}`,
    async http(method, path, body, options = {}) {
      const { contentType = 'application/json', as, role } = typeof options === 'string' ? { contentType: options } : options;
      const who = as ? await credentials.headers(as, role ?? 'supervisor') : bearer(TEST_ADMIN_KEY);
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { ...who, ...(body === undefined ? {} : { 'content-type': contentType }) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    start() {
      const processEnv = {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: options.taskQueue,
        DATABASE_URL: db.url,
        PORT: String(port),
        SUPPORT_DESK_POLICY: 'demo',
        // The key of the test's own client (env.client), so both sides read each other's payloads.
        SUPPORT_DESK_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
        SUPPORT_DESK_ADMIN_KEY: TEST_ADMIN_KEY,
        LOG_LEVEL: 'warn',
        ...options.env,
      };
      worker = spawnService({ name: 'worker', command: tsx, args: ['workers/main.ts'], env: processEnv, quiet: true });
      api = spawnService({ name: 'api', command: tsx, args: ['api/main.ts'], env: processEnv, quiet: true });
    },
    async waitUntilReady() {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 60_000, service: api });
    },
    async kill() {
      for (const p of [worker, api]) {
        if (p.pid) process.kill(-p.pid, 'SIGKILL');
        await p.exited;
      }
    },
  };

  beforeAll(async () => {
    [env, db, port] = await Promise.all([devServerEnvironment(), createTestDatabase(), freePort()]);
    desk.start();
    await desk.waitUntilReady();
    credentials = await testCredentials(db.pool);
    options.use({ env, db });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([worker?.stop(), api?.stop()]);
    await env?.teardown();
    await db?.drop();
  });

  return desk;
}
