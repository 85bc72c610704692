// Contract of the Zendesk driver against a local Zendesk: comments, status, assignee and tags;
// retried until success with one comment; 429 waits as told; a 4xx stops.
import { randomBytes } from 'node:crypto';
import { zendeskHelpdesk } from '../../activities/drivers/zendesk';
import type { HelpdeskDriver } from '../../activities/integrations';
import { FakeZendesk } from '../fakes/zendesk';
import type { TestDatabase } from '../postgres';
import { againstAFreshFake } from './contract';
import { failureOf, retryLikeTemporal } from './retry';

let zendesk: FakeZendesk;
let helpdesk: HelpdeskDriver;
let db: TestDatabase;

againstAFreshFake(() => new FakeZendesk(), (fake, database) => {
  zendesk = fake;
  db = database;
  helpdesk = zendeskHelpdesk({ url: zendesk.url, email: zendesk.email, apiToken: zendesk.apiToken });
});

const key = () => `zendesk-test:${randomBytes(4).toString('hex')}`;

describe('the Zendesk helpdesk driver', () => {
  test('adds a public and an internal comment with the agent token, and returns the comment id', async () => {
    const ticket = zendesk.addTicket('42');
    const { commentId } = await helpdesk.addComment({ ticketId: '42', body: 'We are on it.', public: true });
    await helpdesk.addComment({ ticketId: '42', body: 'Customer is on the EU cluster.', public: false });

    expect(ticket.comments).toEqual([
      { id: Number(commentId), body: 'We are on it.', public: true },
      { id: expect.any(Number), body: 'Customer is on the EU cluster.', public: false },
    ]);
    const [first] = zendesk.requests;
    expect(first).toMatchObject({ method: 'PUT', path: '/api/v2/tickets/42.json' });
    expect(first!.headers.authorization).toBe(`Basic ${Buffer.from('agent@example.com/token:zendesk-fake-token').toString('base64')}`);
    expect(first!.body).toEqual({ ticket: { comment: { body: 'We are on it.', public: true } } });
  });

  test('sets status, assignee (email or id) and tags', async () => {
    const ticket = zendesk.addTicket('7');
    await helpdesk.updateTicket({ ticketId: '7', status: 'pending', assignee: 'ana@example.com', tags: ['sla-breached'] });
    expect(ticket).toMatchObject({ status: 'pending', assignee: 'ana@example.com', tags: ['sla-breached'] });
    await helpdesk.updateTicket({ ticketId: '7', assignee: '360001' });
    expect(zendesk.requests.at(-1)!.body).toEqual({ ticket: { assignee_id: '360001' } });
  });

  test('a comment retried through two 500s is added exactly once', async () => {
    const ticket = zendesk.addTicket('42');
    zendesk.failNext(2, { status: 500 });
    const k = key();
    const comment = () => helpdesk.addComment({ ticketId: '42', body: 'Fixed.', public: true });

    const attempts = await retryLikeTemporal(db.pool, k, 'helpdesk', comment);
    expect(attempts.retried.map((f) => f.type)).toEqual(['IntegrationUnavailable', 'IntegrationUnavailable']);
    // The workflow replays or the activity is retried after success: the stored result answers.
    const again = await retryLikeTemporal(db.pool, k, 'helpdesk', comment);

    expect(again.result).toEqual(attempts.result);
    expect(ticket.comments).toHaveLength(1);
    expect(zendesk.requests).toHaveLength(3);
  });

  test('a 429 waits as long as Retry-After says', async () => {
    zendesk.addTicket('42');
    zendesk.failNext(1, { status: 429, retryAfter: 37 });
    const failure = await failureOf(() => helpdesk.addComment({ ticketId: '42', body: 'x', public: true }));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('IntegrationRateLimited');
    expect(failure.nextRetryDelay).toBe(37_000);
  });

  test('an unknown ticket (404) and a refused token (401) stop without retrying, saying what to fix', async () => {
    const unknown = await retryLikeTemporal(db.pool, key(), 'helpdesk', () =>
      helpdesk.addComment({ ticketId: '999', body: 'x', public: true }),
    );
    expect(unknown.stoppedBy).toMatchObject({ nonRetryable: true, type: 'IntegrationRejected' });
    expect(unknown.stoppedBy!.message).toMatch(/^Zendesk answered 404 .*ticket 999.*check the id/);
    expect(unknown.retried).toHaveLength(0);

    const wrongToken = zendeskHelpdesk({ url: zendesk.url, email: zendesk.email, apiToken: 'revoked' });
    const refused = await failureOf(() => wrongToken.updateTicket({ ticketId: '42', status: 'open' }));
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('401');
    expect(refused.message).toContain('check ZENDESK_EMAIL and ZENDESK_API_TOKEN');
    expect(refused.message).not.toContain('revoked');
  });

  test('an invalid status (422) stops and names the problem', async () => {
    zendesk.addTicket('42');
    const failure = await failureOf(() => helpdesk.updateTicket({ ticketId: '42', status: 'done' }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/Zendesk answered 422 .*Status is invalid/);
  });
});
