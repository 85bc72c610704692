// Rows a personal item wrote before sealing, on the real PostgreSQL: the worker's start-up pass seals
// them (and nothing of a public ticket or a feature request), once; a second pass finds nothing.
import { rotatedTestKeys, testKeys } from '../test/encryption';
import { createTestDatabase, type TestDatabase } from '../test/postgres';
import { sealPlainRows } from './seal-plain-rows';
import { SEALED_PREFIX, seal, unseal } from './sealed';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** A ticket's rows as the desk wrote them before sealing: the row, a message, a notification, two timeline entries. */
async function oldTicket(id: string, isPrivate: boolean, words: string): Promise<void> {
  const workflowId = `ticket-${id}`;
  await db.pool.query(
    `INSERT INTO tickets (id, workflow_id, channel, tier, priority, status, private, subject, created_at, satisfaction, version, chain_id)
     VALUES ($1, $2, 'helpdesk', 1, 'normal', 'resolved', $3, $4, now(), $5, 7, 'chain-1')`,
    [id, workflowId, isPrivate, `${words} subject`, JSON.stringify({ resolved: true, score: 4, comment: `${words} comment`, at: 1 })],
  );
  await db.pool.query(`INSERT INTO messages (id, workflow_id, author, role, body) VALUES ($1, $2, 'alice', 'agent', $3)`, [
    `msg-${id}`,
    workflowId,
    `${words} reply`,
  ]);
  await db.pool.query(
    `INSERT INTO notifications (idempotency_key, ticket_id, kind, audience, recipients, body, private, driver)
     VALUES ($1, $2, 'reply', 'requester', '{}', $3, $4, 'log')`,
    [`${workflowId}:reply`, id, `${words} notification`, isPrivate],
  );
  await db.pool.query(
    `INSERT INTO item_events (workflow_id, chain_id, seq, at, event, actor, note, message_id)
     VALUES ($1, 'chain-1', 1, now(), 'created', 'intake', 'helpdesk, tier 1', NULL),
            ($1, 'chain-1', 2, now(), 'agent replied', 'alice', $2, $3)`,
    [workflowId, `${words} preview`, `msg-${id}`],
  );
}

async function oldSecurityReport(id: string, words: string): Promise<void> {
  await db.pool.query(
    `INSERT INTO security_reports (id, workflow_id, title, severity, reporter, status, created_at, fix_link, version, chain_id)
     VALUES ($1, $2, $3, 'high', $4, 'fixed', now(), $5, 3, 'chain-1')`,
    [id, `security-report-${id}`, `${words} title`, `${words} reporter`, `https://fix.example/${words}`],
  );
  await db.pool.query(
    `INSERT INTO item_events (workflow_id, chain_id, seq, at, event, actor, note) VALUES ($1, 'chain-1', 1, now(), 'reported', $2, 'high')`,
    [`security-report-${id}`, `${words} reporter`],
  );
}

async function oldIncident(id: string, isPrivate: boolean, words: string): Promise<void> {
  await db.pool.query(
    `INSERT INTO incidents (id, workflow_id, title, severity, status, level, created_at, version, chain_id, private)
     VALUES ($1, $2, $3, 'critical', 'resolved', 1, now(), 4, 'chain-1', $4)`,
    [id, `incident-${id}`, isPrivate ? `Private emergency ${id}` : `${words} title`, isPrivate],
  );
  await db.pool.query(
    `INSERT INTO item_events (workflow_id, chain_id, seq, at, event, actor, note) VALUES ($1, 'chain-1', 1, now(), 'crisis declared', 'alice', $2)`,
    [`incident-${id}`, `${words} reason`],
  );
}

async function dump(): Promise<string> {
  const tables = ['tickets', 'messages', 'notifications', 'item_events', 'security_reports', 'incidents'];
  const parts = await Promise.all(tables.map(async (t) => JSON.stringify((await db.pool.query(`SELECT * FROM ${t}`)).rows)));
  return parts.join('\n');
}

test('the start-up pass seals what personal items wrote in plain text, keeps public ones plain, and is idempotent', async () => {
  await oldTicket('tk-private-1', true, 'Albatross');
  await oldTicket('tk-private-2', true, 'Bandicoot');
  await oldTicket('tk-public', false, 'Capybara');
  await oldSecurityReport('sr-old', 'Dromedary');
  await oldIncident('in-private', true, 'Echidna');
  await oldIncident('in-public', false, 'Flamingo');
  // A row sealed already (written after the change) is left as it is.
  const already = await db.pool.query<{ note: string }>(
    `INSERT INTO item_events (workflow_id, chain_id, seq, at, event, actor, note) VALUES ('ticket-tk-private-1', 'chain-1', 3, now(), 'resolved', $1, $2) RETURNING note`,
    [seal('alice', testKeys), seal('Albatross fixed', testKeys)],
  );

  // Small batches, so that a column takes several transactions.
  const first = await sealPlainRows(db.pool, rotatedTestKeys, 2);
  expect(first).toEqual({
    'tickets.subject': 2,
    'tickets.satisfaction.comment': 2,
    'notifications.body': 2,
    'messages.body': 2,
    'messages.author': 2,
    // Two entries of each private ticket, the report's and the private emergency's.
    'item_events.note': 6,
    'item_events.actor': 6,
    'security_reports.title': 1,
    'security_reports.reporter': 1,
    'security_reports.fix_link': 1,
  });
  const sealed = await dump();
  for (const word of ['Albatross', 'Bandicoot', 'Dromedary', 'Echidna']) expect(sealed).not.toContain(word);
  for (const word of ['Capybara subject', 'Capybara reply', 'Capybara notification', 'Capybara preview', 'Flamingo reason']) expect(sealed).toContain(word);
  expect(sealed).toContain(`${SEALED_PREFIX}test-2:`); // sealed under the active key

  // The sealed values read back as they were written; the one sealed before is untouched.
  const row = (await db.pool.query('SELECT subject, satisfaction FROM tickets WHERE id = $1', ['tk-private-1'])).rows[0];
  expect(unseal(row.subject, rotatedTestKeys)).toBe('Albatross subject');
  expect(row.satisfaction).toMatchObject({ resolved: true, score: 4 });
  expect(unseal(row.satisfaction.comment, rotatedTestKeys)).toBe('Albatross comment');
  const events = (await db.pool.query("SELECT seq, actor, note FROM item_events WHERE workflow_id = 'ticket-tk-private-1' ORDER BY seq")).rows;
  expect(events.map((e) => [e.seq, unseal(e.actor, rotatedTestKeys), unseal(e.note, rotatedTestKeys)])).toEqual([
    [1, 'intake', 'helpdesk, tier 1'],
    [2, 'alice', 'Albatross preview'],
    [3, 'alice', 'Albatross fixed'],
  ]);
  expect(events[2].note).toBe(already.rows[0]!.note);
  const message = (await db.pool.query("SELECT author, body FROM messages WHERE id = 'msg-tk-private-2'")).rows[0];
  expect([unseal(message.author, rotatedTestKeys), unseal(message.body, rotatedTestKeys)]).toEqual(['alice', 'Bandicoot reply']);
  const report = (await db.pool.query("SELECT title, reporter, fix_link FROM security_reports WHERE id = 'sr-old'")).rows[0];
  expect([report.title, report.reporter, report.fix_link].map((v) => unseal(v, rotatedTestKeys))).toEqual([
    'Dromedary title',
    'Dromedary reporter',
    'https://fix.example/Dromedary',
  ]);

  // A second start finds nothing to do and changes nothing.
  const second = await sealPlainRows(db.pool, rotatedTestKeys, 2);
  expect(Object.values(second).every((n) => n === 0)).toBe(true);
  expect(await dump()).toBe(sealed);
});
