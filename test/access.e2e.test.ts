// Who may do what, on the running desk (API, worker, dev server, PostgreSQL): `by` is the principal,
// private items are redacted for those who may not read them, the audit trail records every mutating
// request and nothing secret, and rate limits answer 429 with Retry-After.
import type { WorkflowBundle } from '@temporalio/worker';
import { eventually } from './eventually';
import { bundleWorkflows } from './temporal';
import { startWebhookDesk, type WebhookDesk } from './webhooks/desk';
import { PEOPLE, TEST_ADMIN_KEY } from './credentials';

let bundle: WorkflowBundle;
let desk: WebhookDesk;

beforeAll(async () => {
  bundle = await bundleWorkflows();
  desk = await startWebhookDesk({ bundle, rateLimits: { windowMs: 60_000, perCredential: 0, perAddress: 0 } });
});

afterAll(async () => {
  await desk?.stop();
});

const { intake, alice, bob, sue } = PEOPLE;

async function fileTicket(body: Record<string, unknown>): Promise<string> {
  const filed = await desk.api('POST', '/tickets', body, intake);
  expect(filed.status).toBe(201);
  return filed.body.id;
}

test('the timeline records the principal; a body that names someone is refused and changes nothing', async () => {
  const id = await fileTicket({ subject: 'VPN drops every hour' });
  const forged = await desk.api('POST', `/tickets/${id}/acknowledge`, { by: 'mallory' }, alice);
  expect(forged.status).toBe(400);
  expect(forged.body.details).toEqual([{ field: 'by', message: expect.stringMatching(/signed in as/) }]);
  expect((await desk.ticket(id)).status).toBe('open');

  const acked = await desk.api('POST', `/tickets/${id}/acknowledge`, {}, alice);
  expect(acked.status).toBe(200);
  const view = await desk.ticket(id);
  expect(view.timeline.find((e) => e.event === 'acknowledged')?.by).toBe('alice');
  expect(JSON.stringify(view.timeline)).not.toContain('mallory');

  // The queue gives the caller the next ticket: who takes it is the credential too.
  expect((await desk.api('POST', '/tickets/next', { agent: 'mallory' }, bob)).status).toBe(400);
  const next = await desk.api('POST', '/tickets/next', {}, bob);
  expect(next.status).toBe(200);
  if (next.body.ticket) expect(next.body.ticket.assignee).toBe('bob');
});

test('roles: intake files but cannot act, an agent cannot re-tier or assign to others, a supervisor can', async () => {
  const id = await fileTicket({ subject: 'Printer on fire', tier: 1 });
  const ack = await desk.api('POST', `/tickets/${id}/acknowledge`, {}, intake);
  expect(ack.status).toBe(403);
  expect(ack.body.error).toMatch(/agent/);
  const retier = await desk.api('POST', `/tickets/${id}/change-tier`, { tier: 2, reason: 'needs a specialist' }, alice);
  expect(retier.status).toBe(403);
  expect(retier.body.error).toMatch(/supervisor/);
  expect((await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'bob' }, alice)).status).toBe(403);
  expect((await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'alice' }, alice)).status).toBe(200);
  expect((await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'bob' }, sue)).status).toBe(200);
  expect((await desk.api('POST', `/tickets/${id}/change-tier`, { tier: 2, reason: 'needs a specialist' }, sue)).status).toBe(200);
  // Speaking for the requester is the intake's; an agent cannot answer the satisfaction pulse.
  expect((await desk.api('POST', `/tickets/${id}/reply`, { role: 'requester', message: 'still broken' }, alice)).status).toBe(403);
  expect((await desk.api('POST', `/tickets/${id}/reply`, { role: 'requester', message: 'still broken' }, intake)).status).toBe(200);
  expect((await desk.api('POST', `/tickets/${id}/satisfaction`, { resolved: true, score: 5 }, alice)).status).toBe(403);
  expect((await desk.api('GET', `/tickets/${id}`, undefined, intake)).status).toBe(403);
});

test("a private ticket is redacted for an agent it is not assigned to, whole for its assignee and a supervisor", async () => {
  const id = await fileTicket({
    subject: 'Salary question of Quentin Quirk',
    description: 'My payslip shows the wrong tax code',
    private: true,
    requester: { name: 'Quentin Quirk', email: 'quentin.quirk@example.com' },
  });
  const secretWords = ['Quentin', 'quirk@example.com', 'payslip', 'Salary'];
  const asBob = await desk.api('GET', `/tickets/${id}`, undefined, bob);
  expect(asBob.status).toBe(200);
  expect(asBob.body).toMatchObject({ id, status: 'open', redacted: expect.any(String) });
  expect(asBob.body.clocks).toBeDefined();
  for (const word of secretWords) expect(JSON.stringify(asBob.body)).not.toContain(word);
  const listed = await eventually(
    () => desk.api('GET', '/tickets?limit=500', undefined, bob),
    (r) => r.body.tickets.some((t: { id: string }) => t.id === id),
  );
  const row = listed.body.tickets.find((t: { id: string }) => t.id === id);
  expect(row.redacted).toEqual(expect.any(String));
  for (const word of secretWords) expect(JSON.stringify(row)).not.toContain(word);
  expect((await desk.api('GET', `/tickets/${id}/timeline`, undefined, bob)).status).toBe(403);
  expect((await desk.api('GET', `/tickets/${id}/messages`, undefined, bob)).status).toBe(403);

  // Being its assignee would open it: an agent can neither take it nor act on it.
  const taking = await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'bob' }, bob);
  expect(taking.status).toBe(403);
  expect(taking.body.error).toMatch(/private/);
  expect((await desk.api('POST', `/tickets/${id}/reply`, { message: 'hello' }, bob)).status).toBe(403);
  const next = await desk.api('POST', '/tickets/next', {}, { name: 'nina', role: 'agent' });
  expect(next.body.ticket?.id).not.toBe(id);
  // The requester's own words still come in through the intake.
  expect((await desk.api('POST', `/tickets/${id}/reply`, { role: 'requester', message: 'any news?' }, intake)).status).toBe(200);

  const asSue = await desk.api('GET', `/tickets/${id}`, undefined, sue);
  expect(asSue.body.ticket.requester.email).toBe('quentin.quirk@example.com');
  expect((await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'bob' }, sue)).status).toBe(200);
  const assigned = await desk.api('GET', `/tickets/${id}`, undefined, bob);
  expect(assigned.body.ticket.requester.name).toBe('Quentin Quirk');
  expect((await desk.api('GET', `/tickets/${id}/timeline`, undefined, bob)).status).toBe(200);
  expect((await desk.api('POST', `/tickets/${id}/reply`, { message: 'Looking into it.' }, bob)).status).toBe(200);
  // Once it is bob's, another agent cannot make it theirs.
  const stolen = await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'alice' }, alice);
  expect(stolen.status).toBe(403);
  expect((await desk.ticket(id)).assignee).toBe('bob');
});

test('a ticket someone holds is theirs: another agent cannot take it over', async () => {
  const id = await fileTicket({ subject: 'Monitor flickers' });
  expect((await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'alice' }, alice)).status).toBe(200);
  const taken = await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'bob' }, bob);
  expect(taken.status).toBe(403);
  expect(taken.body.error).toMatch(/alice's/);
  expect((await desk.api('POST', `/tickets/${id}/assign`, { assignee: 'bob' }, sue)).status).toBe(200);
});

test('a private emergency is shown in full to supervisors only, even to the agent who acknowledged it', async () => {
  const raised = await desk.api('POST', '/incidents', { title: 'Payroll file mailed to all staff', description: 'Salaries of 40 people', private: true }, intake);
  const id = raised.body.id as string;
  expect((await desk.api('POST', `/incidents/${id}/acknowledge`, {}, alice)).status).toBe(200);
  expect((await desk.api('POST', `/incidents/${id}/add-responder`, { responder: 'carl' }, alice)).status).toBe(200);
  const asAlice = await desk.api('GET', `/incidents/${id}`, undefined, alice);
  expect(asAlice.body.redacted).toEqual(expect.any(String));
  expect(JSON.stringify(asAlice.body)).not.toMatch(/Payroll|Salaries/);
  await eventually(() => desk.api('GET', `/incidents/${id}/timeline`, undefined, sue), (r) => r.status === 200);
  expect((await desk.api('GET', `/incidents/${id}/timeline`, undefined, alice)).status).toBe(403);
  expect((await desk.api('GET', `/incidents/${id}`, undefined, sue)).body.incident.title).toBe('Payroll file mailed to all staff');
});

test('a security report is the security team’s: others see it redacted and cannot publish it', async () => {
  const filed = await desk.api('POST', '/security-reports', { title: 'SQL injection in /search', reporter: 'hacker-hanna', description: 'payload: 1 OR 1=1' }, intake);
  expect(filed.status).toBe(201);
  const id = filed.body.id;
  const asAgent = await desk.api('GET', `/security-reports/${id}`, undefined, alice);
  expect(asAgent.body.redacted).toEqual(expect.any(String));
  for (const word of ['SQL injection', 'hacker-hanna', '1 OR 1=1']) expect(JSON.stringify(asAgent.body)).not.toContain(word);
  for (const action of ['mark-scrubbed', 'accept-disclosure', 'close']) {
    const refused = await desk.api('POST', `/security-reports/${id}/${action}`, {}, sue);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatch(/security/);
  }
  const describe = await desk.client.workflow.getHandle(filed.body.workflowId).describe();
  expect(JSON.stringify(describe.raw.executionConfig?.userMetadata ?? {})).not.toContain('hacker-hanna');
  const asSecurity = await desk.api('GET', `/security-reports/${id}`, undefined, { name: 'sam', role: 'security' });
  expect(asSecurity.body.report?.title ?? asSecurity.body.title ?? JSON.stringify(asSecurity.body)).toMatch(/SQL injection/);
  expect((await desk.api('POST', `/security-reports/${id}/respond`, { message: 'Thanks, looking.' }, { name: 'sam', role: 'security' })).status).toBe(200);
});

test('every mutating request is in the audit trail, anonymous and refused ones too, and no secret is', async () => {
  const before = new Date().toISOString();
  const id = await fileTicket({ subject: 'Audit me', description: 'words only the timeline may hold' });
  await desk.api('POST', `/tickets/${id}/acknowledge`, {}, alice);
  await desk.api('POST', `/tickets/${id}/change-tier`, { tier: 2, reason: 'r' }, alice); // 403
  await fetch(`${desk.url}/tickets/${id}/close`, { method: 'POST', headers: { authorization: 'Bearer not-a-key' } }); // 401

  const audit = await eventually(
    () => desk.api('GET', `/audit?target=${id}&from=${encodeURIComponent(before)}`),
    (r) => r.body.entries?.length >= 3,
  );
  const entries = audit.body.entries.slice().reverse();
  expect(entries.map((e: any) => [e.principal, e.route, e.action, e.status, e.outcome])).toEqual([
    ['webform', '/tickets', null, 201, 'ok'],
    ['alice', '/tickets/:id/:action', 'acknowledge', 200, 'ok'],
    ['alice', '/tickets/:id/:action', 'change-tier', 403, 'forbidden'],
  ]);
  expect(entries[1]).toMatchObject({ roles: ['agent'], credential: expect.stringMatching(/^key:/), requestId: expect.any(String), method: 'POST' });
  const anonymous = await eventually(
    () => desk.api('GET', `/audit?principal=anonymous&from=${encodeURIComponent(before)}`),
    (r) => r.body.entries?.length >= 1,
  );
  expect(anonymous.body.entries[0]).toMatchObject({ status: 401, outcome: 'unauthenticated' });

  const { rows } = await desk.db.pool.query('SELECT * FROM audit_log');
  const everything = JSON.stringify(rows);
  for (const secret of [TEST_ADMIN_KEY, 'not-a-key', 'words only the timeline may hold', 'Bearer']) expect(everything).not.toContain(secret);
  // Append-only: the table refuses to forget.
  await expect(desk.db.pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  await expect(desk.db.pool.query("UPDATE audit_log SET principal = 'x'")).rejects.toThrow(/append-only/);
  expect((await desk.api('GET', '/audit', undefined, sue)).status).toBe(403);
});

test('a request id the caller sends is kept and echoed; a bad one is replaced', async () => {
  const res = await fetch(`${desk.url}/tickets`, { method: 'POST', headers: { 'x-request-id': 'req-42', 'content-type': 'application/json', ...(await desk.credentials.headers()) }, body: '{}' });
  expect(res.headers.get('x-request-id')).toBe('req-42');
  const odd = await fetch(`${desk.url}/`, { headers: { 'x-request-id': `a b ${'x'.repeat(200)}` } });
  expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

test('the codec server decodes a private ticket’s history for a decode credential only, and answers the UI’s preflight', async () => {
  const id = await fileTicket({ subject: 'Codec check', private: true, requester: { name: 'Olga Opaque', email: 'olga@example.com' } });
  const history = await desk.client.workflow.getHandle(`ticket-${id}`).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  const payloads = input.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  }));
  expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  const decode = async (headers: Record<string, string>) => {
    const res = await fetch(`${desk.url}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://localhost:8233', ...headers },
      body: JSON.stringify({ payloads }),
    });
    return { status: res.status, cors: res.headers.get('access-control-allow-origin'), body: (await res.json()) as any };
  };
  expect((await decode({})).status).toBe(401);
  expect((await decode(await desk.credentials.headers('alice', 'agent'))).status).toBe(403);
  expect((await decode(await desk.credentials.headers('sue', 'supervisor'))).status).toBe(403); // security reports are in Temporal too
  const decoded = await decode(await desk.credentials.headers('sam', 'security'));
  expect(decoded.status).toBe(200);
  expect(decoded.cors).toBe('http://localhost:8233');
  const plain = Buffer.from(decoded.body.payloads[0].data, 'base64').toString();
  expect(plain).toContain('olga@example.com');
  // The cookie a browser gets from /codec/session is a credential for the codec server only.
  const session = await fetch(`${desk.url}/codec/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `key=${encodeURIComponent((await desk.credentials.headers()).authorization.slice('Bearer '.length))}`,
    redirect: 'manual',
  });
  expect(session.status).toBe(200);
  const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
  expect(session.headers.get('set-cookie')).toMatch(/HttpOnly/i);
  expect((await decode({ cookie })).status).toBe(200);
  expect((await fetch(`${desk.url}/tickets`, { headers: { cookie } })).status).toBe(401);

  // The form is the API's own page: a post from another site is refused; the name on the answer is escaped.
  const crossSite = await fetch(`${desk.url}/codec/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    body: 'key=whatever',
  });
  expect(crossSite.status).toBe(403);
  const odd = (await desk.credentials.headers('<img src=x onerror=alert(1)>', 'security')).authorization.slice('Bearer '.length);
  const oddPage = await fetch(`${desk.url}/codec/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${encodeURIComponent(odd)}` });
  const html = await oddPage.text();
  expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  expect(html).not.toContain('<img');

  const preflight = await fetch(`${desk.url}/codec/decode`, {
    method: 'OPTIONS',
    headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
  const foreign = await fetch(`${desk.url}/codec/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
  expect(foreign.status).toBe(403);
  expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
});

test('each mutating request is exactly one audit row, whatever its outcome; a webhook is audited as its vendor', async () => {
  const id = await fileTicket({ subject: 'Count my rows' });
  const agent = await desk.credentials.headers('rita', 'agent');
  const requests: Array<[string, Record<string, string>, unknown]> = [
    [`/tickets/${id}/acknowledge`, agent, {}],
    [`/tickets/${id}/acknowledge`, agent, {}], // 409: already acknowledged
    [`/tickets/${id}/reply`, agent, { message: 'x', by: 'forged' }], // 400
    [`/tickets/${id}/escalate`, agent, { reason: 'r' }], // 403
    [`/tickets/${id}/close`, { authorization: 'Bearer sd_deadbeef_nope' }, {}], // 401
    ['/tickets/tk-0000000000000000/acknowledge', agent, {}], // 404
  ];
  const ids: string[] = [];
  for (const [path, headers, body] of requests) {
    const res = await fetch(`${desk.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    ids.push(res.headers.get('x-request-id')!);
  }
  // A signed GitLab delivery (an issue no work item tracks): its principal is the vendor.
  const gitlab = await desk.post('/webhooks/gitlab', JSON.stringify({ object_kind: 'issue', object_attributes: { action: 'update', iid: 1, confidential: false }, project: { path_with_namespace: 'x/y' }, labels: [] }), {
    'x-gitlab-token': 'gitlab-webhook-token-for-tests',
    'x-gitlab-event': 'Issue Hook',
    'x-gitlab-event-uuid': `audit-${id}`,
  });
  expect(gitlab.status).toBeLessThan(500);

  const rows = await eventually(
    async () => (await desk.db.pool.query('SELECT request_id, principal, status, outcome, route FROM audit_log')).rows,
    (all) => ids.every((r) => all.some((row) => row.request_id === r)) && all.some((row) => row.route === '/webhooks/gitlab'),
  );
  for (const [i, requestId] of ids.entries()) expect([i, rows.filter((r) => r.request_id === requestId).length]).toEqual([i, 1]);
  expect(ids.map((r) => rows.find((row) => row.request_id === r)!.status)).toEqual([200, 409, 400, 403, 401, 404]);
  expect(rows.find((row) => row.route === '/webhooks/gitlab')).toMatchObject({ principal: 'gitlab' });
});

test('a revoked key stops working at the next request', async () => {
  const { createKey, revokeKey } = await import('../db/api-keys');
  const { id, key } = await createKey(desk.db.pool, 'leaver', 'agent', ['agent']);
  expect((await fetch(`${desk.url}/me`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
  expect(await revokeKey(desk.db.pool, id)).toBe(true);
  expect((await fetch(`${desk.url}/me`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
});

test("an Idempotency-Key is the caller's own: a retry has one effect, another caller's same key acts for them", async () => {
  const id = await fileTicket({ subject: 'Retry me' });
  const say = async (as: { name: string; role: string }, message: string) => {
    const res = await fetch(`${desk.url}/tickets/${id}/reply`, {
      method: 'POST',
      headers: { ...(await desk.credentials.headers(as.name, as.role)), 'content-type': 'application/json', 'idempotency-key': 'k-123' },
      body: JSON.stringify({ message }),
    });
    return res.status;
  };
  expect(await say(alice, 'first from alice')).toBe(200);
  expect(await say(alice, 'first from alice')).toBe(200); // the retry
  expect(await say({ name: 'sue', role: 'supervisor' }, 'sue says hi')).toBe(200);
  const view = await eventually(() => desk.ticket(id), (t) => t.messages >= 2);
  expect(view.messages).toBe(2);
  const bodies = (await desk.api('GET', `/tickets/${id}/messages`)).body.messages.map((m: { body: string; author: string }) => [m.author, m.body]);
  expect(bodies).toEqual([['alice', 'first from alice'], ['sue', 'sue says hi']]);
});
