// The security report's timing on the time-skipping test server: one business day to respond (a
// weekend does not count), escalation on a miss, and a disclosure that waits 30 days and is never
// published before the report is scrubbed and linked to its fix.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { DEFAULT_POLICY } from '../domain/policy';
import {
  acceptDisclosureUpdate,
  closeReportUpdate,
  linkFixUpdate,
  markScrubbedUpdate,
  requestDisclosureUpdate,
  resolveSecurityPolicy,
  respondToReportUpdate,
  securityReportStateQuery,
  securityReportWorkflowId,
  type SecurityReportIntake,
  type SecurityReportActionResult,
  type SecurityReportView,
} from '../domain/security-report';
import { eventually } from '../test/eventually';
import { actThenView } from '../test/actions';
import type { UpdateDefinition } from '@temporalio/common';
import { recordingIntegrations, type RecordingIntegrations } from '../test/recording-integrations';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { securityReportWorkflow } from './security-report';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const taskQueue = 'security-report-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
// What reached the drivers in the current test; a test that needs a refusal sets its own before withWorker.
let recorder: RecordingIntegrations;
beforeEach(() => {
  recorder = recordingIntegrations();
});
// A fresh time-skipping server and desk worker for every test (test/time-skipping.ts says why).
const withWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: () => ({ integrations: recorder.integrations }),
});

async function fileReport(policy = DEFAULT_POLICY): Promise<WorkflowHandle<typeof securityReportWorkflow>> {
  const report: SecurityReportIntake = {
    id: `sr-${randomBytes(4).toString('hex')}`,
    externalId: null,
    title: 'Stored XSS in the project wiki',
    description: 'Steps to reproduce ...',
    severity: 'high',
    reporter: 'hacker-one-alice',
  };
  return env.client.workflow.start<typeof securityReportWorkflow>('securityReportWorkflow', {
    taskQueue,
    workflowId: securityReportWorkflowId(report.id),
    args: [{ report, policy: resolveSecurityPolicy(policy) }],
  });
}

const state = (h: WorkflowHandle): Promise<SecurityReportView> => h.query(securityReportStateQuery);

/** External effects done for a workflow whose step (after `<workflowId>:<chainId>:`) starts with `step`. */
async function effects(h: WorkflowHandle, step: string): Promise<string[]> {
  // Effects go out beside the loop: read them once none is queued or running.
  await eventually(() => state(h), (s) => s.pendingEffects === 0, 30_000);
  const { rows } = await db.pool.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM external_effects WHERE starts_with(idempotency_key, $1) AND completed_at IS NOT NULL ORDER BY completed_at',
    [`${h.workflowId}:`],
  );
  return rows.map((r) => r.idempotency_key.split(':').slice(2).join(':')).filter((k) => k.startsWith(step));
}

/** An action, then the report as the team sees it afterwards. */
const act = <I>(h: WorkflowHandle, update: UpdateDefinition<SecurityReportActionResult, [I]>, input: I): Promise<SecurityReportView> =>
  actThenView(h, update as UpdateDefinition<unknown, [I]>, input, securityReportStateQuery);

/** Skips the test server's clock to the next Friday at 15:00 UTC (the default calendar is Mon–Fri 09–17 UTC). */
async function skipToFridayAfternoon(): Promise<number> {
  const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: 'utc' });
  let friday = now.set({ weekday: 5, hour: 15, minute: 0, second: 0, millisecond: 0 });
  if (friday <= now) friday = friday.plus({ weeks: 1 });
  await env.sleep(friday.toMillis() - now.toMillis());
  return friday.toMillis();
}

describe('what operators see', () => {
  it("the UI's current details carry neither the reporter's name nor the title", async () => {
    await withWorker(async () => {
      const h = await fileReport();
      const metadata = await eventually(
        () => h.query<{ currentDetails?: string }>('__temporal_workflow_metadata'),
        (m) => (m.currentDetails ?? '').includes('high'),
      );
      expect(metadata.currentDetails).not.toContain('hacker-one-alice');
      expect(metadata.currentDetails).not.toContain('Stored XSS');
    });
  });
});

describe('response target: one business day', () => {
  it('a report filed on Friday at 15:00 breaches on Monday at 15:00, not before, and escalates', async () => {
    await withWorker(async () => {
      const friday = await skipToFridayAfternoon();
      const h = await fileReport();
      const filed = await eventually(() => state(h), (s) => s.response.dueAt !== null);
      expect(filed.createdAt - friday).toBeLessThan(M);
      // 2 business hours on Friday, 6 on Monday: 72 hours of calendar time across the weekend.
      expect(filed.response.dueAt! - filed.createdAt).toBe(72 * H);
      expect(DateTime.fromMillis(filed.response.dueAt!, { zone: 'utc' }).weekdayLong).toBe('Monday');

      await env.sleep(72 * H - M); // Monday 14:59
      const before = await state(h);
      expect(before.breachedAt).toBeNull();
      expect(before.escalations).toEqual([]);

      await env.sleep(M);
      const breached = await eventually(() => state(h), (s) => s.escalations.length === 1);
      expect(breached.breachedAt).toBe(filed.response.dueAt);
      expect(breached.escalations[0]).toMatchObject({ level: 1, notified: ['oncall-primary'] });
      expect(breached.escalations[0]!.at - filed.response.dueAt!).toBeLessThan(1_000);
      expect(await eventually(() => effects(h, 'escalation:1:1:'), (e) => e.length > 0)).toEqual(['escalation:1:1:oncall-primary']);
    });
  });

  it('a report answered within the business day never escalates', async () => {
    await withWorker(async () => {
      await skipToFridayAfternoon();
      const h = await fileReport();
      await env.sleep(H);
      const answered = await act(h, respondToReportUpdate, { by: 'sec-bob', message: 'Thanks, we are looking into it.' });
      expect(answered.response.status).toBe('met');
      await env.sleep(7 * D);
      expect((await state(h)).escalations).toEqual([]);
    });
  });
});

describe('disclosure', () => {
  it('30 days after the request it waits, reminding daily, until the report is scrubbed and linked to the fix', async () => {
    await withWorker(async () => {
      const h = await fileReport();
      await h.executeUpdate(respondToReportUpdate, { args: [{ by: 'sec-bob', message: 'Confirmed.' }] });
      const requested = await act(h, requestDisclosureUpdate, { by: 'hacker-one-alice' });
      expect(requested.disclosure!.dueAt - requested.disclosure!.requestedAt).toBe(30 * D);

      await env.sleep(30 * D - M);
      expect((await state(h)).reminders).toBe(0);
      await env.sleep(M);
      const due = await eventually(() => state(h), (s) => s.reminders === 1);
      expect(due.status).toBe('disclosure-requested');
      expect(due.published).toBeNull();
      expect(due.disclosureBlockedBy).toEqual(['not marked scrubbed of sensitive data', 'not linked to the fix']);

      await env.sleep(D);
      await eventually(() => state(h), (s) => s.reminders === 2);
      const scrubbed = await act(h, markScrubbedUpdate, { by: 'sec-bob' });
      expect(scrubbed.published).toBeNull();
      expect(scrubbed.disclosureBlockedBy).toEqual(['not linked to the fix']);

      await h.executeUpdate(linkFixUpdate, { args: [{ by: 'sec-bob', url: 'https://gitlab.example.com/product/-/merge_requests/42' }] });
      // Published beside the loop, once the tracker answers; the workflow then completes.
      const linked = (await h.result()) as SecurityReportView;
      expect(linked.status).toBe('published');
      expect(linked.published!.webUrl).toMatch(/security-disclosures/);
      expect(await effects(h, 'publication')).toHaveLength(1);
      expect(await effects(h, 'disclosure-reminder:')).toHaveLength(2);
    });
  });

  it('the team may accept earlier, but only a scrubbed and linked report is published', async () => {
    await withWorker(async () => {
      const h = await fileReport();
      await h.executeUpdate(requestDisclosureUpdate, { args: [{ by: 'hacker-one-alice' }] });
      await env.sleep(3 * D);
      const accepted = await act(h, acceptDisclosureUpdate, { by: 'sec-lead' });
      expect(accepted.published).toBeNull();
      await h.executeUpdate(markScrubbedUpdate, { args: [{ by: 'sec-bob' }] });
      await h.executeUpdate(linkFixUpdate, { args: [{ by: 'sec-bob', url: 'https://gitlab.example.com/product/-/merge_requests/43' }] });
      const published = (await h.result()) as SecurityReportView;
      expect(published.status).toBe('published');
      expect(published.published!.at - published.disclosure!.requestedAt).toBeLessThan(4 * D);
    });
  });
});

describe('a system that refuses for good (a 4xx)', () => {
  it('Slack refusing the #security channel is recorded and shown; the report still breaches and escalates', async () => {
    recorder = recordingIntegrations((call) =>
      call.system === 'chat' && call.args.channel === '#security' ? 'Slack refused posting (channel_not_found)' : null,
    );
    await withWorker(async () => {
      await skipToFridayAfternoon();
      const h = await fileReport();
      const filed = await eventually(() => state(h), (s) => s.integrationFailures.length === 1);
      expect(filed.integrationFailures[0]).toMatchObject({ step: 'new-report:#security', system: 'chat' });
      const metadata = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toContain('Given up on (refused, or down past the give-up time): 1');

      await env.sleep(72 * H);
      const breached = await eventually(() => state(h), (s) => s.escalations.length === 1);
      expect(breached.escalations[0]).toMatchObject({ level: 1, notified: ['oncall-primary'] });
      expect(await eventually(() => effects(h, 'escalation:1:1:'), (e) => e.length > 0)).toEqual(['escalation:1:1:oncall-primary']);
    });
  });

  it('the tracker refusing the publication is recorded, the team is told to publish by hand, and the report can be closed', async () => {
    recorder = recordingIntegrations((call) =>
      call.system === 'tracker' ? 'GitLab answered 403 to creating an issue: the credentials lack permission' : null,
    );
    await withWorker(async () => {
      const h = await fileReport();
      await h.executeUpdate(requestDisclosureUpdate, { args: [{ by: 'hacker-one-alice' }] });
      await h.executeUpdate(acceptDisclosureUpdate, { args: [{ by: 'sec-lead' }] });
      await h.executeUpdate(markScrubbedUpdate, { args: [{ by: 'sec-bob' }] });
      await h.executeUpdate(linkFixUpdate, { args: [{ by: 'sec-bob', url: 'https://gitlab.example.com/product/-/merge_requests/44' }] });
      const linked = await eventually(() => state(h), (v) => v.publicationRefused && v.pendingEffects === 0);
      expect(linked).toMatchObject({ status: 'disclosure-requested', published: null });
      expect(linked.integrationFailures.map((f) => f.step)).toEqual(['publication']);
      const told = recorder.calls.filter((c) => c.action === 'postMessage' && String(c.args.text).includes('publish it by hand'));
      expect(told.map((c) => c.args.channel)).toEqual(['#security']);

      await env.sleep(31 * D); // no retry of the publication, no reminders once it was refused
      expect(recorder.calls.filter((c) => c.system === 'tracker')).toHaveLength(1);
      const closed = await h.executeUpdate(closeReportUpdate, { args: [{ by: 'sec-bob' }] });
      expect(closed.status).toBe('closed');
    });
  });
});

describe('a system that stays down (retried, then given up on)', () => {
  // The test server does not skip time while an activity is being retried, so the policy gives up after
  // 3 s here (15 minutes by default).
  it('Slack staying down does not stop the breach escalating on Monday at 15:00, nor the next level after it', async () => {
    recorder = recordingIntegrations(undefined, (call) => (call.system === 'chat' ? 'Slack answered 503' : null));
    await withWorker(async () => {
      await skipToFridayAfternoon();
      const h = await fileReport({ ...DEFAULT_POLICY, notificationGiveUpMs: 3_000 });
      const filed = await eventually(() => state(h), (s) => s.integrationFailures.length === 1);
      expect(filed.integrationFailures).toEqual([
        { at: expect.any(Number), step: 'new-report:#security', system: 'chat', message: 'Slack answered 503' },
      ]);
      expect(recorder.calls.filter((c) => c.system === 'chat').length).toBeGreaterThan(1); // retried before giving up

      await env.sleep(filed.response.dueAt! - (await env.currentTimeMs()));
      const breached = await eventually(() => state(h), (s) => s.integrationFailures.length === 2);
      expect(breached.breachedAt).toBe(filed.response.dueAt);
      expect(breached.escalations).toHaveLength(1);
      expect(breached.escalations[0]).toMatchObject({ level: 1, notified: ['oncall-primary'] });
      expect(breached.escalations[0]!.at - filed.response.dueAt!).toBeLessThan(1_000);
      expect(breached.integrationFailures[1]).toMatchObject({ step: 'escalation:1:1:oncall-primary', system: 'chat' });

      // The chain goes on at its own rhythm: the next step is not held up by the failed message.
      const level = resolveSecurityPolicy(DEFAULT_POLICY).escalationChain[0]!;
      await env.sleep(breached.escalations[0]!.at + level.waitMs - (await env.currentTimeMs()));
      const next = await eventually(() => state(h), (s) => s.escalations.length === 2);
      expect(next.escalations[1]!.at - filed.response.dueAt!).toBeGreaterThanOrEqual(level.waitMs);
      expect(next.escalations[1]!.at - filed.response.dueAt!).toBeLessThan(level.waitMs + 1_000);
    });
  });
});
