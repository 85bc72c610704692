// The desk as webhook senders meet it: the real API app (createApp) on a local port, the Temporal dev
// server, PostgreSQL, and the worker in-process. Each sender's secret is set as a user would set it.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundle } from '@temporalio/worker';
import type { Pool } from 'pg';
import pino from 'pino';
import { logIntegrations, type Integrations } from '../../activities/integrations';
import { LogNotifier, type Notifier } from '../../activities/notifier';
import { createApp } from '../../api/app';
import type { RateLimits } from '../../api/rate-limit';
import { testCredentials, type TestCredentials } from '../credentials';
import { DEMO_POLICY, type Policy } from '../../domain/policy';
import { ticketStateQuery, ticketWorkflowId, type TicketView } from '../../domain/ticket';
import { createDeskWorker } from '../../workers/worker';
import { testKeys } from '../encryption';
import { createTestDatabase, type TestDatabase } from '../postgres';
import { devServerEnvironment } from '../temporal';

export const SECRETS = {
  SLACK_SIGNING_SECRET: 'slack-signing-secret-for-tests',
  ZENDESK_WEBHOOK_SECRET: 'zendesk-webhook-secret-for-tests',
  PAGERDUTY_WEBHOOK_SECRETS: 'pagerduty-old-secret,pagerduty-new-secret',
  GITLAB_WEBHOOK_TOKEN: 'gitlab-webhook-token-for-tests',
  GITLAB_ISSUES_CHANNEL: '#development',
};

export const quiet = pino({ level: 'silent' });

export interface WebhookDesk {
  env: TestWorkflowEnvironment;
  client: Client;
  db: TestDatabase;
  url: string;
  taskQueue: string;
  post(path: string, body: Buffer | string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  credentials: TestCredentials;
  /** A JSON request to the API as `as.name` with `as.role` (the admin by default). */
  api(method: string, path: string, body?: unknown, as?: { name?: string; role?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  ticket(id: string): Promise<TicketView>;
  /** Whether a workflow with this id was ever started. */
  exists(workflowId: string): Promise<boolean>;
  deliveries(): Promise<Array<{ source: string; delivery_id: string; completed_at: Date | null }>>;
  stop(): Promise<void>;
}

export interface DeskOptions {
  /** The workflows bundle for the desk worker (not needed with noWorker). */
  bundle?: WorkflowBundle;
  policy?: Policy;
  integrations?: Integrations;
  /** The notifier, built on the test database (the integration notifier keeps its effects there). */
  notifier?: (pool: Pool) => Notifier;
  /** Variables to leave unset (to see the 503). */
  unset?: Array<keyof typeof SECRETS>;
  /** Run no desk worker (a test brings its own). */
  noWorker?: boolean;
  /** The API's rate limits (off unless a test sets them). */
  rateLimits?: RateLimits;
  /** More variables the app reads when it is built (e.g. SLACK_AGENT_USERS). */
  env?: Record<string, string>;
}

export async function startWebhookDesk(opts: DeskOptions): Promise<WebhookDesk> {
  const [env, db] = await Promise.all([devServerEnvironment(), createTestDatabase()]);
  const taskQueue = `webhooks-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let worker: Worker | null = null;
  let running: Promise<void> | null = null;
  if (!opts.noWorker) {
    if (!opts.bundle) throw new Error('startWebhookDesk needs the workflows bundle to run the desk worker');
    worker = await createDeskWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      pool: db.pool,
      notifier: opts.notifier?.(db.pool) ?? new LogNotifier(quiet),
      integrations: opts.integrations ?? logIntegrations(quiet),
      encryptionKeys: testKeys,
      workflowBundle: opts.bundle,
    });
    running = worker.run();
  }

  const saved: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries({ ...SECRETS, ...opts.env })) {
    saved[name] = process.env[name];
    if (opts.unset?.includes(name as keyof typeof SECRETS)) delete process.env[name];
    else process.env[name] = value;
  }
  const credentials = await testCredentials(db.pool);
  const app = createApp({
    client: env.client,
    pool: db.pool,
    policy: opts.policy ?? DEMO_POLICY,
    taskQueue,
    temporalUiUrl: 'http://localhost:8233',
    auth: credentials.auth,
    encryptionKeys: testKeys,
    rateLimits: opts.rateLimits ?? { windowMs: 60_000, perCredential: 0, perAddress: 0 },
  });
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    env,
    client: env.client,
    db,
    url,
    taskQueue,
    credentials,
    async api(method, path, body, as = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { ...(await credentials.headers(as.name, as.role)), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    async post(path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed };
    },
    ticket: (id) => env.client.workflow.getHandle(ticketWorkflowId(id)).query(ticketStateQuery),
    async exists(workflowId) {
      try {
        await env.client.workflow.getHandle(workflowId).describe();
        return true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
    async deliveries() {
      const { rows } = await db.pool.query('SELECT source, delivery_id, completed_at FROM webhook_deliveries ORDER BY received_at');
      return rows;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      worker?.shutdown();
      await running;
      await env.teardown();
      await db.drop();
    },
  };
}
