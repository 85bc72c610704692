// `npm run desk -- keys ...`, run as an admin runs it (the script, against DATABASE_URL): a key is
// shown once and works; the list never shows one; a revoked key stops working; mistakes are explained.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createAuthenticator } from '../api/auth';
import { createTestDatabase, type TestDatabase } from './postgres';

const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

function desk(...args: string[]) {
  const run = spawnSync(tsx, ['scripts/desk.ts', ...args], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, DATABASE_URL: db.url },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, out: run.stdout, err: run.stderr };
}

test('keys create prints the key once, list shows none, revoke stops it', async () => {
  const made = desk('keys', 'create', '--name', 'alice', '--role', 'agent');
  expect(made.status).toBe(0);
  const key = /^(sd_[0-9a-f]{12}_\S+)$/m.exec(made.out)?.[1];
  expect(key).toBeDefined();
  const auth = createAuthenticator(db.pool, null);
  expect(await auth.principalOf(key!)).toMatchObject({ name: 'alice', roles: ['agent'] });

  const listed = desk('keys', 'list');
  expect(listed.status).toBe(0);
  expect(listed.out).toMatch(/alice\s+agent/);
  const id = key!.split('_')[1]!; // hex; the secret after it is base64url and may hold '_' itself
  expect(listed.out).not.toContain(key!.slice(`sd_${id}_`.length));
  const { rows } = await db.pool.query('SELECT * FROM api_keys');
  expect(JSON.stringify(rows)).not.toContain(key!); // only its hash is stored

  expect(desk('keys', 'revoke', id).status).toBe(0);
  expect(await auth.principalOf(key!)).toBeNull();
  expect(desk('keys', 'list').out).toMatch(/revoked/);
}, 120_000);

test('mistakes answer with what to do, and exit 2', () => {
  const noRole = desk('keys', 'create', '--name', 'bob');
  expect([noRole.status, noRole.err]).toEqual([2, expect.stringMatching(/needs --name and --role/)]);
  const badRole = desk('keys', 'create', '--name', 'bob', '--role', 'overlord');
  expect([badRole.status, badRole.err]).toEqual([2, expect.stringMatching(/not a role; use one of intake, agent/)]);
  expect(desk('keys', 'revoke', 'nope').err).toMatch(/no active key "nope"/);
  // One name is one person: a second live key for a name keeps its role; names are trimmed.
  expect(desk('keys', 'create', '--name', ' carol ', '--role', 'agent').status).toBe(0);
  expect(desk('keys', 'create', '--name', 'carol', '--role', 'agent').status).toBe(0);
  const other = desk('keys', 'create', '--name', 'carol', '--role', 'admin');
  expect([other.status, other.err]).toEqual([2, expect.stringMatching(/carol already has a live key with role agent/)]);
  expect(desk('frobnicate').status).toBe(2);
}, 120_000);
