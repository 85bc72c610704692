// The reports (README "Reports"): each one SQL over the event log (desk_events) and the projections,
// answering one flat table (rows of named columns), so JSON and CSV are the same answer.
//
// Ranges are half-open [from, to) in the caller's time zone; periods start at local midnight there
// (a week on Monday, ISO 8601, unless weekStart=sunday). Tickets are counted with the facts (channel,
// tier, priority, region) their event carried when it happened.
import type { Pool } from 'pg';

export const GROUP_BY = ['day', 'week', 'month'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface ReportParams {
  /** Local date-times in `timeZone` ("2026-11-02T00:00:00"), from inclusive, to exclusive. */
  from: string;
  to: string;
  timeZone: string;
  groupBy: GroupBy;
  weekStart: 'monday' | 'sunday';
  channel?: string;
  tier?: number;
  priority?: string;
  region?: string;
  /** For `at-risk`: the moment to rank at (default now); tests pin it. */
  now?: number;
}

export type ReportRow = Record<string, string | number | boolean | null>;

export interface Report {
  name: string;
  /** One line for the index (GET /reports) and the README. */
  describes: string;
  /** The filters it takes beyond from/to/timeZone/groupBy. */
  filters: ReadonlyArray<'channel' | 'tier' | 'priority' | 'region'>;
  grouped: boolean;
  columns: readonly string[];
  run(pool: Pool, p: ReportParams): Promise<ReportRow[]>;
}

const TICKET_FILTERS = ['channel', 'tier', 'priority', 'region'] as const;

/**
 * Parameters every query shares: $1 from, $2 to (local), $3 time zone; filters follow. `range(col)`
 * is the half-open condition on a timestamptz column; `where` the filters on desk_events' columns.
 */
class Query {
  readonly params: unknown[];
  constructor(readonly p: ReportParams) {
    this.params = [p.from, p.to, p.timeZone];
  }
  add(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  range(column: string): string {
    return `${column} >= ($1::timestamp AT TIME ZONE $3) AND ${column} < ($2::timestamp AT TIME ZONE $3)`;
  }
  /** The ticket filters on a table's columns (desk_events and tickets name them alike). */
  filters(alias: string): string {
    const out: string[] = [];
    if (this.p.channel !== undefined) out.push(`${alias}.channel = ${this.add(this.p.channel)}`);
    if (this.p.tier !== undefined) out.push(`${alias}.tier = ${this.add(this.p.tier)}`);
    if (this.p.priority !== undefined) out.push(`${alias}.priority = ${this.add(this.p.priority)}`);
    if (this.p.region !== undefined) out.push(`${alias}.region = ${this.add(this.p.region)}`);
    return out.map((c) => ` AND ${c}`).join('');
  }
  /** The local start of the period an instant falls in: group by it, then show it with `day()`. */
  periodStart(column: string): string {
    return this.truncLocal(`${column} AT TIME ZONE $3`);
  }
  truncLocal(local: string): string {
    if (this.p.groupBy === 'week' && this.p.weekStart === 'sunday') return `(date_trunc('week', ${local} + interval '1 day') - interval '1 day')`;
    return `date_trunc('${this.p.groupBy}', ${local})`;
  }
  /** Every period of the range: start (local date), and its bounds as instants. */
  periods(): string {
    const step = this.add(`1 ${this.p.groupBy}`);
    // The first and last periods are cut to the range: a month's figures never count days outside it.
    return `SELECT b AS ps, to_char(b, 'YYYY-MM-DD') AS period, greatest(b, $1::timestamp) AT TIME ZONE $3 AS starts,
                   least(b + ${step}::interval, $2::timestamp) AT TIME ZONE $3 AS ends
              FROM generate_series(${this.truncLocal('$1::timestamp')}, $2::timestamp - interval '1 microsecond', ${step}::interval) AS b`;
  }
}

const ms = (column: string) => `round(${column})::bigint`;
/** A local period start shown as its date. */
const day = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;
const stats = (column: string) =>
  `count(${column})::int AS count, ${ms(`avg(${column})`)} AS "averageMs",
   ${ms(`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${column})`)} AS "medianMs",
   ${ms(`percentile_cont(0.9) WITHIN GROUP (ORDER BY ${column})`)} AS "p90Ms"`;
const rate = (part: string, whole: string) => `CASE WHEN ${whole} > 0 THEN round(100.0 * ${part} / ${whole}, 1)::float ELSE NULL END`;

/**
 * Runs a report's statement without JIT: its estimates (a generated series of periods joined to the
 * log) look expensive enough for PostgreSQL to compile it, which costs more than the query itself.
 */
async function rows(pool: Pool, q: Query, sql: string): Promise<ReportRow[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query('SET LOCAL jit = off');
    // Percentiles sort, grouping sets hash: in memory rather than in temporary files.
    await client.query("SET LOCAL work_mem = '64MB'");
    const { rows } = await client.query(sql, q.params);
    await client.query('COMMIT');
    return rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A report that is one statement: `sql` builds it, adding its parameters to `q` as it goes. */
const query =
  (sql: (q: Query) => string) =>
  (pool: Pool, p: ReportParams): Promise<ReportRow[]> => {
    const q = new Query(p);
    return rows(pool, q, sql(q));
  };

export const REPORTS: Report[] = [
  {
    name: 'volume',
    describes: 'Items opened and resolved per period, by kind and channel.',
    filters: TICKET_FILTERS,
    grouped: true,
    columns: ['period', 'kind', 'channel', 'opened', 'resolved'],
    run: query((q) =>
        `SELECT ${day('ps')} AS period, kind, channel, opened, resolved FROM (
           SELECT ${q.periodStart('e.at')} AS ps, e.kind, e.channel,
                  count(*) FILTER (WHERE e.open_delta > 0 AND e.type = 'created')::int AS opened,
                  count(*) FILTER (WHERE e.open_delta < 0)::int AS resolved
             FROM desk_events e
            WHERE e.open_delta <> 0 AND ${q.range('e.at')}${q.filters('e')}
            GROUP BY 1, 2, 3) g
          ORDER BY ps, kind, channel`,
    ),
  },
  {
    name: 'backlog',
    describes: 'Open tickets at the end of each period, with those opened (new or reopened) and resolved in it. No tier filter: a re-tier moves a ticket between tiers without opening or ending it.',
    filters: ['channel', 'priority', 'region'],
    grouped: true,
    columns: ['period', 'opened', 'resolved', 'open'],
    run: query((q) => {
      const filters = q.filters('e');
      return `WITH periods AS (${q.periods()}),
              before AS (SELECT coalesce(sum(e.open_delta), 0)::int AS open FROM desk_events e
                          WHERE e.kind = 'ticket' AND e.open_delta <> 0 AND e.at < ($1::timestamp AT TIME ZONE $3)${filters}),
              moves AS (SELECT ${q.periodStart('e.at')} AS ps,
                               count(*) FILTER (WHERE e.open_delta > 0)::int AS opened,
                               count(*) FILTER (WHERE e.open_delta < 0)::int AS resolved,
                               sum(e.open_delta)::int AS delta
                          FROM desk_events e
                         WHERE e.kind = 'ticket' AND e.open_delta <> 0 AND ${q.range('e.at')}${filters}
                         GROUP BY 1)
         SELECT p.period, coalesce(m.opened, 0) AS opened, coalesce(m.resolved, 0) AS resolved,
                ((SELECT open FROM before) + sum(coalesce(m.delta, 0)) OVER (ORDER BY p.ps))::int AS open
           FROM periods p LEFT JOIN moves m ON m.ps = p.ps ORDER BY p.ps`;
    }),
  },
  {
    name: 'distribution',
    describes: 'Tickets opened in the range by channel, tier, priority, agent (assignee now) and region, with their share.',
    filters: TICKET_FILTERS,
    grouped: false,
    columns: ['dimension', 'value', 'tickets', 'sharePercent'],
    run: query((q) =>
        `WITH g AS (
           SELECT CASE WHEN GROUPING(t.channel) = 0 THEN 'channel' WHEN GROUPING(t.tier) = 0 THEN 'tier' WHEN GROUPING(t.priority) = 0 THEN 'priority'
                       WHEN GROUPING(t.assignee) = 0 THEN 'agent' ELSE 'region' END AS dimension,
                  coalesce(t.channel, t.tier::text, t.priority, t.assignee, t.region,
                           CASE WHEN GROUPING(t.assignee) = 0 THEN '(unassigned)' ELSE '(none)' END) AS value,
                  count(*)::int AS tickets
             FROM tickets t WHERE ${q.range('t.created_at')}${q.filters('t')}
            GROUP BY GROUPING SETS ((t.channel), (t.tier), (t.priority), (t.assignee), (t.region)))
         SELECT dimension, value, tickets, round(100.0 * tickets / sum(tickets) OVER (PARTITION BY dimension), 1)::float AS "sharePercent"
           FROM g ORDER BY dimension, tickets DESC, value`,
    ),
  },
  {
    name: 'response-times',
    describes:
      'First reply time (tickets first answered in the range, per their tier then) and resolution time (tickets whose latest resolution is in the range), per tier, in calendar and business time, waiting on the requester excluded.',
    filters: TICKET_FILTERS,
    grouped: false,
    columns: ['measure', 'clock', 'tier', 'count', 'averageMs', 'medianMs', 'p90Ms'],
    async run(pool, p) {
      // First replies from the log (the tier then); resolutions from the ticket's row, which holds its
      // latest one (reset by a reopen). Two statements on two connections at once: each sorts its own.
      const measured = (measure: string, from: (q: Query) => string) => {
        const q = new Query(p);
        return rows(
          pool,
          q,
          `WITH m AS (${from(q)}),
           g AS (
             SELECT tier,
                    count(cal)::int AS c_count, ${ms('avg(cal)')} AS c_avg, ${ms('percentile_cont(0.5) WITHIN GROUP (ORDER BY cal)')} AS c_median,
                    ${ms('percentile_cont(0.9) WITHIN GROUP (ORDER BY cal)')} AS c_p90,
                    count(bus)::int AS b_count, ${ms('avg(bus)')} AS b_avg, ${ms('percentile_cont(0.5) WITHIN GROUP (ORDER BY bus)')} AS b_median,
                    ${ms('percentile_cont(0.9) WITHIN GROUP (ORDER BY bus)')} AS b_p90
               FROM m GROUP BY GROUPING SETS ((), (tier)))
           SELECT '${measure}' AS measure, x.clock, coalesce(g.tier::text, 'all') AS tier, x.count, x."averageMs", x."medianMs", x."p90Ms"
             FROM g CROSS JOIN LATERAL (VALUES ('calendar', c_count, c_avg, c_median, c_p90), ('business', b_count, b_avg, b_median, b_p90))
                  AS x(clock, count, "averageMs", "medianMs", "p90Ms")
            ORDER BY x.clock DESC, g.tier NULLS FIRST`,
        );
      };
      const [firstReplies, resolutions] = await Promise.all([
        measured('first-reply', (q) => `SELECT e.tier, e.elapsed_ms AS cal, e.business_ms AS bus FROM desk_events e
            WHERE e.type = 'acknowledged' AND e.kind = 'ticket' AND ${q.range('e.at')}${q.filters('e')}`),
        measured('resolution', (q) => `SELECT t.tier, t.resolution_ms AS cal, t.resolution_business_ms AS bus FROM tickets t
            WHERE t.resolution_ms IS NOT NULL AND ${q.range('t.resolved_at')}${q.filters('t')}`),
      ]);
      return [...firstReplies, ...resolutions];
    },
  },
  {
    name: 'first-reply-distribution',
    describes: 'Tickets first answered in the range by how long the first reply took (calendar time), in bands.',
    filters: TICKET_FILTERS,
    grouped: false,
    columns: ['band', 'upToMs', 'tickets'],
    run: query((q) =>
        `WITH bands(band, up_to, n) AS (VALUES ('< 15 min', 900000::bigint, 1), ('15 min - 1 h', 3600000, 2), ('1 - 4 h', 14400000, 3),
                                             ('4 - 8 h', 28800000, 4), ('8 - 24 h', 86400000, 5), ('> 24 h', NULL, 6)),
              counted AS (SELECT width_bucket(e.elapsed_ms, ARRAY[900000, 3600000, 14400000, 28800000, 86400000]::bigint[]) + 1 AS n, count(*)::int AS tickets
                            FROM desk_events e
                           WHERE e.type = 'acknowledged' AND e.kind = 'ticket' AND e.elapsed_ms IS NOT NULL AND ${q.range('e.at')}${q.filters('e')}
                           GROUP BY 1)
         SELECT b.band, b.up_to AS "upToMs", coalesce(c.tickets, 0) AS tickets
           FROM bands b LEFT JOIN counted c ON c.n = b.n ORDER BY b.n`,
    ),
  },
  {
    name: 'sla-attainment',
    describes:
      'Per SLA target (acknowledgement, resolution, hand-off), of tickets opened in the range as they stand now: met, breached, in progress, and attainment = met ÷ (met + breached); overall, per tier and per channel.',
    filters: TICKET_FILTERS,
    grouped: false,
    columns: ['target', 'tier', 'channel', 'met', 'breached', 'inProgress', 'attainmentPercent'],
    run: query((q) =>
        `WITH c AS (
           SELECT t.tier, t.channel, coalesce(t.resolution_target, 'resolution') AS target,
                  count(*) FILTER (WHERE t.acknowledge_sla = 'met') AS a_met, count(*) FILTER (WHERE t.acknowledge_sla = 'breached') AS a_breached,
                  count(*) FILTER (WHERE t.acknowledge_sla IS DISTINCT FROM 'met' AND t.acknowledge_sla IS DISTINCT FROM 'breached') AS a_open,
                  count(*) FILTER (WHERE t.resolution_sla = 'met') AS r_met, count(*) FILTER (WHERE t.resolution_sla = 'breached') AS r_breached,
                  count(*) FILTER (WHERE t.resolution_sla IS DISTINCT FROM 'met' AND t.resolution_sla IS DISTINCT FROM 'breached') AS r_open
             FROM tickets t WHERE ${q.range('t.created_at')}${q.filters('t')}
            GROUP BY 1, 2, 3),
         s AS (SELECT 'acknowledgement' AS target, tier, channel, a_met AS met, a_breached AS breached, a_open AS open FROM c
               UNION ALL SELECT target, tier, channel, r_met, r_breached, r_open FROM c)
         SELECT target, coalesce(tier::text, 'all') AS tier, coalesce(channel, 'all') AS channel,
                sum(met)::int AS met, sum(breached)::int AS breached, sum(open)::int AS "inProgress",
                ${rate('sum(met)', 'sum(met + breached)')} AS "attainmentPercent"
           FROM s GROUP BY GROUPING SETS ((target), (target, tier), (target, channel))
          ORDER BY s.target, s.tier NULLS FIRST, s.channel NULLS FIRST`,
    ),
  },
  {
    name: 'breaches',
    describes: 'SLA breaches in the range per period, target and channel.',
    filters: TICKET_FILTERS,
    grouped: true,
    columns: ['period', 'target', 'channel', 'breaches'],
    run: query((q) =>
        `SELECT ${day('ps')} AS period, target, channel, breaches FROM (
           SELECT ${q.periodStart('e.at')} AS ps, e.target, e.channel, count(*)::int AS breaches
             FROM desk_events e WHERE e.type = 'breached' AND e.kind = 'ticket' AND ${q.range('e.at')}${q.filters('e')}
            GROUP BY 1, 2, 3) g
          ORDER BY ps, target, channel`,
    ),
  },
  {
    name: 'escalations',
    describes: 'Escalations in the range by level (0 = an agent escalated by hand) and target.',
    filters: TICKET_FILTERS,
    grouped: false,
    columns: ['level', 'target', 'escalations', 'tickets'],
    run: query((q) =>
        `SELECT e.level, coalesce(e.target, 'resolution') AS target, count(*)::int AS escalations, count(DISTINCT e.workflow_id)::int AS tickets
           FROM desk_events e WHERE e.type = 'escalated' AND e.kind = 'ticket' AND ${q.range('e.at')}${q.filters('e')}
          GROUP BY 1, 2 ORDER BY 1, 2`,
    ),
  },
  {
    name: 'resolutions',
    describes:
      'Tickets whose latest resolution is in the range: how many had been reopened, and one-touch resolutions (resolved with no other message to the requester: no reply, no question, never reopened).',
    filters: TICKET_FILTERS,
    grouped: false,
    columns: ['resolved', 'reopened', 'reopenRatePercent', 'oneTouch', 'oneTouchPercent'],
    run: query((q) =>
        `WITH touched AS (SELECT DISTINCT x.workflow_id FROM desk_events x WHERE x.type IN ('replied', 'paused')),
              r AS MATERIALIZED (
                SELECT t.reopens > 0 AS reopened, t.reopens = 0 AND touched.workflow_id IS NULL AS one_touch
                  FROM tickets t LEFT JOIN touched ON touched.workflow_id = t.workflow_id
                 WHERE t.resolved_at IS NOT NULL AND ${q.range('t.resolved_at')}${q.filters('t')})
         SELECT count(*)::int AS resolved, count(*) FILTER (WHERE reopened)::int AS reopened,
                ${rate('count(*) FILTER (WHERE reopened)', 'count(*)')} AS "reopenRatePercent",
                count(*) FILTER (WHERE one_touch)::int AS "oneTouch", ${rate('count(*) FILTER (WHERE one_touch)', 'count(*)')} AS "oneTouchPercent"
           FROM r`,
    ),
  },
  {
    name: 'satisfaction',
    describes:
      'The satisfaction pulse per period: answers, "did we resolve it?" yes/no, scores 1-5, CSAT = satisfied (4 or 5) ÷ answered, and response rate = answers ÷ resolutions in the period (each resolution sends the pulse).',
    filters: TICKET_FILTERS,
    grouped: true,
    columns: ['period', 'answered', 'saidResolved', 'saidNotResolved', 'score1', 'score2', 'score3', 'score4', 'score5', 'csatPercent', 'resolutions', 'responseRatePercent'],
    run: query((q) => {
      const filters = q.filters('e');
      return `WITH periods AS (${q.periods()}),
              a AS (SELECT ${q.periodStart('e.at')} AS ps,
                           count(*) FILTER (WHERE e.type = 'satisfaction')::int AS answered,
                           count(*) FILTER (WHERE e.type = 'satisfaction' AND e.said_resolved)::int AS yes,
                           count(*) FILTER (WHERE e.type = 'satisfaction' AND NOT e.said_resolved)::int AS no,
                           ${[1, 2, 3, 4, 5].map((s) => `count(*) FILTER (WHERE e.type = 'satisfaction' AND e.score = ${s})::int AS s${s}`).join(', ')},
                           count(*) FILTER (WHERE e.type = 'resolved')::int AS resolved
                      FROM desk_events e
                     WHERE e.kind = 'ticket' AND e.type IN ('satisfaction', 'resolved') AND ${q.range('e.at')}${filters}
                     GROUP BY 1)
         SELECT p.period, coalesce(answered, 0) AS answered, coalesce(yes, 0) AS "saidResolved", coalesce(no, 0) AS "saidNotResolved",
                coalesce(s1, 0) AS score1, coalesce(s2, 0) AS score2, coalesce(s3, 0) AS score3, coalesce(s4, 0) AS score4, coalesce(s5, 0) AS score5,
                ${rate('(s4 + s5)', 'answered')} AS "csatPercent", coalesce(resolved, 0) AS resolutions, ${rate('answered', 'resolved')} AS "responseRatePercent"
           FROM periods p LEFT JOIN a ON a.ps = p.ps ORDER BY p.ps`;
    }),
  },
  {
    name: 'incidents',
    describes:
      'Incidents raised in the range: time to acknowledge and to resolve, crises, open follow-ups; pages per level (pages sent in the range).',
    filters: [],
    grouped: false,
    columns: ['metric', 'level', 'value'],
    run: query((q) =>
        `WITH i AS (SELECT * FROM incidents WHERE ${q.range('created_at')}),
              t AS (SELECT EXTRACT(EPOCH FROM acknowledged_at - created_at) * 1000 AS ack,
                           EXTRACT(EPOCH FROM resolved_at - created_at) * 1000 AS res FROM i)
         SELECT 'incidents' AS metric, NULL::int AS level, (SELECT count(*) FROM i)::float AS value
         UNION ALL SELECT 'acknowledged', NULL, (SELECT count(*) FROM i WHERE acknowledged_at IS NOT NULL)::float
         UNION ALL SELECT 'median-time-to-acknowledge-ms', NULL, (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ack)) FROM t)::float
         UNION ALL SELECT 'p90-time-to-acknowledge-ms', NULL, (SELECT round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ack)) FROM t)::float
         UNION ALL SELECT 'resolved', NULL, (SELECT count(*) FROM i WHERE resolved_at IS NOT NULL)::float
         UNION ALL SELECT 'median-time-to-resolve-ms', NULL, (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY res)) FROM t)::float
         UNION ALL SELECT 'crises', NULL, (SELECT count(*) FROM i WHERE crisis)::float
         UNION ALL SELECT 'open-follow-ups', NULL, (SELECT count(*) FROM i WHERE follow_up_url IS NOT NULL AND follow_up_closed_at IS NULL)::float
         UNION ALL (SELECT 'pages', e.level, count(*)::float FROM desk_events e
                     WHERE e.kind = 'incident' AND e.type = 'paged' AND ${q.range('e.at')} GROUP BY e.level ORDER BY e.level)`,
    ),
  },
  {
    name: 'security',
    describes:
      'Security reports received in the range: answered within their response target (one business day by default) as a share of those answered or breached, disclosures published.',
    filters: [],
    grouped: false,
    columns: ['reports', 'answered', 'answeredInTime', 'answeredInTimePercent', 'breached', 'disclosuresPublished'],
    run: query((q) =>
        `SELECT count(*)::int AS reports, count(responded_at)::int AS answered,
                count(*) FILTER (WHERE responded_at IS NOT NULL AND NOT breached)::int AS "answeredInTime",
                ${rate('count(*) FILTER (WHERE responded_at IS NOT NULL AND NOT breached)', 'count(*) FILTER (WHERE responded_at IS NOT NULL OR breached)')} AS "answeredInTimePercent",
                count(*) FILTER (WHERE breached)::int AS breached, count(published_at)::int AS "disclosuresPublished"
           FROM security_reports WHERE ${q.range('created_at')}`,
    ),
  },
  {
    name: 'work-items',
    describes:
      'Feature requests and bug reports: time spent in each stage (stages left in the range), time on hold, and the rejected share of the items opened in the range that left triage (moved on or were rejected).',
    filters: [],
    grouped: false,
    columns: ['kind', 'metric', 'stage', 'count', 'averageMs', 'medianMs', 'p90Ms', 'percent'],
    run: query((q) =>
        `WITH moves AS (
           SELECT e.kind, e.at, lag(e.to_value) OVER w AS stage, lag(e.at) OVER w AS since
             FROM desk_events e WHERE e.kind IN ('feature-request', 'bug-report') AND e.type IN ('created', 'stage-moved')
           WINDOW w AS (PARTITION BY e.workflow_id, e.chain_id ORDER BY e.seq)),
         spent AS (SELECT kind, coalesce(stage, 'Triage') AS stage, EXTRACT(EPOCH FROM at - since) * 1000 AS v FROM moves
                    WHERE since IS NOT NULL AND ${q.range('at')}),
         w AS (SELECT * FROM work_items WHERE ${q.range('created_at')})
         SELECT kind, 'time-in-stage' AS metric, stage, ${stats('v')}, NULL::float AS percent FROM spent GROUP BY kind, stage
         UNION ALL
         SELECT kind, 'time-on-hold', NULL, ${stats('(waiting_ms + blocked_ms)')}, NULL FROM w GROUP BY kind
         UNION ALL
         SELECT kind, 'rejected', NULL, count(*) FILTER (WHERE stage <> 'triage')::int, NULL, NULL, NULL,
                ${rate(`count(*) FILTER (WHERE stage = 'rejected')`, `count(*) FILTER (WHERE stage <> 'triage')`)}
           FROM w GROUP BY kind
         ORDER BY 1, 2, 3`,
    ),
  },
  {
    name: 'at-risk',
    describes:
      'Open tickets not yet breached, ranked by margin = time left to their resolution target − the time tickets of their tier and channel usually still need (median resolution time of those resolved in the range, less what this one has used); negative: it will breach unless someone acts. `at`: the moment time left and time used are counted from (default now); the tickets are those open now.',
    filters: TICKET_FILTERS,
    grouped: false,
    columns: ['id', 'tier', 'channel', 'priority', 'status', 'assignee', 'resolutionDueAt', 'leftMs', 'typicalNeedMs', 'marginMs'],
    run: query((q) => {
      const now = q.add(new Date(q.p.now ?? Date.now()));
      // Materialized: computed once, not once per open ticket (the planner can misjudge how few those are).
      return `WITH typical AS MATERIALIZED (
           SELECT e.tier, e.channel, percentile_cont(0.5) WITHIN GROUP (ORDER BY e.elapsed_ms) AS need
             FROM desk_events e WHERE e.kind = 'ticket' AND e.type = 'resolved' AND e.elapsed_ms IS NOT NULL AND ${q.range('e.at')}
            GROUP BY e.tier, e.channel),
         open AS (
           SELECT t.id, t.tier, t.channel, t.priority, t.status, t.assignee, t.resolution_due_at,
                  EXTRACT(EPOCH FROM t.resolution_due_at - ${now}::timestamptz) * 1000 AS left_ms,
                  EXTRACT(EPOCH FROM ${now}::timestamptz - t.created_at) * 1000 - t.paused_ms AS used_ms
             FROM tickets t
            WHERE t.status IN ('open', 'acknowledged', 'handed-off') AND t.resolution_sla = 'in-progress'
              AND t.resolution_due_at > ${now}::timestamptz${q.filters('t')})
         SELECT o.id, o.tier, o.channel, o.priority, o.status, o.assignee,
                to_char(o.resolution_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "resolutionDueAt",
                round(o.left_ms)::bigint AS "leftMs",
                round(greatest(coalesce(y.need, 0) - o.used_ms, 0))::bigint AS "typicalNeedMs",
                round(o.left_ms - greatest(coalesce(y.need, 0) - o.used_ms, 0))::bigint AS "marginMs"
           FROM open o LEFT JOIN typical y ON y.tier = o.tier AND y.channel = o.channel
          ORDER BY "marginMs", o.resolution_due_at, o.id LIMIT 100`;
    }),
  },
];

export function reportNamed(name: string): Report | undefined {
  return REPORTS.find((r) => r.name === name);
}
