// The reporting event log (desk_events, README "Reports"): the rows a projection write appends for its
// timeline entries, and the backfill of the entries written before the table existed.
import type { PoolClient } from 'pg';
import { typeOfEntry } from '../domain/reporting';
import type { TimelineEntry } from '../domain/timeline';
import { FINAL_STAGES } from '../domain/work-item';
import { stageName } from '../domain/work-item-machine';

export type ItemKind = 'ticket' | 'incident' | 'security-report' | 'feature-request' | 'bug-report';

/** The item's facts as the write that carries the entries sees them (the state after them). */
export interface ReportFacts {
  kind: ItemKind;
  itemId: string;
  channel?: string | null;
  tier?: number | null;
  /** A ticket's priority; an incident's or a security report's severity. */
  priority?: string | null;
  region?: string | null;
  assignee?: string | null;
  /**
   * Whether the item was resolved (a ticket), resolved (an incident) or published (a security report)
   * before it was closed: then its `closed` entry does not end its openness a second time.
   */
  doneBeforeClosed?: boolean;
  satisfaction?: { resolved: boolean; score: number } | null;
}

/** One row of desk_events as the INSERT reads it (deskEventsInsert). */
export interface DeskEventRecord {
  workflow_id: string;
  chain_id: string;
  item_id: string;
  kind: ItemKind;
  channel: string | null;
  tier: number | null;
  priority: string | null;
  region: string | null;
  assignee: string | null;
  seq: number;
  at: number;
  type: string;
  event: string;
  level: number | null;
  target: string | null;
  to_value: string | null;
  open_delta: number;
  elapsed_ms: number | null;
  business_ms: number | null;
  score: number | null;
  said_resolved: boolean | null;
}

const FINAL_STAGE_NAMES = new Set(FINAL_STAGES.map(stageName));

/** +1 when the entry opens the item (again), -1 when it ends it: the backlog is their running sum. */
function openDelta(facts: ReportFacts, type: string, to: string | undefined): number {
  if (type === 'created' || type === 'reopened') return 1;
  if (type === 'resolved' || type === 'disclosure-published') return -1;
  if (type === 'closed') return facts.doneBeforeClosed ? 0 : -1;
  if (type === 'stage-moved' && to !== undefined && FINAL_STAGE_NAMES.has(to)) return -1;
  return 0;
}

/** `acknowledge` on the ticket's timeline is the acknowledgement target; a tier-3 ticket's resolution target is its hand-off. */
function targetName(t: string | undefined, facts: ReportFacts): string | null {
  if (t === undefined) return null;
  if (t === 'acknowledge') return 'acknowledgement';
  return t === 'resolution' && facts.kind === 'ticket' && facts.tier === 3 ? 'hand-off' : t;
}

/** The rows of desk_events for an item's new entries; `measured` (elapsed_ms, business_ms) is the entry's own. */
export function deskEventRecords(workflowId: string, chainId: string, facts: ReportFacts, events: readonly TimelineEntry[]): DeskEventRecord[] {
  return events
    .filter((e) => e.seq !== undefined)
    .map((e) => {
      const typed = typeOfEntry(e.event);
      const rated = typed.type === 'satisfaction' ? facts.satisfaction : null;
      return {
        workflow_id: workflowId,
        chain_id: chainId,
        item_id: facts.itemId,
        kind: facts.kind,
        channel: facts.channel ?? null,
        tier: facts.tier ?? null,
        priority: facts.priority ?? null,
        region: facts.region ?? null,
        assignee: facts.assignee ?? null,
        seq: e.seq!,
        at: e.at,
        type: typed.type,
        event: e.event,
        level: typed.level ?? null,
        target: targetName(typed.target, facts),
        to_value: typed.to ?? null,
        open_delta: openDelta(facts, typed.type, typed.to),
        elapsed_ms: e.measured?.elapsedMs ?? null,
        business_ms: e.measured?.businessMs ?? null,
        score: rated?.score ?? null,
        said_resolved: rated?.resolved ?? null,
      };
    });
}

/** `INSERT INTO desk_events` of the records (deskEventRecords) in the jsonb parameter `$rowsParam`; an entry already there is left as it is. */
export function deskEventsInsert(rowsParam: number): string {
  return `INSERT INTO desk_events (workflow_id, chain_id, seq, item_id, kind, at, type, event, channel, tier, priority, region,
       assignee, level, target, to_value, open_delta, elapsed_ms, business_ms, score, said_resolved)
     SELECT r.workflow_id, r.chain_id, r.seq, r.item_id, r.kind, to_timestamp(r.at / 1000.0), r.type, r.event, r.channel, r.tier,
       r.priority, r.region, r.assignee, r.level, r.target, r.to_value, r.open_delta, r.elapsed_ms, r.business_ms, r.score, r.said_resolved
       FROM jsonb_to_recordset($${rowsParam}::jsonb) AS r(workflow_id text, chain_id text, seq integer, item_id text, kind text, at double precision,
         type text, event text, channel text, tier smallint, priority text, region text, assignee text, level smallint, target text,
         to_value text, open_delta smallint, elapsed_ms bigint, business_ms bigint, score smallint, said_resolved boolean)
     ON CONFLICT (workflow_id, chain_id, seq) DO NOTHING`;
}

/**
 * The entries in item_events from before desk_events, typed with today's rules and the item's row as
 * it is now (for a finished item, as it was when its last entry was written). Tickets from before get
 * what can be read from their rows first: times in calendar time only (waiting on the requester was
 * not recorded apart), each target met or breached by its due time; their entries carry those times.
 * In pages of `page` entries, one INSERT each: an entry's row depends only on itself and its item's
 * facts, so a chain split across two pages is typed alike.
 */
export async function backfillDeskEvents(client: PoolClient, page = 5_000): Promise<void> {
  await client.query(
    `UPDATE tickets SET ${legacyTicketStanding('tickets')} WHERE acknowledge_sla IS NULL`,
  );
  const sources: Array<{ table: string; facts: string }> = [
    {
      table: 'tickets',
      facts: `'ticket' AS kind, i.channel, i.tier::int AS tier, i.priority, i.region, i.assignee,
              i.resolved_at IS NOT NULL AS done, i.satisfaction, i.first_reply_ms, i.resolution_ms`,
    },
    {
      table: 'incidents',
      facts: `'incident' AS kind, NULL AS channel, NULL::int AS tier, i.severity AS priority, NULL AS region, i.acknowledged_by AS assignee,
              i.resolved_at IS NOT NULL AS done, NULL::jsonb AS satisfaction, NULL::bigint AS first_reply_ms, NULL::bigint AS resolution_ms`,
    },
    {
      table: 'security_reports',
      facts: `'security-report' AS kind, NULL AS channel, NULL::int AS tier, i.severity AS priority, NULL AS region, NULL AS assignee,
              i.published_at IS NOT NULL AS done, NULL::jsonb AS satisfaction, NULL::bigint AS first_reply_ms, NULL::bigint AS resolution_ms`,
    },
    // A work item ends at its final stage; nothing after it ends it again.
    {
      table: 'work_items',
      facts: `i.kind, NULL AS channel, NULL::int AS tier, NULL AS priority, NULL AS region, NULL AS assignee, true AS done,
              NULL::jsonb AS satisfaction, NULL::bigint AS first_reply_ms, NULL::bigint AS resolution_ms`,
    },
  ];
  for (const { table, facts } of sources) {
    let after: [string, string, number] = ['', '', 0];
    for (;;) {
      const { rows } = await client.query(
        `SELECT e.workflow_id, e.chain_id, e.seq, e.at, e.event, i.id AS item_id, ${facts}
           FROM item_events e JOIN ${table} i ON i.workflow_id = e.workflow_id AND i.chain_id = e.chain_id
          WHERE (e.workflow_id, e.chain_id, e.seq) > ($1, $2, $3)
          ORDER BY e.workflow_id, e.chain_id, e.seq LIMIT ${Number(page)}`,
        after,
      );
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]!;
      after = [last.workflow_id, last.chain_id, last.seq];
      const logged = rows.flatMap((r) => {
        const facts: ReportFacts = {
          kind: r.kind,
          itemId: r.item_id,
          channel: r.channel,
          tier: r.tier,
          priority: r.priority,
          region: r.region,
          assignee: r.assignee,
          doneBeforeClosed: r.done,
          satisfaction: r.satisfaction ? { resolved: r.satisfaction.resolved, score: r.satisfaction.score } : null,
        };
        // The times a ticket's row from before holds, on the entries they measure (calendar time only).
        const type = typeOfEntry(r.event).type;
        const elapsedMs = type === 'acknowledged' ? r.first_reply_ms : type === 'resolved' ? r.resolution_ms : null;
        const entry: TimelineEntry = { seq: r.seq, at: new Date(r.at).getTime(), event: r.event, ...(elapsedMs !== null ? { measured: { elapsedMs, businessMs: null } } : {}) };
        return deskEventRecords(r.workflow_id, r.chain_id, facts, [entry]);
      });
      await client.query(deskEventsInsert(1), [JSON.stringify(logged)]);
      if (rows.length < page) break;
    }
  }
}

/**
 * SET clauses giving a ticket's row from before the reports (or from a run that sends no measures) its
 * times and each target's standing, from what the row holds: met if done by its due time, breached
 * if done later or not done and past due, else in progress.
 */
function legacyTicketStanding(table: string): string {
  const t = (column: string) => `${table}.${column}`;
  return `first_reply_ms = (EXTRACT(EPOCH FROM ${t('acknowledged_at')} - ${t('created_at')}) * 1000)::bigint,
          resolution_ms = (EXTRACT(EPOCH FROM ${t('resolved_at')} - ${t('created_at')}) * 1000)::bigint,
          resolution_target = CASE WHEN ${t('tier')} = 3 THEN 'hand-off' ELSE 'resolution' END,
          acknowledge_sla = ${standing(t('acknowledged_at'), t('acknowledge_due_at'))},
          resolution_sla = ${standing(t('resolved_at'), t('resolution_due_at'))}`;
}

const standing = (done: string, due: string) =>
  `CASE WHEN ${done} IS NOT NULL AND ${done} <= ${due} THEN 'met'
        WHEN ${done} > ${due} OR (${done} IS NULL AND ${due} < now()) THEN 'breached'
        ELSE 'in-progress' END`;
