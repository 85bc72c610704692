// The worker(s) and the API as their own processes, started the way production starts them, with the
// environment a test chooses on top of the tests' defaults (keys, the demo policy): for the tests of
// what only a real process shows (TLS settings, the built code, several workers, metrics ports,
// tracing). Answers once the API's /readyz says it is ready.
import { spawnService, waitForHttp, type RunningService } from '../scripts/dev-services';
import { bearer, TEST_ADMIN_KEY } from './credentials';
import { freePort } from './desk-processes';
import { TEST_ENCRYPTION_KEYS } from './encryption';
import { eventually } from './eventually';

const tsx = require.resolve('.bin/tsx', { paths: [process.cwd() + '/node_modules'] });

export interface SpawnedDeskOptions {
  /** TEMPORAL_ADDRESS (or the TLS settings) and DATABASE_URL at least. */
  env: Record<string, string>;
  workers?: number;
  /** `sources`: tsx on the TypeScript (as npm start); `built`: node on dist/ (as the image). */
  code?: 'sources' | 'built';
  /** Output kept in recentOutput() rather than printed. */
  quiet?: boolean;
}

export interface SpawnedDesk {
  url: string;
  api: RunningService;
  workers: RunningService[];
  /** A JSON request as the bootstrap admin. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function spawnDesk(options: SpawnedDeskOptions): Promise<SpawnedDesk> {
  const port = options.env.PORT ? Number(options.env.PORT) : await freePort();
  const env = {
    ...process.env,
    TEMPORAL_TASK_QUEUE: `spawned-${process.pid}-${port}`,
    SUPPORT_DESK_POLICY: 'demo',
    SUPPORT_DESK_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    SUPPORT_DESK_ADMIN_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    ...options.env,
    PORT: String(port),
  };
  const built = options.code === 'built';
  const start = (name: string, entry: string) =>
    spawnService({
      name,
      command: built ? process.execPath : tsx,
      args: [built ? `dist/${entry}.js` : `${entry}.ts`],
      env: built ? { ...env, NODE_OPTIONS: '' } : env,
      quiet: options.quiet ?? true,
    });
  const api = start('api', 'api/main');
  const workers = Array.from({ length: options.workers ?? 1 }, (_, i) => start(`worker-${i}`, 'workers/main'));
  const url = `http://127.0.0.1:${port}`;
  const desk: SpawnedDesk = {
    url,
    api,
    workers,
    async call(method, path, body, headers = bearer(TEST_ADMIN_KEY)) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    async stop() {
      await Promise.all([api, ...workers].map((p) => p.stop()));
    },
  };
  try {
    await waitForHttp(`${url}/readyz`, { timeoutMs: 120_000, service: api });
    await eventually(() => fetch(`${url}/readyz`).then((r) => r.status, () => 0), (status) => status === 200, 60_000);
  } catch (error) {
    await desk.stop();
    throw error;
  }
  return desk;
}

/**
 * One ticket from intake to resolution through the API: the acknowledgement and the resolution are
 * updates the worker answers (each sent once: an action is not repeated, and the call waits however
 * slow the worker is to start), then the list shows it resolved (the worker's projection activity).
 */
export async function carryTicketThrough(desk: SpawnedDesk, subject: string): Promise<string> {
  const created = await desk.call('POST', '/tickets', { subject, requester: { email: 'pat@example.com' } });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect(await desk.call('POST', `/tickets/${id}/acknowledge`, {})).toMatchObject({ status: 200, body: { status: 'acknowledged' } });
  expect(await desk.call('POST', `/tickets/${id}/resolve`, { resolution: 'Fixed it' })).toMatchObject({ status: 200, body: { status: 'resolved' } });
  const listed = await eventually(() => desk.call('GET', '/tickets?status=resolved'), (r) => r.body.tickets?.some((t: { id: string }) => t.id === id), 60_000);
  expect(listed.body.tickets.map((t: { id: string }) => t.id)).toContain(id);
  return id;
}
