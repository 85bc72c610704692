// Every statement the four webhooks send to PostgreSQL goes by an index: none reads JSON row by row or
// the whole table. The real routes (api/webhooks) take signed deliveries of each kind the desk acts on,
// against tables holding enough rows for the planner to choose freely; every statement they send is
// recorded, and its plan (EXPLAIN, with the parameters it was sent with) has no sequential scan.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { RouteTable } from '../../api/access';
import type { ApiDeps } from '../../api/app';
import { webhookRoutes } from '../../api/webhooks';
import { DEFAULT_ROLES } from '../../domain/access';
import { DEFAULT_POLICY } from '../../domain/policy';
import { testKeys } from '../encryption';
import { createTestDatabase, type TestDatabase } from '../postgres';
import { SECRETS } from './desk';
import { gitlabHeaders, pagerDutyHeaders, slackHeaders, zendeskHeaders } from './signing';

interface Plan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: Plan[];
}

let db: TestDatabase;
let server: Server;
let url: string;
/** Each distinct statement the routes sent, with the parameters it was last sent with. */
const sent = new Map<string, unknown[]>();

/** Workflows are not what this is about: every one is gone, every start and signal-with-start is taken. */
const gone = () => Promise.reject(new WorkflowNotFoundError('no such workflow (stand-in)', 'stand-in', undefined));
const standInClient = {
  workflow: {
    getHandle: () => ({ signal: gone, query: gone, executeUpdate: gone, describe: gone, result: gone }),
    start: async () => ({}),
    signalWithStart: async () => ({}),
  },
} as unknown as Client;

beforeAll(async () => {
  db = await createTestDatabase();
  await fill();
  const recording = {
    query(text: string | { text: string; values?: unknown[] }, values?: unknown[]) {
      const statement = typeof text === 'string' ? { text, values } : text;
      sent.set(statement.text, statement.values ?? []);
      return db.pool.query(statement.text, statement.values);
    },
  } as unknown as Pool;
  const deps = {
    client: standInClient,
    pool: recording,
    policy: DEFAULT_POLICY,
    taskQueue: 'lookup-indexes',
    temporalUiUrl: 'http://localhost:8233',
    encryptionKeys: testKeys,
  } as unknown as ApiDeps;
  const app = express();
  app.use('/webhooks', webhookRoutes(deps, new RouteTable(DEFAULT_ROLES), { ...SECRETS }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.close();
  await db?.drop();
});

it('every lookup of every webhook goes by an index, never a scan of a table or of its JSON', async () => {
  // Slack: a reaction on a message the desk posted for no ticket it knows (both of ticketOfSlackMessage's
  // lookups), a requester's reply in a direct message's thread.
  await slack({ type: 'reaction_added', user: 'U1', reaction: 'escalate', item: { type: 'message', channel: 'C77', ts: '1700000000.000042' } });
  await slack({ type: 'message', channel_type: 'im', user: 'U1', text: 'Still broken', channel: 'D1', ts: '1700000001.000001', thread_ts: '1700000000.000001' });
  // GitLab: an incident's follow-up issue closed, a tracked issue's labels changed, a delivery refused and then redelivered.
  await gitlab(issue('close', { url: 'https://gitlab.example.com/ops/incidents/-/issues/77' }), 'gl-close');
  await gitlab(issue('update', { changes: { labels: { previous: [], current: [{ title: 'Workflow::Planning' }] } } }), 'gl-labels');
  await gitlab({ object_kind: 'issue', object_attributes: { iid: 1 } }, 'gl-refused');
  await gitlab(issue('update'), 'gl-refused');
  // Zendesk: a requester's comment. PagerDuty: an acknowledgement.
  await zendesk({
    id: 'evt-1',
    type: 'zen:event-type:ticket.comment_added',
    detail: { id: '4242', subject: 'VPN', requester_id: '9001', priority: 'HIGH', status: 'OPEN' },
    event: { comment: { id: 'c-1', body: 'It works again', is_public: true, author: { id: '9001', is_staff: false } } },
  });
  await pagerDuty({ event: { id: 'pd-1', event_type: 'incident.acknowledged', resource_type: 'incident', data: { id: 'P1', type: 'incident', incident_key: 'incident-abc' } } });

  const statements = [...sent.entries()];
  const lookups: string[] = [];
  for (const [text, values] of statements) {
    const { rows } = await db.pool.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
    const nodes = flatten(rows[0]['QUERY PLAN'][0].Plan as Plan);
    const scans = nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
    expect({ statement: text, scans }).toEqual({ statement: text, scans: [] });
    lookups.push(...nodes.flatMap((n) => (n['Index Name'] ? [`${n['Relation Name']}.${n['Index Name']}`] : [])));
  }
  // The ones that read JSON or went through the whole table before migration 61.
  expect(lookups).toEqual(
    expect.arrayContaining([
      'external_effects.external_effects_slack_post_idx',
      'tickets.tickets_external_id_idx',
      'external_effects.external_effects_follow_up_idx',
      'work_items.work_items_tracker_idx',
      'webhook_deliveries.webhook_deliveries_pkey',
    ]),
  );
  // Each delivery was claimed and completed or refused: the routes really ran.
  expect(statements.length).toBeGreaterThanOrEqual(10);
});

function flatten(plan: Plan): Plan[] {
  return [plan, ...(plan.Plans ?? []).flatMap(flatten)];
}

async function post(path: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers } });
  await res.arrayBuffer();
  return res.status;
}

let slackEvent = 0;
async function slack(event: Record<string, unknown>): Promise<void> {
  const body = Buffer.from(JSON.stringify({ type: 'event_callback', event_id: `Ev${++slackEvent}`, event }));
  expect(await post('/webhooks/slack', body, slackHeaders(SECRETS.SLACK_SIGNING_SECRET, body))).toBeLessThan(500);
}

async function gitlab(payload: unknown, idempotencyKey: string): Promise<void> {
  const body = Buffer.from(JSON.stringify(payload));
  const headers = { ...gitlabHeaders(SECRETS.GITLAB_WEBHOOK_TOKEN), 'x-gitlab-event': 'Issue Hook', 'idempotency-key': idempotencyKey };
  expect(await post('/webhooks/gitlab', body, headers)).toBeLessThan(500);
}

function issue(action: string, extra: { url?: string; changes?: unknown } = {}) {
  return {
    object_kind: 'issue',
    user: { username: 'robin' },
    project: { path_with_namespace: 'support/desk' },
    object_attributes: { iid: 4711, title: 'Export as CSV', action, url: extra.url ?? 'https://gitlab.example.com/support/desk/-/issues/4711' },
    changes: extra.changes ?? {},
  };
}

async function zendesk(payload: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify(payload));
  const headers = { ...zendeskHeaders(SECRETS.ZENDESK_WEBHOOK_SECRET, body), 'x-zendesk-webhook-invocation-id': 'inv-1' };
  expect(await post('/webhooks/zendesk', body, headers)).toBeLessThan(500);
}

async function pagerDuty(payload: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify(payload));
  const headers = { ...pagerDutyHeaders(SECRETS.PAGERDUTY_WEBHOOK_SECRETS.split(','), body), 'x-webhook-id': 'wh-1' };
  expect(await post('/webhooks/pagerduty', body, headers)).toBeLessThan(500);
}

/** A desk that has been busy a while: tens of thousands of effects, tickets, deliveries, messages, work items. */
async function fill(): Promise<void> {
  await db.pool.query(`
    INSERT INTO external_effects (idempotency_key, system, result, created_at, claimed_at, completed_at)
    SELECT 'ticket-t' || g || ':c:reply:1:to:slack:C' || (g % 50), 'chat',
           jsonb_build_object('channel', 'C' || (g % 50), 'ts', '1700000000.' || lpad(g::text, 6, '0')),
           now() - g * interval '1 minute', now() - g * interval '1 minute', now() - g * interval '1 minute'
      FROM generate_series(1, 30000) g;
    INSERT INTO external_effects (idempotency_key, system, result, created_at, claimed_at, completed_at)
    SELECT 'incident-i' || g || ':c:follow-up', 'tracker',
           jsonb_build_object('iid', g, 'webUrl', 'https://gitlab.example.com/ops/incidents/-/issues/' || g),
           now(), now(), now()
      FROM generate_series(1, 5000) g;
    INSERT INTO tickets (id, workflow_id, external_id, channel, tier, priority, status, private, subject, created_at, version)
    SELECT 't' || g, 'ticket-t' || g, CASE WHEN g % 2 = 0 THEN 'D' || g || ':1700000000.000001' ELSE 'zd-' || g END,
           CASE WHEN g % 2 = 0 THEN 'slack' ELSE 'helpdesk' END, 1, 'normal', 'open', false, 'VPN', now(), 1
      FROM generate_series(1, 20000) g;
    INSERT INTO work_items (id, workflow_id, kind, title, stage, tracker_project, tracker_iid, created_at, stage_entered_at, version)
    SELECT 'w' || g, 'feature-request-w' || g, 'feature-request', 'CSV', 'design', 'support/desk', g, now(), now(), 1
      FROM generate_series(1, 10000) g;
    INSERT INTO webhook_deliveries (source, delivery_id, received_at, completed_at, outcome)
    SELECT (ARRAY['slack', 'zendesk', 'gitlab', 'pagerduty'])[1 + g % 4], 'old-' || g, now(), now(), 'done'
      FROM generate_series(1, 40000) g;
    INSERT INTO messages (id, workflow_id, author, role, body)
    SELECT 'msg-' || g, 'ticket-t' || g, 'requester via slack', 'requester', 'Hello'
      FROM generate_series(1, 20000) g;
    ANALYZE external_effects, tickets, work_items, webhook_deliveries, messages;
  `);
}
