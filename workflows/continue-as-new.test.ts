// Continue-as-new on the time-skipping test server, with the real activities on PostgreSQL: a security
// report waiting on its disclosure reminders, and a feature request whose tracker bookkeeping (the
// labels it set itself, whose webhook echoes may still come) must survive into the next run.
//
// What used to happen (the first model, workflows/legacy/): neither the security report nor the work
// items ever continued as new (their history grew for as long as they ran: a report reminded daily
// for months, a busy feature request), and the work items kept the labels they had set, the issue's
// label and milestone in local variables, so a run that continued as new would have forgotten them:
// the echo of its own label was taken for a person's request to move back.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_POLICY, resolveWorkItemPolicy } from '../domain/policy';
import {
  linkFixUpdate,
  markScrubbedUpdate,
  requestDisclosureUpdate,
  resolveSecurityPolicy,
  respondToReportUpdate,
  securityReportStateQuery,
  securityReportWorkflowId,
  type SecurityReportIntake,
  type SecurityReportView,
} from '../domain/security-report';
import {
  checkWorkloadUpdate,
  decideUpdate,
  featureTriageUpdate,
  recordGamePlanUpdate,
  setMilestoneUpdate,
  trackerLabelsChangedSignal,
  workItemStateQuery,
  workItemWorkflowId,
  type WorkItemView,
} from '../domain/work-item';
import { eventually } from '../test/eventually';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { featureRequestWorkflow } from './feature-request';
import type { securityReportWorkflow } from './security-report';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const taskQueue = 'continue-as-new-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

/** Effects done for a workflow whose step (after `<workflowId>:<chainId>:`) starts with `step`, each once. */
async function effects(workflowId: string, step: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM external_effects WHERE starts_with(idempotency_key, $1) AND completed_at IS NOT NULL ORDER BY completed_at',
    [`${workflowId}:`],
  );
  return rows.map((r) => r.idempotency_key.split(':').slice(2).join(':')).filter((k) => k.startsWith(step));
}

/** Effects done whose step starts with `step`, with what each answered (oldest first). */
async function doneWithResults(workflowId: string, step: string): Promise<Array<{ step: string; result: any }>> {
  const { rows } = await db.pool.query<{ idempotency_key: string; result: unknown }>(
    'SELECT idempotency_key, result FROM external_effects WHERE starts_with(idempotency_key, $1) AND completed_at IS NOT NULL ORDER BY completed_at',
    [`${workflowId}:`],
  );
  return rows.map((r) => ({ step: r.idempotency_key.split(':').slice(2).join(':'), result: r.result as any })).filter((e) => e.step.startsWith(step));
}

describe('a security report waiting on its disclosure', () => {
  it('continues as new while it reminds, keeps counting one reminder per day, and still publishes after scrub and fix link', async () => {
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
        {
          taskQueue,
          workflowId: securityReportWorkflowId(report.id),
          args: [{ report, policy: resolveSecurityPolicy(DEFAULT_POLICY), continueAsNewAfterEvents: 40 }],
        },
      );
      const state = (): Promise<SecurityReportView> => h.query(securityReportStateQuery);
      const policy = resolveSecurityPolicy(DEFAULT_POLICY);
      expect(policy.remindEveryMs).toBe(D);
      const firstRun = (await h.describe()).runId;
      await h.executeUpdate(respondToReportUpdate, { args: [{ by: 'sec-bob', message: 'Confirmed.' }] });
      const requestedAt = await env.currentTimeMs();
      await h.executeUpdate(requestDisclosureUpdate, { args: [{ by: 'hacker-one-alice' }] });
      const dueAt = requestedAt + policy.disclosureAfterMs;

      // Until the last sleep the test reads PostgreSQL, not the workflow: on the test server a query that
      // reaches a run just as it continues as new is lost, and time skipping stops for good after it.
      // Thirty days, then six daily reminders: far more history than 40 events.
      await env.sleep(dueAt + 5 * policy.remindEveryMs + H - (await env.currentTimeMs()));
      // Each reminder once, in order, though they went out from different runs.
      const reminders = await eventually(() => effects(h.workflowId, 'disclosure-reminder:'), (e) => e.length === 6);
      expect(reminders).toEqual([1, 2, 3, 4, 5, 6].map((n) => `disclosure-reminder:${n}:#security`));
      expect(await effects(h.workflowId, 'new-report:')).toHaveLength(1);
      // Every timeline entry reached item_events once, under the one chain, whichever run wrote it; the
      // reminders one day apart from the moment disclosure was allowed.
      const logged = await eventually(
        async () =>
          (
            await db.pool.query<{ chain_id: string; event: string; at: Date }>(
              "SELECT chain_id, event, at FROM item_events WHERE workflow_id = $1 AND event LIKE 'disclosure reminder%' ORDER BY seq",
              [h.workflowId],
            )
          ).rows,
        (rows) => rows.length === 6,
      );
      expect(logged.map(({ chain_id, event }) => ({ chain_id, event }))).toEqual(
        [1, 2, 3, 4, 5, 6].map((n) => ({ chain_id: firstRun, event: `disclosure reminder ${n}` })),
      );
      logged.forEach((e, i) => {
        expect(e.at.getTime() - (dueAt + i * policy.remindEveryMs)).toBeGreaterThanOrEqual(-1_000);
        expect(e.at.getTime() - (dueAt + i * policy.remindEveryMs)).toBeLessThan(5_000);
      });

      // Not one reminder more before the next day.
      await env.sleep(dueAt + 6 * policy.remindEveryMs - M - (await env.currentTimeMs()));
      const described = await h.describe();
      expect(described.runId).not.toBe(firstRun);
      expect(described.historyLength).toBeLessThan(100);
      const reminded = await eventually(state, (v) => v.pendingEffects === 0);
      expect(reminded).toMatchObject({ reminders: 6, status: 'disclosure-requested', respondedBy: 'sec-bob', published: null });
      expect(reminded.disclosure).toMatchObject({ requestedBy: 'hacker-one-alice', dueAt: expect.any(Number) });
      expect(Math.abs(reminded.disclosure!.dueAt - dueAt)).toBeLessThan(1_000);
      expect(reminded.disclosureBlockedBy).toEqual(['not marked scrubbed of sensitive data', 'not linked to the fix']);
      expect(await effects(h.workflowId, 'disclosure-reminder:')).toHaveLength(6);

      await h.executeUpdate(markScrubbedUpdate, { args: [{ by: 'sec-bob' }] });
      await h.executeUpdate(linkFixUpdate, { args: [{ by: 'sec-bob', url: 'https://gitlab.example.com/product/-/merge_requests/42' }] });
      const published = (await h.result()) as SecurityReportView;
      expect(published.status).toBe('published');
      expect(published.reminders).toBe(6);
      expect(published.published!.webUrl).toMatch(/security-disclosures/);
      expect(await effects(h.workflowId, 'publication')).toEqual(['publication']);
      expect(await effects(h.workflowId, 'published:')).toEqual(['published:#security']);
      const row = await db.pool.query('SELECT status, published_at, chain_id FROM security_reports WHERE id = $1', [report.id]);
      expect(row.rows[0]).toMatchObject({ status: 'published', chain_id: firstRun });
    });
  });
});

describe('a feature request that continues as new', () => {
  it('still knows the labels it set itself: their late webhook echo moves nothing and is not refused', async () => {
    await withWorker(async () => {
      const id = `fr-${randomBytes(4).toString('hex')}`;
      const h: WorkflowHandle<typeof featureRequestWorkflow> = await env.client.workflow.start<typeof featureRequestWorkflow>(
        'featureRequestWorkflow',
        {
          taskQueue,
          workflowId: workItemWorkflowId('feature-request', id),
          args: [
            {
              item: { id, kind: 'feature-request', externalId: null, title: 'Dark mode', description: 'Please.', requester: { name: 'Sam' } },
              policy: resolveWorkItemPolicy(DEFAULT_POLICY, 'feature-request'),
              continueAsNewAfterEvents: 60,
            },
          ],
        },
      );
      const state = (): Promise<WorkItemView> => h.query(workItemStateQuery);
      // Until the workflow has continued as new the test reads PostgreSQL, not the workflow (a query
      // reaching a run just as it continues as new is lost on the test server).
      const stageLabelsPut = () => doneWithResults(h.workflowId, 'labels:');
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });
      await h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] });
      // The workflow put Design on the issue itself, in this run (or an earlier one).
      await eventually(stageLabelsPut, (l) => l.some((e) => e.result?.add?.includes('Workflow::Design')));
      const designRun = (await h.describe()).runId;
      await h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'A theme switch in settings.' }] });
      await h.executeUpdate(decideUpdate, { args: [{ by: 'bob', technicallyPossible: true, feasible: true, exceedsCapacity: false }] });
      await eventually(stageLabelsPut, (l) => l.some((e) => e.result?.add?.includes('Workflow::Planning')));

      // Planning goes on (the milestone moved) until the workflow has continued as new, if it has not yet.
      const startsAt = new Date((await env.currentTimeMs()) + 180 * D).toISOString();
      let round = 0;
      while ((await h.describe()).runId === designRun) {
        round += 1;
        expect(round).toBeLessThan(20);
        await h.executeUpdate(setMilestoneUpdate, { args: [{ by: 'pm', title: `2027.${round}`, startsAt }] });
        await eventually(() => doneWithResults(h.workflowId, 'milestone:'), (m) => m.some((e) => e.result?.milestone === `2027.${round}`));
      }
      const milestone = round > 0 ? `2027.${round}` : null;
      const before = await eventually(state, (v) => v.pendingEffects === 0 && v.issue.milestone === milestone);
      expect(before.stage).toBe('planning');
      expect(before.issue).toMatchObject({ label: 'Workflow::Planning', milestone });
      expect(before.labelChangesSeen).toBe(0);
      // Within the echo window (ECHO_WINDOW_MS in workflows/work-item.ts, a minute, counted from when
      // the Design label was on the issue, which is after the item entered Design): the premise of the
      // test. Nothing skips time here, so the workflow clock only moves with real time, and this can
      // only fail if the test ran longer than jest gives it (60 s) or time was skipped, never from a
      // slow machine alone.
      const designSetAt = before.stageHistory.find((v) => v.stage === 'design')!.enteredAt;
      expect((await env.currentTimeMs()) - designSetAt).toBeLessThan(60_000);

      // GitLab's webhook for the Design label the workflow set, arriving late: in the next run.
      await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Design'], by: 'gitlab-echo' });
      const after = await eventually(state, (s) => s.labelChangesSeen === before.labelChangesSeen + 1 && s.pendingEffects === 0);
      expect(after.stage).toBe('planning');
      expect(after.stageHistory).toEqual(before.stageHistory);
      expect(after.timeline.filter((e) => e.event === 'label change refused')).toEqual([]);
      expect(after.integrationFailures).toEqual([]);
      expect(await effects(h.workflowId, 'comment:label-refused')).toEqual([]);
      expect(after.label).toBe('Workflow::Planning');
    });
  });
});
