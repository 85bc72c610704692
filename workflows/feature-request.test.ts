// The feature-request workflow on the time-skipping test server, with the real activities on
// PostgreSQL and the `log` tracker: what was done on the tracker is read back from external_effects.
import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_POLICY, WORK_ITEM_DEFAULTS, resolveWorkItemPolicy } from '../domain/policy';
import { DESK_BLOCKED, DESK_KIND, DESK_MILESTONE, DESK_STAGE } from '../domain/search-attributes';
import {
  acceptUpdate,
  blockUpdate,
  checkWorkloadUpdate,
  decideUpdate,
  featureTriageUpdate,
  provideInformationUpdate,
  recordGamePlanUpdate,
  requestChangesUpdate,
  resumeUpdate,
  setMilestoneUpdate,
  submitForValidationUpdate,
  trackerLabelsChangedSignal,
  waitUpdate,
  workItemStateQuery,
  workItemWorkflowId,
  type WorkItemActionResult,
  type WorkItemView,
} from '../domain/work-item';
import { eventually } from '../test/eventually';
import { actThenView } from '../test/actions';
import type { UpdateDefinition } from '@temporalio/common';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { featureRequestWorkflow } from './feature-request';

const H = 3_600_000;
const D = 24 * H;
const taskQueue = 'feature-request-tests';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
// A fresh time-skipping server and desk worker for every test (test/time-skipping.ts says why).
const withWorker = timeSkippingDesk({ taskQueue, use: (test) => ({ env, db } = test) });

type Handle = WorkflowHandle<typeof featureRequestWorkflow>;

async function fileRequest(): Promise<Handle> {
  const id = `fr-${randomBytes(4).toString('hex')}`;
  return env.client.workflow.start<typeof featureRequestWorkflow>('featureRequestWorkflow', {
    taskQueue,
    workflowId: workItemWorkflowId('feature-request', id),
    args: [
      {
        item: { id, kind: 'feature-request', externalId: null, title: 'Dark mode', description: 'Please.', requester: { name: 'Sam' } },
        policy: resolveWorkItemPolicy(DEFAULT_POLICY, 'feature-request'),
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

const roundToSecond = (ms: number): number => Math.floor(ms / 1_000) * 1_000;

/**
 * A duration made of skipped time: the skipped part is exact, and the real time the test spends
 * between its calls is added to it (on a busy machine, seconds), so it is at least `skipped` and
 * less than ten seconds more.
 */
function expectSkipped(actual: number, skipped: number): void {
  expect(actual).toBeGreaterThanOrEqual(skipped);
  expect(actual).toBeLessThan(skipped + 10_000);
}

async function throughTriageAndDesign(h: Handle): Promise<void> {
  await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });
  await h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] });
  await h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'A theme switch in settings.' }] });
  await h.executeUpdate(decideUpdate, {
    args: [{ by: 'bob', technicallyPossible: true, feasible: true, exceedsCapacity: false }],
  });
}

describe('a feature request from Triage to Completed', () => {
  it('sleeps until its milestone begins, then moves to Development by itself; the labels follow every stage', async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      await throughTriageAndDesign(h);
      const planned = await state(h);
      expect(planned.stage).toBe('planning');
      expect(planned.decision).toMatchObject({
        approved: true,
        answers: { technicallyPossible: true, feasible: true, exceedsCapacity: false },
      });

      const startsAt = planned.stageHistory.at(-1)!.enteredAt + 10 * D;
      const withMilestone = await act(h, setMilestoneUpdate, { by: 'pm', title: '2027.1', startsAt: new Date(startsAt).toISOString() });
      expect(withMilestone.milestone).toEqual({ title: '2027.1', startsAt });
      expect((await h.describe()).typedSearchAttributes.get(DESK_MILESTONE)).toBe('2027.1');

      await env.sleep(10 * D - 60_000);
      expect((await state(h)).stage).toBe('planning');
      await env.sleep(2 * 60_000);
      const started = await eventually(() => state(h), (s) => s.stage === 'development');
      expect(started.stage).toBe('development');
      const entered = started.stageHistory.at(-1)!;
      expect(entered).toMatchObject({ stage: 'development', by: 'system', note: 'milestone 2027.1 began' });
      expect(entered.enteredAt).toBeGreaterThanOrEqual(startsAt);
      expect(entered.enteredAt).toBeLessThan(startsAt + 1_000);

      // The validation loop: the requester finds something missing, development goes again.
      await h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'dev' }] });
      const back = await act(h, requestChangesUpdate, { by: 'sam', reason: 'The editor is still white.' });
      expect(back.stage).toBe('development');
      expect(back.validations).toMatchObject([{ accepted: false, reason: 'The editor is still white.', by: 'sam' }]);
      await h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'dev' }] });
      const done = await act(h, acceptUpdate, { by: 'sam-delegate' });
      expect(done.stage).toBe('completed');

      const result = (await h.result()) as WorkItemView;
      expect(result.stageHistory.map((v) => v.stage)).toEqual([
        'triage', 'design', 'planning', 'development', 'validation', 'development', 'validation', 'completed',
      ]);
      expect(await labelsPutOn(h)).toEqual([
        'Workflow::Triage', 'Workflow::Design', 'Workflow::Planning', 'Workflow::In Progress', 'Workflow::Verification',
        'Workflow::In Progress', 'Workflow::Verification', 'Workflow::Complete',
      ]);
      expect(await effects(h, 'milestone')).toHaveLength(1);
      expect(await effects(h, 'close')).toEqual(['close']);
      const row = await db.pool.query('SELECT stage, milestone, closed_at FROM work_items WHERE workflow_id = $1', [h.workflowId]);
      expect(row.rows[0]).toMatchObject({ stage: 'completed', milestone: '2027.1' });
      expect(row.rows[0].closed_at).not.toBeNull();
    });
  });
});

describe('rejections', () => {
  it('the three-question decision rejects an effort that far exceeds capacity, and keeps the answers', async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });
      await h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] });
      await h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'Rewrite the renderer.' }] });
      const rejected = await act(h, decideUpdate, { by: 'bob', technicallyPossible: true, feasible: true, exceedsCapacity: true });
      expect(rejected.stage).toBe('rejected');
      expect(rejected.decision).toMatchObject({ approved: false, answers: { exceedsCapacity: true } });
      expect(rejected.rejection?.reason).toBe('the effort far exceeds what the team can do with its current and future workload');
      await h.result();
      expect(await labelsPutOn(h)).toEqual(['Workflow::Triage', 'Workflow::Design', 'Workflow::Rejected']);
      expect(await effects(h, 'comment:rejected')).toHaveLength(1);
      expect(await effects(h, 'close')).toEqual(['close']);
    });
  });

  it('a request not valid for the current workload is rejected in triage with the reason', async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });
      const rejected = await act(h, checkWorkloadUpdate, { by: 'alice', validForWorkload: false, reason: 'the team is on the 2027 migration' });
      expect(rejected.rejection).toMatchObject({ reason: 'the team is on the 2027 migration', by: 'alice' });
      expect((((await h.result()) as WorkItemView)).stage).toBe('rejected');
    });
  });

  it('an action the stage does not allow is refused with the reason and changes nothing', async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      const early = h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] });
      await expect(early).rejects.toThrow(WorkflowUpdateFailedError);
      await expect(early).rejects.toMatchObject({
        cause: { type: 'ActionNotAllowed', message: 'triage has not found enough information yet; mark it with "triage" first' },
      });
      const wrongStage = h.executeUpdate(acceptUpdate, { args: [{ by: 'sam' }] });
      await expect(wrongStage).rejects.toMatchObject({
        cause: { message: '"accept" is taken in Validation; the feature request is in Triage' },
      });
      const s = await state(h);
      expect(s.stage).toBe('triage');
      // Only what the workflow did by itself (the issue may still be being created under load).
      expect(s.timeline.map((e) => e.event).filter((e) => e !== 'tracker issue created')).toEqual(['created']);
      expect(s.enoughInformation).toBeNull();
    });
  });
});

describe('triage waiting on the requester', () => {
  it(`reminds the requester every ${WORK_ITEM_DEFAULTS.triageReminderMs / D} days and closes politely after ${WORK_ITEM_DEFAULTS.informationGiveUpMs / D}`, async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      // The issue exists with its Triage label before triage asks (under load it could still be on its way).
      await eventually(() => state(h), (v) => v.tracker !== null);
      const asked = await act(h, featureTriageUpdate, { by: 'alice', enoughInformation: false, question: 'Which screens need it?' });
      expect(asked.label).toBe('Workflow::Waiting');
      expect(asked.hold).toMatchObject({ kind: 'waiting', on: 'requester', reason: 'Which screens need it?' });
      expect(await eventually(() => effects(h, 'comment:question'), (q) => q.length === 1)).toHaveLength(1);

      await env.sleep(14 * D - H);
      expect((await state(h)).stage).toBe('triage');
      // Days 3, 6, 9 and 12 (the last one's comment may still be on its way when the sleep returns).
      expect(await eventually(() => effects(h, 'comment:reminder'), (r) => r.length === 4)).toHaveLength(4);
      await env.sleep(2 * H);
      const closed = (await h.result()) as WorkItemView;
      expect(closed.stage).toBe('rejected');
      expect(closed.rejection?.reason).toBe('no answer from the requester');
      const wait = closed.holds[0]!;
      expect(closed.closedAt).toBe(wait.until);
      expect(roundToSecond(wait.until! - wait.since)).toBe(14 * D);
      expect(roundToSecond(closed.timeOnHold.waitingMs)).toBe(14 * D);
      expect(await effects(h, 'comment:give-up')).toHaveLength(1);
      expect(await labelsPutOn(h)).toEqual(['Workflow::Triage', 'Workflow::Waiting', 'Workflow::Rejected']);
    });
  });

  it('an answer ends the wait (and the reminders); triage goes on', async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: false, question: 'Which screens?' }] });
      await env.sleep(4 * D);
      const answered = await act(h, provideInformationUpdate, { by: 'sam', information: 'All of them.' });
      expect(answered.hold).toBeNull();
      expect(answered.label).toBe('Workflow::Triage');
      expectSkipped(answered.timeOnHold.waitingMs, 4 * D);
      await env.sleep(20 * D);
      expect(await effects(h, 'comment:reminder')).toHaveLength(1);
      expect((await state(h)).stage).toBe('triage');
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });
      expect((await h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] })).stage).toBe('design');
    });
  });
});

describe('Waiting and Blocked', () => {
  it('are entered and left in Development; the time in each is accounted and Blocked is searchable', async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      await throughTriageAndDesign(h);
      await h.executeUpdate(setMilestoneUpdate, { args: [{ by: 'pm', title: 'now', startsAt: '2000-01-01T00:00:00Z' }] });
      await eventually(() => state(h), (s) => s.stage === 'development');

      await h.executeUpdate(waitUpdate, { args: [{ by: 'dev', on: 'dependency', reason: 'design tokens release' }] });
      await env.sleep(2 * H);
      await h.executeUpdate(resumeUpdate, { args: [{ by: 'dev' }] });
      const blocked = await act(h, blockUpdate, { by: 'dev', reason: 'CI is down' });
      expect(blocked.label).toBe('Workflow::Blocked');
      expect((await h.describe()).typedSearchAttributes.get(DESK_BLOCKED)).toBe(true);
      await env.sleep(5 * H);
      const resumed = await act(h, resumeUpdate, { by: 'dev', note: 'CI is back' });
      expect(resumed.stage).toBe('development');
      // Skipped time is exact; the real milliseconds between the test's calls are added to it.
      expectSkipped(resumed.timeOnHold.waitingMs, 2 * H);
      expectSkipped(resumed.timeOnHold.blockedMs, 5 * H);
      expect(resumed.holds.map((x) => [x.kind, x.stage])).toEqual([
        ['waiting', 'development'],
        ['blocked', 'development'],
      ]);
      expectSkipped(resumed.holds[0]!.until! - resumed.holds[0]!.since, 2 * H);
      expectSkipped(resumed.holds[1]!.until! - resumed.holds[1]!.since, 5 * H);
      const attributes = (await h.describe()).typedSearchAttributes;
      expect(attributes.get(DESK_BLOCKED)).toBe(false);
      expect(attributes.get(DESK_STAGE)).toBe('development');
      expect(attributes.get(DESK_KIND)).toBe('feature-request');
      expect((await labelsPutOn(h)).slice(-4)).toEqual([
        'Workflow::Waiting', 'Workflow::In Progress', 'Workflow::Blocked', 'Workflow::In Progress',
      ]);
      // The projection holds the same time on hold as the workflow's answer.
      const held = { waitingMs: resumed.timeOnHold.waitingMs, blockedMs: resumed.timeOnHold.blockedMs };
      const projected = async () => {
        const row = await db.pool.query('SELECT waiting_ms, blocked_ms FROM work_items WHERE workflow_id = $1', [h.workflowId]);
        return { waitingMs: Number(row.rows[0].waiting_ms), blockedMs: Number(row.rows[0].blocked_ms) };
      };
      expect(await eventually(projected, (p) => p.waitingMs === held.waitingMs && p.blockedMs === held.blockedMs)).toEqual(held);
    });
  });
});

describe('labels changed on the tracker', () => {
  it('a valid move is taken; an invalid one is answered on the issue and the label put back', async () => {
    await withWorker(async () => {
      const h = await fileRequest();
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });

      await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Design'], by: 'carol' });
      const moved = await eventually(() => state(h), (s) => s.stage === 'design');
      expect(moved.stageHistory.at(-1)).toMatchObject({ stage: 'design', by: 'carol on the tracker' });

      await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Design'], by: 'gitlab-bot' }); // an echo
      await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Complete'], by: 'carol' });
      const refused = await eventually(() => state(h), (s) => s.timeline.some((e) => e.event === 'label change refused'));
      expect(refused.stage).toBe('design');
      expect(refused.timeline.filter((e) => e.event === 'label change refused')).toEqual([
        expect.objectContaining({
          by: 'carol on the tracker',
          note: 'a feature request cannot move from Design to Completed; from Design it moves to Planning or Rejected',
        }),
      ]);
      const restored = await eventually(() => labelsPutOn(h), (l) => l.length === 2);
      // The move made on the tracker needs no label from us; the refused one gets Design put back.
      expect(restored).toEqual(['Workflow::Triage', 'Workflow::Design']);
      expect(await effects(h, 'comment:label-refused')).toEqual(['comment:label-refused:3']);
    });
  });
});
