// The bug-report workflow on the time-skipping test server, with the real activities on PostgreSQL
// and the `log` tracker: what was done on the tracker is read back from external_effects.
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Integrations } from '../activities/integrations';
import { DEFAULT_POLICY, resolveWorkItemPolicy } from '../domain/policy';
import { DESK_BLOCKED, DESK_KIND, DESK_STAGE } from '../domain/search-attributes';
import {
  blockUpdate,
  bugTriageUpdate,
  completeUpdate,
  confirmFixUpdate,
  recordGamePlanUpdate,
  requestChangesUpdate,
  resumeUpdate,
  startDevelopmentUpdate,
  submitForValidationUpdate,
  trackerLabelsChangedSignal,
  workItemStateQuery,
  workItemWorkflowId,
  type WorkItemActionResult,
  type WorkItemView,
} from '../domain/work-item';
import { eventually } from '../test/eventually';
import { actThenView } from '../test/actions';
import type { UpdateDefinition } from '@temporalio/common';
import type { TestDatabase } from '../test/postgres';
import { recordingIntegrations, type DriverCall } from '../test/recording-integrations';
import { timeSkippingDesk } from '../test/time-skipping';
import type { bugReportWorkflow } from './bug-report';

const H = 3_600_000;
const taskQueue = 'bug-report-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
/** The worker's integrations for the test that sets them; otherwise the silent log ones. */
let integrations: Integrations | undefined;
afterEach(() => {
  integrations = undefined;
});
// A fresh time-skipping server and desk worker for every test (test/time-skipping.ts says why).
const withWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: () => (integrations ? { integrations } : {}),
});

/**
 * The recording log drivers, with the tracker's createIssue held (a tracker slow to answer) until the
 * test lets it go: `asked` is every createIssue that reached the tracker, with its arguments.
 */
function heldIssueCreation() {
  const recorder = recordingIntegrations();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const asked: DriverCall[] = [];
  const tracker = recorder.integrations.tracker;
  const held: Integrations = {
    ...recorder.integrations,
    tracker: {
      driver: tracker.driver,
      setLabels: (l) => tracker.setLabels(l),
      setMilestone: (m) => tracker.setMilestone(m),
      comment: (c) => tracker.comment(c),
      closeIssue: (c) => tracker.closeIssue(c),
      async createIssue(i) {
        asked.push({ system: 'tracker', action: 'createIssue', args: i });
        await gate;
        return tracker.createIssue(i);
      },
    },
  };
  return { integrations: held, calls: recorder.calls, asked, release: () => open() };
}

type Handle = WorkflowHandle<typeof bugReportWorkflow>;

async function fileBug(): Promise<Handle> {
  const id = `br-${randomBytes(4).toString('hex')}`;
  return env.client.workflow.start<typeof bugReportWorkflow>('bugReportWorkflow', {
    taskQueue,
    workflowId: workItemWorkflowId('bug-report', id),
    args: [
      {
        item: { id, kind: 'bug-report', externalId: null, title: 'Export crashes on empty reports', description: 'Stack trace attached.', requester: { name: 'Kim' } },
        policy: resolveWorkItemPolicy(DEFAULT_POLICY, 'bug-report'),
      },
    ],
  });
}

const state = (h: Handle): Promise<WorkItemView> => h.query(workItemStateQuery);

/** Every `Workflow::` label the workflow put on the issue, in order (the first is the one it was created with). */
async function labelsPutOn(h: Handle): Promise<string[]> {
  await settled(h);
  const { rows } = await db.pool.query<{ idempotency_key: string; result: { add: string[] } }>(
    `SELECT idempotency_key, result FROM external_effects
      WHERE idempotency_key LIKE $1 AND split_part(idempotency_key, ':', 3) = 'labels' AND completed_at IS NOT NULL
      ORDER BY completed_at`,
    [`${h.workflowId}:%`],
  );
  const stageLabels = rows.map((r) => r.result.add.find((l) => l.startsWith('Workflow::'))).filter((l) => l !== undefined);
  return ['Workflow::Triage', ...stageLabels];
}

/** Tracker effects done whose step (after `<workflowId>:<chainId>:`) starts with `kind`. */
async function effects(h: Handle, kind: string): Promise<string[]> {
  await settled(h);
  const { rows } = await db.pool.query<{ idempotency_key: string }>(
    `SELECT idempotency_key FROM external_effects WHERE idempotency_key LIKE $1 AND completed_at IS NOT NULL ORDER BY completed_at`,
    [`${h.workflowId}:%`],
  );
  return rows.map((r) => r.idempotency_key.split(':').slice(2).join(':')).filter((k) => k.startsWith(kind));
}

/** Tracker changes go out beside the loop: wait (briefly) until none is queued or running. */
async function settled(h: Handle): Promise<void> {
  await eventually(() => h.query(workItemStateQuery), (s) => s.pendingEffects === 0, 30_000);
}

/** An action, then the item as the team sees it afterwards. */
const act = <I>(h: Handle, update: UpdateDefinition<WorkItemActionResult, [I]>, input: I): Promise<WorkItemView> =>
  actThenView(h, update as UpdateDefinition<unknown, [I]>, input, workItemStateQuery);

describe('a bug report from Triage to Completed', () => {
  it('goes through design (labels, game plan), development, a failed validation, production, and closes', async () => {
    await withWorker(async () => {
      const h = await fileBug();
      expect((await h.executeUpdate(bugTriageUpdate, { args: [{ by: 'alice', valid: true }] })).stage).toBe('design');
      const designed = await act(h, recordGamePlanUpdate, { by: 'bob', gamePlan: 'Guard the empty list in the exporter.', labels: ['severity::2', 'exporter'] });
      expect(designed.labels).toEqual(['severity::2', 'exporter']);
      await h.executeUpdate(startDevelopmentUpdate, { args: [{ by: 'bob' }] });
      await h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'bob' }] });
      const notFixed = await act(h, requestChangesUpdate, { by: 'kim', reason: 'Still crashes with filters on.' });
      expect(notFixed.stage).toBe('development');
      await h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'bob' }] });
      const fixed = await act(h, confirmFixUpdate, { by: 'kim' });
      expect(fixed.stage).toBe('production');
      expect(fixed.label).toBe('Workflow::Production');
      expect((await h.describe()).typedSearchAttributes.get(DESK_STAGE)).toBe('production');
      await h.executeUpdate(completeUpdate, { args: [{ by: 'release-bot', note: 'shipped in 17.3.1' }] });

      const done = (await h.result()) as WorkItemView;
      expect(done.stageHistory.map((v) => v.stage)).toEqual([
        'triage', 'design', 'development', 'validation', 'development', 'validation', 'production', 'completed',
      ]);
      expect(done.validations.map((v) => v.accepted)).toEqual([false, true]);
      expect(await labelsPutOn(h)).toEqual([
        'Workflow::Triage', 'Workflow::Design', 'Workflow::In Progress', 'Workflow::Verification',
        'Workflow::In Progress', 'Workflow::Verification', 'Workflow::Production', 'Workflow::Complete',
      ]);
      // The game plan's labels go on the issue once, beside the stage label.
      const { rows } = await db.pool.query(
        `SELECT result FROM external_effects WHERE idempotency_key LIKE $1 AND result->'add' ? 'exporter'`,
        [`${h.workflowId}:%:labels:%`],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].result.add).toEqual(expect.arrayContaining(['severity::2', 'exporter']));
      expect(await effects(h, 'close')).toEqual(['close']);
      expect((await h.describe()).typedSearchAttributes.get(DESK_KIND)).toBe('bug-report');
    });
  });
});

describe('triage', () => {
  it('an invalid report is closed with the reason', async () => {
    await withWorker(async () => {
      const h = await fileBug();
      const closed = await act(h, bugTriageUpdate, { by: 'alice', valid: false, reason: 'works as designed' });
      expect(closed.stage).toBe('rejected');
      expect(closed.rejection?.reason).toBe('invalid: works as designed');
      expect((((await h.result()) as WorkItemView)).closedAt).not.toBeNull();
      expect(await labelsPutOn(h)).toEqual(['Workflow::Triage', 'Workflow::Rejected']);
      expect(await effects(h, 'comment:rejected')).toHaveLength(1);
    });
  });

  it('triaged as invalid before the tracker created its issue: the issue is created in Triage, then labelled Rejected and closed', async () => {
    const slow = heldIssueCreation();
    integrations = slow.integrations;
    await withWorker(async () => {
      const h = await fileBug();
      // The issue was asked for (in Triage) and the tracker has not answered.
      await eventually(async () => slow.asked.length, (n) => n > 0);
      expect(slow.asked).toHaveLength(1);
      expect(slow.asked[0]!.args).toMatchObject({ labels: ['Workflow::Triage'] });
      const closed = await act(h, bugTriageUpdate, { by: 'alice', valid: false, reason: 'works as designed' });
      expect(closed.stage).toBe('rejected');
      expect(closed.tracker).toBeNull();
      expect(closed.pendingEffects).toBeGreaterThan(0);

      // Now the tracker answers: the workflow finishes once the issue shows where the report is.
      slow.release();
      const done = (await h.result()) as WorkItemView;
      expect(done.stage).toBe('rejected');
      expect(done.closedAt).not.toBeNull();
      expect(done.tracker).not.toBeNull();
      expect(done.issue).toMatchObject({ label: 'Workflow::Rejected', closed: true });
      expect(done.pendingEffects).toBe(0);
      expect(done.integrationFailures).toEqual([]);

      // Created once, with the label it had when it was asked for; then moved to Rejected and closed.
      const created = slow.calls.filter((c) => c.system === 'tracker' && c.action === 'createIssue');
      expect(created).toHaveLength(1);
      expect(created[0]!.args).toMatchObject({ labels: ['Workflow::Triage'] });
      expect(await labelsPutOn(h)).toEqual(['Workflow::Triage', 'Workflow::Rejected']);
      const setLabels = slow.calls.filter((c) => c.system === 'tracker' && c.action === 'setLabels');
      expect(setLabels.map((c) => c.args)).toEqual([expect.objectContaining({ add: ['Workflow::Rejected'], remove: ['Workflow::Triage'] })]);
      const onTracker = (await effects(h, '')).map((step) => step.split(':')[0]).filter((k) => k === 'issue' || k === 'labels' || k === 'close');
      expect(onTracker).toEqual(['issue', 'labels', 'close']);
      expect(await effects(h, 'comment:rejected')).toHaveLength(1);
    });
  });

  it('triaged as invalid in the same request that files it (update-with-start): the issue still shows Triage, then Rejected', async () => {
    await withWorker(async () => {
      const id = `br-${randomBytes(4).toString('hex')}`;
      const start = new WithStartWorkflowOperation<typeof bugReportWorkflow>('bugReportWorkflow', {
        taskQueue,
        workflowId: workItemWorkflowId('bug-report', id),
        workflowIdConflictPolicy: 'FAIL',
        args: [
          {
            item: { id, kind: 'bug-report', externalId: null, title: 'Export crashes on empty reports', description: '', requester: { name: 'Kim' } },
            policy: resolveWorkItemPolicy(DEFAULT_POLICY, 'bug-report'),
          },
        ],
      });
      // The update runs in the workflow's first task, as its handler is registered.
      const answer = await env.client.workflow.executeUpdateWithStart(bugTriageUpdate, {
        args: [{ by: 'alice', valid: false, reason: 'works as designed' }],
        startWorkflowOperation: start,
      });
      expect(answer.stage).toBe('rejected');
      const h: Handle = await start.workflowHandle();
      expect(((await h.result()) as WorkItemView).closedAt).not.toBeNull();
      expect(await labelsPutOn(h)).toEqual(['Workflow::Triage', 'Workflow::Rejected']);
      expect(await effects(h, 'close')).toEqual(['close']);
    });
  });

  it('an invalid report needs a reason; development needs a game plan first', async () => {
    await withWorker(async () => {
      const h = await fileBug();
      await expect(h.executeUpdate(bugTriageUpdate, { args: [{ by: 'alice', valid: false }] })).rejects.toMatchObject({
        cause: { type: 'InvalidInput', message: 'reason (why the report is invalid) is required' },
      });
      await h.executeUpdate(bugTriageUpdate, { args: [{ by: 'alice', valid: true }] });
      await expect(h.executeUpdate(startDevelopmentUpdate, { args: [{ by: 'bob' }] })).rejects.toMatchObject({
        cause: { type: 'ActionNotAllowed', message: 'record a game plan first' },
      });
      await expect(h.executeUpdate(completeUpdate, { args: [{ by: 'bob' }] })).rejects.toMatchObject({
        cause: { message: '"complete" is taken in In production; the bug report is in Design' },
      });
      expect((await state(h)).stage).toBe('design');
    });
  });
});

describe('Blocked', () => {
  it('needs a reason, stops every stage action until resumed, and is counted', async () => {
    await withWorker(async () => {
      const h = await fileBug();
      await h.executeUpdate(bugTriageUpdate, { args: [{ by: 'alice', valid: true }] });
      await expect(h.executeUpdate(blockUpdate, { args: [{ by: 'bob', reason: ' ' }] })).rejects.toMatchObject({
        cause: { type: 'InvalidInput', message: 'reason is required' },
      });
      const blocked = await act(h, blockUpdate, { by: 'bob', reason: 'needs a database dump from the customer' });
      expect(blocked.label).toBe('Workflow::Blocked');
      expect((await h.describe()).typedSearchAttributes.get(DESK_BLOCKED)).toBe(true);
      await expect(h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'x' }] })).rejects.toMatchObject({
        cause: { message: 'the bug report is blocked (needs a database dump from the customer); resume it first' },
      });
      const resumed = await act(h, resumeUpdate, { by: 'bob' });
      expect(resumed.stage).toBe('design');
      expect(resumed.holds).toHaveLength(1);
      expect(resumed.timeOnHold.blockedMs).toBeGreaterThanOrEqual(0);
      expect(await labelsPutOn(h)).toEqual(['Workflow::Triage', 'Workflow::Design', 'Workflow::Blocked', 'Workflow::Design']);
    });
  });
});

describe('labels changed on the tracker', () => {
  it('a move the tracker reports before its answer to "create the issue" reaches us is kept, not undone', async () => {
    const slow = heldIssueCreation();
    integrations = slow.integrations;
    await withWorker(async () => {
      const h = await fileBug();
      await eventually(async () => slow.asked.length, (n) => n > 0);
      // The issue exists on the tracker and someone moved it; the workflow has not heard it was created.
      await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Design'], by: 'kim' });
      const moved = await eventually(() => state(h), (s) => s.stage === 'design');
      expect(moved.tracker).toBeNull();

      slow.release();
      const created = await eventually(() => state(h), (s) => s.tracker !== null && s.pendingEffects === 0);
      expect(created.issue.label).toBe('Workflow::Design');
      // The issue already shows Design: nothing is put on it, and Triage is not put back.
      expect(await labelsPutOn(h)).toEqual(['Workflow::Triage']);
      expect(slow.calls.filter((c) => c.system === 'tracker' && c.action === 'setLabels')).toEqual([]);
    });
  });

  it('Verification → Production by label confirms the fix; Blocked without a reason is refused and answered', async () => {
    await withWorker(async () => {
      const h = await fileBug();
      await h.executeUpdate(bugTriageUpdate, { args: [{ by: 'alice', valid: true }] });
      await h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'Guard it.' }] });
      await h.executeUpdate(startDevelopmentUpdate, { args: [{ by: 'bob' }] });
      await h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'bob' }] });
      await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Production'], by: 'kim' });
      const moved = await eventually(() => state(h), (s) => s.stage === 'production');
      expect(moved.validations).toMatchObject([{ accepted: true, by: 'kim on the tracker' }]);
      await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Blocked'], by: 'kim' });
      const refused = await eventually(() => state(h), (s) => s.timeline.some((e) => e.event === 'label change refused'));
      expect(refused.stage).toBe('production');
      expect(await eventually(() => effects(h, 'comment:label-refused'), (c) => c.length === 1)).toHaveLength(1);
      // The label effects run in the workflow's loop, after the comment under load: wait for them to land.
      const labels = await eventually(() => labelsPutOn(h), (l) => l.at(-1) === 'Workflow::Production');
      expect(labels.at(-1)).toBe('Workflow::Production');
    });
  });
});
