// The retention workflow's activities (README "Housekeeping"): each deletes one batch of one table's
// rows past their retention, by the database's clock, and says where the next batch starts. Nothing an
// open item still needs is deleted: once()'s keys and results, the rows the webhooks look up, the log
// entries the backlog sums. A batch is safe to retry: it deletes only what is still there and still due.
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { PruneBatch, PruneResult } from '../domain/retention';

export interface RetentionActivityDeps {
  pool: Pool;
}

/** The last row a keyset batch looked at: its time to the microsecond (UTC, ISO 8601) and its key. */
export interface RowCursor {
  at: string;
  key: string;
}

/** The last event a batch of desk_events looked at, within the kind it is going through. */
export interface EventCursor {
  kind: string;
  at?: string;
  workflowId?: string;
  chainId?: string;
  seq?: number;
}

/** Days of 24 hours before `now()`, the statement's start: one cutoff for every row a statement looks at. */
const CUTOFF = `(now() - $1::double precision * interval '24 hours')`;

/**
 * The rows a batch picked, by their physical address: the delete goes straight to them (a TID scan)
 * whatever the planner guesses of the batch's size. A row changed since it was picked has moved and
 * is left for the next run; each delete checks its row's age again anyway.
 */
const rowsOf = (batch: string) => `(SELECT array_agg(id) FROM ${batch})::tid[]`;

/** A timestamptz as text that reads back to the same microsecond in any session. */
const utcText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Whether the workflow the SQL expression names is an item its projection row says is not over: while
 * it is, once() may still be asked for its keys, the Slack and GitLab webhooks find it through its
 * effects, and its log entries count in the backlog. Item ids hold no colon, so the first part of an
 * idempotency key (`<workflowId>:<chainId>:<step>`) is its workflow.
 */
function stillOpen(workflowId: string): string {
  return `(EXISTS (SELECT 1 FROM tickets o WHERE o.workflow_id = ${workflowId} AND o.status <> 'closed')
        OR EXISTS (SELECT 1 FROM incidents o WHERE o.workflow_id = ${workflowId} AND o.status <> 'closed')
        OR EXISTS (SELECT 1 FROM security_reports o WHERE o.workflow_id = ${workflowId} AND o.status <> 'closed')
        OR EXISTS (SELECT 1 FROM work_items o WHERE o.workflow_id = ${workflowId} AND o.closed_at IS NULL))`;
}

interface BatchCounts {
  examined: number;
  deleted: number;
}

export function createRetentionActivities({ pool }: RetentionActivityDeps) {
  /**
   * A keyset batch over (time, key) on `table`, whose index on those two columns orders it: the rows
   * it looked at and kept (an open item's) are not looked at again in this run.
   */
  async function keysetBatch(
    batch: PruneBatch<RowCursor>,
    table: string,
    time: string,
    key: string,
    deletable: string,
  ): Promise<PruneResult<RowCursor>> {
    checkBatch(batch);
    const { rows } = await pool.query<BatchCounts & { last_at: string | null; last_key: string | null }>(
      `WITH batch AS (
         SELECT ctid AS id, ${key} AS key, ${time} AS at FROM ${table}
          WHERE ${time} < ${CUTOFF} AND (${time}, ${key}) > ($3::timestamptz, $4::text)
          ORDER BY ${time}, ${key} LIMIT $2),
       gone AS (
         DELETE FROM ${table} t WHERE t.ctid = ANY (${rowsOf('batch')}) AND ${deletable} RETURNING 1),
       last AS (SELECT at, key FROM batch ORDER BY at DESC, key DESC LIMIT 1)
       SELECT (SELECT count(*) FROM batch)::int AS examined, (SELECT count(*) FROM gone)::int AS deleted,
              (SELECT ${utcText('at')} FROM last) AS last_at, (SELECT key FROM last) AS last_key`,
      [batch.olderThanDays, batch.batchSize, batch.after?.at ?? '-infinity', batch.after?.key ?? ''],
    );
    const r = rows[0]!;
    if (r.examined < batch.batchSize || r.last_at === null || r.last_key === null) return { deleted: r.deleted, done: true };
    return { deleted: r.deleted, done: false, after: { at: r.last_at, key: r.last_key } };
  }

  return {
    /** Deliveries received before the cutoff, whatever their outcome: no sender redelivers that late. */
    async pruneWebhookDeliveries(batch: PruneBatch): Promise<PruneResult> {
      checkBatch(batch);
      const { rows } = await pool.query<BatchCounts>(
        `WITH batch AS (
           SELECT ctid AS id FROM webhook_deliveries WHERE received_at < ${CUTOFF} ORDER BY received_at LIMIT $2),
         gone AS (
           DELETE FROM webhook_deliveries d WHERE d.ctid = ANY (${rowsOf('batch')}) AND d.received_at < ${CUTOFF} RETURNING 1)
         SELECT (SELECT count(*) FROM batch)::int AS examined, (SELECT count(*) FROM gone)::int AS deleted`,
        [batch.olderThanDays, batch.batchSize],
      );
      return { deleted: rows[0]!.deleted, done: rows[0]!.examined < batch.batchSize };
    },

    /**
     * Effects claimed, taken over and completed before the cutoff, of items that are over (or of
     * workflows without a projection, such as a tracker issue's announcement).
     */
    pruneExternalEffects(batch: PruneBatch<RowCursor>): Promise<PruneResult<RowCursor>> {
      return keysetBatch(
        batch,
        'external_effects',
        'created_at',
        'idempotency_key',
        `greatest(t.created_at, t.claimed_at, t.completed_at) < ${CUTOFF} AND NOT ${stillOpen(`split_part(t.idempotency_key, ':', 1)`)}`,
      );
    },

    /** Notifications sent before the cutoff by tickets that are closed. */
    pruneNotifications(batch: PruneBatch<RowCursor>): Promise<PruneResult<RowCursor>> {
      return keysetBatch(
        batch,
        'notifications',
        'sent_at',
        'idempotency_key',
        `t.sent_at < ${CUTOFF} AND NOT EXISTS (SELECT 1 FROM tickets o WHERE o.id = t.ticket_id AND o.status <> 'closed')`,
      );
    },

    /**
     * Whole items' entries, one kind at a time along its (kind, at) index: an item chain goes once its
     * newest entry is past the cutoff, its openings and endings cancel out and its row says it is over.
     * So the backlog before any later moment sums the same, and no report range that starts after the
     * cutoff loses an entry or the entries before it in the same item. A batch looks at up to
     * `batchSize` entries and deletes every entry of the items among them that may go.
     */
    async pruneDeskEvents(batch: PruneBatch<EventCursor>): Promise<PruneResult<EventCursor>> {
      checkBatch(batch);
      const kind = batch.after?.kind ?? (await nextKind(pool, null));
      if (kind === null) return { deleted: 0, done: true };
      const after = batch.after?.at !== undefined ? batch.after : { kind, at: '-infinity', workflowId: '', chainId: '', seq: 0 };
      const { rows } = await pool.query<
        BatchCounts & { last_at: string | null; last_workflow: string | null; last_chain: string | null; last_seq: number | null }
      >(
        `WITH scanned AS (
           SELECT workflow_id, chain_id, seq, at FROM desk_events
            WHERE kind = $3 AND at < ${CUTOFF} AND at >= $4::timestamptz
              AND (at, workflow_id, chain_id, seq) > ($4::timestamptz, $5::text, $6::text, $7::integer)
            ORDER BY at, workflow_id, chain_id, seq LIMIT $2),
         ended AS (
           SELECT c.workflow_id, c.chain_id FROM (SELECT DISTINCT workflow_id, chain_id FROM scanned) c
            CROSS JOIN LATERAL (SELECT max(e.at) AS newest, sum(e.open_delta) AS open FROM desk_events e
                                 WHERE e.workflow_id = c.workflow_id AND e.chain_id = c.chain_id) life
            WHERE life.newest < ${CUTOFF} AND life.open = 0 AND NOT ${stillOpen('c.workflow_id')}),
         gone AS (
           DELETE FROM desk_events e USING ended x WHERE e.workflow_id = x.workflow_id AND e.chain_id = x.chain_id RETURNING 1),
         last AS (SELECT * FROM scanned ORDER BY at DESC, workflow_id DESC, chain_id DESC, seq DESC LIMIT 1)
         SELECT (SELECT count(*) FROM scanned)::int AS examined, (SELECT count(*) FROM gone)::int AS deleted,
                (SELECT ${utcText('at')} FROM last) AS last_at, (SELECT workflow_id FROM last) AS last_workflow,
                (SELECT chain_id FROM last) AS last_chain, (SELECT seq FROM last) AS last_seq`,
        [batch.olderThanDays, batch.batchSize, kind, after.at, after.workflowId ?? '', after.chainId ?? '', after.seq ?? 0],
      );
      const r = rows[0]!;
      if (r.examined === batch.batchSize && r.last_at !== null) {
        return {
          deleted: r.deleted,
          done: false,
          after: { kind, at: r.last_at, workflowId: r.last_workflow!, chainId: r.last_chain!, seq: r.last_seq! },
        };
      }
      // This kind is gone through: the next one, if any, in the next batch.
      const next = await nextKind(pool, kind);
      return next === null ? { deleted: r.deleted, done: true } : { deleted: r.deleted, done: false, after: { kind: next } };
    },

    /**
     * The pacing's reservations (activities/drivers/pacing.ts) past the cutoff: a key that is never
     * written again keeps its last rows otherwise. Nothing to do where the table does not exist.
     */
    async pruneIntegrationPace(batch: PruneBatch): Promise<PruneResult> {
      checkBatch(batch);
      const { rows: found } = await pool.query<{ present: boolean }>(`SELECT to_regclass('integration_pace') IS NOT NULL AS present`);
      if (!found[0]?.present) return { deleted: 0, done: true };
      const { rows } = await pool.query<BatchCounts>(
        `WITH batch AS (SELECT ctid AS id FROM integration_pace WHERE at < ${CUTOFF} LIMIT $2),
         gone AS (DELETE FROM integration_pace p WHERE p.ctid = ANY (${rowsOf('batch')}) AND p.at < ${CUTOFF} RETURNING 1)
         SELECT (SELECT count(*) FROM batch)::int AS examined, (SELECT count(*) FROM gone)::int AS deleted`,
        [batch.olderThanDays, batch.batchSize],
      );
      return { deleted: rows[0]!.deleted, done: rows[0]!.examined < batch.batchSize };
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;

/** The first kind of desk_events after `kind` (or the first of all), read off the (kind, at) index. */
async function nextKind(pool: Pool, kind: string | null): Promise<string | null> {
  const { rows } = await pool.query<{ kind: string | null }>(
    kind === null ? 'SELECT min(kind) AS kind FROM desk_events' : 'SELECT min(kind) AS kind FROM desk_events WHERE kind > $1',
    kind === null ? [] : [kind],
  );
  return rows[0]?.kind ?? null;
}

/** A batch the workflow could never make succeed by retrying. */
function checkBatch(batch: PruneBatch<unknown>): void {
  if (!(batch.olderThanDays > 0) || !Number.isSafeInteger(batch.batchSize) || batch.batchSize < 1) {
    throw ApplicationFailure.nonRetryable(
      `a prune batch needs olderThanDays > 0 and a whole batchSize of at least 1 (got ${batch.olderThanDays} and ${batch.batchSize}); fix the retention policy`,
      'InvalidRetentionPolicy',
    );
  }
}
