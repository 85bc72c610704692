// How fast the reports answer over a realistic event log: seeds --tickets tickets over --days days
// (db/seed.ts, the projection activity's own writes) into a fresh schema, then runs every report for
// the whole range --runs times (by day, and by week for one channel) and prints p50/p95 per report,
// each as a ratio to a baseline in the same run: counting the range's events (the least any report
// over the log can do). Ends with the EXPLAIN (ANALYZE) plan of the slowest report.
// Run: `npm run bench:reports` (defaults: --tickets 100000 --days 90 --runs 20).
import type { Pool } from 'pg';
import { DEFAULT_POLICY } from '../domain/policy';
import { reportParams } from '../api/reports';
import { REPORTS, type ReportParams } from '../db/reports';
import { seedTickets } from '../db/seed';
import { createTestDatabase } from '../test/postgres';
import { flag, percentile } from './desk';

const TICKETS = flag('tickets', 100_000);
const DAYS = flag('days', 90);
const RUNS = flag('runs', 20);
const GOAL_P95_MS = 300;

async function main(): Promise<void> {
  const db = await createTestDatabase();
  try {
    const now = Date.now();
    const seeded = Date.now();
    await seedTickets(db.pool, DEFAULT_POLICY, { tickets: TICKETS, days: DAYS, now, onProgress: (n) => process.stdout.write(`\rseeding ${n} of ${TICKETS}`) });
    const { rows: counts } = await db.pool.query('SELECT (SELECT count(*) FROM tickets)::int AS tickets, (SELECT count(*) FROM desk_events)::int AS events');
    // What autovacuum does on its own after bulk inserts: statistics, and pages marked all-visible
    // (the reports' index-only scans need it).
    await db.pool.query('VACUUM ANALYZE');
    console.log(`\rseeded ${counts[0].tickets} tickets, ${counts[0].events} events over ${DAYS} days in ${((Date.now() - seeded) / 1000).toFixed(0)} s`);

    const day = (at: number) => new Date(at).toISOString().slice(0, 10);
    const range = { from: day(now - DAYS * 86_400_000), to: day(now + 86_400_000) };
    const timed = async (f: () => Promise<unknown>) => {
      const started = process.hrtime.bigint();
      await f();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      baseline.push(await timed(() => db.pool.query(
        `SELECT count(*) FROM desk_events WHERE at >= ($1::timestamp AT TIME ZONE 'UTC') AND at < ($2::timestamp AT TIME ZONE 'UTC')`,
        [range.from, range.to],
      )));
    }
    const base95 = percentile(baseline, 95);
    console.log(`\nbaseline (count the range's events): p50 ${percentile(baseline, 50).toFixed(1)} ms, p95 ${base95.toFixed(1)} ms\n`);
    console.log('| report | query | p50 ms | p95 ms | p95 ÷ baseline | rows |');
    console.log('|---|---|---:|---:|---:|---:|');
    let slowest: { name: string; params: ReportParams; p95: number } | null = null;
    let over = 0;
    for (const report of REPORTS) {
      const variants: Array<[string, Record<string, string>]> = [['by day', { ...range, groupBy: 'day' }]];
      if (report.filters.includes('channel')) variants.push(['by week, helpdesk', { ...range, groupBy: 'week', channel: 'helpdesk' }]);
      for (const [label, query] of variants) {
        const params = reportParams(report, query, now);
        let rows = 0;
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) times.push(await timed(async () => (rows = (await report.run(db.pool, params)).length)));
        const p95 = percentile(times, 95);
        if (p95 > GOAL_P95_MS) over += 1;
        if (!slowest || p95 > slowest.p95) slowest = { name: report.name, params, p95 };
        console.log(`| ${report.name} | ${label} | ${percentile(times, 50).toFixed(1)} | ${p95.toFixed(1)} | ${(p95 / base95).toFixed(1)}× | ${rows} |`);
      }
    }
    console.log(`\n${over === 0 ? 'every report' : `${over} report queries NOT`} within p95 ≤ ${GOAL_P95_MS} ms over ${DAYS} days of ${TICKETS} tickets`);
    if (slowest) {
      // The slowest report's statement, explained: what it ran as, row by row.
      const plan = await explain(db.pool, slowest.name, slowest.params);
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of the slowest, ${slowest.name} (p95 ${slowest.p95.toFixed(1)} ms):\n${plan}`);
    }
  } finally {
    await db.drop();
  }
}

/** Runs the report once with its statement prefixed by EXPLAIN ANALYZE (on the same settings), and answers the plan. */
async function explain(pool: Pool, name: string, params: ReportParams): Promise<string> {
  const report = REPORTS.find((r) => r.name === name)!;
  const client = await pool.connect();
  const plans: string[] = [];
  const explaining = {
    connect: async () => ({
      query: async (sql: string, values?: unknown[]) => {
        if (!values) return client.query(sql);
        const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values);
        plans.push(rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
        return { rows: [] };
      },
      release: () => client.release(),
    }),
  };
  await report.run(explaining as unknown as Pool, params);
  return plans.join('\n\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
