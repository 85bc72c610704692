// Slack answering 503 for a while (two minutes by default) while the desk works, the real Slack client
// pointed at a local Slack: how fast do agents' actions answer meanwhile, does a ticket due during the
// outage escalate on time, and does every notification go out once after Slack is back?
// Run: `npm run bench:outage -- --seconds 120`. Exits 1 when one of those does not hold.
import pino from 'pino';
import { integrationsFromEnv } from '../activities/drivers';
import { parsePolicy } from '../config/policy-schema';
import { DEFAULT_POLICY } from '../domain/policy';
import { ticketStateQuery, ticketWorkflowId, type TicketView } from '../domain/ticket';
import { FakeSlack } from '../test/fakes/slack';
import { flag, percentile, startBenchDesk } from './desk';

const OUTAGE_MS = flag('seconds', 120) * 1_000;
const ACTIONS = flag('actions', 20);
const ACK_MS = Math.min(30_000, OUTAGE_MS / 2);

const policy = parsePolicy(
  {
    ...DEFAULT_POLICY,
    channels: { ...DEFAULT_POLICY.channels, default: { ...DEFAULT_POLICY.channels.default, acknowledge: { withinMs: ACK_MS, clock: 'calendar' } } },
  },
  'outage policy',
);

async function main(): Promise<void> {
  const slack = await new FakeSlack().start();
  const integrations = integrationsFromEnv({ SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl }, pino({ level: 'silent' }));
  const desk = await startBenchDesk(policy, integrations);
  const view = (id: string): Promise<TicketView> => desk.env.client.workflow.getHandle(ticketWorkflowId(id)).query(ticketStateQuery);
  try {
    slack.beginOutage({ status: 503 });
    const outageStarted = Date.now();
    const due = await desk.post('/tickets', { subject: 'Due during the outage', externalId: `outage-due-${process.pid}` });
    const dueAt = (await view(due.body.id)).clocks.acknowledge.dueAt!;

    // Agents acknowledge tickets that came from Slack DMs: each acknowledgement goes back through Slack.
    const ackMs: number[] = [];
    for (let i = 0; i < ACTIONS; i++) {
      const { body } = await desk.post('/tickets', {
        subject: `From Slack ${i}`,
        externalId: `outage-dm-${process.pid}-${i}`,
        origin: { system: 'slack', channel: `D0USER${i}`, threadTs: `1700000000.${i}`, user: `U0USER${i}` },
      });
      const acked = await desk.post(`/tickets/${body.id}/acknowledge`, {});
      if (acked.status !== 200) throw new Error(`acknowledge answered ${acked.status}`);
      ackMs.push(acked.ms);
    }

    let escalatedAt: number | null = null;
    while (Date.now() < outageStarted + OUTAGE_MS) {
      if (escalatedAt === null) escalatedAt = (await view(due.body.id)).escalations[0]?.at ?? null;
      await new Promise((r) => setTimeout(r, 500));
    }
    const postedDuringOutage = slack.messages.length;
    slack.endOutage();

    // Everything queued goes out once Slack answers again (the activities' backoff is at most a minute).
    const expected = 1 + 1 + ACTIONS; // A's warning and escalation, and each acknowledgement
    const drained = Date.now() + 5 * 60_000;
    while (slack.messages.length < expected && Date.now() < drained) await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 5_000)); // anything sent twice would arrive by now
    const texts = slack.messages.map((m) => `${m.channel} ${m.threadTs ?? ''} ${m.text}`);
    const duplicates = texts.length - new Set(texts).size;

    const lag = escalatedAt === null ? NaN : escalatedAt - dueAt;
    console.table({
      'Slack down for (s)': { value: OUTAGE_MS / 1_000 },
      'acknowledge during the outage p50 / max (ms)': { value: `${Math.round(percentile(ackMs, 50))} / ${Math.round(Math.max(...ackMs))}` },
      'escalation recorded after its due time (ms)': { value: Number.isNaN(lag) ? 'not during the outage' : Math.round(lag) },
      'posts Slack took during the outage': { value: postedDuringOutage },
      'notifications delivered after recovery': { value: `${slack.messages.length} of ${expected}` },
      'delivered twice': { value: duplicates },
    });
    if (Number.isNaN(lag) || lag > 1_000 || Math.max(...ackMs) > 200 || slack.messages.length !== expected || duplicates > 0) {
      process.exitCode = 1;
    }
  } finally {
    await desk.stop();
    await slack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
