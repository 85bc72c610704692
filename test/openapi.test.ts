/// <reference lib="dom" />
// The contract against the app: every route the route table declares (api/access.ts) is in
// GET /openapi.json with its permission and the roles that hold it, every operation there is a route
// express has, the document is valid OpenAPI 3.1, and GET /docs shows it in a browser (Debian's
// Chromium) from this origin only, under the dashboard's CSP, without an error. The app is the real
// one on a real PostgreSQL; it never reaches Temporal here.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { validate } from '@readme/openapi-parser';
import { Client, Connection } from '@temporalio/client';
import type express from 'express';
import puppeteer from 'puppeteer-core';
import { neededFor, RouteTable, type RouteDeclaration } from '../api/access';
import { buildApp } from '../api/app';
import { isActionRoute, ROUTE_CONTRACTS } from '../api/contract';
import { openApiDocument, operationsOf } from '../api/openapi';
import { loadPolicy } from '../config/policy-schema';
import { rolesGranting } from '../domain/access';
import { testCredentials } from './credentials';
import { testKeys } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

type Document = ReturnType<typeof openApiDocument>;
type OperationObject = Record<string, unknown> & { 'x-permission'?: unknown; 'x-roles'?: unknown };

let db: TestDatabase;
let app: express.Express;
let table: RouteTable;
let server: Server;
let url: string;
let spec: Document;

beforeAll(async () => {
  db = await createTestDatabase();
  // A client that would connect on its first call: nothing here makes one.
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  ({ app, routes: table } = buildApp({
    client,
    pool: db.pool,
    policy: loadPolicy('default'),
    taskQueue: `openapi-${process.pid}`,
    temporalUiUrl: 'http://localhost:8233',
    auth: (await testCredentials(db.pool)).auth,
    encryptionKeys: testKeys,
  }));
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const res = await fetch(`${url}/openapi.json`);
  expect(res.status).toBe(200);
  spec = (await res.json()) as Document;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await db?.drop();
});

const methodOf = (route: RouteDeclaration) => route.method.toLowerCase() as 'get' | 'post';
const operationIn = (document: Document, path: string, method: string) =>
  (document.paths?.[path] as Record<string, OperationObject> | undefined)?.[method];

/** Every declared route (one per action of an `/:id/:action` route) that the document leaves out. */
function missingFromSpec(routes: RouteTable, document: Document): string[] {
  return routes.routes.flatMap((route) =>
    operationsOf(route)
      .filter(({ path }) => !operationIn(document, path, methodOf(route)))
      .map(({ path }) => `${route.method} ${path}`),
  );
}

/** Every route layer express holds, mounted routers included (router 2 keeps each layer's path), as `METHOD /path`. */
function expressRoutes(stack: any[], prefix = ''): string[] {
  const join = (a: string, b: string) => `/${a}/${b}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  return stack.flatMap((layer): string[] => {
    if (layer.route) return Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${join(prefix, layer.route.path)}`);
    return Array.isArray(layer.handle?.stack) ? expressRoutes(layer.handle.stack, join(prefix, String(layer.rawPath ?? ''))) : [];
  });
}

/** Every operation of the document that express does not route (an action a route does not take included). */
function notRouted(routes: RouteTable, document: Document): string[] {
  const routed = new Set(expressRoutes((app as any).router.stack));
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item as object)
      .map((method) => method.toUpperCase())
      .filter((method) => {
        const expressPath = path.replace(/\{(\w+)\}/g, ':$1');
        if (routed.has(`${method} ${expressPath}`)) return false;
        // `/tickets/{id}/reply` is `/tickets/:id/:action` with an action the declaration names.
        const action = expressPath.split('/').pop()!;
        const actionRoute = `${expressPath.slice(0, -action.length)}:action`;
        const declared = routes.routes.find((r) => r.method === method && r.path === actionRoute);
        return !(routed.has(`${method} ${actionRoute}`) && declared && typeof declared.needs === 'object' && !Array.isArray(declared.needs) && Object.hasOwn(declared.needs.byAction, action));
      })
      .map((method) => `${method} ${path}`),
  );
}

test('every declared route is in the spec, with the permission it declares and the roles that hold it', () => {
  expect(missingFromSpec(table, spec)).toEqual([]);
  for (const route of table.routes) {
    for (const { path, action } of operationsOf(route)) {
      const operation = operationIn(spec, path, methodOf(route))!;
      const permissions = neededFor(route.needs, action);
      const roles = permissions ? [...new Set(permissions.flatMap((p) => rolesGranting(table.roles, p)))] : undefined;
      expect({ at: `${route.method} ${path}`, permission: operation['x-permission'], roles: operation['x-roles'] }).toEqual({
        at: `${route.method} ${path}`,
        permission: permissions ?? route.needs,
        roles,
      });
    }
  }
  // The table knows the routes the spec must have, so a router left out would show here too.
  expect(Object.keys(spec.paths ?? {})).toEqual(expect.arrayContaining(['/tickets/{id}/reply', '/webhooks/gitlab', '/codec/decode', '/openapi.json', '/docs']));
});

test('every operation in the spec is a route express has', () => {
  expect(notRouted(table, spec)).toEqual([]);
});

test('a route without a contract, or a contract without a route, is caught', () => {
  // A route declared in the table with nothing in api/contract.ts is left out of the spec: named.
  const grown = new RouteTable(table.roles);
  grown.routes.push(...table.routes, { method: 'GET', path: '/tickets/:id/attachments', needs: 'read' });
  expect(missingFromSpec(grown, openApiDocument(grown))).toEqual(['GET /tickets/{id}/attachments']);
  // A path in the spec that the app does not route: named.
  const stale = structuredClone(spec);
  stale.paths!['/tickets/{id}/attachments'] = { get: stale.paths!['/tickets/{id}/timeline']!.get };
  stale.paths!['/tickets/{id}/archive'] = { post: stale.paths!['/tickets/{id}/close']!.post };
  expect(notRouted(table, stale)).toEqual(['GET /tickets/{id}/attachments', 'POST /tickets/{id}/archive']);
  // Every contract, and every action of one, belongs to a declared route.
  const declared = new Map(table.routes.map((r) => [`${r.method} ${r.path}`, r]));
  for (const [key, contract] of Object.entries(ROUTE_CONTRACTS)) {
    expect({ key, declared: declared.has(key) }).toEqual({ key, declared: true });
    if (!isActionRoute(contract)) continue;
    const needs = declared.get(key)!.needs as { byAction: Record<string, unknown> };
    expect(Object.keys(contract.actions).sort()).toEqual(Object.keys(needs.byAction).sort());
  }
});

test('it is a valid OpenAPI 3.1 document, and says who may call what', async () => {
  const result = await validate(structuredClone(spec) as any);
  expect(result).toEqual({ valid: true, warnings: [], specification: 'OpenAPI' });
  expect(spec.openapi).toBe('3.1.0');
  expect(Object.keys(spec.components?.securitySchemes ?? {}).sort()).toEqual(
    ['bearer', 'codecSession', 'gitlabToken', 'pagerDutySignature', 'slackSignature', 'zendeskSignature'].sort(),
  );
  const reply = operationIn(spec, '/tickets/{id}/reply', 'post') as any;
  expect(reply.security).toEqual([{ bearer: [] }]);
  expect(Object.keys(reply.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409', '413', '415', '429']);
  expect(reply.requestBody.content['application/json'].schema.properties.message).toMatchObject({ 'x-text-rule': 'message', maxLength: 50_000 });
  expect((operationIn(spec, '/healthz', 'get') as any).security).toEqual([]);
  expect((operationIn(spec, '/webhooks/slack', 'post') as any).security).toEqual([{ slackSignature: [] }]);
  // Every error answers in one shape.
  expect(spec.components?.schemas?.Error).toMatchObject({ required: ['error'], properties: { error: { type: 'string' } } });
});

test('GET /openapi.json and /docs are public; the page loads only this origin\'s files, under the CSP', async () => {
  const page = await fetch(`${url}/docs`);
  expect(page.status).toBe(200);
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toMatch(/script-src 'self'/);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  const html = await page.text();
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((a) => !a.startsWith('data:'));
  expect(assets.length).toBeGreaterThan(0);
  for (const asset of assets) {
    expect(asset).toMatch(/^\/(docs|openapi\.json)/);
    expect([asset, (await fetch(`${url}${asset}`)).status]).toEqual([asset, 200]);
  }
});

test('GET /docs in a browser: every operation is shown, with no error and no CSP violation', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  try {
    const tab = await browser.newPage();
    const problems: string[] = [];
    tab.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') problems.push(message.text());
    });
    tab.on('pageerror', (error) => problems.push(String(error)));
    tab.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
    await tab.goto(`${url}/docs`, { waitUntil: 'networkidle0' });
    await tab.waitForSelector('.opblock');
    const operations = Object.values(spec.paths ?? {}).reduce((n, item) => n + Object.keys(item as object).length, 0);
    expect(await tab.$$eval('.opblock', (blocks) => blocks.length)).toBe(operations);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
  }
});
