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
import { bundleHash } from '../workers/workflow-bundle';
import { testDataConverter } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { carryTicketThrough, spawnDesk, type SpawnedDesk } from './spawned-desk';
import { devServerEnvironment } from './temporal';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const HISTORIES = path.join(ROOT, 'test', 'histories');

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const desks: SpawnedDesk[] = [];

beforeAll(async () => {
  const [environment, database] = await Promise.all([
    devServerEnvironment(),
    createTestDatabase(),
    promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 240_000 }),
  ]);
  [env, db] = [environment, database];
}, 300_000);

afterAll(async () => {
  await Promise.all(desks.map((d) => d.stop()));
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
  const desk = await spawnDesk({ code: 'built', env: { TEMPORAL_ADDRESS: env.address, DATABASE_URL: db.url, LOG_LEVEL: 'info' } });
  desks.push(desk);
  await carryTicketThrough(desk, 'Laptop will not boot');

  // The worker ran the bundle from dist (no webpack at start) and said which, by its hash.
  const expected = bundleHash(readFileSync(path.join(DIST, 'workflow-bundle.js'), 'utf8'));
  const bundleLine = desk.workers[0]!
    .recentOutput()
    .split('\n')
    .filter((line) => line.startsWith('{')) // the SDK's own lines are not JSON
    .map((line) => JSON.parse(line))
    .find((entry) => entry.msg === 'workflow bundle');
  expect(bundleLine).toMatchObject({ bundle: path.join(DIST, 'workflow-bundle.js'), sha256: expected });
}, 180_000);
