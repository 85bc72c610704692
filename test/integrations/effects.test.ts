// once() claims its idempotency key before it acts, on the real PostgreSQL: overlapping attempts act
// once, a failure releases the claim, a dead attempt's claim is taken over and fenced off; and on the
// dev server, an activity attempt that times out while its call still runs is retried without a second call.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { EFFECT_CLAIM_LOST, EFFECT_IN_PROGRESS, once } from '../../activities/effects';
import { testDataConverter } from '../encryption';
import { eventually } from '../eventually';
import { createTestDatabase, type TestDatabase } from '../postgres';
import { bundleWorkflows, devServerEnvironment } from '../temporal';
import type { callSlowServiceOnce, SlowCallActivities } from './slow-call-workflow';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const newKey = () => `ticket-tk-${randomBytes(4).toString('hex')}:warning:1:to:slack:#support-desk`;

/** A call that answers when the test says so. */
function pendingCall<T>() {
  let answer!: (value: T) => void;
  const answered = new Promise<T>((resolve) => (answer = resolve));
  return { answered, answer };
}

/** A call whose failure is kept as soon as it happens (and is never left unhandled). */
function tracked<T>(call: Promise<T>): { call: Promise<T>; failure?: unknown } {
  const t: { call: Promise<T>; failure?: unknown } = { call };
  call.catch((err) => (t.failure = err));
  return t;
}

async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

async function effectRow(key: string) {
  const { rows } = await db.pool.query('SELECT result, claim_token, completed_at FROM external_effects WHERE idempotency_key = $1', [key]);
  return rows[0] as { result: unknown; claim_token: string | null; completed_at: Date | null } | undefined;
}

/** As if the claim's owner had stopped answering long ago (a worker killed mid-call). */
async function ageClaim(key: string): Promise<void> {
  await db.pool.query("UPDATE external_effects SET claimed_at = claimed_at - interval '10 minutes' WHERE idempotency_key = $1", [key]);
}

describe('once(): the key is claimed before the effect', () => {
  test('attempts overlapping a slow post post once; the others are told to ask again later, then get its result', async () => {
    const key = newKey();
    const slack = pendingCall<{ channel: string; ts: string }>();
    let posts = 0;
    const post = () => {
      posts++;
      return slack.answered;
    };
    const attempts = Array.from({ length: 5 }, () => tracked(once(db.pool, key, 'chat', post)));
    await eventually(async () => attempts.filter((a) => a.failure).length, (failed) => failed === 4);
    const winner = attempts.find((a) => !a.failure)!;
    expect(posts).toBe(1);
    for (const loser of attempts.filter((a) => a.failure)) {
      expect(loser.failure).toBeInstanceOf(ApplicationFailure);
      expect(loser.failure).toMatchObject({ type: EFFECT_IN_PROGRESS, nonRetryable: false, nextRetryDelay: 5_000 });
    }
    expect((await effectRow(key))?.completed_at).toBeNull();

    slack.answer({ channel: 'C1', ts: '1712.0001' });
    await expect(winner.call).resolves.toEqual({ channel: 'C1', ts: '1712.0001' });
    await expect(once(db.pool, key, 'chat', post)).resolves.toEqual({ channel: 'C1', ts: '1712.0001' });
    expect(posts).toBe(1);
  });

  test('a failed post releases its claim, so the retry posts', async () => {
    const key = newKey();
    const down = ApplicationFailure.retryable('Slack answered 503', 'IntegrationUnavailable');
    await expect(once(db.pool, key, 'chat', () => Promise.reject(down))).rejects.toBe(down);
    expect(await effectRow(key)).toBeUndefined();

    await expect(once(db.pool, key, 'chat', async () => ({ channel: 'C1', ts: '2' }))).resolves.toEqual({ channel: 'C1', ts: '2' });
    expect(await effectRow(key)).toMatchObject({ result: { channel: 'C1', ts: '2' }, completed_at: expect.any(Date) });
  });

  test('an effect with no result (a page) is stored as done and not repeated', async () => {
    const key = newKey();
    let pages = 0;
    const page = async () => {
      pages++;
    };
    await once(db.pool, key, 'pager', page);
    await once(db.pool, key, 'pager', page);
    expect(pages).toBe(1);
  });

  test('a claim abandoned for longer than the takeover time (its worker died mid-call) is taken over', async () => {
    const key = newKey();
    await db.pool.query(`INSERT INTO external_effects (idempotency_key, system, claim_token) VALUES ($1, 'chat', gen_random_uuid())`, [key]);
    // Still fresh: nobody may act yet.
    expect(await failureOf(once(db.pool, key, 'chat', async () => ({ ts: 'too soon' })))).toMatchObject({ type: EFFECT_IN_PROGRESS });

    await ageClaim(key);
    await expect(once(db.pool, key, 'chat', async () => ({ ts: 'taken over' }))).resolves.toEqual({ ts: 'taken over' });
    await expect(once(db.pool, key, 'chat', async () => ({ ts: 'again' }))).resolves.toEqual({ ts: 'taken over' });
  });

  test("the first owner's late answer cannot overwrite the result of the attempt that took its claim over", async () => {
    const key = newKey();
    const slow = pendingCall<{ ts: string }>();
    const first = once(db.pool, key, 'chat', () => slow.answered);
    await eventually(() => effectRow(key), (row) => row !== undefined);
    await ageClaim(key);

    await expect(once(db.pool, key, 'chat', async () => ({ ts: 'second' }))).resolves.toEqual({ ts: 'second' });
    slow.answer({ ts: 'first' });
    expect(await failureOf(first)).toMatchObject({ type: EFFECT_CLAIM_LOST, nonRetryable: false });
    expect((await effectRow(key))?.result).toEqual({ ts: 'second' });
    await expect(once(db.pool, key, 'chat', async () => ({ ts: 'third' }))).resolves.toEqual({ ts: 'second' });
  });

  test('a shorter takeover time can be chosen per call', async () => {
    const key = newKey();
    await db.pool.query(`INSERT INTO external_effects (idempotency_key, system, claim_token) VALUES ($1, 'chat', gen_random_uuid())`, [key]);
    await new Promise((r) => setTimeout(r, 150));
    await expect(once(db.pool, key, 'chat', async () => 'mine', { takeoverAfterMs: 100 })).resolves.toBe('mine');
  });
});

describe('once() under Temporal retries (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;
  let service: Server;
  let serviceUrl: string;
  let calls = 0;
  /** The service's answers wait for this: released by the test once it has seen what it waits for. */
  let held = pendingCall<void>();

  beforeAll(async () => {
    [env, bundle] = await Promise.all([
      devServerEnvironment(),
      bundleWorkflows(require.resolve('./slow-call-workflow')),
    ]);
    // A service that answers only when the test lets it: the first attempt's call is still running
    // when its 1 s startToCloseTimeout runs out and Temporal retries, however slow the machine.
    service = createServer((_req, res) => {
      const call = ++calls;
      void held.answered.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ call })));
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/`;
  }, 120_000);
  afterAll(async () => {
    held.answer();
    service?.close();
    await env?.teardown();
  });

  test('an attempt that times out while its call still runs is retried, and the call is made exactly once', async () => {
    const seen: Array<{ attempt: number; outcome: string }> = [];
    held = pendingCall<void>();
    const note = (attempt: number, outcome: string) => {
      seen.push({ attempt, outcome });
      // The second attempt found the first one still acting: now the service may answer the first.
      if (attempt === 2) held.answer();
    };
    const activities: SlowCallActivities = {
      async callSlowService(key) {
        const { attempt } = Context.current().info;
        try {
          const result = await once(
            db.pool,
            key,
            'slow-service',
            async () => (await fetch(serviceUrl)).json() as Promise<{ call: number }>,
            { inProgressRetryMs: 200 },
          );
          note(attempt, 'returned');
          return result;
        } catch (err) {
          note(attempt, err instanceof ApplicationFailure ? String(err.type) : 'error');
          throw err;
        }
      },
    };
    const taskQueue = `effects-${randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      dataConverter: testDataConverter,
      activities,
    });
    const key = `slow-${randomBytes(4).toString('hex')}`;
    const result = await worker.runUntil(
      env.client.workflow.execute<typeof callSlowServiceOnce>('callSlowServiceOnce', {
        taskQueue,
        workflowId: `slow-call-${randomBytes(4).toString('hex')}`,
        args: [key],
      }),
    );

    expect(result).toEqual({ call: 1 });
    expect(calls).toBe(1);
    // The first attempt timed out (its late answer went nowhere but into the effect's row); the next
    // ones found it still acting; the last one returned what it stored.
    expect(seen[0]).toEqual({ attempt: 2, outcome: EFFECT_IN_PROGRESS });
    expect(seen.at(-1)).toMatchObject({ outcome: 'returned' });
    expect(seen.filter((s) => s.outcome === 'returned').map((s) => s.attempt)).toEqual([1, seen.at(-1)!.attempt]);
    expect((await effectRow(key))?.result).toEqual({ call: 1 });
  }, 60_000);
});
