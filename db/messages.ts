// The conversation's message bodies, stored once: the API (or a webhook) writes a body before it tells
// the workflow, which keeps only the id and a preview; the notifier reads the body to send it. A
// private ticket's messages are sealed (db/sealed.ts): who wrote them and what.
import { createHash, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { EncryptionKeys } from '../config/encryption';
import { sealIf, unseal, unsealed } from './sealed';
import { characterCount, preview } from '../domain/text-rules';
import type { MessageRef } from '../domain/ticket';

export interface NewMessage {
  workflowId: string;
  /** Who wrote it: an agent's handle, `requester`, `requester via zendesk`. */
  author: string;
  role: 'agent' | 'requester';
  body: string;
  /** The ticket is private (or not known to be public): author and body are sealed. */
  private: boolean;
  /**
   * Names the message for a retried request (an Idempotency-Key, a webhook's delivery or comment id):
   * the same key stores the same message once. Without one, a fresh id.
   */
  key?: string;
}

export function messageIdFor(workflowId: string, key: string | undefined): string {
  if (!key) return `msg-${randomUUID()}`;
  return `msg-${createHash('sha256').update(`${workflowId}\0${key}`).digest('hex').slice(0, 32)}`;
}

/** Stores the body (once per id) and answers the reference the workflow keeps. */
export async function storeMessage(pool: Pool, m: NewMessage, keys: EncryptionKeys | undefined): Promise<MessageRef> {
  const id = messageIdFor(m.workflowId, m.key);
  await pool.query(
    `INSERT INTO messages (id, workflow_id, author, role, body) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO NOTHING`,
    [id, m.workflowId, sealIf(m.private, m.author, keys), m.role, sealIf(m.private, m.body, keys)],
  );
  return { id, preview: preview(m.body), length: characterCount(m.body) };
}

/** A message its workflow never took (the action was refused): nothing half-created stays behind. */
export async function discardMessage(pool: Pool, id: string): Promise<void> {
  await pool.query('DELETE FROM messages WHERE id = $1', [id]);
}

/** The body as written (unsealed): for the notifier, which sends it. */
export async function messageBody(pool: Pool, id: string, keys: EncryptionKeys): Promise<string | null> {
  const { rows } = await pool.query<{ body: string }>('SELECT body FROM messages WHERE id = $1', [id]);
  return rows[0] ? unseal(rows[0].body, keys) : null;
}

export interface StoredMessage {
  id: string;
  author: string;
  role: string;
  body: string;
  createdAt: Date;
}

/**
 * One page of an item's conversation, in the order its timeline took the messages: the messages its
 * current workflow chain refers to (item_events), so a refused action's message, or an earlier item's
 * under a workflow id reused after the namespace's retention, never shows. Unsealed: only for a caller
 * who may read the ticket in full.
 */
export async function messagesOf(
  pool: Pool,
  table: 'tickets',
  itemId: string,
  page: { limit: number; offset: number },
  keys: EncryptionKeys | undefined,
): Promise<StoredMessage[]> {
  const { rows } = await pool.query<StoredMessage>(
    `SELECT m.id, m.author, m.role, m.body, m.created_at AS "createdAt"
       FROM ${table} t
       JOIN item_events e ON e.workflow_id = t.workflow_id AND e.chain_id = t.chain_id
       JOIN messages m ON m.id = e.message_id
      WHERE t.id = $1 ORDER BY e.seq LIMIT $2 OFFSET $3`,
    [itemId, page.limit, page.offset],
  );
  return rows.map((m) => ({ ...m, author: unsealed(m.author, keys), body: unsealed(m.body, keys) }));
}
