// Incidents and security reports end to end: the Temporal dev server, the worker and the API as
// separate processes (as `npm start` runs them) on PostgreSQL, with the `demo` policy, where the
// first level has 20 s to acknowledge before the second level is paged.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEMO_POLICY } from '../domain/policy';
import { DESK_KIND, DESK_LEVEL, DESK_SEVERITY } from '../domain/search-attributes';
import { eventually } from './eventually';
import { deskProcesses } from './desk-processes';
import type { TestDatabase } from './postgres';

const ACK_MS = DEMO_POLICY.incident!.acknowledgeWithinMs;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const { http } = deskProcesses({ taskQueue: `incident-e2e-${process.pid}`, use: (desk) => ({ env, db } = desk) });

describe('an emergency incident on the running desk', () => {
  it('POST /incidents pages level 1 at once and, unacknowledged, level 2 by itself when the acknowledgement is due', async () => {
    const raised = await http('POST', '/incidents', {
      title: 'Customer instance down',
      externalId: 'pd-e2e-1',
      customerTicketId: 'zendesk-9001',
    });
    expect(raised.status).toBe(201);
    expect(raised.body).toMatchObject({ created: true, workflowId: `incident-${raised.body.id}` });
    const id = raised.body.id as string;
    const again = await http('POST', '/incidents', { title: 'Customer instance down', externalId: 'pd-e2e-1' });
    expect(again).toMatchObject({ status: 200, body: { id, created: false } });

    const first = await eventually(() => http('GET', `/incidents/${id}`), (r) => r.body.pages?.length >= 1);
    expect(first.body.pages[0]).toMatchObject({ level: 1, notified: ['oncall-primary'] });
    // Times are ISO 8601 in every answer (api/json.ts).
    expect(first.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(first.body.acknowledgeDueAt) - Date.parse(first.body.createdAt)).toBe(ACK_MS);

    const second = await eventually(
      () => http('GET', `/incidents/${id}`),
      (r) => r.body.pages.length >= 2,
      ACK_MS + 15_000,
    );
    const page = second.body.pages[1];
    expect(page).toMatchObject({ level: 2, notified: ['oncall-secondary'], reason: 'paging chain' });
    expect(Date.parse(page.at) - Date.parse(second.body.createdAt)).toBeGreaterThanOrEqual(ACK_MS);
    // Due at ACK_MS and taken then, give or take a busy worker (level 2 is paged again 10 s later).
    expect(Date.parse(page.at) - Date.parse(second.body.createdAt)).toBeLessThan(ACK_MS + 5_000);

    // Each page is an activity in the workflow's history, and the operator sees the level.
    const handle = env.client.workflow.getHandle(`incident-${id}`);
    const history = await handle.fetchHistory();
    const pages = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'pageOnCall');
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const described = await eventually(() => handle.describe(), (d) => d.typedSearchAttributes.get(DESK_LEVEL) === 2);
    expect(described.typedSearchAttributes.get(DESK_LEVEL)).toBe(2);
    expect(described.typedSearchAttributes.get(DESK_KIND)).toBe('incident');
    expect(described.typedSearchAttributes.get(DESK_SEVERITY)).toBe('critical');

    const acked = await http('POST', `/incidents/${id}/acknowledge`, {}, { as: 'alice' });
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice', alreadyAcknowledged: false });
    const twice = await http('POST', `/incidents/${id}/acknowledge`, {}, { as: 'bob' });
    expect(twice.status).toBe(200);
    expect(twice.body).toMatchObject({ acknowledgedBy: 'alice', alreadyAcknowledged: true, note: 'already acknowledged by alice via api' });

    const resolved = await http('POST', `/incidents/${id}/resolve`, { resolution: 'Restarted the primary.' }, { as: 'alice' });
    expect(resolved.body).toMatchObject({ status: 'resolved', event: 'resolved' });
    // The follow-up task is opened beside the loop, a moment after the answer.
    const followedUp = await eventually(() => http('GET', `/incidents/${id}`), (r) => r.body.followUp !== null);
    expect(followedUp.body.followUp.webUrl).toMatch(/support\/docs/);
    const resolveAgain = await http('POST', `/incidents/${id}/resolve`, { resolution: 'again' }, { as: 'alice' });
    expect(resolveAgain).toEqual({ status: 409, body: { error: 'the incident is already resolved' } });

    const listed = await http('GET', '/incidents?status=resolved');
    expect(listed.body.incidents.map((i: { id: string }) => i.id)).toContain(id);
  }, 90_000);

  it('an emergency ticket raises its incident once; bad requests get 400 with every field, unknown ones 404', async () => {
    const body = {
      subject: 'Production is down',
      channel: 'emergency',
      externalId: 'intake-777',
      origin: { system: 'zendesk', ticketId: '777' },
    };
    const ticket = await http('POST', '/tickets', body);
    expect(ticket.status).toBe(201);
    expect(ticket.body.incident).toMatchObject({ id: `in-${ticket.body.id}`, created: true });
    const again = await http('POST', '/tickets', body);
    expect(again.body.incident).toMatchObject({ id: `in-${ticket.body.id}`, created: false });
    const incident = await eventually(() => http('GET', `/incidents/in-${ticket.body.id}`), (r) => r.status === 200);
    // The customer's Zendesk ticket is the origin's; the external id is only the idempotency key.
    expect(incident.body.incident).toMatchObject({ customerTicketId: '777', deskTicketId: ticket.body.id, private: false });

    const bad = await http('POST', '/incidents', { severity: 'apocalyptic' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['severity', 'title']);
    expect((await http('GET', '/incidents/in-nope')).status).toBe(404);
    expect((await http('POST', '/incidents/in-nope/acknowledge', {}, { as: 'alice' })).status).toBe(404);
  });

  it('an emergency ticket without a Zendesk origin has no customer ticket to comment on', async () => {
    const ticket = await http('POST', '/tickets', {
      subject: 'Checkout is down',
      channel: 'emergency',
      externalId: 'slack-emergency-1',
      origin: { system: 'slack', channel: 'C0HELP', user: 'U0CUST' },
    });
    expect(ticket.status).toBe(201);
    const incident = await eventually(() => http('GET', `/incidents/in-${ticket.body.id}`), (r) => r.status === 200);
    expect(incident.body.incident).toMatchObject({ customerTicketId: null, deskTicketId: ticket.body.id });
  });

  it('an emergency ticket without an externalId is refused (400): it must be retry-safe, so nothing is filed', async () => {
    const refused = await http('POST', '/tickets', { subject: 'Database on fire', channel: 'emergency' });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([{ field: 'externalId', message: expect.stringContaining('retry-safe') }]);
    const filed = await db.pool.query("SELECT count(*)::int AS n FROM tickets WHERE subject = 'Database on fire'");
    expect(filed.rows[0].n).toBe(0);
    // Other channels keep an optional external id.
    expect((await http('POST', '/tickets', { subject: 'Printer jammed', channel: 'helpdesk' })).status).toBe(201);
  });

  it('a private emergency ticket raises a private incident: the UI summary, the list and the page never show its subject', async () => {
    const subject = 'Payroll export shows every salary';
    const ticket = await http('POST', '/tickets', {
      subject,
      description: 'Employee 4711 sees all salaries.',
      channel: 'emergency',
      externalId: 'private-emergency-1',
      private: true,
    });
    expect(ticket.status).toBe(201);
    const id = `in-${ticket.body.id}`;
    const incident = await eventually(() => http('GET', `/incidents/${id}`), (r) => r.body.pages?.length >= 1);
    // The workflow's own state (as the ticket's does) keeps the subject; nothing outside it shows it.
    expect(incident.body.incident).toMatchObject({ title: subject, private: true });
    const summary = await (await env.client.workflow.getHandle(`incident-${id}`).describe()).staticSummary();
    expect(summary).toBe(`Emergency on ticket ${ticket.body.id} (critical)`);
    const listed = await eventually(
      () => http('GET', '/incidents?status=triggered&limit=100'),
      (r) => r.body.incidents.some((i: { id: string }) => i.id === id),
    );
    expect(listed.body.incidents.find((i: { id: string }) => i.id === id).title).toBe(`Emergency on ticket ${ticket.body.id}`);

    const byHand = await http('POST', '/incidents', { title: 'Salary leak', externalId: 'private-by-hand-1', private: true });
    expect(byHand.status).toBe(201);
    const described = await env.client.workflow.getHandle(byHand.body.workflowId).describe();
    expect(await described.staticSummary()).toBe(`Private emergency ${byHand.body.id} (critical)`);
  });
});

describe('a security report on the running desk', () => {
  it('is filed once per bug-bounty id, answered, and its disclosure waits for scrubbing and the fix link', async () => {
    const filed = await http('POST', '/security-reports', { title: 'IDOR on invoices', reporter: 'h1-carol', externalId: 'h1-123' });
    expect(filed.status).toBe(201);
    const id = filed.body.id as string;
    expect((await http('POST', '/security-reports', { title: 'IDOR on invoices', reporter: 'h1-carol', externalId: 'h1-123' })).status).toBe(200);

    const answered = await http('POST', `/security-reports/${id}/respond`, { message: 'Triaged.' }, { as: 'sec-bob', role: 'security' });
    expect(answered.body).toMatchObject({ status: 'responded', event: 'responded' });
    expect((await http('GET', `/security-reports/${id}`)).body.response.status).toBe('met');
    await http('POST', `/security-reports/${id}/request-disclosure`, {}, { as: 'bug-bounty', role: 'intake' });
    const accepted = await http('POST', `/security-reports/${id}/accept-disclosure`, {}, { as: 'sec-lead', role: 'security' });
    expect(accepted.body).toMatchObject({ status: 'disclosure-requested', event: 'disclosure accepted early' });
    const waiting = await http('GET', `/security-reports/${id}`);
    expect(waiting.body).toMatchObject({ published: null });
    expect(waiting.body.disclosureBlockedBy).toHaveLength(2);

    const badLink = await http('POST', `/security-reports/${id}/link-fix`, { url: 'not a url' }, { as: 'sec-bob', role: 'security' });
    expect(badLink.status).toBe(400);
    expect(badLink.body.details).toEqual([{ field: 'url', message: expect.any(String) }]);

    await http('POST', `/security-reports/${id}/mark-scrubbed`, {}, { as: 'sec-bob', role: 'security' });
    const linked = await http('POST', `/security-reports/${id}/link-fix`, { url: 'https://gitlab.example.com/p/-/merge_requests/1' }, { as: 'sec-bob', role: 'security' });
    expect(linked.status).toBe(200);
    // Published once the tracker has the disclosure: beside the loop, a moment after the answer.
    const published = await eventually(() => http('GET', `/security-reports/${id}`), (r) => r.body.status === 'published');
    expect(published.body.status).toBe('published');
    const late = await http('POST', `/security-reports/${id}/close`, {}, { as: 'sec-bob', role: 'security' });
    expect(late.status).toBe(409);
  });
});
