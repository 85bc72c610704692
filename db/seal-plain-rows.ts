// Seals what a personal item wrote before its words were sealed (db/sealed.ts): run by the worker at
// start, batch by batch, each batch in its own transaction. Idempotent: a sealed value is never touched
// again, so a second run (or a second worker running it at the same time) finds nothing to do.
import type { Pool } from 'pg';
import type { EncryptionKeys } from '../config/encryption';
import { SEALED_PREFIX, seal } from './sealed';

/** One column of a personal item's words, and which of its table's rows are a personal item's. */
interface PlainColumn {
  /** What the count is logged as. */
  name: string;
  table: string;
  key: Array<{ column: string; type: string }>;
  /** The text as stored: a column, or a field of a jsonb column. */
  text: string;
  /** How the sealed text (`v.sealed`) is written back. */
  write: string;
  /** The rows that belong to a personal item. */
  personal: string;
}

const PRIVATE_TICKET = (workflowId: string) => `EXISTS (SELECT 1 FROM tickets t WHERE t.workflow_id = ${workflowId} AND t.private)`;
const BY_ID = [{ column: 'id', type: 'text' }];
const EVENT_KEY = [
  { column: 'workflow_id', type: 'text' },
  { column: 'chain_id', type: 'text' },
  { column: 'seq', type: 'integer' },
];
const PERSONAL_EVENTS = `${PRIVATE_TICKET('item_events.workflow_id')}
  OR EXISTS (SELECT 1 FROM incidents i WHERE i.workflow_id = item_events.workflow_id AND i.private)
  OR EXISTS (SELECT 1 FROM security_reports r WHERE r.workflow_id = item_events.workflow_id)`;

/** Every column where a private ticket's, a private incident's or a security report's words land. */
const PLAIN_COLUMNS: PlainColumn[] = [
  { name: 'tickets.subject', table: 'tickets', key: BY_ID, text: 'subject', write: 'subject = v.sealed', personal: 'private' },
  {
    name: 'tickets.satisfaction.comment',
    table: 'tickets',
    key: BY_ID,
    text: "satisfaction->>'comment'",
    write: "satisfaction = jsonb_set(satisfaction, '{comment}', to_jsonb(v.sealed))",
    personal: 'private',
  },
  {
    name: 'notifications.body',
    table: 'notifications',
    key: [{ column: 'idempotency_key', type: 'text' }],
    text: 'body',
    write: 'body = v.sealed',
    personal: 'private',
  },
  { name: 'messages.body', table: 'messages', key: BY_ID, text: 'body', write: 'body = v.sealed', personal: PRIVATE_TICKET('messages.workflow_id') },
  { name: 'messages.author', table: 'messages', key: BY_ID, text: 'author', write: 'author = v.sealed', personal: PRIVATE_TICKET('messages.workflow_id') },
  { name: 'item_events.note', table: 'item_events', key: EVENT_KEY, text: 'note', write: 'note = v.sealed', personal: PERSONAL_EVENTS },
  { name: 'item_events.actor', table: 'item_events', key: EVENT_KEY, text: 'actor', write: 'actor = v.sealed', personal: PERSONAL_EVENTS },
  // Every security report is personal: an undisclosed vulnerability and who reported it.
  { name: 'security_reports.title', table: 'security_reports', key: BY_ID, text: 'title', write: 'title = v.sealed', personal: 'true' },
  { name: 'security_reports.reporter', table: 'security_reports', key: BY_ID, text: 'reporter', write: 'reporter = v.sealed', personal: 'true' },
  { name: 'security_reports.fix_link', table: 'security_reports', key: BY_ID, text: 'fix_link', write: 'fix_link = v.sealed', personal: 'true' },
];

const BATCH = 500;

/** Seals every plain value of a personal item; answers how many were sealed per column (never the text). */
export async function sealPlainRows(pool: Pool, keys: EncryptionKeys, batch = BATCH): Promise<Record<string, number>> {
  const sealed: Record<string, number> = {};
  for (const column of PLAIN_COLUMNS) {
    sealed[column.name] = 0;
    for (;;) {
      const n = await sealBatch(pool, keys, column, batch);
      sealed[column.name] += n;
      if (n < batch) break;
    }
  }
  return sealed;
}

/** One batch in one transaction: the rows are locked while they are sealed; rows another worker holds are left to it. */
async function sealBatch(pool: Pool, keys: EncryptionKeys, c: PlainColumn, batch: number): Promise<number> {
  const keyList = c.key.map((k) => k.column).join(', ');
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<Record<string, unknown> & { plain: string }>(
      `SELECT ${keyList}, ${c.text} AS plain FROM ${c.table}
        WHERE (${c.personal}) AND ${c.text} NOT LIKE $1
        LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [`${SEALED_PREFIX}%`, batch],
    );
    if (rows.length > 0) {
      await client.query(
        `UPDATE ${c.table} SET ${c.write}
           FROM jsonb_to_recordset($1::jsonb) AS v(${c.key.map((k) => `${k.column} ${k.type}`).join(', ')}, sealed text)
          WHERE ${c.key.map((k) => `${c.table}.${k.column} = v.${k.column}`).join(' AND ')}`,
        [JSON.stringify(rows.map(({ plain, ...key }) => ({ ...key, sealed: seal(plain, keys) })))],
      );
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
