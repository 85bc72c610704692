// Closing while the loop's effects are still going out, on the time-skipping test server with the real
// activities on PostgreSQL: an incident resolved and its follow-up closed while Zendesk and Slack are
// still answering, and a security report closed while its team is still being told about it. The
// action answers at once; the workflow completes once the effects under way have finished.
//
// What used to happen (the first model, workflows/legacy/): an update answered only after the loop's
// whole pass, every effect of it awaited, had run (`settled()`), so resolving waited for Zendesk and
// Slack; and a follow-up closed while that pass was still awaiting the hand-off message set the
// `dirty` flag after the pass had cleared it: the loop saw `closed` and stopped, the update waited for
// `!dirty` for ever, and the workflow (waiting for its handlers) never completed.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Integrations } from '../activities/integrations';
import {
  acknowledgeIncidentUpdate,
  closeFollowUpUpdate,
  incidentStateQuery,
  incidentWorkflowId,
  resolveIncidentPolicy,
  resolveIncidentUpdate,
  type IncidentIntake,
  type IncidentView,
} from '../domain/incident';
import { DEFAULT_POLICY } from '../domain/policy';
import {
  closeReportUpdate,
  resolveSecurityPolicy,
  securityReportStateQuery,
  securityReportWorkflowId,
  type SecurityReportIntake,
  type SecurityReportView,
} from '../domain/security-report';
import { eventually } from '../test/eventually';
import type { TestDatabase } from '../test/postgres';
import { recordingIntegrations, type DriverCall } from '../test/recording-integrations';
import { timeSkippingDesk } from '../test/time-skipping';
import type { incidentWorkflow } from './incident';
import type { securityReportWorkflow } from './security-report';

const taskQueue = 'incident-close-tests';
/**
 * "Promptly": an action waits at most 5 s for its projection, plus the round trip of the update on a
 * busy machine; a held effect is held until the test lets it go, so this bound still tells the two apart.
 */
const PROMPT_MS = 15_000;

/**
 * The recording drivers, with chosen calls held (a slow Slack or Zendesk) until the test lets them go:
 * `started` is every held call that reached its driver, `finished` every held call that answered.
 */
function slowIntegrations(held: (call: DriverCall) => boolean) {
  const recorder = recordingIntegrations();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const started: DriverCall[] = [];
  const finished: DriverCall[] = [];
  const wrapped: Record<string, Record<string, unknown>> = {};
  for (const [system, driver] of Object.entries(recorder.integrations) as Array<[DriverCall['system'], Record<string, unknown>]>) {
    const copy: Record<string, unknown> = { driver: driver.driver };
    for (const [action, fn] of Object.entries(driver)) {
      if (typeof fn !== 'function') continue;
      copy[action] = async (args: Record<string, unknown>) => {
        const call = { system, action, args };
        if (!held(call)) return (fn as (a: unknown) => Promise<unknown>).call(driver, args);
        started.push(call);
        await gate;
        const answer = await (fn as (a: unknown) => Promise<unknown>).call(driver, args);
        finished.push(call);
        return answer;
      };
    }
    wrapped[system] = copy;
  }
  return { integrations: wrapped as unknown as Integrations, calls: recorder.calls, started, finished, release: () => open() };
}

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let slow = slowIntegrations(() => false);
const withWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: () => ({ integrations: slow.integrations }),
});

/** Answers within `ms` of real time or fails the test saying what did not answer. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<{ value: T }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([promise, late]);
    return { value };
  } finally {
    clearTimeout(timer);
  }
}

/** Idempotency keys done for the workflow, as steps (after `<workflowId>:<chainId>:`). */
async function doneSteps(workflowId: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM external_effects WHERE starts_with(idempotency_key, $1) AND completed_at IS NOT NULL ORDER BY completed_at',
    [`${workflowId}:`],
  );
  return rows.map((r) => r.idempotency_key.split(':').slice(2).join(':'));
}

const heldCount = (n: number) => eventually(async () => slow.started.length, (c) => c >= n);

describe('an incident resolved and closed while its effects are still going out', () => {
  it('resolving and closing the follow-up answer at once while Zendesk and Slack are slow; the workflow completes once they answer', async () => {
    // The customer's Zendesk comments and the hand-off DM take as long as the test holds them.
    slow = slowIntegrations((c) => (c.system === 'helpdesk' && c.action === 'addComment') || (c.system === 'chat' && c.action === 'directMessage'));
    await withWorker(async () => {
      const incident: IncidentIntake = {
        id: `in-${randomBytes(4).toString('hex')}`,
        externalId: null,
        title: 'Customer instance down',
        description: 'The customer cannot reach their instance at all.',
        severity: 'critical',
        customerTicketId: 'zendesk-5150',
        deskTicketId: null,
      };
      const h: WorkflowHandle<typeof incidentWorkflow> = await env.client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
        taskQueue,
        workflowId: incidentWorkflowId(incident.id),
        args: [{ incident, policy: resolveIncidentPolicy(DEFAULT_POLICY) }],
      });
      const state = (): Promise<IncidentView> => h.query(incidentStateQuery);

      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      // "alice is handling your emergency" is on its way to Zendesk, and stays there.
      await heldCount(1);

      const resolved = await within(PROMPT_MS, 'resolve', h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Restarted the database.' }] }));
      expect(resolved.value).toMatchObject({ status: 'resolved', event: 'resolved', visible: true });
      expect(slow.finished).toEqual([]);

      // The follow-up task opens (GitLab answers); then the hand-off DM to alice is held as well.
      const opened = await eventually(state, (s) => s.followUp !== null);
      expect(opened.followUp).not.toBeNull();
      await heldCount(2);
      expect(slow.started.map((c) => `${c.system}.${c.action}`)).toEqual(['helpdesk.addComment', 'chat.directMessage']);

      const closed = await within(PROMPT_MS, 'close-follow-up', h.executeUpdate(closeFollowUpUpdate, { args: [{ by: 'alice' }] }));
      expect(closed.value).toMatchObject({ status: 'closed', event: 'follow-up closed', visible: true });
      // Still going out: the answer did not wait for them, and the workflow waits for them.
      expect(slow.finished).toEqual([]);
      const closing = await state();
      expect(closing.status).toBe('closed');
      expect(closing.pendingEffects).toBeGreaterThanOrEqual(3); // two Zendesk comments and the hand-off
      expect((await h.describe()).status.name).toBe('RUNNING');
      const row = await db.pool.query('SELECT status, follow_up_closed_at FROM incidents WHERE id = $1', [incident.id]);
      expect(row.rows[0].status).toBe('closed');
      expect(row.rows[0].follow_up_closed_at).not.toBeNull();

      slow.release();
      const result = (await h.result()) as IncidentView;
      expect(result.status).toBe('closed');
      expect(result.pendingEffects).toBe(0);
      expect(result.integrationFailures).toEqual([]);
      const steps = await doneSteps(h.workflowId);
      expect(steps).toEqual(expect.arrayContaining(['customer-told-who-handles-it', 'customer-told-resolved', 'follow-up', 'hand-off:alice']));
      // Each once: the comments in the order queued (one lane), the hand-off after the follow-up task.
      expect(steps.filter((s) => s.startsWith('customer-told'))).toEqual(['customer-told-who-handles-it', 'customer-told-resolved']);
      expect(slow.finished.map((c) => `${c.system}.${c.action}`).sort()).toEqual(['chat.directMessage', 'helpdesk.addComment', 'helpdesk.addComment']);
      expect(slow.calls.filter((c) => c.system === 'chat' && c.action === 'directMessage')).toHaveLength(1);
    });
  });
});

describe('a security report closed while its team is still being told', () => {
  it('closing answers at once while the new-report message is still on its way; the workflow completes once Slack answers', async () => {
    slow = slowIntegrations((c) => c.system === 'chat');
    await withWorker(async () => {
      const report: SecurityReportIntake = {
        id: `sr-${randomBytes(4).toString('hex')}`,
        externalId: null,
        title: 'Stored XSS in the project wiki',
        description: 'Steps to reproduce ...',
        severity: 'high',
        reporter: 'hacker-one-alice',
      };
      const h: WorkflowHandle<typeof securityReportWorkflow> = await env.client.workflow.start<typeof securityReportWorkflow>(
        'securityReportWorkflow',
        { taskQueue, workflowId: securityReportWorkflowId(report.id), args: [{ report, policy: resolveSecurityPolicy(DEFAULT_POLICY) }] },
      );
      const state = (): Promise<SecurityReportView> => h.query(securityReportStateQuery);
      await heldCount(1);
      expect(slow.started[0]!.args).toMatchObject({ channel: '#security' });

      const closed = await within(PROMPT_MS, 'close', h.executeUpdate(closeReportUpdate, { args: [{ by: 'sec-bob' }] }));
      expect(closed.value).toMatchObject({ id: report.id, status: 'closed', event: 'closed', visible: true });
      expect(slow.finished).toEqual([]);
      const closing = await state();
      expect(closing).toMatchObject({ status: 'closed', pendingEffects: 1 });
      expect((await h.describe()).status.name).toBe('RUNNING');
      const row = await db.pool.query('SELECT status FROM security_reports WHERE id = $1', [report.id]);
      expect(row.rows[0].status).toBe('closed');

      slow.release();
      const result = (await h.result()) as SecurityReportView;
      expect(result).toMatchObject({ status: 'closed', pendingEffects: 0, integrationFailures: [] });
      expect(await doneSteps(h.workflowId)).toEqual(['new-report:#security']);
      expect(slow.finished).toHaveLength(1);
    });
  });
});
