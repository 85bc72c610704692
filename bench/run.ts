// `npm run bench`: the desk's figures, each beside a raw SDK (or plain PostgreSQL) baseline measured
// in the same run on the same machine. Starts its own Temporal dev server on free ports, a private
// PostgreSQL schema, and the worker and the API as processes of their own (as in production), so the
// worker's memory is its own. Flags:
//   --due N       tickets that fall due together and must escalate exactly once (default 1000)
//   --open N      tickets open in all (default = --due); the others wait on a 4 h target
//   --cache N     the worker's WORKER_MAX_CACHED_WORKFLOWS (default: the worker's own default)
//   --requests N  requests per latency figure (default 200)
//   --intake N    tickets filed at concurrency 32 for the intake figures (default 500)
//   --ack-seconds N  the forum channel's acknowledgement target (default 90)
// Prints one table; exits 1 when a ticket was not escalated exactly once.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { ticketStartOptions, ticketFrom } from '../api/ticket';
import { WORKER_TUNING_DEFAULTS, workerNodeOptions, workerTuningFromEnv } from '../config/worker-tuning';
import { DEFAULT_POLICY, resolveTicketPolicy, type Policy } from '../domain/policy';
import { ticketSlaClocks } from '../domain/sla-clock';
import { acknowledgeUpdate, ticketWorkflowId } from '../domain/ticket';
import { spawnService, waitForHttp, type RunningService } from '../scripts/dev-services';
import { bearer, TEST_ADMIN_KEY } from '../test/credentials';
import { freePort } from '../test/desk-processes';
import { TEST_ENCRYPTION_KEYS, testDataConverter } from '../test/encryption';
import { createTestDatabase } from '../test/postgres';
import { bundleWorkflows, devServerEnvironment } from '../test/temporal';
import { escalationLags, flag, inParallel, percentile } from './desk';

const DUE = flag('due', 1_000);
const OPEN = Math.max(flag('open', DUE), DUE);
const CACHE = process.argv.includes('--cache') ? flag('cache', 1) : WORKER_TUNING_DEFAULTS.maxCachedWorkflows;
const REQUESTS = flag('requests', 200);
const INTAKE = flag('intake', 500);
const ACK_MS = flag('ack-seconds', 90) * 1_000;
const H = 3_600_000;

/** The forum channel must be acknowledged within 90 s; everything else keeps the default 4 h. */
const policy: Policy = {
  ...DEFAULT_POLICY,
  name: 'bench',
  channels: { ...DEFAULT_POLICY.channels, forum: { acknowledge: { withinMs: ACK_MS, clock: 'calendar' } } },
};

type Row = [measure: string, desk: string, baseline: string, ratio: string];
const rows: Row[] = [];
const ms = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const say = (text: string) => console.error(`[bench] ${text}`);

/** RSS in MB of the largest process in the process group (tsx runs the worker as its child). */
function groupRssMb(pgid: number): number {
  let largest = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) largest = Math.max(largest, Number(rss[1]) / 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return largest;
}

type Event = temporal.api.history.v1.IHistoryEvent;
/** Workflow tasks, activities and local activities among `events`. */
function cost(events: Event[]): string {
  const n = (f: (e: Event) => unknown) => events.filter(f).length;
  return `${n((e) => e.workflowTaskCompletedEventAttributes)} workflow tasks, ${n((e) => e.activityTaskScheduledEventAttributes)} activities, ${n(
    (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  )} local`;
}

async function main(): Promise<void> {
  const started = Date.now();
  say(`starting a dev server, PostgreSQL schema, worker and API (due ${DUE}, open ${OPEN}, cache ${CACHE})`);
  const [env, db, port, bundle] = await Promise.all([devServerEnvironment(), createTestDatabase(), freePort(), bundleWorkflows()]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const policyFile = path.join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  const taskQueue = `bench-${process.pid}`;
  const processEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: db.url,
    PORT: String(port),
    SUPPORT_DESK_POLICY: policyFile,
    SUPPORT_DESK_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    SUPPORT_DESK_ADMIN_KEY: TEST_ADMIN_KEY,
    RATE_LIMIT_PER_CREDENTIAL: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    WORKER_MAX_CACHED_WORKFLOWS: String(CACHE),
    LOG_LEVEL: 'warn',
  };
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const services: RunningService[] = [];
  const spawnApp = (name: string, entry: string, extra: NodeJS.ProcessEnv = {}) => {
    const s = spawnService({ name, command: tsx, args: [entry], env: { ...processEnv, ...extra }, quiet: true });
    services.push(s);
    return s;
  };
  // The worker's limits as the environment sets them (with --cache on top), its heap as npm start gives it.
  const tuning = workerTuningFromEnv(processEnv);
  const worker = spawnApp('worker', 'workers/main.ts', { NODE_OPTIONS: workerNodeOptions(tuning, process.env.NODE_OPTIONS) });
  const api = spawnApp('api', 'api/main.ts');
  const baselineQueue = `${taskQueue}-baseline`;
  const baselineLags: number[] = [];
  const baselineWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: baselineQueue,
    workflowsPath: require.resolve('./baseline/workflows'),
    dataConverter: testDataConverter,
    activities: { due: async (at: number) => void baselineLags.push(Date.now() - at) },
  });
  const baselineRunning = baselineWorker.run();
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 120_000, service: api });
    const client = env.client;
    const call = async (method: string, p: string, body?: unknown) => {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}${p}`, {
        method,
        headers: { ...bearer(TEST_ADMIN_KEY), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as any;
      if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${JSON.stringify(json)}`);
      return { body: json, ms: performance.now() - t0 };
    };
    const subject = () => `Bench ${randomBytes(4).toString('hex')}`;
    const fileHttp = async () => (await call('POST', '/tickets', { subject: subject(), channel: 'helpdesk' })).body.id as string;
    const startRaw = async () => {
      const ticket = ticketFrom({ subject: subject(), channel: 'helpdesk', tier: 1, priority: 'normal', description: '', requester: {}, private: false });
      await client.workflow.start('ticketWorkflow', ticketStartOptions({ policy, taskQueue }, ticket));
      return ticket.id;
    };
    const idleRss = groupRssMb(worker.pid!);
    let peakRss = idleRss;

    // ---- intake ---------------------------------------------------------------------------------
    for (const concurrency of [1, 32]) {
      const n = concurrency === 1 ? REQUESTS : INTAKE;
      const measure = async (f: () => Promise<string>) => {
        const lat: number[] = [];
        const t0 = performance.now();
        await inParallel(n, concurrency, async () => {
          const t = performance.now();
          await f();
          lat.push(performance.now() - t);
        });
        return { perSecond: n / ((performance.now() - t0) / 1_000), lat };
      };
      const raw = await measure(startRaw);
      const http = await measure(fileHttp);
      rows.push([`intake, concurrency ${concurrency} (tickets/s)`, http.perSecond.toFixed(0), raw.perSecond.toFixed(0), ratio(http.perSecond, raw.perSecond)]);
      rows.push([`intake, concurrency ${concurrency} p50 / p99`, `${ms(percentile(http.lat, 50))} / ${ms(percentile(http.lat, 99))}`, `${ms(percentile(raw.lat, 50))} / ${ms(percentile(raw.lat, 99))}`, ratio(percentile(http.lat, 50), percentile(raw.lat, 50))]);
    }

    // ---- actions --------------------------------------------------------------------------------
    const viaApi: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const id = await fileHttp();
      viaApi.push((await call('POST', `/tickets/${id}/acknowledge`, {})).ms);
      const raw = await startRaw();
      const t0 = performance.now();
      await client.workflow.getHandle(ticketWorkflowId(raw)).executeUpdate(acknowledgeUpdate, { args: [{ by: 'bench' }] });
      direct.push(performance.now() - t0);
    }
    rows.push(['acknowledge p50 / p99 (HTTP vs executeUpdate)', `${ms(percentile(viaApi, 50))} / ${ms(percentile(viaApi, 99))}`, `${ms(percentile(direct, 50))} / ${ms(percentile(direct, 99))}`, `+${ms(percentile(viaApi, 50) - percentile(direct, 50))}`]);

    // What one intake and one action cost in a ticket's history, once each has settled.
    const costed = await fileHttp();
    const costedHandle = client.workflow.getHandle(ticketWorkflowId(costed));
    const settled = async (done: (events: Event[]) => boolean) => {
      for (let i = 0; i < 100; i++) {
        const events = (await costedHandle.fetchHistory()).events ?? [];
        if (done(events)) return events;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the costed ticket did not settle within 10 s');
    };
    const intakeEvents = await settled((events) => events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity'));
    await call('POST', `/tickets/${costed}/acknowledge`, {});
    const actionEvents = (await settled((events) => events.filter((e) => e.activityTaskCompletedEventAttributes).length >= 1)).slice(intakeEvents.length);
    rows.push(['per intake (history)', cost(intakeEvents), '', '']);
    rows.push(['per action: acknowledge (history)', cost(actionEvents), '', '']);

    // ---- lists ----------------------------------------------------------------------------------
    const listed: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      listed.push((await call('GET', '/tickets?status=acknowledged&limit=50')).ms);
      const t0 = performance.now();
      await db.pool.query("SELECT * FROM tickets WHERE status = 'acknowledged' ORDER BY created_at DESC LIMIT 50");
      plain.push(performance.now() - t0);
    }
    rows.push(['GET /tickets (50 rows) p50 / p99 vs the query', `${ms(percentile(listed, 50))} / ${ms(percentile(listed, 99))}`, `${ms(percentile(plain, 50))} / ${ms(percentile(plain, 99))}`, `+${ms(percentile(listed, 50) - percentile(plain, 50))}`]);

    // ---- N due together ---------------------------------------------------------------------------
    const waiting = OPEN - DUE;
    say(`filing ${waiting} tickets on a 4 h target, then ${DUE} due in ${ACK_MS / 1000} s; then ${DUE} baseline timers`);
    await inParallel(waiting, 32, fileHttp);
    // Filing outruns the worker (the server accepts a start long before the worker's first task for
    // it): let every open ticket reach its first task before the due ones come, so their lag is the
    // desk's at that many open tickets, not the backlog of filing.
    const filed = OPEN - DUE + 4 * REQUESTS + 2 * INTAKE + 1;
    const settleDeadline = Date.now() + 30 * 60_000;
    for (;;) {
      const { rows: r } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets');
      if (r[0]!.n >= filed) break;
      if (Date.now() > settleDeadline) throw new Error(`only ${r[0]!.n} of ${filed} tickets reached their first task within 30 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const filing = performance.now();
    const due = await inParallel(DUE, 32, async (i) => (await call('POST', '/tickets', { subject: subject(), channel: 'forum', externalId: `bench-${process.pid}-${i}` })).body.id as string);
    const filingS = (performance.now() - filing) / 1_000;
    const openRss = groupRssMb(worker.pid!);
    const deadline = Date.now() + ACK_MS + 180_000;
    let escalated = 0;
    while (Date.now() < deadline) {
      const { rows: r } = await db.pool.query<{ n: number }>("SELECT count(DISTINCT ticket_id)::int AS n FROM notifications WHERE kind = 'escalation' AND ticket_id = ANY($1)", [due]);
      escalated = r[0]!.n;
      peakRss = Math.max(peakRss, groupRssMb(worker.pid!));
      if (escalated === DUE) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const lags = await escalationLags(db.pool, due);
    // The baseline, once the desk's tickets are done: as many bare timers, due over the same span.
    const span = filingS * 1_000;
    const firstDue = Date.now() + ACK_MS - span;
    await inParallel(DUE, 32, (i) =>
      client.workflow.start('timerBaselineWorkflow', { taskQueue: baselineQueue, workflowId: `baseline-${process.pid}-${i}`, args: [firstDue + (span * i) / DUE] }),
    );
    const baselineDeadline = Date.now() + ACK_MS + 180_000;
    while (baselineLags.length < DUE && Date.now() < baselineDeadline) await new Promise((resolve) => setTimeout(resolve, 1_000));
    const once = lags.filter((r) => r.escalations === 1).length;
    const sent = lags.map((r) => Number(r.sent_lag)).filter(Number.isFinite);
    const step = lags.map((r) => Number(r.step_lag)).filter(Number.isFinite);
    const triple = (v: number[]) => `${ms(percentile(v, 50))} / ${ms(percentile(v, 99))} / ${ms(Math.max(...v))}`;
    rows.push([`${DUE} due together (over ${filingS.toFixed(0)} s), ${OPEN} open: escalated exactly once`, `${once} (missing ${DUE - lags.filter((r) => r.escalations >= 1).length}, twice ${lags.filter((r) => r.escalations > 1).length})`, `${baselineLags.length} fired`, '']);
    rows.push(['due → escalation recorded p50 / p99 / max', triple(step), '', '']);
    rows.push(['due → notification sent p50 / p99 / max (vs timer → activity)', triple(sent), triple(baselineLags), ratio(percentile(sent, 99), percentile(baselineLags, 99))]);
    const escalatedEvents = (await client.workflow.getHandle(ticketWorkflowId(due[0]!)).fetchHistory()).events ?? [];
    const lastFired = escalatedEvents.map((e) => !!e.timerFiredEventAttributes).lastIndexOf(true);
    rows.push(['per escalation (history after the due timer)', cost(escalatedEvents.slice(lastFired)), '', '']);

    // ---- memory -----------------------------------------------------------------------------------
    // Every ticket of the run so far: the intake and action figures' and the open ones.
    const cached = Math.min(CACHE, OPEN + 4 * REQUESTS + 2 * INTAKE + 1);
    peakRss = Math.max(peakRss, openRss, groupRssMb(worker.pid!));
    rows.push([`worker RSS: idle / ${OPEN} open / peak (cache ${CACHE})`, `${idleRss.toFixed(0)} MB / ${openRss.toFixed(0)} MB / ${peakRss.toFixed(0)} MB`, '', '']);
    rows.push(['worker RSS per cached workflow', `${((openRss - idleRss) / cached).toFixed(2)} MB`, '', '']);

    // ---- replay and the SLA clock ----------------------------------------------------------------
    const histDir = path.join(__dirname, '..', 'test', 'histories');
    const histories = readdirSync(histDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ workflowId: f, history: historyFromJSON(JSON.parse(readFileSync(path.join(histDir, f), 'utf8'))) }));
    const rounds = 5;
    const events = histories.reduce((n, h) => n + (h.history.events?.length ?? 0), 0) * rounds;
    const t0 = performance.now();
    const all = Array.from({ length: rounds }, () => histories).flat();
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, dataConverter: testDataConverter }, all)) {
      if (result.error) throw result.error;
    }
    const replayS = (performance.now() - t0) / 1_000;
    // The floor: the same number of the baseline workflow's own (short) histories.
    const baselineHistory = await client.workflow.getHandle(`baseline-${process.pid}-0`).fetchHistory();
    const baselineBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline/workflows'), logger: new DefaultLogger('WARN') });
    const floor = Array.from({ length: all.length }, (_, i) => ({ workflowId: `baseline-${i}`, history: baselineHistory }));
    const t1 = performance.now();
    for await (const result of Worker.runReplayHistories({ workflowBundle: baselineBundle, dataConverter: testDataConverter }, floor)) {
      if (result.error) throw result.error;
    }
    const floorS = (performance.now() - t1) / 1_000;
    rows.push([
      `replay: ${all.length} committed histories (${Math.round(events / all.length)} events each) vs the baseline's (${baselineHistory.events?.length} events)`,
      `${(all.length / replayS).toFixed(1)} histories/s (${((replayS * 1e6) / events).toFixed(0)} µs per event)`,
      `${(all.length / floorS).toFixed(1)} histories/s (${((floorS * 1e6) / (all.length * (baselineHistory.events?.length ?? 1))).toFixed(0)} µs per event)`,
      `${ratio(replayS / events, floorS / (all.length * (baselineHistory.events?.length ?? 1)))} per event`,
    ]);

    const ticketPolicy = resolveTicketPolicy(
      { ...policy, channels: { ...policy.channels, default: { ...policy.channels.default, resolve: { ...policy.channels.default.resolve, 1: { withinMs: 30 * 8 * H, clock: 'business', calendar: 'business-hours' } } } } },
      'helpdesk',
    );
    const calendarPolicy = resolveTicketPolicy(policy, 'helpdesk');
    const now = Date.now();
    const clockUs = (p: typeof ticketPolicy, ageDays: number) => {
      const created = now - ageDays * 24 * H;
      const evs = [{ type: 'created' as const, at: created, tier: 1 as const }, { type: 'acknowledged' as const, at: created + 60_000 }];
      ticketSlaClocks(evs, p, now);
      const runs = 5_000;
      const t = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) ticketSlaClocks(evs, p, now + i);
      return Number(process.hrtime.bigint() - t) / 1_000 / runs;
    };
    const base = clockUs(calendarPolicy, 0);
    for (const age of [0, 365]) {
      const us = clockUs(ticketPolicy, age);
      rows.push([`SLA clocks, 30-business-day target, ticket ${age} days old (vs calendar time)`, `${us.toFixed(1)} µs`, `${base.toFixed(1)} µs`, ratio(us, base)]);
    }

    console.log(`\nsupport-desk benchmark, ${new Date().toISOString()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${((Date.now() - started) / 1_000).toFixed(0)} s`);
    console.log(`| measure | desk | baseline | desk ÷ baseline |\n|---|---|---|---|`);
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    if (once !== DUE) process.exitCode = 1;
  } finally {
    baselineWorker.shutdown();
    await baselineRunning.catch(() => undefined);
    await Promise.all(services.map((s) => s.stop()));
    await env.teardown();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
