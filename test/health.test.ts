// Liveness and readiness: the API's /healthz answers while the process runs, /readyz only while
// Temporal (with the namespace and its search attributes), PostgreSQL and the schema are all there;
// the worker's endpoint follows the SDK worker's state.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { State } from '@temporalio/worker';
import { createApp } from '../api/app';
import { DEFAULT_POLICY } from '../domain/policy';
import { workerHealthServer } from '../workers/health';
import { testCredentials } from './credentials';
import { testDataConverter, testKeys } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { timeSkippingEnvironment } from './temporal';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const servers: Server[] = [];

beforeAll(async () => {
  [env, db] = await Promise.all([timeSkippingEnvironment(), createTestDatabase()]);
}, 120_000);

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await db?.drop();
  await env?.teardown();
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function api(connection: Connection = env.connection): Promise<string> {
  const credentials = await testCredentials(db.pool);
  const client = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
  const app = createApp({ client, pool: db.pool, policy: DEFAULT_POLICY, taskQueue: 'health', temporalUiUrl: 'http://localhost:8233', auth: credentials.auth, encryptionKeys: testKeys, logger: { error() {}, warn() {}, info() {} } });
  return listen(createServer(app));
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

test('ready when Temporal, PostgreSQL and the schema are; not when a migration is missing or Temporal is out of reach', async () => {
  const url = await api();
  expect(await get(`${url}/healthz`)).toEqual({ status: 200, body: { ok: true } });
  expect(await get(`${url}/readyz`)).toEqual({ status: 200, body: { ok: true, checks: { temporal: 'ok', postgres: 'ok', migrations: 'ok' } } });

  const { rows } = await db.pool.query<{ id: number; name: string }>('DELETE FROM schema_migrations WHERE id = (SELECT max(id) FROM schema_migrations) RETURNING id, name');
  try {
    expect(await get(`${url}/readyz`)).toEqual({ status: 503, body: { ok: false, checks: { temporal: 'ok', postgres: 'ok', migrations: 'failing' } } });
    expect((await get(`${url}/healthz`)).status).toBe(200); // alive all the same: nothing to restart
  } finally {
    await db.pool.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [rows[0].id, rows[0].name]);
  }

  // Nothing listens there: Temporal unreachable (an unknown namespace is covered against the dev server, test/temporal-tls.e2e.test.ts).
  // No retry interceptor: a retry still pending when the connection is closed would throw in a timer
  // after this file is done (grpc's "Channel has been shut down"), failing whichever file runs next.
  const unreachable = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '500ms', interceptors: [] });
  const elsewhere = await api(unreachable);
  expect(await get(`${elsewhere}/readyz`)).toMatchObject({ status: 503, body: { checks: { temporal: 'failing', postgres: 'ok' } } });
  await unreachable.close();
});

test("the worker's endpoint: alive unless the worker failed, ready only while it polls", async () => {
  let state: State = 'INITIALIZED';
  const url = await listen(workerHealthServer({ state: () => state }));
  const seen = async () => [(await get(`${url}/healthz`)).status, (await get(`${url}/readyz`)).status];
  expect(await seen()).toEqual([200, 503]);
  state = 'RUNNING';
  expect(await seen()).toEqual([200, 200]);
  state = 'STOPPING'; // SIGTERM: finishing its activities, taking no new ones
  expect(await seen()).toEqual([200, 503]);
  state = 'FAILED';
  expect(await seen()).toEqual([503, 503]);
  expect((await get(`${url}/nowhere`)).status).toBe(404);
});
