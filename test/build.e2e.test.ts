// The production build as the Dockerfile makes and runs it: `npm run build` compiles to dist/ and
// bundles the workflow code once; `node dist/...` runs the worker and the API with no TypeScript
// tooling; the committed histories replay against the built bundle; what dist/ requires is all in
// package.json's production dependencies (the image installs only those).
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { spawnService, waitForHttp, type RunningService } from '../scripts/dev-services';
import { bundleHash } from '../workers/workflow-bundle';
import { bearer, TEST_ADMIN_KEY } from './credentials';
import { freePort } from './desk-processes';
import { TEST_ENCRYPTION_KEYS, testDataConverter } from './encryption';
import { eventually } from './eventually';
import { createTestDatabase, type TestDatabase } from './postgres';
import { devServerEnvironment } from './temporal';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const HISTORIES = path.join(ROOT, 'test', 'histories');

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const processes: RunningService[] = [];

beforeAll(async () => {
  const [environment, database] = await Promise.all([
    devServerEnvironment(),
    createTestDatabase(),
    promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 240_000 }),
  ]);
  [env, db] = [environment, database];
}, 300_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await env?.teardown();
  await db?.drop();
});

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? jsFiles(full) : entry.name.endsWith('.js') ? [full] : [];
  });
}

test('what the compiled code requires is a production dependency or part of Node', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const production = new Set(Object.keys(pkg.dependencies));
  const builtins = new Set(builtinModules);
  const needed = new Set<string>();
  for (const file of jsFiles(DIST).filter((f) => !f.endsWith('workflow-bundle.js'))) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!spec.startsWith('node:') && !builtins.has(name)) needed.add(name);
    }
  }
  expect(needed.size).toBeGreaterThan(5);
  expect([...needed].filter((name) => !production.has(name))).toEqual([]);
  expect(production.has('tsx')).toBe(false);
});

test('the committed histories replay against the built workflow bundle', async () => {
  const code = readFileSync(path.join(DIST, 'workflow-bundle.js'), 'utf8');
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) {
    const history = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle: { code }, dataConverter: testDataConverter }, history, file)).resolves.toBeUndefined();
  }
}, 120_000);

test('node dist/workers/main.js and node dist/api/main.js carry a ticket end to end on the pre-built bundle', async () => {
  const apiPort = await freePort();
  const processEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `built-${process.pid}`,
    DATABASE_URL: db.url,
    PORT: String(apiPort),
    SUPPORT_DESK_POLICY: 'demo',
    SUPPORT_DESK_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    SUPPORT_DESK_ADMIN_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'info',
    NODE_OPTIONS: '',
  };
  const worker = spawnService({ name: 'worker', command: process.execPath, args: ['dist/workers/main.js'], cwd: ROOT, env: processEnv, quiet: true });
  const api = spawnService({ name: 'api', command: process.execPath, args: ['dist/api/main.js'], cwd: ROOT, env: processEnv, quiet: true });
  processes.push(worker, api);
  await waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, { timeoutMs: 90_000, service: api });

  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${route}`, {
      method,
      headers: { ...bearer(TEST_ADMIN_KEY), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const created = await call('POST', '/tickets', { subject: 'Laptop will not boot', requester: { email: 'kim@example.com' } });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect(await call('POST', `/tickets/${id}/acknowledge`, {})).toMatchObject({ status: 200, body: { status: 'acknowledged' } });
  expect(await call('POST', `/tickets/${id}/resolve`, { resolution: 'Replaced the disk' })).toMatchObject({ status: 200 });
  const listed = await eventually(() => call('GET', '/tickets?status=resolved'), (r) => r.body.tickets?.some((t: { id: string }) => t.id === id), 60_000);
  expect(listed.body.tickets.map((t: { id: string }) => t.id)).toContain(id);

  // The worker ran the bundle from dist (no webpack at start) and said which, by its hash.
  const expected = bundleHash(readFileSync(path.join(DIST, 'workflow-bundle.js'), 'utf8'));
  const bundleLine = worker
    .recentOutput()
    .split('\n')
    .filter((line) => line.startsWith('{')) // the SDK's own lines are not JSON
    .map((line) => JSON.parse(line))
    .find((entry) => entry.msg === 'workflow bundle');
  expect(bundleLine).toMatchObject({ bundle: path.join(DIST, 'workflow-bundle.js'), sha256: expected });
}, 180_000);
