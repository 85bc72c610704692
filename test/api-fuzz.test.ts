// Every route of the API, found by walking the app's own router, fed invalid text and sizes in every
// field its schemas name (NUL and other controls, lone surrogates, over-long text, wrong types,
// repeated query parameters, bad ids and bad percent-encoding): never a 5xx, every 400 names the
// field, and nothing is started in Temporal. The real API in-process, the dev server, PostgreSQL.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createApp } from '../api/app';
import { bearer, TEST_ADMIN_KEY, testCredentials } from './credentials';
import { incidentInputs } from '../api/incident';
import { securityReportInputs } from '../api/security-report';
import { applySchema, previewSchema } from '../api/policy';
import { DEMO_POLICY } from '../domain/policy';
import { reportQuerySchema } from '../api/reports';
import { ticketIdFor, ticketInputs } from '../api/ticket';
import { REFUSAL, type WebhookSource } from '../api/webhooks/deliveries';
import { gitlabIssueEventSchema } from '../api/webhooks/gitlab';
import { pagerDutyEventSchema } from '../api/webhooks/pagerduty';
import { slackEventSchema, slashCommandSchema } from '../api/webhooks/slack';
import { zendeskEventSchema } from '../api/webhooks/zendesk';
import { workItemInputs } from '../api/work-item';
import { pageQuery } from '../api/workflow-routes';
import { webhookLog } from '../api/webhooks/deliveries';
import { logger } from '../config/logger';
import { loadPolicy } from '../config/policy-schema';
import { idProblem, TEXT_RULES, type TextField } from '../domain/text-rules';
import { ticketWorkflowId } from '../domain/ticket';
import { eventually } from './eventually';
import { testKeys } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { devServerEnvironment } from './temporal';
import { gitlabHeaders, pagerDutyHeaders, slackHeaders, zendeskHeaders } from './webhooks/signing';

const SECRETS = {
  SLACK_SIGNING_SECRET: 'fuzz-slack-secret',
  ZENDESK_WEBHOOK_SECRET: 'fuzz-zendesk-secret',
  PAGERDUTY_WEBHOOK_SECRETS: 'fuzz-pagerduty-secret',
  GITLAB_WEBHOOK_TOKEN: 'fuzz-gitlab-token',
};

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let server: Server;
let url: string;
let routes: Route[];
let startedBefore: number;

beforeAll(async () => {
  // Thousands of refusals are the point here; a 5xx is still logged.
  logger.level = webhookLog.level = 'error';
  [env, db] = await Promise.all([devServerEnvironment(), createTestDatabase()]);
  const saved = Object.fromEntries(Object.keys(SECRETS).map((k) => [k, process.env[k]]));
  Object.assign(process.env, SECRETS);
  const app = createApp({
    client: env.client,
    pool: db.pool,
    policy: loadPolicy('default'),
    taskQueue: `fuzz-${process.pid}`,
    temporalUiUrl: 'http://localhost:8233',
    auth: (await testCredentials(db.pool)).auth,
    encryptionKeys: testKeys,
    rateLimits: { windowMs: 60_000, perCredential: 0, perAddress: 0 },
  });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  routes = routesOf(app.router.stack);
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  startedBefore = await workflowCount();
}, 180_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await env?.teardown();
  await db?.drop();
});

const workflowCount = async () => (await env.client.workflow.count()).count;
const unique = () => randomBytes(6).toString('hex');

// ---- the routes, from the app itself ------------------------------------------------------------

interface Route {
  method: string;
  path: string;
}

/** Every route of an express router stack, mounted routers included (router 2 keeps each layer's path). */
function routesOf(stack: any[], prefix = ''): Route[] {
  return stack.flatMap((layer): Route[] => {
    if (layer.route) {
      const path = join(prefix, layer.route.path);
      return Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), path }));
    }
    if (Array.isArray(layer.handle?.stack)) return routesOf(layer.handle.stack, join(prefix, String(layer.rawPath ?? '')));
    return [];
  });
}

function join(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

// ---- what each route takes: the same schemas the routes use -------------------------------------

interface ItemInputs {
  intake: z.ZodType;
  actions: Record<string, z.ZodType>;
  listQuery: z.ZodType;
  next?: z.ZodType;
}

const ITEM_KINDS: Record<string, () => ItemInputs> = {
  '/tickets': ticketInputs,
  '/incidents': incidentInputs,
  '/security-reports': securityReportInputs,
  '/feature-requests': () => workItemInputs('feature-request'),
  '/bug-reports': () => workItemInputs('bug-report'),
};

/** Routes that take no input at all (their query string is ignored). */
// Routes without a body; /audit's filters have their own cases below.
const NO_INPUT = [
  'GET /', 'GET /healthz', 'GET /readyz', 'GET /me', 'GET /audit', 'GET /reports',
  'GET /dashboard', 'GET /dashboard/dashboard.js', 'GET /dashboard/dashboard.css', 'GET /dashboard/chart.js',
  'GET /openapi.json', 'GET /docs', 'GET /docs/docs.js', 'GET /docs/swagger-ui-bundle.js', 'GET /docs/swagger-ui.css',
];

// ---- requests and what they must be answered with ------------------------------------------------

interface Case {
  name: string;
  method: string;
  /** Already percent-encoded, query string included. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** What is wrong with the answer, or null when it is right. */
  check: (res: { status: number; body: any }) => string | null;
}

const related = (field: string, path: string) => field === path || path.startsWith(`${field}.`) || field.startsWith(`${path}.`);

function names(field: string, res: { body: any }): boolean {
  return Array.isArray(res.body?.details) && res.body.details.some((d: { field: string }) => related(d.field, field));
}

const fieldsIn = (res: { body: any }) => JSON.stringify((res.body?.details ?? []).map((d: { field: string }) => d.field));

/** A 400 (or `status`) whose details name `field`. */
const refusedNaming =
  (field: string, status = 400) =>
  (res: { status: number; body: any }) =>
    res.status === status && names(field, res) ? null : `expected ${status} naming "${field}", got ${res.status} ${fieldsIn(res)}`;

const notServerError = (res: { status: number }) => (res.status >= 500 ? `got ${res.status}` : null);

async function send(c: Case): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${c.path}`, {
    method: c.method,
    headers: { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY), ...c.headers },
    ...(c.body === undefined ? {} : { body: c.body }),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Runs the cases a few at a time; every wrong answer, named. */
async function failuresOf(cases: Case[]): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const res = await send(c);
      const problem = res.status >= 500 ? `got ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}` : c.check(res);
      if (problem) failures.push(`${c.name}: ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return failures;
}

// ---- fields and values, from the schemas' JSON Schema (each text field carries its rule) ---------

type Json = Record<string, any>;

const jsonSchemaOf = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;

/** The schema's alternatives (a union, a nullable field, unions of those) or the schema itself. */
const optionsOf = (s: Json): Json[] => {
  const options = s.anyOf ?? s.oneOf;
  return options ? (options as Json[]).flatMap(optionsOf) : [s];
};

/** Every field of an object schema, nested objects, union members and list items included ('labels.0'). */
function fieldsOf(s: Json, path: string[] = []): Array<{ path: string[]; schema: Json }> {
  const here = path.length > 0 ? [{ path, schema: s }] : [];
  const inner = optionsOf(s).flatMap((option) => {
    if (option.type === 'object' && option.properties) {
      return Object.entries(option.properties as Record<string, Json>).flatMap(([key, child]) => fieldsOf(child, [...path, key]));
    }
    if (option.type === 'array' && option.items) return fieldsOf(option.items, [...path, '0']);
    return [];
  });
  const seen = new Set<string>();
  return [...here, ...inner].filter((f) => !seen.has(f.path.join('.')) && seen.add(f.path.join('.')));
}

/** A valid value: required fields only, the first of each choice. */
function sample(s: Json): unknown {
  if ('const' in s) return s.const;
  if (s.enum) return s.enum[0];
  if (s.anyOf || s.oneOf) return sample(optionsOf(s).find((o) => o.type !== 'null')!);
  switch (s.type) {
    case 'object':
      return Object.fromEntries((s.required ?? []).map((key: string) => [key, sample(s.properties[key])]));
    case 'array':
      return [];
    case 'boolean':
      return false;
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'string':
      if (s.format === 'date-time') return '2030-01-06T09:00:00Z';
      if (s.textRule === 'email') return 'sam@example.com';
      if (s.textRule === 'url') return 'https://example.com/fix/1';
      if (s.link) return 'https://example.com/fix/1';
      return 'ok';
    default:
      return 'ok';
  }
}

/** A valid value with `value` at `path`, choosing at each level the union member that has the next key. */
function sampleWith(s: Json, path: string[], value: unknown, base?: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [string, ...string[]];
  const option = optionsOf(s).find((o) => (key === '0' ? o.type === 'array' : o.properties && key in o.properties))!;
  if (option.type === 'array') return [sampleWith(option.items, rest, value)];
  const object = { ...((base as Json | undefined) ?? (sample(option) as Json)) };
  object[key] = sampleWith(option.properties[key], rest, value, object[key]);
  return object;
}

const textRuleOf = (s: Json): TextField | undefined => optionsOf(s).find((o) => o.textRule)?.textRule;
const allows = (s: Json, type: string) => optionsOf(s).some((o) => o.type === type || (type === 'number' && o.type === 'integer'));

/** Text no rule takes: each control class, half a surrogate pair, one character too many. */
function badText(rule: TextField, { inQuery = false, required = true } = {}): string[] {
  const { kind, max } = TEXT_RULES[rule];
  const bad = ['a\u0000b', 'a\u0007b', 'a\u001Bb', 'a\u007Fb', 'a\u0085b', 'a\u009Fb', 'a\uFFFEb', 'x'.repeat(max + 1), '\u{1F600}'.repeat(max + 1)];
  // A query string cannot carry half a surrogate pair: encoding one is an error.
  if (!inQuery) bad.push('a\uD800b', 'a\uDFFFb');
  if (kind === 'line') bad.push('a\nb', 'a\tb', 'a\rb');
  if (required) bad.push('   ');
  return bad;
}

/** Values the field at `s` must refuse, in a JSON body. */
function badBodyValues(s: Json): unknown[] {
  const values: unknown[] = [];
  const rule = textRuleOf(s);
  if (rule) values.push(...badText(rule, { required: optionsOf(s).some((o) => o.minLength === 1) }));
  const options = optionsOf(s);
  if (options.some((o) => o.textRule === 'email')) values.push('nope');
  if (options.some((o) => o.link)) values.push('javascript:alert(1)', 'not a link');
  if (options.some((o) => 'const' in o || o.enum)) values.push('a\u0000b', 'not-one-of-them', 42);
  if (options.some((o) => o.format === 'date-time')) values.push('next tuesday');
  for (const o of options.filter((o) => o.type === 'integer' || o.type === 'number')) {
    if (o.type === 'integer') values.push(1.5);
    if (o.minimum !== undefined) values.push(o.minimum - 1);
    if (o.maximum !== undefined && o.maximum < Number.MAX_SAFE_INTEGER) values.push(o.maximum + 1);
  }
  for (const o of options.filter((o) => o.type === 'array' && o.maxItems !== undefined)) {
    values.push(Array.from({ length: o.maxItems + 1 }, () => sample(o.items)));
  }
  // Wrong types: whatever the field is not.
  if (!allows(s, 'string')) values.push('a\u0000b');
  if (!allows(s, 'number') && !options.some((o) => 'const' in o || o.enum)) values.push(42);
  if (!allows(s, 'boolean')) values.push(true);
  if (!allows(s, 'object')) values.push({ nested: 'a\u0000b' });
  if (!allows(s, 'array')) values.push(['a\u0000b']);
  if (!allows(s, 'null')) values.push(null);
  return values;
}

/** Values the query parameter at `s` must refuse. */
function badQueryValues(s: Json): string[] {
  const rule = textRuleOf(s);
  if (rule) return badText(rule, { inQuery: true });
  const values = ['a\u0000b', 'a\u0085b', 'nope'];
  for (const o of optionsOf(s)) {
    if (o.type === 'integer') values.push('1.5');
    if (o.minimum !== undefined) values.push(String(o.minimum - 1));
    if (o.maximum !== undefined && o.maximum < Number.MAX_SAFE_INTEGER) values.push(String(o.maximum + 1));
  }
  return values;
}

const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 30)}…(${text.length} chars)` : text;
};

// ---- the cases of each kind of route ------------------------------------------------------------

/** Every field of a JSON body set to each value it must refuse, one at a time; unknown fields too. */
/** `valid`: a valid body to break one field of, where the schema's own sample cannot be (a whole policy). */
function bodyCases(method: string, path: string, schema: z.ZodType, { strict = true, valid }: { strict?: boolean; valid?: Json } = {}): Case[] {
  const json = jsonSchemaOf(schema);
  const base = valid ?? sample(json);
  const cases: Case[] = [];
  if (!schema.safeParse(base).success) {
    cases.push({ name: `${method} ${path} valid sample`, method: 'GET', path: '/healthz', check: () => 'the fuzz sample of this schema is not valid' });
  }
  for (const field of fieldsOf(json)) {
    const name = field.path.join('.');
    for (const value of badBodyValues(field.schema)) {
      const body = sampleWith(json, field.path, value, valid);
      const label = `${method} ${path} ${name}=${show(value)}`;
      if (schema.safeParse(body).success) {
        cases.push({ name: label, method: 'GET', path: '/healthz', check: () => 'the schema takes this value, which breaks its rule' });
        continue;
      }
      cases.push({ name: label, method, path, body: JSON.stringify(body), check: refusedNaming(name) });
    }
  }
  if (strict) {
    for (const key of ['nope', 'sub\u0000ject', '__proto__', 'constructor']) {
      cases.push({ name: `${method} ${path} unknown field ${show(key)}`, method, path, body: JSON.stringify({ ...(base as Json), [key]: 'x' }), check: refusedNaming(key) });
    }
    cases.push({ name: `${method} ${path} a list for a body`, method, path, body: '[]', check: refusedNaming('(body)') });
  }
  return cases;
}

function queryCases(path: string, schema: z.ZodType): Case[] {
  const json = jsonSchemaOf(schema);
  const cases: Case[] = [];
  for (const [name, field] of Object.entries(json.properties as Record<string, Json>)) {
    for (const value of badQueryValues(field)) {
      cases.push({ name: `GET ${path}?${name}=${show(value)}`, method: 'GET', path: `${path}?${name}=${encodeURIComponent(value)}`, check: refusedNaming(name) });
    }
    const valid = encodeURIComponent(String(sample(field)));
    cases.push({ name: `GET ${path}?${name} repeated`, method: 'GET', path: `${path}?${name}=${valid}&${name}=${valid}`, check: refusedNaming(name) });
    // Not valid percent-encoding: read as U+FFFD by the query parser, so a filter that matches nothing or a 400.
    cases.push({ name: `GET ${path}?${name}=%E0%A4%A`, method: 'GET', path: `${path}?${name}=%E0%A4%A`, check: notServerError });
  }
  for (const key of ['nope', '%00']) {
    cases.push({ name: `GET ${path}?${key}=1`, method: 'GET', path: `${path}?${key}=1`, check: refusedNaming(decodeURIComponent(key)) });
  }
  return cases;
}

/** Ids that cannot be an item's: each is a 400 naming `id`, before anything is asked of Temporal. */
const BAD_IDS = [
  '%00',
  'a%07b',
  'a%20b',
  '%C2%A0x',
  '%E3%80%80x',
  'a%2Fb',
  'a:b',
  'a%3Ab',
  'a%0Ab',
  '%C2%85',
  '%EF%BF%BE',
  '%ED%A0%80',
  '%E0%A4%A',
  '%',
  'x'.repeat(201),
  '%F0%9F%98%80'.repeat(201),
];

function idCases(kind: string, pathOf: (id: string) => string, method: string, body?: string): Case[] {
  const cases: Case[] = BAD_IDS.map((id) => ({ name: `${method} ${pathOf(id).slice(0, 60)}`, method, path: pathOf(id), body, check: refusedNaming('id') }));
  // A valid id nobody has is still a 404.
  const unknown = `fz-${unique()}`;
  cases.push({
    name: `${method} ${pathOf(unknown)} (valid, unknown)`,
    method,
    path: pathOf(unknown),
    body,
    check: (res) => (res.status === 404 ? null : `expected 404 for a valid unknown id, got ${res.status}`),
  });
  return cases;
}

function itemCases(route: Route, kind: string, inputs: ItemInputs): Case[] | undefined {
  const rest = route.path.slice(kind.length) || '/';
  const key = `${route.method} ${rest}`;
  if (key === 'POST /') return bodyCases('POST', kind, inputs.intake);
  if (key === 'GET /') return queryCases(kind, inputs.listQuery);
  if (key === 'POST /next' && inputs.next) return bodyCases('POST', `${kind}/next`, inputs.next);
  if (key === 'GET /:id') return idCases(kind, (id) => `${kind}/${id}`, 'GET');
  // The whole timeline and (tickets) the conversation: an id, and the paging every list takes.
  if (key === 'GET /:id/timeline' || key === 'GET /:id/messages') {
    const sub = key.slice('GET /:id'.length);
    return [...idCases(kind, (id) => `${kind}/${id}${sub}`, 'GET'), ...queryCases(`${kind}/fz-${unique()}${sub}`, z.strictObject(pageQuery()))];
  }
  if (key === 'POST /:id/:action') {
    const [firstAction, firstSchema] = Object.entries(inputs.actions)[0]!;
    const validBody = JSON.stringify(sample(jsonSchemaOf(firstSchema)));
    const someId = `fz-${unique()}`;
    return [
      ...idCases(kind, (id) => `${kind}/${id}/${firstAction}`, 'POST', validBody),
      { name: `POST ${kind}/:id/%E0%A4%A`, method: 'POST', path: `${kind}/${someId}/%E0%A4%A`, body: validBody, check: refusedNaming('action') },
      { name: `POST ${kind}/:id/no-such-action`, method: 'POST', path: `${kind}/${someId}/no-such-action`, body: validBody, check: refusedNaming('action', 404) },
      { name: `POST ${kind}/:id/%00`, method: 'POST', path: `${kind}/${someId}/%00`, body: validBody, check: refusedNaming('action', 404) },
      ...Object.entries(inputs.actions).flatMap(([action, schema]) => bodyCases('POST', `${kind}/${someId}/${action}`, schema)),
    ];
  }
  return undefined;
}

// ---- webhooks: signed as each sender signs, one field broken at a time ---------------------------

interface WebhookFuzz {
  source: WebhookSource;
  schema: z.ZodType;
  /** A valid payload with fresh ids (a valid one would act: every case breaks it). */
  payload: () => Json;
  sign: (body: string) => Record<string, string>;
  /** Fields read before the schema to decide whether the desk acts at all: broken, the delivery may be ignored. */
  routing: string[];
  /** The field the delivery id comes from, when it is in the payload: broken, the answer is 400. */
  deliveryId?: string;
}

const WEBHOOKS: Record<string, WebhookFuzz> = {
  '/webhooks/slack': {
    source: 'slack',
    schema: slackEventSchema(),
    payload: () => ({
      type: 'event_callback',
      event_id: `EvFz${unique()}`,
      event: { type: 'message', channel_type: 'im', channel: 'D0FUZZ', user: 'U0FUZZ', text: 'help', ts: `1800000000.${unique()}` },
    }),
    sign: (body) => slackHeaders(SECRETS.SLACK_SIGNING_SECRET, Buffer.from(body)),
    routing: ['type', 'event'],
    deliveryId: 'event_id',
  },
  '/webhooks/zendesk': {
    source: 'zendesk',
    schema: zendeskEventSchema(),
    payload: () => ({ id: `evt-${unique()}`, type: 'zen:event-type:ticket.created', detail: { id: `9${Date.now()}${unique()}`, subject: 'VPN', requester_id: '9001' } }),
    sign: (body) => ({ ...zendeskHeaders(SECRETS.ZENDESK_WEBHOOK_SECRET, Buffer.from(body)), 'x-zendesk-webhook-invocation-id': `inv-${unique()}` }),
    routing: ['detail'],
  },
  '/webhooks/pagerduty': {
    source: 'pagerduty',
    schema: pagerDutyEventSchema(),
    payload: () => ({ event: { id: `01${unique()}`, event_type: 'incident.acknowledged', agent: { summary: 'Dana' }, data: { id: 'P1', incident_key: 'not-the-desks' } } }),
    sign: (body) => ({ ...pagerDutyHeaders([SECRETS.PAGERDUTY_WEBHOOK_SECRETS], Buffer.from(body)), 'x-webhook-id': `wh-${unique()}` }),
    routing: ['event', 'event.event_type'],
  },
  '/webhooks/gitlab': {
    source: 'gitlab',
    schema: gitlabIssueEventSchema(),
    payload: () => ({
      object_kind: 'issue',
      user: { username: 'robin' },
      project: { path_with_namespace: 'support/fuzz' },
      object_attributes: { iid: 1, title: 'Fuzz', action: 'update', url: 'https://gitlab.example.com/support/fuzz/-/issues/1' },
    }),
    sign: () => ({ ...gitlabHeaders(SECRETS.GITLAB_WEBHOOK_TOKEN), 'idempotency-key': `idem-${unique()}` }),
    routing: ['object_kind'],
  },
};

function webhookCases(path: string, hook: WebhookFuzz): Case[] {
  const json = jsonSchemaOf(hook.schema);
  const refusal = REFUSAL[hook.source].status;
  return fieldsOf(json).flatMap((field) => {
    const name = field.path.join('.');
    return badBodyValues(field.schema).flatMap((value): Case[] => {
      const payload = sampleWith(json, field.path, value, hook.payload());
      if (hook.schema.safeParse(payload).success) {
        return [{ name: `${path} ${name}=${show(value)}`, method: 'GET', path: '/healthz', check: () => 'the schema takes this value, which breaks its rule' }];
      }
      const body = JSON.stringify(payload);
      const check = (res: { status: number; body: any }) => {
        if (hook.routing.includes(name) && res.status === 200 && res.body?.ignored) return null;
        if (name === hook.deliveryId) return refusedNaming(name)(res);
        return res.status === refusal && res.body?.refused && names(name, res) ? null : `expected ${refusal} refusing "${name}", got ${res.status} ${fieldsIn(res)}`;
      };
      return [{ name: `${path} ${name}=${show(value)}`, method: 'POST', path, body, headers: hook.sign(body), check }];
    });
  });
}

/** Slash commands come form-encoded and are answered to the person who typed them (200, ephemeral). */
function slashCommandCases(): Case[] {
  const json = jsonSchemaOf(slashCommandSchema());
  return Object.entries(json.properties as Record<string, Json>).flatMap(([name, field]) => {
    const rule = textRuleOf(field)!;
    return badText(rule, { inQuery: true, required: false }).map((value): Case => {
      const form = new URLSearchParams({ command: '/support', text: 'status tk-fuzz', user_name: 'alice', [name]: value }).toString();
      return {
        name: `/webhooks/slack command ${name}=${show(value)}`,
        method: 'POST',
        path: '/webhooks/slack',
        body: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...slackHeaders(SECRETS.SLACK_SIGNING_SECRET, Buffer.from(form)) },
        check: (res) =>
          res.status === 200 && typeof res.body?.text === 'string' && res.body.text.includes(`${name}:`)
            ? null
            : `expected an ephemeral answer naming "${name}", got ${res.status} ${show(res.body)}`,
      };
    });
  });
}

/** Malformed percent-encoding anywhere in a path. */
const PATH_CASES: Case[] = ['/%E0%A4%A', '/tickets%E0%A4%A', '/tickets%E0%A4%A/x', '/webhooks/slack%E0', '/nowhere/%'].map((path) => ({
  name: `GET ${path}`,
  method: 'GET',
  path,
  check: (res) => (res.status === 400 && Array.isArray(res.body?.details) ? null : `expected 400 with details, got ${res.status}`),
}));

/** The codec server: bodies that are not the UI's Payloads, and payloads that are not the desk's ciphertext. */
function codecCases(route: Route): Case[] {
  const key = `${route.method} ${route.path}`;
  if (route.method === 'GET') return [{ name: key, method: 'GET', path: `${route.path}?x=%00`, check: notServerError }];
  const encrypted = Buffer.from('binary/encrypted').toString('base64');
  const keyId = (id: string) => Buffer.from(id).toString('base64');
  // [body, refused by]: every body that is not Payloads is a 4xx; ciphertext that is not the desk's
  // is a 4xx to decode; anything else is a payload like any other (encoded, or passed through).
  const bodies: Array<[string, 'both' | 'decode' | 'neither']> = [
    ['{}', 'both'],
    ['{"payloads": 5}', 'both'],
    ['"a\\u0000b"', 'both'],
    ['not json', 'both'],
    ['{"payloads": [{"data": "!!!not base64"}]}', 'neither'],
    ['{"payloads": [{"metadata": {"encoding": 7}, "data": "AAAA"}]}', 'neither'],
    [`{"payloads": [{"metadata": {"encoding": "${encrypted}", "encryption-key-id": "${keyId('test-1')}"}, "data": "AAAA"}]}`, 'decode'],
    [`{"payloads": [{"metadata": {"encoding": "${encrypted}", "encryption-key-id": "${keyId('nobody')}"}, "data": "AAAA"}]}`, 'decode'],
  ];
  const direction = route.path.endsWith('/decode') ? 'decode' : 'encode';
  const refused = (res: { status: number }) => (res.status >= 400 && res.status < 500 ? null : `expected a 4xx, got ${res.status}`);
  return bodies.map(([body, refusedBy]) => ({
    name: `${key} ${body.slice(0, 60)}`,
    method: 'POST',
    path: route.path,
    body,
    // The session form takes a key; a body without a usable one is a request without a credential.
    check: route.path !== '/codec/session' && (refusedBy === 'both' || refusedBy === direction) ? refused : notServerError,
  }));
}

function casesFor(route: Route): Case[] | undefined {
  const key = `${route.method} ${route.path}`;
  if (NO_INPUT.includes(key)) {
    return ['?x=%00', '?x=%E0%A4%A', '?x=1&x=2'].map((q) => ({ name: `${key}${q}`, method: route.method, path: `${route.path}${q}`, check: notServerError }));
  }
  const kind = Object.keys(ITEM_KINDS).find((k) => route.path === k || route.path.startsWith(`${k}/`));
  if (kind) return itemCases(route, kind, ITEM_KINDS[kind]!());
  if (route.path.startsWith('/codec/')) return codecCases(route);
  if (route.path === '/reports/:name') {
    const unknown: Case = { name: 'GET /reports/nope', method: 'GET', path: '/reports/nope', check: (res) => (res.status === 404 ? null : `expected 404, got ${res.status}`) };
    // at-risk takes `at`; the rest refuse it, so each report's own query is walked.
    return [unknown, ...queryCases('/reports/at-risk', reportQuerySchema())];
  }
  // The candidate policy is a whole policy file, checked by its own schema: every bad value is a 400 naming `policy`.
  if (route.path === '/policy/preview') return bodyCases('POST', route.path, previewSchema(), { valid: { policy: DEMO_POLICY } });
  if (route.path === '/policy/apply') return bodyCases('POST', route.path, applySchema(), { valid: { policy: DEMO_POLICY, tickets: ['fz-ticket'], reason: 'ok' } });
  if (route.path === '/policy/rollouts/:id') return idCases('/policy/rollouts', (id) => `/policy/rollouts/${id}`, 'GET');
  const hook = WEBHOOKS[route.path];
  if (hook && route.method === 'POST') return [...webhookCases(route.path, hook), ...(hook.source === 'slack' ? slashCommandCases() : [])];
  return undefined;
}

// ---- the tests -----------------------------------------------------------------------------------

/** Every schema a route or webhook reads. */
function allSchemas(): Array<[string, z.ZodType]> {
  const items = Object.entries(ITEM_KINDS).flatMap(([kind, inputs]) => {
    const { intake, actions, listQuery, next } = inputs();
    return [
      [`${kind} intake`, intake],
      [`${kind} list`, listQuery],
      ...(next ? [[`${kind}/next`, next]] : []),
      ...Object.entries(actions).map(([action, schema]) => [`${kind} ${action}`, schema]),
    ] as Array<[string, z.ZodType]>;
  });
  return [...items, ...Object.entries(WEBHOOKS).map(([path, hook]) => [path, hook.schema] as [string, z.ZodType]), ['slash command', slashCommandSchema()], ['reports', reportQuerySchema()], ['policy preview', previewSchema()], ['policy apply', applySchema()]];
}

test('the route list comes from the app, and the fuzz test knows what every route takes', () => {
  expect(routes.length).toBeGreaterThan(20);
  expect(routes.filter((r) => casesFor(r) === undefined).map((r) => `${r.method} ${r.path}`)).toEqual([]);
});

test('every text field of every schema follows a text rule (api/input.ts), so none escapes the checks', () => {
  const unruled = allSchemas().flatMap(([name, schema]) =>
    fieldsOf(jsonSchemaOf(schema))
      .filter((f) => optionsOf(f.schema).some((o) => o.type === 'string' && !o.textRule && !('const' in o) && !o.enum && !o.format))
      .map((f) => `${name}: ${f.path.join('.')}`),
  );
  expect(unruled).toEqual([]);
});

test('every field of every route refuses each kind of bad text, size and type with a 400 that names it; no 5xx', async () => {
  const cases = [...routes.flatMap((r) => casesFor(r) ?? []), ...PATH_CASES];
  expect(cases.length).toBeGreaterThan(1_000);
  expect(await failuresOf(cases)).toEqual([]);
}, 120_000);

test('random text with a character no rule takes, in a random field of a random route, is a 400 naming that field', async () => {
  const bodies = routes.flatMap((route): Array<{ route: Route; path: string; schema: z.ZodType }> => {
    const kind = Object.keys(ITEM_KINDS).find((k) => route.path.startsWith(k));
    if (!kind || route.method !== 'POST') return [];
    const inputs = ITEM_KINDS[kind]!();
    if (route.path === kind) return [{ route, path: kind, schema: inputs.intake }];
    if (route.path === `${kind}/next` && inputs.next) return [{ route, path: route.path, schema: inputs.next }];
    return Object.entries(inputs.actions).map(([action, schema]) => ({ route, path: `${kind}/fz-random/${action}`, schema }));
  });
  const forbidden = fc.oneof(
    fc.constantFrom('\u0000', '\u0001', '\u0008', '\u000E', '\u001F', '\u007F', '\u0080', '\u009F', '\uFFFE', '\uFFFF', '\uD800', '\uDBFF', '\uDC00', '\uDFFF'),
    fc.integer({ min: 0x80, max: 0x9f }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...bodies),
      fc.nat(),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      forbidden,
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      async ({ path, schema }, pick, before, bad, after) => {
        const json = jsonSchemaOf(schema);
        const texts = fieldsOf(json).filter((f) => optionsOf(f.schema).some((o) => o.textRule));
        fc.pre(texts.length > 0);
        const field = texts[pick % texts.length]!;
        const body = sampleWith(json, field.path, `${before}${bad}${after}`);
        const res = await send({ name: path, method: 'POST', path, body: JSON.stringify(body), check: () => null });
        expect({ status: res.status, named: names(field.path.join('.'), res) }).toEqual({ status: 400, named: true });
      },
    ),
    { numRuns: 300 },
  );
}, 60_000);

test('a random id is either refused with a 400 naming id or, when it is a valid one, unknown (404)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...Object.keys(ITEM_KINDS)),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
      async (kind, raw) => {
        // URLs resolve "." and ".." as path steps: those cannot reach the route as ids at all.
        fc.pre(raw !== '.' && raw !== '..');
        // A lone surrogate cannot be percent-encoded; its UTF-8-looking bytes can still be sent.
        let segment: string;
        try {
          segment = encodeURIComponent(raw);
        } catch {
          segment = '%ED%A0%80';
        }
        const res = await send({ name: kind, method: 'GET', path: `${kind}/${segment}`, check: () => null });
        if (segment === '%ED%A0%80' || idProblem(raw)) expect({ status: res.status, named: names('id', res) }).toEqual({ status: 400, named: true });
        else expect(res.status).toBe(404);
      },
    ),
    { numRuns: 150 },
  );
}, 60_000);

describe('regressions', () => {
  test('GET /tickets/%E0%A4%A (not valid percent-encoding) is a 400 naming id', async () => {
    const res = await send({ name: '', method: 'GET', path: '/tickets/%E0%A4%A', check: () => null });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ field: 'id', message: expect.stringContaining('percent-encoding') }]);
  });

  test('GET /audit with a bad filter is a 400 naming it', async () => {
    // A NUL in a filter reached PostgreSQL, which refused it: a 500 (schemathesis found it).
    const nul: Array<[string, string]> = [['requestId=%00', 'requestId'], ['principal=a%00b', 'principal'], ['route=%00', 'route'], ['target=t%00', 'target']];
    for (const [query, field] of [['from=yesterday', 'from'], ['outcome=maybe', 'outcome'], ['limit=0', 'limit'], ['who=me', 'who'], ...nul]) {
      const res = await send({ name: '', method: 'GET', path: `/audit?${query}`, check: () => null });
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
  });

  test('POST /tickets/next with an agent (a NUL in it, even) is a 400 naming agent', async () => {
    const res = await send({ name: '', method: 'POST', path: '/tickets/next', body: JSON.stringify({ agent: 'ali\u0000ce' }), check: () => null });
    expect(res.status).toBe(400);
    // Who takes the ticket is the credential: `agent` is refused whatever it holds.
    expect(res.body.details).toEqual([{ field: 'agent', message: expect.stringMatching(/signed in as/) }]);
  });

  test('POST /tickets with a NUL in subject is a 400 naming subject, and no ticket is started', async () => {
    const externalId = `fz-nul-${unique()}`;
    const res = await send({ name: '', method: 'POST', path: '/tickets', body: JSON.stringify({ subject: 'a\u0000b', externalId }), check: () => null });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ field: 'subject', message: expect.stringMatching(/NUL.*rule "subject"/) }]);
    await expect(env.client.workflow.getHandle(ticketWorkflowId(ticketIdFor('helpdesk', externalId))).describe()).rejects.toThrow(/not found/i);
  });
});

test('nothing was started by any of it: the namespace holds only the one valid ticket filed last', async () => {
  // A valid intake shows that starts are counted; then the count is exactly one more than before.
  const valid = await send({ name: '', method: 'POST', path: '/tickets', body: JSON.stringify({ subject: 'The one valid ticket' }), check: () => null });
  expect(valid.status).toBe(201);
  const after = await eventually(workflowCount, (n) => n >= startedBefore + 1);
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await workflowCount()).toBe(after);
  expect(after).toBe(startedBefore + 1);
});
