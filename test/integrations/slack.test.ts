// Contract of the Slack driver (the official Web API client) against a local Slack: posts, thread
// replies, DMs, reactions; through the real notify activity on the dev server, Temporal's retry
// brings a post through 429 and 500 with one message, and a channel Slack does not know stops it.
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import pino from 'pino';
import { integrationsFromEnv } from '../../activities/drivers';
import { slackChat } from '../../activities/drivers/slack';
import { createActivities } from '../../activities';
import type { ChatDriver } from '../../activities/integrations';
import { IntegrationNotifier } from '../../activities/notifier';
import type { Notification } from '../../domain/ticket';
import { testDataConverter, testKeys } from '../encryption';
import { FakeSlack } from '../fakes/slack';
import type { TestDatabase } from '../postgres';
import { againstAFreshFake } from './contract';
import { bundleWorkflows, devServerEnvironment } from '../temporal';
import { failureOf, retryLikeTemporal } from './retry';
import type { deliverNotification } from './workflows';

const silent = pino({ level: 'silent' });
let slack: FakeSlack;
let chat: ChatDriver;
let db: TestDatabase;

againstAFreshFake(() => new FakeSlack(), (fake, database) => {
  slack = fake;
  db = database;
  chat = slackChat({ token: slack.token, apiUrl: slack.apiUrl });
});

describe('the Slack chat driver', () => {
  test('posts to a channel and in a thread with the bot token, and returns the ts', async () => {
    const posted = await chat.postMessage({ channel: '#support-desk', text: 'Ticket tk-1 is waiting' });
    const reply = await chat.postMessage({ channel: '#support-desk', text: 'On it', threadTs: posted.ts });
    expect(slack.messages).toEqual([
      { channel: '#support-desk', ts: posted.ts, text: 'Ticket tk-1 is waiting' },
      { channel: '#support-desk', ts: reply.ts, text: 'On it', threadTs: posted.ts },
    ]);
    expect(slack.requests[0]).toMatchObject({ method: 'POST', path: '/api/chat.postMessage' });
    expect(slack.requests[0]!.headers.authorization).toBe(`Bearer ${slack.token}`);
  });

  test('a direct message opens the conversation first; a repeated reaction is not an error', async () => {
    const dm = await chat.directMessage({ user: 'U123', text: 'Your ticket is resolved' });
    expect(dm.channel).toBe('DU123');
    expect(slack.requests.map((r) => r.path)).toEqual(['/api/conversations.open', '/api/chat.postMessage']);
    await chat.addReaction({ channel: dm.channel, ts: dm.ts, name: 'white_check_mark' });
    await chat.addReaction({ channel: dm.channel, ts: dm.ts, name: 'white_check_mark' });
    expect(slack.reactions).toHaveLength(1);
  });

  test('a 429 waits as long as Retry-After says, with no retry inside the client', async () => {
    slack.failNext(1, { status: 429, retryAfter: 30 });
    const failure = await failureOf(() => chat.postMessage({ channel: '#support-desk', text: 'x' }));
    expect(failure).toMatchObject({ nonRetryable: false, type: 'IntegrationRateLimited', nextRetryDelay: 30_000 });
    expect(slack.requests).toHaveLength(1);
  });

  test('a 500 is retried by the caller, not by the client, and posts once', async () => {
    slack.failNext(2, { status: 500 });
    const key = `slack-test:${randomBytes(4).toString('hex')}`;
    const post = () => chat.postMessage({ channel: '#support-desk', text: 'once' });
    const attempts = await retryLikeTemporal(db.pool, key, 'chat', post);
    await retryLikeTemporal(db.pool, key, 'chat', post);
    expect(attempts.retried.map((f) => f.type)).toEqual(['IntegrationUnavailable', 'IntegrationUnavailable']);
    expect(slack.messages).toHaveLength(1);
    expect(slack.requests).toHaveLength(3);
  });

  test('an unknown channel and a revoked token stop without retrying, saying what to fix', async () => {
    slack.missingChannels.add('#gone');
    const unknown = await failureOf(() => chat.postMessage({ channel: '#gone', text: 'x' }));
    expect(unknown).toMatchObject({ nonRetryable: true, type: 'IntegrationRejected' });
    expect(unknown.message).toBe('Slack refused a message to #gone (channel_not_found): check the channel name or id, and that the bot can see it');

    const revoked = slackChat({ token: 'xoxb-revoked', apiUrl: slack.apiUrl });
    const refused = await failureOf(() => revoked.postMessage({ channel: '#support-desk', text: 'x' }));
    expect(refused.message).toContain('check SLACK_BOT_TOKEN');
    expect(refused.message).not.toContain('xoxb-revoked');

    slack.failNext(1, { status: 404 });
    const notFound = await failureOf(() => chat.postMessage({ channel: '#support-desk', text: 'x' }));
    expect(notFound.nonRetryable).toBe(true);
  });
});

describe('a notification through the notify activity and Temporal retries (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([
      devServerEnvironment(),
      bundleWorkflows(require.resolve('./workflows')),
    ]);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  async function deliver(n: Notification) {
    // Configured the way a user would: only the base URL points at the fake.
    const integrations = integrationsFromEnv({ SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl }, silent);
    const taskQueue = `slack-${randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      dataConverter: testDataConverter,
      activities: createActivities({ pool: db.pool, notifier: new IntegrationNotifier(integrations, db.pool, silent), integrations, encryptionKeys: testKeys }),
    });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof deliverNotification>('deliverNotification', {
        taskQueue,
        workflowId: `deliver-${randomBytes(4).toString('hex')}`,
        args: [n],
      });
      const result = await handle.result();
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes)!;
      const started = events.find((e) => e.activityTaskStartedEventAttributes)!;
      const ms = (t: typeof scheduled.eventTime) => Number(t!.seconds) * 1000 + Math.floor((t!.nanos ?? 0) / 1e6);
      return {
        result,
        attempts: started.activityTaskStartedEventAttributes!.attempt!,
        waitedMs: ms(started.eventTime) - ms(scheduled.eventTime),
      };
    });
  }

  const notification = (overrides: Partial<Notification> = {}): Notification => ({
    idempotencyKey: `ticket-tk-${randomBytes(4).toString('hex')}:warning:3`,
    ticketId: 'tk-1',
    kind: 'warning',
    audience: 'desk',
    recipients: ['#support-desk'],
    text: 'Ticket tk-1: 1 h left on the acknowledgement target.',
    private: false,
    ...overrides,
  });

  test('a post rate-limited (Retry-After 2 s) and then failing with 500 reaches Slack once, after the wait', async () => {
    slack.failNext(1, { status: 429, retryAfter: 2 });
    slack.failNext(1, { status: 500 });
    const { result, attempts, waitedMs } = await deliver(notification());
    expect(result).toEqual({ delivered: true });
    expect(attempts).toBe(3);
    expect(waitedMs).toBeGreaterThanOrEqual(2_000);
    expect(slack.messages.map((m) => m.channel)).toEqual(['#support-desk']);
  });

  test('the same notification delivered twice (a retry, a replay, a restarted worker) posts once', async () => {
    const n = notification();
    await deliver(n);
    await deliver(n);
    expect(slack.messages).toHaveLength(1);
    expect(slack.requests.filter((r) => r.path === '/api/chat.postMessage')).toHaveLength(1);
  });

  test('a channel Slack does not know stops after one attempt, and the failure says so', async () => {
    slack.missingChannels.add('#gone');
    const { result, attempts } = await deliver(notification({ recipients: ['#gone'] }));
    expect(attempts).toBe(1);
    expect(result).toEqual({ delivered: false, failure: expect.stringContaining('channel_not_found') });
    expect(slack.requests).toHaveLength(1);
  });
});
