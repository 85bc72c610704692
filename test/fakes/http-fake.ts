// The common part of every local fake of a SaaS API: a node:http server on 127.0.0.1:0 that records
// each request, checks authentication, and can be told to fail the next calls (429, 500, a 4xx).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON, or the form fields of an urlencoded body (Slack's client sends those). */
  body: any;
  /** What the fake answered. */
  status?: number;
}

export interface ScriptedFailure {
  status: number;
  /** Seconds, sent as Retry-After (for 429). */
  retryAfter?: number;
  body?: unknown;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeRoute = (req: RecordedRequest) => FakeAnswer;

export class HttpFake {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: ScriptedFailure[] = [];
  /** While set, every call fails like this (an outage), until endOutage(). */
  private down: ScriptedFailure | null = null;
  private server: Server | null = null;
  url = '';

  constructor(
    /** Returns an answer when the request is not authenticated as the fake expects. */
    private readonly authenticate: (req: RecordedRequest) => FakeAnswer | null,
    private readonly route: FakeRoute,
  ) {}

  /** The next `times` calls fail like this, then the fake answers normally again. */
  failNext(times: number, failure: ScriptedFailure): void {
    for (let i = 0; i < times; i++) this.failures.push(failure);
  }

  /** Every call fails like this from now on (the service is down) until endOutage(). */
  beginOutage(failure: ScriptedFailure): void {
    this.down = failure;
  }

  endOutage(): void {
    this.down = null;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: parseBody(raw, req.headers['content-type']),
    };
    this.requests.push(recorded);
    const answer = this.authenticate(recorded) ?? this.scriptedFailure() ?? this.route(recorded);
    recorded.status = answer.status;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private scriptedFailure(): FakeAnswer | null {
    const failure = this.down ?? this.failures.shift();
    if (!failure) return null;
    return {
      status: failure.status,
      body: failure.body ?? { error: `scripted ${failure.status}` },
      headers: failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {},
    };
  }
}

function parseBody(raw: string, contentType: string | undefined): any {
  if (!raw) return null;
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
