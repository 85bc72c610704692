// How every projection write reaches PostgreSQL: the item's row and its new timeline entries in one
// statement, and PostgreSQL's answer turned into Temporal's terms: a value it can never store is a
// refusal for good (non-retryable, recorded on the item); anything else (PostgreSQL away) is retried.
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { EncryptionKeys } from '../config/encryption';
import { deskEventRecords, deskEventsInsert, type ReportFacts } from '../db/desk-events';
import { sealIf } from '../db/sealed';
import type { TimelineEntry } from '../domain/timeline';

export const PROJECTION_REFUSED = 'ProjectionRefused';

/**
 * SQLSTATE classes that retrying cannot fix: 22 data exception (e.g. a NUL in text, a value out of
 * range), 23 integrity constraint violation, 54 program limit exceeded.
 */
const PERMANENT_CLASSES = ['22', '23', '54'];

export interface ProjectionWrite {
  /** The upsert of the item's row. */
  sql: string;
  params: unknown[];
  workflowId: string;
  chainId?: string;
  events?: TimelineEntry[];
  /**
   * A personal item (a private ticket or incident, a security report): its entries' notes and who
   * wrote them are sealed; the event and its time stay plain (the desk's own words).
   */
  personal: boolean;
  keys: EncryptionKeys;
  /** The item's facts for the reporting event log (desk_events), one row per new entry. */
  report: ReportFacts;
}

export async function writeProjection(pool: Pool, write: ProjectionWrite): Promise<void> {
  const { chainId } = write;
  const events = chainId ? (write.events ?? []).filter((e) => e.seq !== undefined) : [];
  const stored = (text: string | undefined) => (text === undefined ? null : sealIf(write.personal, text, write.keys));
  try {
    if (!chainId || events.length === 0) {
      await pool.query(write.sql, write.params);
      return;
    }
    // The row, its entries and their reporting rows in one statement: one round trip, and all or
    // nothing by itself. A retried write finds the entries there already.
    const n = write.params.length;
    await pool.query(
      `WITH item AS (${write.sql}),
       timeline AS (
         INSERT INTO item_events (workflow_id, chain_id, seq, at, event, actor, note, message_id)
         SELECT $${n + 1}, $${n + 2}, e.seq, to_timestamp(e.at / 1000.0), e.event, e.actor, e.note, e.message_id
           FROM jsonb_to_recordset($${n + 3}::jsonb) AS e(seq integer, at double precision, event text, actor text, note text, message_id text)
         ON CONFLICT (workflow_id, chain_id, seq) DO NOTHING)
       ${deskEventsInsert(n + 4)}`,
      [
        ...write.params,
        write.workflowId,
        chainId,
        JSON.stringify(events.map((e) => ({ seq: e.seq, at: e.at, event: e.event, actor: stored(e.by), note: stored(e.note), message_id: e.messageId ?? null }))),
        JSON.stringify(deskEventRecords(write.workflowId, chainId, write.report, events)),
      ],
    );
  } catch (err) {
    throw classify(err);
  }
}

function classify(err: unknown): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && PERMANENT_CLASSES.includes(code.slice(0, 2))) {
    return ApplicationFailure.nonRetryable(
      `PostgreSQL refused the projection (${code}): ${(err as Error).message}`,
      PROJECTION_REFUSED,
    );
  }
  return err;
}

/**
 * The upsert guard every projection shares: within one workflow chain a newer version wins; a new chain
 * (a workflow id reused after the namespace's retention) replaces the old chain's row; a write without
 * a chain (from a run of the first model) never replaces a chained row.
 */
export function newerThan(table: string): string {
  return `(${table}.chain_id IS NOT DISTINCT FROM EXCLUDED.chain_id AND ${table}.version < EXCLUDED.version)
       OR (EXCLUDED.chain_id IS NOT NULL AND ${table}.chain_id IS DISTINCT FROM EXCLUDED.chain_id
           AND ${table}.created_at <= EXCLUDED.created_at)`;
}
