// Records the history of one ticket that goes through every kind of step (warning, breach,
// escalation, acknowledgement, pause, signal, re-tier, resolve, reopen, close) on the
// time-skipping server, and saves it for the replay test. Run: `npm run record-history`.
// Re-record only on purpose: the committed file is what proves old histories still replay.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { logIntegrations } from '../../activities/integrations';
import { LogNotifier } from '../../activities/notifier';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../../domain/policy';
import {
  acknowledgeUpdate,
  changeTierUpdate,
  closeUpdate,
  reopenUpdate,
  requesterRepliedSignal,
  resolveUpdate,
  ticketWorkflowId,
  waitOnRequesterUpdate,
  type TicketIntake,
} from '../../domain/ticket';
import { createDeskWorker } from '../../workers/worker';
import type { ticketWorkflow } from '../../workflows/ticket';
import { createTestDatabase } from '../postgres';
import { bundleWorkflows, timeSkippingEnvironment } from '../temporal';

const H = 3_600_000;

async function main(): Promise<void> {
  const [env, bundle, db] = await Promise.all([timeSkippingEnvironment(), bundleWorkflows(), createTestDatabase()]);
  try {
    const worker = await createDeskWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: 'record-history',
      pool: db.pool,
      notifier: new LogNotifier(pino({ level: 'silent' })),
      integrations: logIntegrations(pino({ level: 'silent' })),
      workflowBundle: bundle,
    });
    const history = await worker.runUntil(async () => {
      const ticket: TicketIntake = {
        id: 'recorded-1',
        externalId: 'zd-1',
        channel: 'helpdesk',
        tier: 1,
        priority: 'normal',
        subject: 'Cannot log in to the VPN',
        description: '',
        requester: { name: 'Sam' },
        private: false,
      };
      const h = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
        taskQueue: 'record-history',
        workflowId: ticketWorkflowId(ticket.id),
        args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk') }],
      });
      await env.sleep(5 * H + 1_000); // warning, breach, level 1, level 2
      await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
      await h.executeUpdate(waitOnRequesterUpdate, { args: [{ by: 'alice', question: 'Which client?' }] });
      await h.signal(requesterRepliedSignal, { message: 'Version 5', source: 'zendesk' });
      await h.executeUpdate(changeTierUpdate, { args: [{ by: 'alice', tier: 2, reason: 'root cause needed' }] });
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: 'Upgraded the client.' }] });
      await h.executeUpdate(reopenUpdate, { args: [{ by: 'requester', reason: 'Broke again' }] });
      await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: 'Reinstalled.' }] });
      await h.executeUpdate(closeUpdate, { args: [{ by: 'alice' }] });
      await h.result();
      return h.fetchHistory();
    });
    const file = path.join(__dirname, 'ticket-escalated-reopened-closed.json');
    writeFileSync(file, historyToJSON(history) + '\n');
    console.log(`saved ${history.events?.length} events to ${path.relative(process.cwd(), file)}`);
  } finally {
    await env.teardown();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
