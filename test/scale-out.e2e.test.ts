// Three workers on one task queue, as `docker-compose up --scale worker=3` runs them, posting to the
// local Slack: every ticket's escalation goes to one channel at about the same moment, and together
// the workers keep Slack's pace for that channel (one message a second), because the pace lives in
// PostgreSQL; and each notification is posted once, whichever worker ran it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SLACK_MESSAGES_PER_CHANNEL } from '../activities/drivers/pacing';
import { DEMO_POLICY } from '../domain/policy';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { eventually } from './eventually';
import { FakeSlack } from './fakes/slack';
import { createTestDatabase, type TestDatabase } from './postgres';
import { spawnDesk, type SpawnedDesk } from './spawned-desk';
import { devServerEnvironment } from './temporal';

const WORKERS = 3;
const TICKETS = 8;
const CHANNEL = DEMO_POLICY.escalationChains.standard![0]!.notify[0]!; // '#support-escalations'
const taskQueue = `scale-${process.pid}`;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let slack: FakeSlack;
let dir: string;
let desk: SpawnedDesk | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-scale-'));
  let bundleCode: string;
  [env, db, slack, bundleCode] = await Promise.all([
    devServerEnvironment(),
    createTestDatabase(),
    new FakeSlack().start(),
    buildWorkflowBundle().then((b) => b.code),
  ]);
  // One bundle for the three workers, as a built image has (WORKFLOW_BUNDLE): none bundles at start.
  writeFileSync(path.join(dir, 'workflow-bundle.js'), bundleCode);
  desk = await spawnDesk({
    workers: WORKERS,
    env: {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATABASE_URL: db.url,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      WORKFLOW_BUNDLE: path.join(dir, 'workflow-bundle.js'),
    },
  });
}, 180_000);

afterAll(async () => {
  await desk?.stop();
  await env?.teardown();
  await slack?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const activityPollers = async (): Promise<Set<string>> => {
  const { pollers } = await env.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return new Set((pollers ?? []).map((p) => p.identity ?? ''));
};

test(`${WORKERS} workers keep one channel's pace together and post each escalation once`, async () => {
  // All three poll for activities before any ticket is filed, so the posts are shared among them.
  expect((await eventually(activityPollers, (ids) => ids.size >= WORKERS, 120_000)).size).toBe(WORKERS);

  const ids: string[] = [];
  for (let i = 0; i < TICKETS; i++) {
    const res = await desk!.call('POST', '/tickets', { subject: `Outage report ${i}`, requester: { email: `user${i}@example.com` } });
    expect(res.status).toBe(201);
    ids.push(res.body.id as string);
  }
  // Nobody acknowledges: each ticket breaches after 20 s and escalates to the channel, all at once.
  const escalations = () => slack.arrivals.filter((a) => a.channel === CHANNEL);
  await eventually(async () => escalations().length, (n) => n >= TICKETS, 150_000);
  // Posting continues for a moment after (later levels, retries): nothing may be posted twice.
  const posted = escalations();
  expect(posted.length).toBeGreaterThanOrEqual(TICKETS);
  for (const id of ids) expect(posted.filter((p) => p.text.includes(id)).length).toBe(1);
  expect(new Set(slack.arrivals.map((a) => `${a.channel}\n${a.text}`)).size).toBe(slack.arrivals.length);

  // The pace as the fake measured it: one a second, with room for a process waking a little late.
  const times = posted.map((p) => p.at).sort((a, b) => a - b);
  const { windowMs, limit } = SLACK_MESSAGES_PER_CHANNEL;
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(Math.min(...gaps)).toBeGreaterThan(windowMs / limit / 2);
  expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(((times.length - 1) * windowMs) / limit - 500);
}, 240_000);
