// The REAL ticket workflow on the time-skipping test server, with the real activities on PostgreSQL,
// driven by random sequences of agents' actions (updates, each one the pure machine says is accepted:
// a rejected update would stop the test server's time skipping) and of time passing (up to 30 h at a
// time), with at most one requester reply as a signal at the very end (a signal stops it too). After
// every step, once the workflow has caught up, what must hold: no escalation of a clock met or paused
// before its due time; every breach escalates each level and repeat once; one notification per
// escalation step; the PostgreSQL row says what the query says; the history of a run stays bounded; and
// the workflow did what the pure machine (domain/ticket-machine.ts), run beside it, says it does.
// A third of the runs continue as new after 150 events, so state is carried across runs too.
//
// TICKET_PROPERTY_RUNS (default 20), TICKET_PROPERTY_SEED, TICKET_PROPERTY_VERBOSE=1 (each run and what
// the runs reached), TICKET_PROPERTY_TRACE=1 (each step as it happens).
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { chainSteps } from '../domain/escalation';
import { DEFAULT_POLICY, resolveTicketPolicy, type TicketPolicy, type Tier } from '../domain/policy';
import { ticketSlaClocks, type SlaClockState, type TicketSlaEvent } from '../domain/sla-clock';
import {
  acknowledgeUpdate,
  assignUpdate,
  changeTierUpdate,
  closeUpdate,
  escalateUpdate,
  handOffUpdate,
  rateSatisfactionUpdate,
  reopenUpdate,
  replyUpdate,
  requesterRepliedSignal,
  resolveUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  waitOnRequesterUpdate,
  type MessageRef,
  type SlaName,
  type TicketActionResult,
  type TicketIntake,
  type TicketState,
  type TicketView,
} from '../domain/ticket';
import { apply, clocksOf, dueWork, nextWakeUp, openTicket, refusal, type TicketCommand } from '../domain/ticket-machine';
import { recordEntry } from '../domain/timeline';
import { messageRef } from '../test/actions';
import { eventually } from '../test/eventually';
import { agentActArb, ticketCommand, type AgentAct } from '../test/ticket-acts';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { ticketWorkflow } from './ticket';
import { ticketIntake } from '../test/intakes';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const taskQueue = 'ticket-property';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
// One time-skipping server per property run (test/time-skipping.ts says why).
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

const helpdesk = resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk');
/** The default policy, and the same with a warning ladder. */
const POLICIES: Record<string, TicketPolicy> = {
  default: helpdesk,
  ladder: resolveTicketPolicy({ ...DEFAULT_POLICY, warningShares: [0.5, 0.75, 0.9] }, 'helpdesk'),
};

/** Continue-as-new limits the runs use: the default (4,000 events) or a small one, to carry state across runs. */
const SMALL_LIMIT = 150;
/** Events a run may add after it passed its limit and before it continues as new: one action and one pass, with room. */
const LIMIT_SLACK = 100;

// ---- what a run is made of ----------------------------------------------------------------------

type Act = AgentAct;

/** An action; when the machine would refuse it, the `alt`-th of the actions it accepts instead. */
type Step = { do: 'act'; act: Act; alt: number } | { do: 'sleep'; ms: number };

/** One of each kind of action, to choose an accepted one from. */
const EVERY_ACT: Act[] = [
  { type: 'acknowledge' },
  { type: 'reply', role: 'agent' },
  { type: 'reply', role: 'requester' },
  { type: 'wait-on-requester' },
  { type: 'change-tier', tier: 1 },
  { type: 'change-tier', tier: 2 },
  { type: 'change-tier', tier: 3 },
  { type: 'assign', assignee: 'alice' },
  { type: 'assign', assignee: 'bob' },
  { type: 'hand-off' },
  { type: 'resolve' },
  { type: 'reopen' },
  { type: 'escalate' },
  { type: 'close' },
  { type: 'satisfaction', resolved: true, score: 4 },
];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ act: agentActArb, alt: fc.nat(100) }).map((a) => ({ do: 'act' as const, ...a })), weight: 5 },
  {
    arbitrary: fc
      .oneof(fc.integer({ min: S, max: 30 * H }), fc.integer({ min: S, max: 2 * H }), fc.constantFrom(3 * H, 4 * H, 18 * H, 24 * H, 30 * H))
      .map((ms) => ({ do: 'sleep' as const, ms })),
    weight: 4,
  },
);

const runArb = fc.record({
  policy: fc.constantFrom(...Object.keys(POLICIES)),
  tier: fc.constantFrom<Tier>(1, 2, 3),
  continueAsNewAfterEvents: fc.constantFrom<number | undefined>(undefined, undefined, SMALL_LIMIT),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 20 }),
  /** The requester answers through the helpdesk at the end (a signal: nothing may come after it). */
  signalAtEnd: fc.boolean(),
});
type Run = typeof runArb extends fc.Arbitrary<infer R> ? R : never;

const command = (act: Act, message: () => MessageRef): TicketCommand => ticketCommand(act, message);

/** The update that carries a command, and its input (as the API sends it). */
function update(cmd: TicketCommand): { def: UpdateDefinition<TicketActionResult, [any]>; input: unknown } {
  switch (cmd.type) {
    case 'acknowledge':
      return { def: acknowledgeUpdate, input: { by: cmd.by } };
    case 'reply':
      return { def: replyUpdate, input: { by: cmd.by, role: cmd.role, message: cmd.message } };
    case 'wait-on-requester':
      return { def: waitOnRequesterUpdate, input: { by: cmd.by, question: cmd.question } };
    case 'change-tier':
      return { def: changeTierUpdate, input: { by: cmd.by, tier: cmd.tier, reason: cmd.reason } };
    case 'assign':
      return { def: assignUpdate, input: { by: cmd.by, assignee: cmd.assignee } };
    case 'hand-off':
      return { def: handOffUpdate, input: { by: cmd.by, team: cmd.team, reason: cmd.reason } };
    case 'resolve':
      return { def: resolveUpdate, input: { by: cmd.by, resolution: cmd.resolution } };
    case 'reopen':
      return { def: reopenUpdate, input: { by: cmd.by, reason: cmd.reason } };
    case 'escalate':
      return { def: escalateUpdate, input: { by: cmd.by, reason: cmd.reason } };
    case 'close':
      return { def: closeUpdate, input: { by: cmd.by } };
    case 'satisfaction':
      return { def: rateSatisfactionUpdate, input: { resolved: cmd.resolved, score: cmd.score } };
    default:
      throw new Error(`${cmd.type} is not an update`);
  }
}

// ---- the pure machine beside the workflow ---------------------------------------------------------

/**
 * The ticket as the pure machine runs it, in step with the workflow: the loop's passes at every moment
 * it sleeps until, and each action at the moment the workflow recorded it. The workflow acts on a timer
 * a few milliseconds after its moment (the test server's latency); what it does there is the same.
 */
class Model {
  readonly t: TicketState;
  now: number;
  next: { at: number } | null = null;

  constructor(readonly policy: TicketPolicy, intake: TicketIntake, createdAt: number) {
    this.t = openTicket(intake, createdAt);
    recordEntry(this.t, createdAt, 'created', 'intake', `${intake.channel}, tier ${intake.tier}`);
    this.now = createdAt;
    this.pass();
  }

  private pass(): void {
    const clocks = clocksOf(this.t, this.policy, this.now);
    dueWork(this.t, this.policy, clocks, this.now);
    this.next = nextWakeUp(this.t, this.policy, clocks, this.now);
  }

  advanceTo(target: number): void {
    while (this.next && Math.max(this.next.at, this.now + 1) <= target && this.t.status !== 'closed') {
      this.now = Math.max(this.next.at, this.now + 1);
      this.pass();
    }
    this.now = Math.max(this.now, target);
  }

  act(cmd: TicketCommand, at: number): void {
    this.advanceTo(at);
    const effects = apply(this.t, this.policy, cmd, this.now);
    // The feedback project's issue is filed at once and recorded on the timeline.
    if (effects.feedback) recordEntry(this.t, this.now, 'satisfaction filed', 'system');
    this.pass();
  }
}

// ---- reading the workflow and PostgreSQL ---------------------------------------------------------

/**
 * The state query, for eventually() only. The test server loses a query that reaches a run just as it
 * continues as new (eventually() asks again after 3 s); left to the client's retries, such a query would
 * fail the test with "Channel has been shut down" once the server is torn down. So it is cancelled after
 * 2.5 s and left unanswered, which eventually() takes as a read to ask again.
 */
const state = (h: WorkflowHandle): Promise<TicketView> => {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 2_500);
  return env.connection.withAbortSignal(abort.signal, () => h.query(ticketStateQuery)).then(
    (view) => view,
    (err: unknown) => (abort.signal.aborted ? new Promise<never>(() => undefined) : Promise.reject(err)),
  ).finally(() => clearTimeout(timer));
};

interface EventRow {
  seq: number;
  at: number;
  event: string;
  actor: string | null;
  note: string | null;
}

async function itemEvents(workflowId: string): Promise<EventRow[]> {
  const { rows } = await db.pool.query(
    `SELECT seq, (extract(epoch from at) * 1000)::float8 AS at, event, actor, note FROM item_events WHERE workflow_id = $1 ORDER BY seq`,
    [workflowId],
  );
  return rows.map((r) => ({ ...r, at: Math.round(r.at) }));
}

/** The ticket's SLA events, read back from its timeline: each is recorded with an entry of its own. */
function slaEventsFrom(view: TicketView, events: EventRow[]): TicketSlaEvent[] {
  const out: TicketSlaEvent[] = [{ type: 'created', at: view.createdAt, tier: view.ticket.tier }];
  for (const e of events) {
    const retier = /^tier (\d) → (\d)$/.exec(e.event);
    if (retier) out.push({ type: 'retiered', at: e.at, tier: Number(retier[2]) as Tier });
    else if (e.event === 'acknowledged') out.push({ type: 'acknowledged', at: e.at });
    else if (e.event === 'waiting on the requester') out.push({ type: 'paused', at: e.at });
    else if (e.event === 'resumed') out.push({ type: 'resumed', at: e.at });
    else if (e.event === 'handed off') out.push({ type: 'handedOff', at: e.at });
    else if (e.event === 'resolved') out.push({ type: 'resolved', at: e.at });
    else if (e.event === 'reopened') out.push({ type: 'reopened', at: e.at });
  }
  return out;
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

/** Everything that does not hold once the workflow has caught up; empty when all is well. */
async function violations(h: WorkflowHandle, view: TicketView, model: Model, policy: TicketPolicy, limit: number): Promise<{ bugs: string[]; oneBreach: string[] }> {
  const bugs: string[] = [];
  const oneBreach: string[] = [];
  const rel = (at: number) => `+${((at - view.createdAt) / H).toFixed(4)}h`;
  const chain = policy.escalationChain;
  const offsets = chainSteps(chain, { startedAt: 0, fromLevel: 0 }).steps;
  const offsetOf = (level: number, repeat: number) => offsets.find((s) => s.level === level && s.repeat === repeat)?.dueAt ?? NaN;

  // -- the timeline in PostgreSQL: every entry once, numbered 1..recorded
  const events = await itemEvents(h.workflowId);
  if (events.length !== view.timelineLength || events.some((e, i) => e.seq !== i + 1)) {
    bugs.push(`item_events has seqs [${events.map((e) => e.seq).join(',')}], the query says ${view.timelineLength} entries`);
  }
  for (let i = 1; i < view.timeline.length; i++) {
    if (!((view.timeline[i]!.seq ?? 0) > (view.timeline[i - 1]!.seq ?? 0))) bugs.push(`timeline seq ${view.timeline[i]!.seq} after ${view.timeline[i - 1]!.seq}`);
  }
  if ((view.timeline[view.timeline.length - 1]?.seq ?? 0) !== view.timelineLength) bugs.push(`the last seq is not ${view.timelineLength}`);

  // -- no escalation of a clock met or paused before its due time (the clocks recomputed from the timeline)
  const slaEvents = slaEventsFrom(view, events);
  const clockAt = (sla: SlaName, at: number): SlaClockState => {
    const c = ticketSlaClocks(slaEvents, policy, at);
    return sla === 'acknowledge' ? c.acknowledge : c.resolution;
  };
  const episodeAt = (at: number) => slaEvents.filter((e) => e.type === 'reopened' && e.at <= at).length;
  if (view.escalationCount <= view.escalations.length) {
    for (const e of view.escalations) {
      const clock = clockAt(e.sla, e.at);
      const what = `escalation of ${e.sla} (episode ${e.episode}) to level ${e.level}/${e.repeat} at ${rel(e.at)}`;
      if (e.dueAt === undefined || e.dueAt > e.at) bugs.push(`${what} before its due time ${e.dueAt === undefined ? '?' : rel(e.dueAt)}`);
      if (clock.metAt !== null) bugs.push(`${what}: the clock was met at ${rel(clock.metAt)}`);
      if (clock.paused) bugs.push(`${what}: the clock was paused`);
      if (!e.manual && !clock.breached) bugs.push(`${what}: the clock was not breached (due ${clock.dueAt === null ? 'never' : rel(clock.dueAt)})`);
      if (e.sla === 'resolution' && e.episode !== episodeAt(e.at)) bugs.push(`${what}: episode ${episodeAt(e.at)} was running`);
    }
  }
  for (const b of view.breaches) {
    const clock = clockAt(b.sla, b.at);
    if (!clock.breached || clock.breachedAt === null || clock.breachedAt > b.at) bugs.push(`breach of ${b.sla} at ${rel(b.at)}: the clock was ${clock.status}`);
  }

  // -- every breach escalates each level and repeat once: steps grouped by the breach (the run's start)
  const seen = new Set<string>();
  for (const e of view.escalations.filter((x) => !x.manual)) {
    const start = (e.dueAt ?? NaN) - offsetOf(e.level, e.repeat);
    const key = `${e.sla} episode ${e.episode}, breached ${rel(start)}: level ${e.level} repeat ${e.repeat}`;
    if (seen.has(key)) oneBreach.push(`escalated twice: ${key}`);
    seen.add(key);
  }
  const breachKeys = view.breaches.map((b) => `${b.sla} episode ${b.episode} due ${rel(b.dueAt)}`);
  breachKeys.forEach((k, i) => breachKeys.indexOf(k) !== i && oneBreach.push(`breach recorded twice: ${k}`));

  // -- one notification per escalation step, each with its own key
  const { rows: sent } = await db.pool.query<{ idempotency_key: string }>(
    `SELECT idempotency_key FROM notifications WHERE ticket_id = $1 AND kind = 'escalation'`,
    [view.id],
  );
  const keys = sent.map((r) => r.idempotency_key);
  if (new Set(keys).size !== keys.length) bugs.push(`escalation notifications with the same key: ${keys.join(', ')}`);
  const stepsSent = keys.map((k) => k.slice(k.indexOf(':escalation:') + 1));
  if (new Set(stepsSent).size !== stepsSent.length) bugs.push(`escalation notification steps sent twice: ${stepsSent.join(', ')}`);
  if (keys.length !== view.escalationCount) bugs.push(`${keys.length} escalation notifications for ${view.escalationCount} escalation steps`);
  const warnings = await db.pool.query(`SELECT 1 FROM notifications WHERE ticket_id = $1 AND kind = 'warning'`, [view.id]);
  const warningEntries = events.filter((e) => e.event.endsWith(' warning')).length;
  if (warnings.rowCount !== warningEntries) bugs.push(`${warnings.rowCount} warning notifications for ${warningEntries} warnings on the timeline`);

  // -- the PostgreSQL row says what the query says
  const { rows } = await db.pool.query(
    `SELECT status, tier, assignee, acknowledged_at, resolved_at, closed_at, acknowledge_due_at, resolution_due_at, breached, escalations, version
       FROM tickets WHERE id = $1`,
    [view.id],
  );
  const row = rows[0];
  const expectedRow = {
    status: view.status,
    tier: view.tier,
    assignee: view.assignee,
    acknowledged_at: view.acknowledgedAt,
    resolved_at: view.resolvedAt,
    closed_at: view.closedAt,
    acknowledge_due_at: view.clocks.acknowledge.dueAt,
    resolution_due_at: view.clocks.resolution.dueAt,
    breached: view.breached,
    escalations: view.escalationCount,
    version: view.version,
  };
  const actualRow = row && {
    ...row,
    acknowledged_at: ms(row.acknowledged_at),
    resolved_at: ms(row.resolved_at),
    closed_at: ms(row.closed_at),
    acknowledge_due_at: ms(row.acknowledge_due_at),
    resolution_due_at: ms(row.resolution_due_at),
  };
  if (JSON.stringify(actualRow) !== JSON.stringify(expectedRow)) {
    bugs.push(`the tickets row ${JSON.stringify(actualRow)} is not the query's ${JSON.stringify(expectedRow)}`);
  }

  // -- the history of the current run stays bounded
  const latest = env.client.workflow.getHandle(h.workflowId);
  const history = await latest.fetchHistory();
  const count = history.events?.length ?? 0;
  const bytes = Buffer.byteLength(historyToJSON(history));
  if (count >= Math.min(4_000, limit + LIMIT_SLACK)) bugs.push(`the current run's history has ${count} events (limit ${limit})`);
  if (bytes >= 1024 * 1024) bugs.push(`the current run's history is ${bytes} bytes of JSON`);

  // -- the workflow did what the pure machine does
  const t = model.t;
  const near = (a: number | null, b: number | null) => (a === null ? b === null : b !== null && b >= a && b - a < 2 * S);
  const fields: Array<[string, unknown, unknown]> = [
    ['status', t.status, view.status],
    ['tier', t.tier, view.tier],
    ['assignee', t.assignee, view.assignee],
    ['version', t.version, view.version],
    ['recorded', t.recorded, view.timelineLength],
    ['escalationCount', t.escalationCount, view.escalationCount],
    ['acknowledgedAt', t.acknowledgedAt, view.acknowledgedAt],
    ['resolvedAt', t.resolvedAt, view.resolvedAt],
    ['breaches', t.breaches.map((b) => [b.sla, b.episode, b.dueAt]), view.breaches.map((b) => [b.sla, b.episode, b.dueAt])],
    [
      'escalations',
      t.escalations.map((e) => [e.sla, e.episode, e.level, e.repeat, e.dueAt, !!e.manual]),
      view.escalations.map((e) => [e.sla, e.episode, e.level, e.repeat, e.dueAt, !!e.manual]),
    ],
    ['timeline', t.timeline.slice(-view.timeline.length).map((e) => [e.seq, e.event, e.by]), view.timeline.map((e) => [e.seq, e.event, e.by])],
  ];
  for (const [name, expected, actual] of fields) {
    if (JSON.stringify(expected) !== JSON.stringify(actual)) bugs.push(`${name}: the machine says ${JSON.stringify(expected)}, the workflow ${JSON.stringify(actual)}`);
  }
  if (!near(t.closedAt, view.closedAt)) bugs.push(`closedAt: the machine says ${t.closedAt}, the workflow ${view.closedAt}`);
  for (const [i, e] of view.escalations.entries()) {
    const m = t.escalations[t.escalations.length - view.escalations.length + i];
    if (m && !near(m.at, e.at)) bugs.push(`escalation ${i} taken at ${rel(e.at)}, the machine took it at ${rel(m.at)}`);
  }
  return { bugs, oneBreach };
}

// ---- one run ---------------------------------------------------------------------------------------

/**
 * The time-skipping test server sometimes stops skipping time when a run continues as new while an
 * update reaches it: the worker logs "Task not found when completing ... workflow execution already
 * completed" for the old run, and the lock on time skipping that server took for that workflow task is
 * never released, so env.sleep() would sleep for real. settle() lets a run continue as new before the
 * next update, which avoids most of it; when it happens all the same, that one lock is released
 * (UnlockTimeSkipping) and the sleep goes on skipping. Should time still not skip, the run is given up
 * (counted, and replaced by another) rather than waited on for hours.
 */
class TimeSkippingStopped extends Error {}
/** The sleep skips time in well under a second while the server skips time. */
const SKIP_WITHIN_MS = 10_000;
/** Locks released after the server's quirk, over the whole file (reported with TICKET_PROPERTY_VERBOSE). */
let locksReleased = 0;

async function skipTime(duration: number): Promise<void> {
  const abort = new AbortController();
  // env.sleep() without its retries, so a call given up is cancelled cleanly.
  const call = env.connection.withAbortSignal(abort.signal, () =>
    env.connection.testService!.unlockTimeSkippingWithSleep({ duration: msToTs(duration) }),
  );
  const skipped = call.then(() => true, () => false);
  const within = (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
    return Promise.race([skipped, late]).finally(() => clearTimeout(timer));
  };
  let answer = await within(SKIP_WITHIN_MS);
  if (answer === 'late') {
    locksReleased++;
    await env.connection.testService!.unlockTimeSkipping({}).catch(() => undefined);
    answer = await within(SKIP_WITHIN_MS);
  }
  if (answer === 'late') {
    abort.abort();
    await skipped;
    throw new TimeSkippingStopped(`the test server did not skip ${duration} ms`);
  }
  if (answer === false) await call; // a real failure: let it fail the run
}

/** Leave this much room around a moment the loop acts on before an action. */
const MARGIN = 3 * S;

/** What the runs got to, printed with TICKET_PROPERTY_VERBOSE=1. */
const reached = { runs: 0, actions: 0, sleeps: 0, breached: 0, severalStepsAtOnce: 0, agentEscalated: 0, reopened: 0, closed: 0, continuedAsNew: 0, signalled: 0 };

async function play(run: Run, oneBreachFound: string[]): Promise<void> {
  const policy = POLICIES[run.policy]!;
  const limit = run.continueAsNewAfterEvents ?? 4_000;
  const log: string[] = [];
  const started = Date.now();
  if (process.env.TICKET_PROPERTY_TRACE) {
    const push = log.push.bind(log);
    log.push = (...items: string[]) => {
      for (const i of items) process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${i}\n`);
      return push(...items);
    };
    process.stderr.write(`-- ${run.policy} tier ${run.tier}, limit ${run.continueAsNewAfterEvents ?? 'default'}: ${JSON.stringify(run.steps)}\n`);
  }
  await withWorker(async () => {
    const ticket = ticketIntake({ tier: run.tier });
    const h = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
      taskQueue,
      workflowId: ticketWorkflowId(ticket.id),
      args: [{ ticket, policy, ...(run.continueAsNewAfterEvents ? { continueAsNewAfterEvents: run.continueAsNewAfterEvents } : {}) }],
    });
    const latest = env.client.workflow.getHandle(h.workflowId); // follows continue-as-new
    const first = await eventually(() => state(latest), () => true);
    const model = new Model(policy, ticket, first.createdAt);
    const rel = (at: number) => `+${((at - first.createdAt) / H).toFixed(4)}h`;

    /** Waits until the workflow has done everything the machine did by now, and checks. */
    async function settle(after: string): Promise<TicketView> {
      const view = await eventually(
        async () => {
          model.advanceTo(await env.currentTimeMs());
          return state(latest);
        },
        (v) => v.pendingEffects === 0 && v.projection.version === v.version && v.version === model.t.version,
        20_000,
      );
      if (view.pendingEffects !== 0 || view.projection.version !== view.version) {
        throw new Error(`after ${after} the workflow did not settle: ${view.pendingEffects} effects pending, projection at ${view.projection.version} of ${view.version}\n${log.join('\n')}`);
      }
      // A run past its limit continues as new in a moment: let it, before the next update reaches it (the
      // test server's quirk, see TimeSkippingStopped). If the loop does not wake meanwhile, carry on.
      const { runId } = await latest.describe();
      if (((await latest.fetchHistory()).events?.length ?? 0) > limit) {
        await eventually(() => latest.describe(), (d) => d.runId !== runId, 5_000);
      }
      const found = await violations(latest, view, model, policy, limit);
      for (const v of found.oneBreach) if (!oneBreachFound.some((f) => f.startsWith(v))) oneBreachFound.push(`${v}\n  in: ${log.join(' | ')}`);
      if (found.bugs.length) throw new Error(`after ${after}:\n${found.bugs.slice(0, 8).join('\n')}\n-- what happened:\n${log.join('\n')}`);
      return view;
    }

    /** Time passes on the server; the machine follows it to the server's clock. */
    async function sleep(duration: number): Promise<void> {
      if (process.env.TICKET_PROPERTY_TRACE) process.stderr.write(`   env.sleep(${duration}) from ${rel(await env.currentTimeMs())}, run ${(await latest.describe()).runId}\n`);
      await skipTime(duration);
      log.push(`sleep ${(duration / H).toFixed(4)} h → ${rel(await env.currentTimeMs())}`);
      await settle(log[log.length - 1]!);
    }

    /**
     * An action, sent only when the machine accepts it now and a few seconds from now: the first of
     * `candidates` it accepts (a label for each), or none.
     */
    async function act(candidates: Array<[TicketCommand, string]>, send: (cmd: TicketCommand) => Promise<unknown>): Promise<void> {
      let now = await env.currentTimeMs();
      model.advanceTo(now);
      if (model.next && model.next.at - now < MARGIN) {
        // Not in the middle of a moment the loop acts on: let it pass first.
        await sleep(model.next.at - now + MARGIN);
        now = await env.currentTimeMs();
      }
      if (model.t.status === 'closed') return;
      const accepted = (c: TicketCommand) => refusal(model.t, policy, c, now) === null && refusal(model.t, policy, c, now + MARGIN) === null;
      const chosen = candidates.find(([c]) => accepted(c));
      if (!chosen) return;
      const [cmd, label] = chosen;
      const before = model.t.recorded;
      await send(cmd);
      const view = await eventually(() => state(latest), (v) => v.timeline.some((e) => (e.seq ?? 0) > before));
      const at = view.timeline.find((e) => (e.seq ?? 0) > before)?.at;
      if (at === undefined) throw new Error(`${label} left no entry on the timeline\n${log.join('\n')}`);
      model.act(cmd, at);
      log.push(`${label} at ${rel(at)}`);
      await settle(label);
    }

    await settle('the start');
    for (const step of run.steps) {
      if (model.t.status === 'closed') break; // the workflow has completed
      if (step.do === 'sleep') {
        await sleep(step.ms);
        continue;
      }
      const message = () => messageRef(`${step.act.type} ${randomBytes(3).toString('hex')}`);
      const labelled = (a: Act): [TicketCommand, string] => {
        const cmd = command(a, message);
        return [cmd, `${cmd.type}${'role' in cmd ? ` (${cmd.role})` : ''}${'tier' in cmd ? ` → tier ${cmd.tier}` : ''}`];
      };
      // The action drawn, or else one the machine accepts now (the alt-th of them).
      const now = await env.currentTimeMs();
      const others = EVERY_ACT.filter((a) => refusal(model.t, policy, command(a, message), now) === null);
      const fallback = others.length ? [labelled(others[step.alt % others.length]!)] : [];
      await act([labelled(step.act), ...fallback], (c) => {
        const { def, input } = update(c);
        return latest.executeUpdate(def, { args: [input] });
      });
    }
    if (run.signalAtEnd && model.t.status !== 'closed') {
      // Last: time skipping stops for good after a signal, so nothing that needs it comes after.
      await act(
        [[{ type: 'requester-replied', message: messageRef('Still the same error.'), source: 'zendesk' }, 'requester replied (signal)']],
        (c) => latest.signal(requesterRepliedSignal, { message: (c as { message: MessageRef }).message, source: 'zendesk' }),
      );
    }
    const v = await eventually(() => state(latest), () => true);
    const continued = (await latest.describe()).runId !== h.firstExecutionRunId;
    reached.runs++;
    reached.actions += log.filter((l) => !l.startsWith('sleep')).length;
    reached.sleeps += log.filter((l) => l.startsWith('sleep')).length;
    if (v.breaches.length) reached.breached++;
    if (new Set(v.escalations.map((e) => e.at)).size < v.escalations.length) reached.severalStepsAtOnce++;
    if (v.escalations.some((e) => e.manual)) reached.agentEscalated++;
    if (v.timeline.some((e) => e.event === 'reopened')) reached.reopened++;
    if (v.status === 'closed') reached.closed++;
    if (continued) reached.continuedAsNew++;
    if (log.some((l) => l.includes('(signal)'))) reached.signalled++;
    if (process.env.TICKET_PROPERTY_VERBOSE) {
      console.log(`${run.policy} tier ${run.tier}${continued ? ', continued as new' : ''}: ${v.status}, ${v.breaches.length} breaches, ${v.escalationCount} escalations, version ${v.version}\n  ${log.join('\n  ')}`);
    }
  });
}

// ---- the property ----------------------------------------------------------------------------------

const NUM_RUNS = Number(process.env.TICKET_PROPERTY_RUNS ?? 20);
const SEED = process.env.TICKET_PROPERTY_SEED ? Number(process.env.TICKET_PROPERTY_SEED) : undefined;

describe('the ticket workflow under random actions and time (time-skipping server, PostgreSQL)', () => {
  it(
    'escalates only breached clocks, each step once and once notified, keeps PostgreSQL and its history in order, and does what the machine does',
    async () => {
      const oneBreach: string[] = [];
      const given: string[] = [];
      await fc.assert(
        fc.asyncProperty(runArb, async (run) => {
          try {
            await play(run, oneBreach);
          } catch (err) {
            if (!(err instanceof TimeSkippingStopped)) throw err;
            given.push(JSON.stringify(run));
            fc.pre(false); // the server's quirk, not the workflow's: another run instead
          }
        }),
        {
          numRuns: NUM_RUNS,
          ...(SEED !== undefined ? { seed: SEED } : {}),
          // A run takes seconds: shrinking a failure is cut short rather than let run for many minutes.
          plugins: [fc.interruptAfterTimeLimit(150_000)],
        },
      );
      if (process.env.TICKET_PROPERTY_VERBOSE) console.log(JSON.stringify({ ...reached, locksReleased, runsGivenUp: given.length }));
      // Runs given up to the server's quirk are a few at most; many would mean the runs check little.
      expect(given.length).toBeLessThanOrEqual(Math.max(3, NUM_RUNS / 4));
      // Checked last, so the runs above check everything else: every breach escalates each level and
      // repeat once (a breach, once recorded, is not recorded again for the same due time).
      expect(oneBreach).toEqual([]);
    },
    300_000,
  );
});

// The smallest sequence behind the property's "escalated twice" finding, on the real workflow with
// updates only (so time keeps skipping): the resolution target (24 h) is missed and level 1 notified; the
// agent then asks the requester a question (the paused clock stops the chain); the requester answers (the
// clock runs on, breached since 24 h). The workflow records the same breach again and notifies level 1
// again, with every step that fell due during the pause, at once.
describe('a breach, then a pause and a resume', () => {
  it('is breached once and escalated once per level and repeat', async () => {
    await withWorker(async () => {
      const ticket = ticketIntake({ requester: { name: 'Sam' } });
      const h = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
        taskQueue,
        workflowId: ticketWorkflowId(ticket.id),
        args: [{ ticket, policy: helpdesk }],
      });
      const settled = (v: TicketView) => v.pendingEffects === 0 && v.projection.version === v.version;
      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
      await env.sleep(24 * H + 30 * M);
      await eventually(() => state(h), (v) => v.escalationCount === 1 && settled(v));
      await h.executeUpdate(waitOnRequesterUpdate, { args: [{ by: 'alice', question: messageRef('Which client version?') }] });
      await env.sleep(6 * H);
      await h.executeUpdate(replyUpdate, { args: [{ by: 'requester', role: 'requester', message: messageRef('5.1') }] });
      const view = await eventually(() => state(h), (v) => v.status === 'acknowledged' && settled(v));
      const created = view.createdAt;
      const { rows } = await db.pool.query(`SELECT idempotency_key FROM notifications WHERE ticket_id = $1 AND kind = 'escalation' ORDER BY sent_at`, [ticket.id]);
      const steps = view.escalations.map((e) => `${e.sla} level ${e.level}/${e.repeat} due +${(e.dueAt! - created) / H}h`);
      const keys = rows.map((r) => r.idempotency_key.replace(/^.*:escalation:/, '').replace(/:b\d+:/, ':'));
      // All of it in one comparison, so a failure shows the whole story.
      expect({
        breaches: view.breaches.map((b) => `${b.sla} due +${(b.dueAt - created) / H}h`),
        escalatedTwice: view.escalations
          .filter((_e, i) => steps.indexOf(steps[i]!) !== i)
          .map((e) => `${e.sla} level ${e.level}/${e.repeat} due +${(e.dueAt! - created) / H}h, again at +${((e.at - created) / H).toFixed(2)}h`),
        notifiedTwice: keys.filter((k, i) => keys.indexOf(k) !== i),
      }).toEqual({ breaches: ['resolution due +24h'], escalatedTwice: [], notifiedTwice: [] });
    });
  });
});
