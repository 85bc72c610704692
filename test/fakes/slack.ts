// A local Slack Web API (chat.postMessage, conversations.open, reactions.add) for contract tests:
// checks the bot token, answers `ok: false` codes like Slack, and keeps every message with its ts.
import { HttpFake, type FakeAnswer, type RecordedRequest } from './http-fake';

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  threadTs?: string;
}

export class FakeSlack extends HttpFake {
  readonly messages: SlackMessage[] = [];
  /** When each chat.postMessage arrived (this process's clock), to measure the pace per channel. */
  readonly arrivals: Array<{ channel: string; text: string; at: number }> = [];
  readonly reactions: Array<{ channel: string; ts: string; name: string }> = [];
  /** Channels Slack answers `channel_not_found` for. */
  readonly missingChannels = new Set<string>();
  private sequence = 0;

  constructor(readonly token = 'xoxb-fake-token') {
    super(
      (req) =>
        req.headers.authorization === `Bearer ${this.token}` ? null : { status: 200, body: { ok: false, error: 'invalid_auth' } },
      (req) => this.answer(req),
    );
  }

  /** The Web API base URL to give the client, as SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** Messages posted to channels (not DMs, which Slack ids start with D). */
  channelMessages(): SlackMessage[] {
    return this.messages.filter((m) => !m.channel.startsWith('D'));
  }

  private answer(req: RecordedRequest): FakeAnswer {
    const ok = (body: Record<string, unknown>) => ({ status: 200, body: { ok: true, ...body } });
    const fail = (error: string) => ({ status: 200, body: { ok: false, error } });
    if (req.method !== 'POST') return { status: 405, body: { ok: false, error: 'method_not_allowed' } };
    const args = req.body ?? {};
    switch (req.path) {
      case '/api/chat.postMessage': {
        if (args.channel && args.text) this.arrivals.push({ channel: args.channel, text: args.text, at: Date.now() });
        if (!args.channel) return fail('channel_not_found');
        if (!args.text) return fail('no_text');
        if (this.missingChannels.has(args.channel)) return fail('channel_not_found');
        const ts = `${1_700_000_000 + ++this.sequence}.000100`;
        const message: SlackMessage = { channel: args.channel, ts, text: args.text, ...(args.thread_ts ? { threadTs: args.thread_ts } : {}) };
        this.messages.push(message);
        return ok({ channel: args.channel, ts, message: { text: args.text, ts } });
      }
      case '/api/conversations.open': {
        if (!args.users) return fail('users_list_not_supplied');
        if (this.missingChannels.has(args.users)) return fail('user_not_found');
        return ok({ channel: { id: `D${String(args.users).toUpperCase().replace(/[^A-Z0-9]/g, '')}` } });
      }
      case '/api/reactions.add': {
        if (!this.messages.some((m) => m.channel === args.channel && m.ts === args.timestamp)) return fail('message_not_found');
        if (this.reactions.some((r) => r.channel === args.channel && r.ts === args.timestamp && r.name === args.name)) {
          return fail('already_reacted');
        }
        this.reactions.push({ channel: args.channel, ts: args.timestamp, name: args.name });
        return ok({});
      }
      default:
        return { status: 404, body: { ok: false, error: 'unknown_method' } };
    }
  }
}
