// N tickets due within seconds of each other, nobody acknowledging: is every one escalated, exactly
// once, and how late? Run: `npm run bench:escalations -- --tickets 1000`. Prints a table; exits 1 when
// a ticket was not escalated exactly once.
import { parsePolicy } from '../config/policy-schema';
import { DEFAULT_POLICY } from '../domain/policy';
import { escalationLags, flag, inParallel, percentile, startBenchDesk } from './desk';

const N = flag('tickets', 1_000);
const ACK_MS = flag('ack-seconds', 90) * 1_000;

// Acknowledge within ACK_MS; level 1 of the chain is the one escalation each ticket must get.
const policy = parsePolicy(
  {
    ...DEFAULT_POLICY,
    channels: { ...DEFAULT_POLICY.channels, default: { ...DEFAULT_POLICY.channels.default, acknowledge: { withinMs: ACK_MS, clock: 'calendar' } } },
  },
  'bench policy',
);

async function main(): Promise<void> {
  const desk = await startBenchDesk(policy);
  try {
    const filing = performance.now();
    const filed = await inParallel(N, 32, async (i) => {
      const res = await desk.post('/tickets', { subject: `Bench ticket ${i}`, externalId: `bench-${process.pid}-${i}` });
      if (res.status !== 201) throw new Error(`filing ${i} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res;
    });
    const filingSeconds = (performance.now() - filing) / 1_000;
    const ids = filed.map((r) => r.body.id as string);

    // Wait until every ticket's due time has passed and the escalations came in (or a deadline).
    const deadline = Date.now() + ACK_MS + filingSeconds * 1_000 + 120_000;
    let escalated = 0;
    for (;;) {
      const { rows } = await desk.db.pool.query<{ n: number }>(
        "SELECT count(DISTINCT ticket_id)::int AS n FROM notifications WHERE kind = 'escalation' AND ticket_id = ANY($1)",
        [ids],
      );
      escalated = rows[0]!.n;
      if (escalated === N || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }

    const rows = await escalationLags(desk.db.pool, ids);
    const once = rows.filter((r) => r.escalations === 1).length;
    const missing = N - rows.filter((r) => r.escalations >= 1).length;
    const twice = rows.filter((r) => r.escalations > 1).length;
    const dues = rows.map((r) => Number(r.due));
    const stepLags = rows.map((r) => Number(r.step_lag)).filter(Number.isFinite);
    const sentLags = rows.map((r) => Number(r.sent_lag)).filter(Number.isFinite);
    const ms = (v: number) => `${Math.round(v)} ms`;
    console.table({
      'tickets filed': { value: N },
      'filing (tickets/s, concurrency 32)': { value: Math.round(N / filingSeconds) },
      'due within (s)': { value: Math.round((Math.max(...dues) - Math.min(...dues)) / 1_000) },
      'escalated exactly once': { value: once },
      'never escalated': { value: missing },
      'escalated more than once': { value: twice },
      'due → escalation recorded p50': { value: ms(percentile(stepLags, 50)) },
      'due → escalation recorded p99': { value: ms(percentile(stepLags, 99)) },
      'due → escalation recorded max': { value: ms(Math.max(...stepLags)) },
      'due → notification sent p50': { value: ms(percentile(sentLags, 50)) },
      'due → notification sent p99': { value: ms(percentile(sentLags, 99)) },
    });
    if (once !== N) process.exitCode = 1;
  } finally {
    await desk.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
