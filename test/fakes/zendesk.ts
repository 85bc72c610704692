// A local Zendesk Ticketing API (PUT /api/v2/tickets/{id}.json) for contract tests: checks the
// email/token Basic auth, keeps each ticket's comments, status, assignee and tags, answers 404/422.
import { HttpFake, type FakeAnswer, type RecordedRequest } from './http-fake';

export interface ZendeskTicket {
  id: string;
  status: string;
  assignee: string | null;
  tags: string[];
  comments: Array<{ id: number; body: string; public: boolean }>;
}

const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'];

export class FakeZendesk extends HttpFake {
  readonly tickets = new Map<string, ZendeskTicket>();
  private sequence = 1000;

  constructor(
    readonly email = 'agent@example.com',
    readonly apiToken = 'zendesk-fake-token',
  ) {
    super(
      (req) =>
        req.headers.authorization === `Basic ${Buffer.from(`${this.email}/token:${this.apiToken}`).toString('base64')}`
          ? null
          : { status: 401, body: { error: "Couldn't authenticate you" } },
      (req) => this.answer(req),
    );
  }

  /** A ticket that exists in the helpdesk (others answer 404). */
  addTicket(id: string): ZendeskTicket {
    const ticket: ZendeskTicket = { id, status: 'new', assignee: null, tags: [], comments: [] };
    this.tickets.set(id, ticket);
    return ticket;
  }

  private answer(req: RecordedRequest): FakeAnswer {
    const match = /^\/api\/v2\/tickets\/([^/]+)\.json$/.exec(req.path);
    if (!match || req.method !== 'PUT') return { status: 404, body: { error: 'InvalidEndpoint' } };
    const ticket = this.tickets.get(decodeURIComponent(match[1]!));
    if (!ticket) return { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } };
    const update = req.body?.ticket;
    if (!update || typeof update !== 'object') return { status: 400, body: { error: 'Invalid JSON', description: 'ticket is required' } };
    if (update.status !== undefined && !STATUSES.includes(update.status)) {
      return { status: 422, body: { error: 'RecordInvalid', description: 'Record validation errors', details: { status: [{ description: 'Status is invalid' }] } } };
    }
    if (update.comment && (typeof update.comment.body !== 'string' || update.comment.body === '')) {
      return { status: 422, body: { error: 'RecordInvalid', description: 'Comment: body cannot be blank' } };
    }
    const events: Array<Record<string, unknown>> = [];
    if (update.comment) {
      const comment = { id: ++this.sequence, body: update.comment.body, public: update.comment.public !== false };
      ticket.comments.push(comment);
      events.push({ id: comment.id, type: 'Comment', body: comment.body, public: comment.public });
    }
    if (update.status !== undefined) ticket.status = update.status;
    if (update.assignee_email !== undefined) ticket.assignee = update.assignee_email;
    if (update.assignee_id !== undefined) ticket.assignee = String(update.assignee_id);
    if (update.tags !== undefined) ticket.tags = update.tags;
    return { status: 200, body: { ticket: { id: Number(ticket.id) || ticket.id, status: ticket.status, tags: ticket.tags }, audit: { id: ++this.sequence, events } } };
  }
}
