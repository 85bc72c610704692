// One ticket, a very long conversation: R replies of the maximum size (50,000 characters) through
// the API. Does every reply answer, does GET stay fast, and does every run of the workflow's history
// stay under 1 MB? Run: `npm run bench:conversation -- --replies 1000`. Exits 1 when one did not.
import { temporal } from '@temporalio/proto';
import { DEFAULT_POLICY } from '../domain/policy';
import { TEXT_RULES } from '../domain/text-rules';
import { flag, percentile, startBenchDesk } from './desk';

const REPLIES = flag('replies', 1_000);

async function main(): Promise<void> {
  const desk = await startBenchDesk(DEFAULT_POLICY);
  try {
    const { body: filed } = await desk.post('/tickets', { subject: 'A very long thread', externalId: `conversation-${process.pid}` });
    const replyMs: number[] = [];
    const getMs: number[] = [];
    let failed = 0;
    for (let i = 0; i < REPLIES; i++) {
      const role = i % 2 === 0 ? 'agent' : 'requester';
      const message = `${i} `.padEnd(TEXT_RULES.message.max, role === 'agent' ? 'a' : 'r');
      const res = await desk.post(`/tickets/${filed.id}/reply`, { by: role === 'agent' ? 'alice' : 'requester', role, message });
      if (res.status !== 200) failed++;
      replyMs.push(res.ms);
      if (i % 50 === 49) getMs.push((await desk.get(`/tickets/${filed.id}`)).ms);
    }
    const latest = await desk.env.client.workflow.getHandle(filed.workflowId).fetchHistory();
    const sizes: number[] = [];
    const events: number[] = [];
    let next: string | null | undefined = latest.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId;
    while (next) {
      const history = await desk.env.client.workflow.getHandle(filed.workflowId, next).fetchHistory();
      sizes.push(temporal.api.history.v1.History.encode(history).finish().length);
      events.push(history.events?.length ?? 0);
      next = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    }
    const view = (await desk.get(`/tickets/${filed.id}`)).body;
    console.table({
      'replies of 50,000 characters': { value: REPLIES },
      'answered 2xx': { value: REPLIES - failed },
      'reply p50 / p99 (ms)': { value: `${Math.round(percentile(replyMs, 50))} / ${Math.round(percentile(replyMs, 99))}` },
      'GET /tickets/:id p50 / max (ms)': { value: `${Math.round(percentile(getMs, 50))} / ${Math.round(Math.max(...getMs))}` },
      'messages the ticket counts': { value: view.messages },
      'runs (continue-as-new)': { value: sizes.length },
      'largest run history (KiB)': { value: Math.round(Math.max(...sizes) / 1024) },
      'most events in a run': { value: Math.max(...events) },
    });
    if (failed > 0 || Math.max(...sizes) >= 1_000_000 || view.messages !== REPLIES) process.exitCode = 1;
  } finally {
    await desk.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
