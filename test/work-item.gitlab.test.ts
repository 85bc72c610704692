// Label mirroring both ways against a local GitLab through the real GitLab driver: the workflow's
// stage changes appear as the issue's `Workflow::` label (and milestone); a label changed "on GitLab"
// reaches the workflow through applyTrackerLabels, as the webhook calls it.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { gitlabTracker } from '../activities/drivers/gitlab';
import { logIntegrations } from '../activities/integrations';
import { applyTrackerLabels } from '../api/work-item';
import { DEFAULT_POLICY, resolveWorkItemPolicy } from '../domain/policy';
import {
  acceptUpdate,
  checkWorkloadUpdate,
  decideUpdate,
  featureTriageUpdate,
  recordGamePlanUpdate,
  setMilestoneUpdate,
  submitForValidationUpdate,
  workItemStateQuery,
  workItemWorkflowId,
  type WorkItemView,
} from '../domain/work-item';
import type { featureRequestWorkflow } from '../workflows/feature-request';
import { eventually } from './eventually';
import { FakeGitlab } from './fakes/gitlab';
import type { TestDatabase } from './postgres';
import { timeSkippingDesk } from './time-skipping';

const project = resolveWorkItemPolicy(DEFAULT_POLICY, 'feature-request').trackerProject;
const taskQueue = 'work-item-gitlab-tests';
const silent = pino({ level: 'silent' });

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let gitlab: FakeGitlab;

beforeAll(async () => {
  gitlab = await new FakeGitlab().start();
  gitlab.addProject(project);
});

afterAll(async () => {
  await gitlab?.stop();
});

/** A fresh time-skipping server per test; the tracker is the real GitLab driver on the local GitLab. */
const withWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: () => ({ integrations: { ...logIntegrations(silent), tracker: gitlabTracker({ url: gitlab.url, token: gitlab.token }) } }),
});

type Handle = WorkflowHandle<typeof featureRequestWorkflow>;

async function fileRequest(title: string): Promise<Handle> {
  const id = `fr-${randomBytes(4).toString('hex')}`;
  return env.client.workflow.start<typeof featureRequestWorkflow>('featureRequestWorkflow', {
    taskQueue,
    workflowId: workItemWorkflowId('feature-request', id),
    args: [
      {
        item: { id, kind: 'feature-request', externalId: null, title, description: '', requester: {} },
        policy: resolveWorkItemPolicy(DEFAULT_POLICY, 'feature-request'),
      },
    ],
  });
}

const state = (h: Handle): Promise<WorkItemView> => h.query(workItemStateQuery);
const issueOf = async (h: Handle) => gitlab.issue(project, (await eventually(() => state(h), (s) => s.tracker !== null)).tracker!.iid)!;
const workflowLabels = (labels: string[]) => labels.filter((l) => l.startsWith('Workflow::'));

/** Someone changes the scoped label on GitLab; the webhook hands the issue's labels to applyTrackerLabels. */
async function relabelOnGitlab(iid: number, label: string, by = 'carol'): Promise<'signalled' | 'unknown-issue'> {
  const issue = gitlab.issue(project, iid)!;
  issue.labels = [...issue.labels.filter((l) => !l.startsWith('Workflow::')), label];
  return applyTrackerLabels({ client: env.client, pool: db.pool }, { project, iid, labels: issue.labels, by });
}

describe('a feature request on GitLab', () => {
  it('shows every stage as the issue\'s one Workflow:: label, the milestone, and closes the issue when completed', async () => {
    await withWorker(async () => {
      const h = await fileRequest('Dark mode');
      const issue = await issueOf(h);
      expect(issue).toMatchObject({ title: 'Dark mode', labels: ['Workflow::Triage'], state: 'opened' });

      // The tracker follows beside the workflow: an action answers before GitLab has the label.
      const step = async (expected: string, act: () => Promise<unknown>) => {
        await act();
        const labels = await eventually(async () => workflowLabels(gitlab.issue(project, issue.iid)!.labels), (l) => l[0] === expected);
        expect(labels).toEqual([expected]);
      };
      await step('Workflow::Triage', () => h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] }));
      await step('Workflow::Design', () => h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] }));
      await step('Workflow::Design', () => h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'A theme switch.' }] }));
      await step('Workflow::Planning', () =>
        h.executeUpdate(decideUpdate, { args: [{ by: 'bob', technicallyPossible: true, feasible: true, exceedsCapacity: false }] }),
      );
      await h.executeUpdate(setMilestoneUpdate, { args: [{ by: 'pm', title: '2027.1', startsAt: '2000-01-01T00:00:00Z' }] });
      await eventually(() => state(h), (s) => s.stage === 'development');
      await eventually(async () => gitlab.issue(project, issue.iid)!.labels, (l) => l.includes('Workflow::In Progress'));
      expect(workflowLabels(gitlab.issue(project, issue.iid)!.labels)).toEqual(['Workflow::In Progress']);
      expect(await eventually(async () => gitlab.issue(project, issue.iid)!.milestone, (m) => m !== null)).toMatchObject({ title: '2027.1' });
      await step('Workflow::Verification', () => h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'dev' }] }));
      await h.executeUpdate(acceptUpdate, { args: [{ by: 'sam' }] });
      await h.result();

      const closed = gitlab.issue(project, issue.iid)!;
      expect(workflowLabels(closed.labels)).toEqual(['Workflow::Complete']);
      expect(closed.state).toBe('closed');
      expect(closed.notes.map((n) => n.body)).toEqual([
        'Game plan:\n\nA theme switch.',
        'Ready for validation: please check it meets your requirements and accept it or say what is missing.',
        'Validated by sam; the changes are finalised. Thank you!',
      ]);
    });
  });

  it('moves when its label is moved on GitLab; an invalid move is answered on the issue and the label put back', async () => {
    await withWorker(async () => {
      const h = await fileRequest('Keyboard shortcuts');
      const { iid } = await issueOf(h);
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });

      expect(await relabelOnGitlab(iid, 'Workflow::Design')).toBe('signalled');
      const moved = await eventually(() => state(h), (s) => s.stage === 'design');
      expect(moved.stageHistory.at(-1)).toMatchObject({ stage: 'design', by: 'carol on the tracker' });

      // GitLab echoes the change back: nothing happens, nothing is said.
      const notesBefore = gitlab.issue(project, iid)!.notes.length;
      expect(await relabelOnGitlab(iid, 'Workflow::Design', 'support-desk-bot')).toBe('signalled');

      expect(await relabelOnGitlab(iid, 'Workflow::Complete')).toBe('signalled');
      const restored = await eventually(
        async () => gitlab.issue(project, iid)!,
        (i) => i.labels.includes('Workflow::Design') && i.notes.length > notesBefore,
      );
      expect(workflowLabels(restored.labels)).toEqual(['Workflow::Design']);
      expect(restored.notes.slice(notesBefore).map((n) => n.body)).toEqual([
        '@carol the label change was not applied: a feature request cannot move from Design to Completed; ' +
          'from Design it moves to Planning or Rejected. The label is back to Workflow::Design.',
      ]);
      const s = await state(h);
      expect(s.stage).toBe('design');
      expect(s.timeline.filter((e) => e.event === 'label change refused')).toHaveLength(1);
      expect(restored.state).toBe('opened');

      expect(await applyTrackerLabels({ client: env.client, pool: db.pool }, { project, iid: 999, labels: [], by: 'x' })).toBe(
        'unknown-issue',
      );
    });
  });

  it('a late echo of its own label change is not taken for a request to go back', async () => {
    await withWorker(async () => {
      const h = await fileRequest('Bulk export');
      const { iid } = await issueOf(h);
      await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });
      await h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] });
      await h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'CSV first.' }] });
      await h.executeUpdate(decideUpdate, { args: [{ by: 'bob', technicallyPossible: true, feasible: true, exceedsCapacity: false }] });
      // The updates answer before the tracker follows: wait until GitLab has the Design and Planning
      // labels (the workflow knows its own label changes once they are done) and the game-plan comment.
      const caughtUp = await eventually(() => state(h), (s) => s.stage === 'planning' && s.pendingEffects === 0);
      expect(caughtUp.pendingEffects).toBe(0);
      expect(workflowLabels(gitlab.issue(project, iid)!.labels)).toEqual(['Workflow::Planning']);
      expect(gitlab.issue(project, iid)!.notes.map((n) => n.body)).toEqual(['Game plan:\n\nCSV first.']);
      const notes = gitlab.issue(project, iid)!.notes.length;
      const seenBefore = caughtUp.labelChangesSeen;

      // GitLab's webhook for "Design" (set by the workflow) arrives after the move to Planning.
      const pool = db.pool;
      expect(await applyTrackerLabels({ client: env.client, pool }, { project, iid, labels: ['Workflow::Design'], by: 'desk-bot' })).toBe('signalled');
      expect(await applyTrackerLabels({ client: env.client, pool }, { project, iid, labels: ['Workflow::Planning'], by: 'desk-bot' })).toBe('signalled');
      // Both webhooks handled, and whatever they might have queued on the tracker carried out.
      const s = await eventually(() => state(h), (v) => v.labelChangesSeen >= seenBefore + 2 && v.pendingEffects === 0);
      expect(s.labelChangesSeen).toBe(seenBefore + 2);
      expect(s.pendingEffects).toBe(0);
      expect(s.stage).toBe('planning');
      expect(s.timeline.some((e) => e.event === 'label change refused')).toBe(false);
      expect(workflowLabels(gitlab.issue(project, iid)!.labels)).toEqual(['Workflow::Planning']);
      expect(gitlab.issue(project, iid)!.notes).toHaveLength(notes);
    });
  });
});
