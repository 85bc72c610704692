// The reporting event log (desk_events, README "Reports"): the rows a projection write appends for its
// timeline entries, and the backfill of the entries written before the table existed.
import type { PoolClient } from 'pg';
import { typeOfEntry, type TicketMeasures } from '../domain/reporting';
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
  measures?: TicketMeasures | null;
  satisfaction?: { resolved: boolean; score: number } | null;
}

export interface DeskEventRow {
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
  if (type === 'resolved' || type === 'disclosure-published') return facts.kind === 'ticket' || facts.kind === 'incident' || facts.kind === 'security-report' ? -1 : 0;
  if (type === 'closed') return facts.doneBeforeClosed ? 0 : -1;
  if (type === 'stage-moved' && to !== undefined && FINAL_STAGE_NAMES.has(to)) return -1;
  return 0;
}

/** `acknowledge` on the ticket's timeline is the acknowledgement target. */
const targetName = (t: string | undefined): string | null => (t === undefined ? null : t === 'acknowledge' ? 'acknowledgement' : t);

export function deskEventRows(facts: ReportFacts, events: readonly TimelineEntry[]): DeskEventRow[] {
  return events
    .filter((e) => e.seq !== undefined)
    .map((e) => {
      const typed = typeOfEntry(e.event);
      const m = facts.measures;
      const measured =
        typed.type === 'acknowledged' ? [m?.firstReplyMs, m?.firstReplyBusinessMs] : typed.type === 'resolved' ? [m?.resolutionMs, m?.resolutionBusinessMs] : [];
      const rated = typed.type === 'satisfaction' ? facts.satisfaction : null;
      return {
        seq: e.seq!,
        at: e.at,
        type: typed.type,
        event: e.event,
        level: typed.level ?? null,
        target: targetName(typed.target),
        to_value: typed.to ?? null,
        open_delta: openDelta(facts, typed.type, typed.to),
        elapsed_ms: measured[0] ?? null,
        business_ms: measured[1] ?? null,
        score: rated?.score ?? null,
        said_resolved: rated?.resolved ?? null,
      };
    });
}

/**
 * `INSERT INTO desk_events ...` reading the rows from the jsonb parameter `$rows`, the facts from
 * `$facts`; appended to a projection's statement as its last part.
 */
export function deskEventsInsert(workflowParam: number, chainParam: number, factsParam: number, rowsParam: number): string {
  return `INSERT INTO desk_events (workflow_id, chain_id, seq, item_id, kind, at, type, event, channel, tier, priority, region,
       assignee, level, target, to_value, open_delta, elapsed_ms, business_ms, score, said_resolved)
     SELECT $${workflowParam}, $${chainParam}, r.seq, f.item_id, f.kind, to_timestamp(r.at / 1000.0), r.type, r.event, f.channel, f.tier,
       f.priority, f.region, f.assignee, r.level, r.target, r.to_value, r.open_delta, r.elapsed_ms, r.business_ms, r.score, r.said_resolved
       FROM jsonb_to_record($${factsParam}::jsonb) AS f(item_id text, kind text, channel text, tier smallint, priority text, region text, assignee text),
            jsonb_to_recordset($${rowsParam}::jsonb) AS r(seq integer, at double precision, type text, event text, level smallint, target text,
              to_value text, open_delta smallint, elapsed_ms bigint, business_ms bigint, score smallint, said_resolved boolean)
     ON CONFLICT (workflow_id, chain_id, seq) DO NOTHING`;
}

export function factsParam(facts: ReportFacts): string {
  return JSON.stringify({
    item_id: facts.itemId,
    kind: facts.kind,
    channel: facts.channel ?? null,
    tier: facts.tier ?? null,
    priority: facts.priority ?? null,
    region: facts.region ?? null,
    assignee: facts.assignee ?? null,
  });
}

/**
 * The entries in item_events from before desk_events, typed with today's rules and the item's row as
 * it is now (for a finished item, as it was when its last entry was written). Times measured by the
 * workflow are those of the ticket's row.
 */
export async function backfillDeskEvents(client: PoolClient, page = 5_000): Promise<void> {
  const sources: Array<{ table: string; facts: string }> = [
    {
      table: 'tickets',
      facts: `'ticket' AS kind, i.channel, i.tier::int AS tier, i.priority, i.assignee,
              i.resolved_at IS NOT NULL AS done, i.satisfaction`,
    },
    {
      table: 'incidents',
      facts: `'incident' AS kind, NULL AS channel, NULL::int AS tier, i.severity AS priority, i.acknowledged_by AS assignee,
              i.resolved_at IS NOT NULL AS done, NULL::jsonb AS satisfaction`,
    },
    {
      table: 'security_reports',
      facts: `'security-report' AS kind, NULL AS channel, NULL::int AS tier, i.severity AS priority, NULL AS assignee,
              i.published_at IS NOT NULL AS done, NULL::jsonb AS satisfaction`,
    },
    // A work item ends at its final stage; nothing after it ends it again.
    {
      table: 'work_items',
      facts: `i.kind, NULL AS channel, NULL::int AS tier, NULL AS priority, NULL AS assignee, true AS done, NULL::jsonb AS satisfaction`,
    },
  ];
  // In pages, so an install with millions of entries is not read into memory at once. An entry's row
  // depends only on itself and its item's facts, so a chain split across two pages is typed alike.
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
      const byChain = new Map<string, typeof rows>();
      for (const r of rows) {
        const key = `${r.workflow_id}\u0000${r.chain_id}`;
        const chain = byChain.get(key);
        if (chain) chain.push(r);
        else byChain.set(key, [r]);
      }
      for (const chain of byChain.values()) {
        const first = chain[0]!;
        const reportFacts: ReportFacts = {
          kind: first.kind,
          itemId: first.item_id,
          channel: first.channel,
          tier: first.tier,
          priority: first.priority,
          assignee: first.assignee,
          doneBeforeClosed: first.done,
          satisfaction: first.satisfaction ? { resolved: first.satisfaction.resolved, score: first.satisfaction.score } : null,
        };
        const entries = chain.map((r) => ({ seq: r.seq, at: new Date(r.at).getTime(), event: r.event }));
        await client.query(deskEventsInsert(1, 2, 3, 4), [first.workflow_id, first.chain_id, factsParam(reportFacts), JSON.stringify(deskEventRows(reportFacts, entries))]);
      }
      if (rows.length < page) break;
    }
  }
  // Tickets from before: what can be read from their rows. Times in calendar time only (waiting on the
  // requester included: it was not recorded apart); each target met or breached by its due time.
  await client.query(
    `UPDATE tickets SET first_reply_ms = (EXTRACT(EPOCH FROM acknowledged_at - created_at) * 1000)::bigint,
                        resolution_ms = (EXTRACT(EPOCH FROM resolved_at - created_at) * 1000)::bigint,
                        resolution_target = CASE WHEN tier = 3 THEN 'hand-off' ELSE 'resolution' END,
                        acknowledge_sla = CASE WHEN acknowledged_at IS NOT NULL AND acknowledged_at <= acknowledge_due_at THEN 'met'
                                               WHEN acknowledged_at > acknowledge_due_at OR (acknowledged_at IS NULL AND acknowledge_due_at < now()) THEN 'breached'
                                               ELSE 'in-progress' END,
                        resolution_sla = CASE WHEN resolved_at IS NOT NULL AND resolved_at <= resolution_due_at THEN 'met'
                                              WHEN resolved_at > resolution_due_at OR (resolved_at IS NULL AND resolution_due_at < now()) THEN 'breached'
                                              ELSE 'in-progress' END
      WHERE acknowledge_sla IS NULL`,
  );
}
