// Who may call what, generated from the routes' own declarations (api/access.ts): every route the app
// has is declared, none answers without a credential unless declared public or signed, and each role
// is let through or refused with a 403 naming a role that may, exactly as its permissions say.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type express from 'express';
import { neededFor, type RouteDeclaration } from '../api/access';
import { buildApp } from '../api/app';
import type { RateLimits } from '../api/rate-limit';
import { loadPolicy } from '../config/policy-schema';
import { DEFAULT_ROLES, permissionsOf, rolesGranting } from '../domain/access';
import { testCredentials, type TestCredentials } from './credentials';
import { testKeys } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { timeSkippingEnvironment } from './temporal';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let server: Server;
let url: string;
let credentials: TestCredentials;
let declared: RouteDeclaration[];
let app: express.Express;

beforeAll(async () => {
  [env, db] = await Promise.all([timeSkippingEnvironment(), createTestDatabase()]);
  credentials = await testCredentials(db.pool);
  const built = deskApp({ windowMs: 60_000, perCredential: 0, perAddress: 0 });
  app = built.app;
  declared = built.routes.routes;
  server = app.listen(0);
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await db?.drop();
  await env?.teardown();
});

/** The API on the test's servers, with these rate limits. */
function deskApp(rateLimits: RateLimits) {
  return buildApp({
    client: env.client,
    pool: db.pool,
    policy: loadPolicy('default'),
    taskQueue: `access-${process.pid}`,
    temporalUiUrl: 'http://localhost:8233',
    auth: credentials.auth,
    encryptionKeys: testKeys,
    rateLimits,
  });
}

/** Every route layer express holds, in the app and every router mounted in it. */
function routeLayers(stack: any[]): Array<{ path: string; methods: string[] }> {
  return stack.flatMap((layer) => {
    if (layer.route) return [{ path: layer.route.path, methods: Object.keys(layer.route.methods) }];
    return Array.isArray(layer.handle?.stack) ? routeLayers(layer.handle.stack) : [];
  });
}

/** One request per route and action: ids that name nothing, bodies that are empty. */
function requestsOf(route: RouteDeclaration): Array<{ method: string; path: string; action?: string }> {
  const path = route.path.replace(':id', 'tk-0000000000000000');
  if (typeof route.needs === 'object' && !Array.isArray(route.needs)) {
    return Object.keys(route.needs.byAction).map((action) => ({ method: route.method, path: path.replace(':action', action), action }));
  }
  return [{ method: route.method, path }];
}

async function call(method: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

test('every route express has is declared, and every declaration is a route', () => {
  const layers = routeLayers((app as any).router.stack);
  const count = layers.reduce((n, l) => n + l.methods.length, 0);
  expect(count).toBe(declared.length);
  // The declarations cover what the API is known to have, so a router left out would show here too.
  const paths = declared.map((r) => `${r.method} ${r.path}`);
  for (const expected of ['POST /tickets', 'POST /tickets/:id/:action', 'GET /security-reports/:id', 'POST /bug-reports/:id/:action', 'GET /audit', 'POST /codec/decode', 'POST /webhooks/slack']) {
    expect(paths).toContain(expected);
  }
});

test('no route but the public and signed ones answers without a credential: 401 says how to get one', async () => {
  for (const route of declared) {
    for (const r of requestsOf(route)) {
      const answer = await call(r.method, r.path);
      if (route.needs === 'public') {
        expect(`${r.path} → ${answer.status}`).toMatch(/→ 200$/);
      } else if (route.needs === 'signed') {
        expect([r.path, answer.status]).not.toEqual([r.path, 200]); // its signature is missing
      } else {
        expect([r.method, r.path, answer.status]).toEqual([r.method, r.path, 401]);
        expect(answer.body.error).toMatch(/Authorization: Bearer/);
      }
    }
  }
});

test('a credential that is wrong, revoked or malformed is a 401 too', async () => {
  expect((await call('GET', '/tickets', { authorization: 'Bearer sd_nope_nope' })).status).toBe(401);
  expect((await call('GET', '/tickets', { authorization: 'Basic YWRtaW46YWRtaW4=' })).status).toBe(401);
  expect((await call('GET', '/tickets', { authorization: 'Bearer' })).status).toBe(401);
});

test.each(Object.keys(DEFAULT_ROLES))('role %s: each route lets it through or answers 403 naming a role that may', async (role) => {
  const headers = await credentials.headers(`someone-${role}`, role);
  const granted = permissionsOf(DEFAULT_ROLES, { roles: [role] });
  for (const route of declared) {
    if (route.needs === 'public' || route.needs === 'signed') continue;
    for (const r of requestsOf(route)) {
      const needed = neededFor(route.needs, r.action);
      const allowed = needed === null || needed.some((p) => granted.has(p));
      const answer = await call(r.method, r.path, headers);
      const seen = `${role} ${r.method} ${r.path} → ${answer.status}`;
      if (allowed) {
        expect(seen).not.toMatch(/→ (401|403)$/);
        expect(answer.status).toBeLessThan(500);
      } else {
        expect(seen).toMatch(/→ 403$/);
        const roles = [...new Set(needed!.flatMap((p) => rolesGranting(DEFAULT_ROLES, p)))];
        expect(roles.some((name) => answer.body.error.includes(name))).toBe(true);
      }
    }
  }
});

test('rate limits: per credential and per source address on intake and actions, 429 with Retry-After', async () => {
  const limited = deskApp({ windowMs: 60_000, perCredential: 3, perAddress: 5 }).app.listen(0);
  const base = `http://127.0.0.1:${(limited.address() as AddressInfo).port}`;
  const post = async (headers: Record<string, string>) => {
    const res = await fetch(`${base}/tickets`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as any };
  };
  try {
    const carol = await credentials.headers('carol', 'intake');
    const dave = await credentials.headers('dave', 'intake');
    for (let i = 0; i < 3; i++) expect((await post(carol)).status).toBe(400); // an empty ticket: counted, refused
    const over = await post(carol);
    expect(over.status).toBe(429);
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    expect(over.body.error).toMatch(/this credential/);
    // Another credential from the same address still gets through, until the address's own limit.
    expect((await post(dave)).status).toBe(400);
    const address = await post(dave);
    expect(address.status).toBe(429);
    expect(address.body.error).toMatch(/this address/);
    // Reading is not limited.
    expect((await fetch(`${base}/tickets`, { headers: carol })).status).toBe(403); // intake may not read, but it is not throttled
  } finally {
    await new Promise((resolve) => limited.close(resolve));
  }
});

test('guessing: answers of 401 from one address are limited on every route and method, webhooks included', async () => {
  process.env.GITLAB_WEBHOOK_TOKEN = 'gitlab-token-of-this-test'; // read when the app is built
  const limited = deskApp({ windowMs: 60_000, perCredential: 0, perAddress: 0, failedPerAddress: 3 }).app.listen(0);
  delete process.env.GITLAB_WEBHOOK_TOKEN;
  const base = `http://127.0.0.1:${(limited.address() as AddressInfo).port}`;
  try {
    const admin = await credentials.headers();
    expect((await fetch(`${base}/me`, { headers: admin })).status).toBe(200); // a good credential does not count
    expect((await fetch(`${base}/me`, { headers: { authorization: 'Bearer guess-1' } })).status).toBe(401);
    expect((await fetch(`${base}/tickets`, { headers: { authorization: 'Bearer guess-2' } })).status).toBe(401);
    expect((await fetch(`${base}/webhooks/gitlab`, { method: 'POST', headers: { 'x-gitlab-token': 'guess-3' }, body: '{}' })).status).toBe(401);
    const blocked = await fetch(`${base}/me`, { headers: { authorization: 'Bearer guess-4' } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(`${base}/me`, { headers: admin })).status).toBe(429); // the address waits out the window
  } finally {
    await new Promise((resolve) => limited.close(resolve));
  }
});
