// Chat through Slack's official Web API client: channel posts, thread replies, direct messages,
// reactions. The client's own retries are off, so Temporal's activity retry is the only one.
import { ErrorCode, LogLevel, WebClient, type WebAPICallError } from '@slack/web-api';
import type { Pool } from 'pg';
import type { ChatDriver } from '../integrations';
import { failureForStatus, rejected, unreachable, type ApiSystem } from './http';
import { pacer as pacerFor, type Pacer, SLACK_MESSAGES_PER_CHANNEL } from './pacing';

const SLACK: ApiSystem = { name: 'Slack', credentials: 'SLACK_BOT_TOKEN' };

/** Slack's `ok: false` codes worth another try; every other code is permanent. */
const TRANSIENT_SLACK_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/** What to do about the permanent codes people actually meet. */
const SLACK_FIXES: Record<string, string> = {
  invalid_auth: 'check SLACK_BOT_TOKEN',
  not_authed: 'set SLACK_BOT_TOKEN',
  token_revoked: 'the bot token was revoked; install the app again and update SLACK_BOT_TOKEN',
  account_inactive: 'the bot user is deactivated; reinstall the app',
  missing_scope: 'add the missing OAuth scope (chat:write, im:write, reactions:write) to the Slack app',
  channel_not_found: 'check the channel name or id, and that the bot can see it',
  not_in_channel: 'invite the bot to the channel (/invite @bot)',
  is_archived: 'the channel is archived; unarchive it or change the recipient',
  user_not_found: 'check the Slack user id of the recipient',
  msg_too_long: 'the message is too long for Slack; shorten it',
};

export interface SlackOptions {
  token: string;
  /** https://slack.com/api/ for the real service; a local fake in tests. */
  apiUrl: string;
  timeoutMs?: number;
  /** Shares the per-channel pace with every worker (PostgreSQL); in this process only when absent. */
  pool?: Pool;
}

export function slackChat({ token, apiUrl, timeoutMs = 10_000, pool }: SlackOptions): ChatDriver {
  const client = new WebClient(token, {
    slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    timeout: timeoutMs,
    // One retry mechanism: Temporal's. A 429 comes back to us with Slack's Retry-After.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
  const pacer: Pacer = pacerFor('Slack', SLACK_MESSAGES_PER_CHANNEL, pool);

  async function post(channel: string, text: string, threadTs: string | undefined, what: string) {
    await pacer.waitTurn(channel);
    const result = await slackCall(what, () =>
      client.chat.postMessage({ channel, text, ...(threadTs ? { thread_ts: threadTs } : {}) }),
    );
    return { channel: String(result.channel ?? channel), ts: String(result.ts) };
  }

  return {
    driver: 'slack',
    postMessage: ({ channel, text, threadTs }) => post(channel, text, threadTs, `a message to ${channel}`),
    async directMessage({ user, text }) {
      const opened = await slackCall(`opening a DM with ${user}`, () => client.conversations.open({ users: user }));
      const channel = opened.channel?.id;
      if (!channel) throw rejected(SLACK, `opening a DM with ${user}`, 'no channel id', 'check the user id');
      return post(channel, text, undefined, `a direct message to ${user}`);
    },
    async addReaction({ channel, ts, name }) {
      try {
        await client.reactions.add({ channel, timestamp: ts, name });
      } catch (err) {
        const e = err as WebAPICallError;
        // Already there is what we wanted: a retried reaction is not a failure.
        if (e.code === ErrorCode.PlatformError && e.data.error === 'already_reacted') return;
        throw slackFailure(`the :${name}: reaction`, e);
      }
    },
  };
}

/** Runs one Web API call and turns the client's errors into retry-or-stop failures. */
async function slackCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw slackFailure(what, err as WebAPICallError);
  }
}

function slackFailure(what: string, err: WebAPICallError): Error {
  switch (err.code) {
    case ErrorCode.RateLimitedError:
      return failureForStatus(SLACK, what, 429, String(err.retryAfter), '');
    case ErrorCode.HTTPError:
      return failureForStatus(SLACK, what, err.statusCode, err.headers?.['retry-after'] ?? null, '');
    case ErrorCode.PlatformError: {
      const code = err.data.error;
      if (TRANSIENT_SLACK_ERRORS.has(code)) return failureForStatus(SLACK, what, 503, null, code);
      return rejected(SLACK, what, code, SLACK_FIXES[code] ?? 'see https://api.slack.com/methods for this error');
    }
    case ErrorCode.RequestError:
      return unreachable(SLACK, what, err.original);
    default:
      return unreachable(SLACK, what, err);
  }
}
