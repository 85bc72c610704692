// A personal item's words are never in PostgreSQL in plain text, on the running desk (API, worker, dev
// server, PostgreSQL): every text and jsonb column of every table holds none of a private ticket's,
// a private emergency's or a security report's words, and those who may read the item read them all
// back through the API; those who may not, never.
import type { WorkflowBundle } from '@temporalio/worker';
import { PEOPLE } from './credentials';
import { eventually } from './eventually';
import { bundleWorkflows } from './temporal';
import { startWebhookDesk, type WebhookDesk } from './webhooks/desk';

let bundle: WorkflowBundle;
let desk: WebhookDesk;

beforeAll(async () => {
  bundle = await bundleWorkflows();
  desk = await startWebhookDesk({ bundle });
});

afterAll(async () => {
  await desk?.stop();
});

const { intake, alice, bob, sue } = PEOPLE;
const sam = { name: 'sam', role: 'security' };

/** Everything PostgreSQL holds as text: every text, varchar, array and jsonb column of every table of the test's schema. */
async function everyStoredText(): Promise<string> {
  const { rows: columns } = await desk.db.pool.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
        AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
      ORDER BY c.table_name, c.ordinal_position`,
  );
  const byTable = new Map<string, string[]>();
  for (const c of columns) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
  expect([...byTable.keys()]).toEqual(expect.arrayContaining(['tickets', 'messages', 'notifications', 'item_events', 'security_reports', 'incidents', 'external_effects']));
  const dumps: string[] = [];
  for (const [table, names] of byTable) {
    const { rows } = await desk.db.pool.query(`SELECT ${names.map((n) => `"${n}"::text`).join(', ')} FROM "${table}"`);
    dumps.push(`${table}: ${JSON.stringify(rows)}`);
  }
  return dumps.join('\n');
}

function expectNoneOf(words: string[], text: string): void {
  const lower = text.toLowerCase();
  for (const word of words) expect({ word, found: lower.includes(word.toLowerCase()) }).toEqual({ word, found: false });
}

test('a private ticket’s subject, conversation, notifications and timeline are sealed; a supervisor reads them, an unassigned agent does not', async () => {
  const words = {
    name: 'Ximena Zabriskie',
    email: 'ximena.zabriskie@example.org',
    subject: 'Vortigern payroll quarantine',
    description: 'my Brontosaurus pension account',
    reply: 'Trebuchet settings were reset for you',
    requesterReply: 'Kumquat code is 4471',
    question: 'Which Marzipan branch do you work in?',
    answer: 'The Lindworm branch',
    reason: 'Gryphonics specialist needed',
    resolution: 'Ocelot ledger corrected',
    comment: 'Quixotically helpful',
  };
  const filed = await desk.api(
    'POST',
    '/tickets',
    { subject: words.subject, description: words.description, private: true, requester: { name: words.name, email: words.email } },
    intake,
  );
  expect(filed.status).toBe(201);
  const id: string = filed.body.id;
  const act = async (action: string, body: Record<string, unknown>, as: { name: string; role: string }) => {
    const answer = await desk.api('POST', `/tickets/${id}/${action}`, body, as);
    expect({ action, status: answer.status, body: answer.body }).toMatchObject({ action, status: 200 });
  };
  await act('assign', { assignee: 'alice' }, sue);
  await act('acknowledge', {}, alice);
  await act('reply', { message: words.reply }, alice);
  await act('reply', { role: 'requester', message: words.requesterReply }, intake);
  await act('wait-on-requester', { question: words.question }, alice);
  await act('reply', { role: 'requester', message: words.answer }, intake);
  await act('change-tier', { tier: 2, reason: words.reason }, sue);
  await act('resolve', { resolution: words.resolution }, alice);
  await act('satisfaction', { resolved: true, score: 5, comment: words.comment }, intake);

  // Everything is written: the timeline up to the rating, and the requester's notifications.
  await eventually(
    () => desk.db.pool.query("SELECT 1 FROM item_events WHERE workflow_id = $1 AND event = 'satisfaction rated'", [filed.body.workflowId]),
    (r) => r.rowCount === 1,
  );
  const sent = await eventually(
    () => desk.db.pool.query<{ kind: string }>('SELECT kind FROM notifications WHERE ticket_id = $1', [id]),
    (r) => ['acknowledgement', 'reply', 'question', 'resolution'].every((k) => r.rows.some((n) => n.kind === k)),
  );
  expect(sent.rows.map((n) => n.kind)).toEqual(expect.arrayContaining(['acknowledgement', 'reply', 'question', 'resolution']));
  await eventually(
    () => desk.db.pool.query("SELECT satisfaction FROM tickets WHERE id = $1 AND satisfaction IS NOT NULL", [id]),
    (r) => r.rowCount === 1,
  );

  const stored = await everyStoredText();
  expect(stored).toContain(id); // the rows are there...
  expect(stored).toContain('sealed:v1:test-1:'); // ...sealed
  expectNoneOf([...Object.values(words), 'Ximena', 'Zabriskie', 'Vortigern', 'Trebuchet', 'Kumquat', 'Marzipan', 'Lindworm', 'Gryphonics', 'Ocelot', 'Quixotically'], stored);

  // A supervisor reads it all in plain text.
  const list = await desk.api('GET', '/tickets?limit=500', undefined, sue);
  const row = list.body.tickets.find((t: { id: string }) => t.id === id);
  expect(row).toMatchObject({ subject: words.subject, satisfaction: { score: 5, comment: words.comment } });
  const messages = await desk.api('GET', `/tickets/${id}/messages`, undefined, sue);
  expect(messages.status).toBe(200);
  expect(messages.body.messages.map((m: { author: string; body: string }) => [m.author, m.body])).toEqual([
    ['alice', words.reply],
    ['webform', words.requesterReply],
    ['alice', words.question],
    ['webform', words.answer],
    ['alice', words.resolution],
  ]);
  const timeline = await desk.api('GET', `/tickets/${id}/timeline`, undefined, sue);
  expect(timeline.status).toBe(200);
  const entries = timeline.body.timeline as Array<{ event: string; by: string | null; note: string | null }>;
  expect(entries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ event: 'agent replied', by: 'alice', note: words.reply }),
      expect.objectContaining({ event: 'waiting on the requester', by: 'alice', note: words.question }),
      expect.objectContaining({ event: 'tier 1 → 2', by: 'sue', note: words.reason }),
      expect.objectContaining({ event: 'resolved', by: 'alice', note: words.resolution }),
      expect.objectContaining({ event: 'satisfaction rated', by: 'requester', note: 'resolved, 5/5' }),
    ]),
  );
  // So does the agent it is assigned to.
  expect((await desk.api('GET', `/tickets/${id}/messages`, undefined, alice)).body.messages[0].body).toBe(words.reply);

  // An agent it is not assigned to sees the row redacted and neither the conversation nor the timeline.
  const asBob = await desk.api('GET', '/tickets?limit=500', undefined, bob);
  const redacted = asBob.body.tickets.find((t: { id: string }) => t.id === id);
  expect(redacted.redacted).toEqual(expect.any(String));
  expect(redacted.subject).toBeUndefined();
  expect(JSON.stringify(redacted)).not.toContain('sealed:v1:');
  expect((await desk.api('GET', `/tickets/${id}/messages`, undefined, bob)).status).toBe(403);
  expect((await desk.api('GET', `/tickets/${id}/timeline`, undefined, bob)).status).toBe(403);
});

test('a public ticket’s words stay plain', async () => {
  const filed = await desk.api('POST', '/tickets', { subject: 'Printer Wombatron jams', description: 'paper everywhere' }, intake);
  expect(filed.status).toBe(201);
  expect((await desk.api('POST', `/tickets/${filed.body.id}/reply`, { message: 'Try the Wombatron reset' }, alice)).status).toBe(200);
  const { rows } = await eventually(
    () => desk.db.pool.query<{ subject: string }>('SELECT subject FROM tickets WHERE id = $1', [filed.body.id]),
    (r) => r.rowCount === 1,
  );
  expect(rows[0]!.subject).toBe('Printer Wombatron jams');
  const body = await desk.db.pool.query<{ body: string }>('SELECT body FROM messages WHERE workflow_id = $1', [filed.body.workflowId]);
  expect(body.rows.map((m) => m.body)).toEqual(['Try the Wombatron reset']);
});

test('a security report’s title, reporter, answer and fix are sealed; the security team reads them, others do not', async () => {
  const words = {
    title: 'Zeppelin injection in the Quokka endpoint',
    reporter: 'Wilhelmina Grubbstone',
    description: 'payload Snorkelwhistle',
    response: 'Confirmed, Axolotl patch under way',
    fix: 'https://gitlab.example.com/desk/-/merge_requests/pangolinfix',
  };
  const filed = await desk.api('POST', '/security-reports', { title: words.title, reporter: words.reporter, description: words.description }, intake);
  expect(filed.status).toBe(201);
  const id: string = filed.body.id;
  expect((await desk.api('POST', `/security-reports/${id}/respond`, { message: words.response }, sam)).status).toBe(200);
  expect((await desk.api('POST', `/security-reports/${id}/link-fix`, { url: words.fix }, sam)).status).toBe(200);
  await eventually(
    () => desk.db.pool.query("SELECT 1 FROM item_events WHERE workflow_id = $1 AND event = 'linked to the fix'", [filed.body.workflowId]),
    (r) => r.rowCount === 1,
  );
  await eventually(
    () => desk.db.pool.query('SELECT 1 FROM security_reports WHERE id = $1 AND fix_link IS NOT NULL', [id]),
    (r) => r.rowCount === 1,
  );

  const stored = await everyStoredText();
  expect(stored).toContain(id);
  expectNoneOf([...Object.values(words), 'Zeppelin', 'Quokka', 'Wilhelmina', 'Grubbstone', 'Snorkelwhistle', 'Axolotl', 'pangolinfix'], stored);

  const list = await desk.api('GET', '/security-reports?limit=500', undefined, sam);
  expect(list.body.securityReports.find((r: { id: string }) => r.id === id)).toMatchObject({ title: words.title, reporter: words.reporter, fixLink: words.fix });
  const timeline = await desk.api('GET', `/security-reports/${id}/timeline`, undefined, sam);
  expect(timeline.status).toBe(200);
  expect(timeline.body.timeline).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ event: 'reported', by: words.reporter }),
      expect.objectContaining({ event: 'responded', by: 'sam', note: words.response }),
      expect.objectContaining({ event: 'linked to the fix', by: 'sam', note: words.fix }),
    ]),
  );

  const asSue = await desk.api('GET', '/security-reports?limit=500', undefined, sue);
  const redacted = asSue.body.securityReports.find((r: { id: string }) => r.id === id);
  expect(redacted.redacted).toEqual(expect.any(String));
  expect(JSON.stringify(redacted)).not.toMatch(/sealed:v1:|Zeppelin|Wilhelmina/);
  expect((await desk.api('GET', `/security-reports/${id}/timeline`, undefined, sue)).status).toBe(403);
});

test('a private emergency’s crisis reason and resolution are sealed; a supervisor reads them, an agent does not', async () => {
  const words = { title: 'Hippogriff vault breach', description: 'Basilisk credentials leaked', crisis: 'Chimaera data exposed', resolution: 'Rotated every Manticore key' };
  const filed = await desk.api('POST', '/incidents', { title: words.title, description: words.description, externalId: 'sealed-emergency-1', private: true }, intake);
  expect(filed.status).toBe(201);
  const id: string = filed.body.id;
  expect((await desk.api('POST', `/incidents/${id}/acknowledge`, {}, alice)).status).toBe(200);
  expect((await desk.api('POST', `/incidents/${id}/declare-crisis`, { reason: words.crisis }, alice)).status).toBe(200);
  expect((await desk.api('POST', `/incidents/${id}/resolve`, { resolution: words.resolution }, alice)).status).toBe(200);
  await eventually(
    () => desk.db.pool.query("SELECT 1 FROM item_events WHERE workflow_id = $1 AND event = 'resolved'", [filed.body.workflowId]),
    (r) => r.rowCount === 1,
  );

  const stored = await everyStoredText();
  expect(stored).toContain(id);
  expectNoneOf([...Object.values(words), 'Hippogriff', 'Basilisk', 'Chimaera', 'Manticore'], stored);
  expect((await desk.db.pool.query('SELECT private FROM incidents WHERE id = $1', [id])).rows[0]).toEqual({ private: true });

  const timeline = await desk.api('GET', `/incidents/${id}/timeline`, undefined, sue);
  expect(timeline.status).toBe(200);
  expect(timeline.body.timeline).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ event: 'crisis declared', by: 'alice', note: words.crisis }),
      expect.objectContaining({ event: 'resolved', by: 'alice', note: expect.stringContaining(words.resolution) }),
    ]),
  );
  expect((await desk.api('GET', `/incidents/${id}/timeline`, undefined, bob)).status).toBe(403);
});
