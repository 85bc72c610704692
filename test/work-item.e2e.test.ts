// Feature requests and bug reports end to end: the Temporal dev server, the worker and the API as
// processes (started the way `npm start` starts them), PostgreSQL. The tracker is the `log` driver,
// so the labels the issue got are read from external_effects, the log of every effect sent.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { applyTrackerLabels } from '../api/work-item';
import { DESK_KIND, DESK_MILESTONE, DESK_STAGE } from '../domain/search-attributes';
import { eventually } from './eventually';
import { deskProcesses } from './desk-processes';
import type { TestDatabase } from './postgres';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const { http } = deskProcesses({ taskQueue: `e2e-work-items-${process.pid}`, use: (desk) => ({ env, db } = desk) });

/** POST an action as `as` and expect it to succeed; answers the item's new state (the action answers small, GET has it all). */
async function act(path: string, as: string, body: Record<string, unknown>): Promise<any> {
  const res = await http('POST', path, body, { as });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  expect(res.body).toMatchObject({ visible: true, links: { self: expect.any(String) } });
  return (await http('GET', res.body.links.self)).body;
}

/** The `Workflow::` labels the worker put on the item's tracker issue, in order (creation first). */
async function labelsOnIssue(workflowId: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ idempotency_key: string; result: { add?: string[] } }>(
    `SELECT idempotency_key, result FROM external_effects
     WHERE (idempotency_key LIKE $1 OR idempotency_key LIKE $2) AND completed_at IS NOT NULL ORDER BY completed_at`,
    [`${workflowId}:%:issue`, `${workflowId}:%:labels:%`],
  );
  return rows.flatMap((r) =>
    r.idempotency_key.endsWith(':issue') ? ['Workflow::Triage'] : (r.result.add ?? []).filter((l) => l.startsWith('Workflow::')),
  );
}

describe('a feature request on the running system', () => {
  it('is walked from Triage to Completed through the API, with the labels following', async () => {
    const created = await http('POST', '/feature-requests', {
      title: 'Dark mode',
      description: 'The desk works at night.',
      externalId: 'gitlab-feedback-17',
      requester: { name: 'Sam', email: 'sam@example.com' },
    });
    expect(created.status).toBe(201);
    const { id, workflowId } = created.body;
    expect(workflowId).toBe(`feature-${id}`);
    const again = await http('POST', '/feature-requests', { title: 'Dark mode', externalId: 'gitlab-feedback-17' });
    expect(again).toMatchObject({ status: 200, body: { id, created: false } });

    const base = `/feature-requests/${id}`;
    await act(`${base}/triage`, 'alice', { enoughInformation: true });
    expect((await act(`${base}/check-workload`, 'alice', { validForWorkload: true })).stage).toBe('design');
    await act(`${base}/record-game-plan`, 'bob', { gamePlan: 'A theme switch in settings; tokens for colours.' });
    const approved = await act(`${base}/decide`, 'bob', { technicallyPossible: true, feasible: true, exceedsCapacity: false });
    expect(approved).toMatchObject({ stage: 'planning', label: 'Workflow::Planning' });

    // The milestone begins in two seconds: the workflow moves to Development by itself.
    const startsAt = new Date(Date.now() + 2_000).toISOString();
    await act(`${base}/set-milestone`, 'pm', { title: '2027.1', startsAt });
    const started = await eventually(() => http('GET', base), (r) => r.body.stage === 'development', 20_000);
    expect(started.body.stageHistory.at(-1)).toMatchObject({ stage: 'development', by: 'system' });

    await act(`${base}/submit-for-validation`, 'dev', {});
    expect((await act(`${base}/request-changes`, 'sam', { reason: 'The editor stays white.' })).stage).toBe('development');
    await act(`${base}/submit-for-validation`, 'dev', {});
    const done = await act(`${base}/accept`, 'sam', {});
    expect(done.stage).toBe('completed');

    const closed = await http('POST', `${base}/accept`, {}, { as: 'sam' });
    expect(closed).toEqual({ status: 409, body: { error: 'the feature request is completed; nothing more can happen to it' } });

    const labels = await eventually(() => labelsOnIssue(workflowId), (l) => l.at(-1) === 'Workflow::Complete');
    expect(labels).toEqual([
      'Workflow::Triage', 'Workflow::Design', 'Workflow::Planning', 'Workflow::In Progress', 'Workflow::Verification',
      'Workflow::In Progress', 'Workflow::Verification', 'Workflow::Complete',
    ]);
    const description = await env.client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(DESK_KIND)).toBe('feature-request');
    expect(description.typedSearchAttributes.get(DESK_STAGE)).toBe('completed');
    expect(description.typedSearchAttributes.get(DESK_MILESTONE)).toBe('2027.1');

    const list = await http('GET', '/feature-requests?stage=completed');
    expect(list.body.items).toEqual([
      expect.objectContaining({ id, stage: 'completed', milestone: { title: '2027.1', startsAt }, externalId: 'gitlab-feedback-17' }),
    ]);
  });

  it('is walked to Rejected, and a label moved on the tracker counts like the action', async () => {
    const { body } = await http('POST', '/feature-requests', { title: 'Blockchain the tickets' });
    const base = `/feature-requests/${body.id}`;
    await act(`${base}/triage`, 'alice', { enoughInformation: true });

    // On GitLab someone moves the issue to Design (the webhook calls applyTrackerLabels).
    const row = await eventually(
      () => db.pool.query('SELECT tracker_project, tracker_iid FROM work_items WHERE id = $1', [body.id]),
      (r) => r.rows[0]?.tracker_iid != null,
    );
    const issue = { project: row.rows[0].tracker_project, iid: row.rows[0].tracker_iid };
    // The log driver numbers issues per process, so look the issue up the way the webhook would.
    expect(await applyTrackerLabels({ client: env.client, pool: db.pool }, { ...issue, labels: ['Workflow::Design'], by: 'carol' })).toBe(
      'signalled',
    );
    await eventually(() => http('GET', base), (r) => r.body.stage === 'design');

    const tooEarly = await http('POST', `${base}/decide`, { technicallyPossible: false, feasible: true, exceedsCapacity: false }, { as: 'bob' });
    expect(tooEarly).toEqual({ status: 409, body: { error: 'record a game plan first' } });
    await act(`${base}/record-game-plan`, 'bob', { gamePlan: 'None that holds up.' });
    const rejected = await act(`${base}/decide`, 'bob', { technicallyPossible: false, feasible: false, exceedsCapacity: true });
    expect(rejected).toMatchObject({ stage: 'rejected', rejection: { reason: 'not technically possible' } });
    expect(rejected.decision.answers).toEqual({ technicallyPossible: false, feasible: false, exceedsCapacity: true });

    const labels = await eventually(() => labelsOnIssue(body.workflowId), (l) => l.at(-1) === 'Workflow::Rejected');
    // Design was set on the tracker, so the worker did not set it again.
    expect(labels).toEqual(['Workflow::Triage', 'Workflow::Rejected']);
    expect(await applyTrackerLabels({ client: env.client, pool: db.pool }, { ...issue, labels: ['Workflow::Triage'], by: 'carol' })).toBe(
      'unknown-issue',
    );
    const rows = await eventually(
      () => http('GET', '/feature-requests?stage=rejected'),
      (r) => r.body.items.some((i: { id: string }) => i.id === body.id),
    );
    expect(rows.body.items.find((i: { id: string }) => i.id === body.id)).toMatchObject({ stage: 'rejected', hold: null });
  });
});

describe('the API says what is wrong', () => {
  it('400 lists every invalid field, 404 names the unknown item or action, 409 gives the reason', async () => {
    const bad = await http('POST', '/bug-reports', { description: 7, requester: { email: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['description', 'requester.email', 'title']);

    expect((await http('GET', '/bug-reports/br-nope')).status).toBe(404);
    expect((await http('POST', '/bug-reports/br-nope/complete', {}, { as: 'x' })).status).toBe(404);

    const { body } = await http('POST', '/bug-reports', { title: 'Export crashes', externalId: 'zendesk-88' });
    const base = `/bug-reports/${body.id}`;
    const unknown = await http('POST', `${base}/decide`, {}, { as: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/^unknown action "decide"; a bug report takes triage, record-game-plan/);
    const noReason = await http('POST', `${base}/triage`, { valid: false }, { as: 'alice' });
    expect(noReason).toEqual({ status: 400, body: { error: 'reason (why the report is invalid) is required' } });
    const wrongStage = await http('POST', `${base}/confirm-fix`, {}, { as: 'kim' });
    expect(wrongStage).toEqual({ status: 409, body: { error: '"confirm-fix" is taken in Validation; the bug report is in Triage' } });
    const noBlockReason = await http('POST', `${base}/block`, {}, { as: 'bob' });
    expect(noBlockReason.status).toBe(400);
    expect(noBlockReason.body.details).toEqual([{ field: 'reason', message: 'is required' }]);

    const blocked = await act(`${base}/block`, 'bob', { reason: 'waiting for a crash dump' });
    expect(blocked).toMatchObject({ label: 'Workflow::Blocked', hold: { kind: 'blocked', reason: 'waiting for a crash dump' } });
    const held = await http('POST', `${base}/triage`, { valid: true }, { as: 'alice' });
    expect(held).toEqual({ status: 409, body: { error: 'the bug report is blocked (waiting for a crash dump); resume it first' } });
    await act(`${base}/resume`, 'bob', {});
    expect((await act(`${base}/triage`, 'alice', { valid: true })).stage).toBe('design');
    const list = await eventually(
      () => http('GET', '/bug-reports?stage=design'),
      (r) => r.body.items.some((i: { id: string }) => i.id === body.id),
    );
    expect(list.body.items.find((i: { id: string }) => i.id === body.id)).toMatchObject({ kind: 'bug-report', stage: 'design' });
  });
});
