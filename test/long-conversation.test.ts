// A conversation far longer than Temporal's limits, through the API (in this process) on the
// time-skipping server: replies of the maximum size are stored once in PostgreSQL and the workflow
// keeps a reference and a preview, so every reply answers, the ticket still reads fast, and every run
// of the workflow's history stays well under 1 MB. (Before the state model every update carried and
// returned the whole conversation: after about 40 long replies the workflow task failed for ever.)
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../api/app';
import { bearer, TEST_ADMIN_KEY, testCredentials } from './credentials';
import { temporal } from '@temporalio/proto';
import { DEFAULT_POLICY } from '../domain/policy';
import { TEXT_RULES } from '../domain/text-rules';
import { ticketWorkflowId } from '../domain/ticket';
import { testKeys } from './encryption';
import type { TestDatabase } from './postgres';
import { timeSkippingDesk } from './time-skipping';

const REPLIES = 300;
const taskQueue = 'long-conversation-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

it(`${REPLIES} replies of ${TEXT_RULES.message.max.toLocaleString('en')} characters all answer; each run's history stays under 1 MB`, async () => {
  await withWorker(async () => {
    const { auth } = await testCredentials(db.pool);
    const server: Server = createApp({ client: env.client, pool: db.pool, policy: DEFAULT_POLICY, taskQueue, temporalUiUrl: 'http://ui', auth, encryptionKeys: testKeys }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY) }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      const { body: filed } = await post('/tickets', { subject: 'A very long thread', externalId: `long-${Date.now()}` });
      const id = filed.id as string;
      for (let i = 0; i < REPLIES; i++) {
        const role = i % 2 === 0 ? 'agent' : 'requester';
        const message = `${i} `.padEnd(TEXT_RULES.message.max, role === 'agent' ? 'a' : 'r');
        const answer = await post(`/tickets/${id}/reply`, { role, message });
        expect(answer.status).toBe(200);
        expect(JSON.stringify(answer.body).length).toBeLessThan(1_000); // the answer is small, whatever the message
      }

      const read = await fetch(`${api}/tickets/${id}`, { headers: bearer(TEST_ADMIN_KEY) });
      const view = (await read.json()) as { messages: number; timeline: unknown[]; timelineLength: number };
      expect(view.messages).toBe(REPLIES);
      expect(view.timeline.length).toBeLessThanOrEqual(50);
      expect(view.timelineLength).toBeGreaterThan(REPLIES);
      // Every body is stored once, whole.
      const { rows } = await db.pool.query('SELECT count(*)::int AS n, min(length(body)) AS shortest FROM messages WHERE workflow_id = $1', [ticketWorkflowId(id)]);
      expect(rows[0]).toEqual({ n: REPLIES, shortest: TEXT_RULES.message.max });
      const page: any = await (await fetch(`${api}/tickets/${id}/messages?limit=2&offset=${REPLIES - 2}`, { headers: bearer(TEST_ADMIN_KEY) })).json();
      expect(page.messages.map((m: { body: string }) => m.body.length)).toEqual([TEXT_RULES.message.max, TEXT_RULES.message.max]);

      // Every run of the chain, from the first one (every run's start names it) along continue-as-new.
      const latest = await env.client.workflow.getHandle(filed.workflowId).fetchHistory();
      const sizes: number[] = [];
      const runs: string[] = [];
      let next: string | null | undefined = latest.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId;
      while (next) {
        runs.push(next);
        const history = await env.client.workflow.getHandle(filed.workflowId, next).fetchHistory();
        // As the server counts it (the protobuf bytes it stores and warns about), not the JSON export.
        sizes.push(temporal.api.history.v1.History.encode(history).finish().length);
        next = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      }
      expect(runs.length).toBeGreaterThan(1); // it did continue as new
      for (const size of sizes) expect(size).toBeLessThan(1_000_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
}, 300_000);
