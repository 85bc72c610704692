// Contract of the GitLab driver against a local GitLab: issues, scoped labels, milestones by title,
// notes, closing; retried until success with one issue; 429 waits as told; a 4xx stops.
import { randomBytes } from 'node:crypto';
import { gitlabTracker } from '../../activities/drivers/gitlab';
import type { TrackerDriver } from '../../activities/integrations';
import { FakeGitlab } from '../fakes/gitlab';
import type { TestDatabase } from '../postgres';
import { againstAFreshFake } from './contract';
import { failureOf, retryLikeTemporal } from './retry';

const project = 'acme/desk';
let gitlab: FakeGitlab;
let tracker: TrackerDriver;
let db: TestDatabase;

againstAFreshFake(() => new FakeGitlab(), (fake, database) => {
  gitlab = fake;
  db = database;
  gitlab.addProject(project);
  tracker = gitlabTracker({ url: gitlab.url, token: gitlab.token });
});

describe('the GitLab tracker driver', () => {
  test('creates an issue with labels in the project, authenticated by PRIVATE-TOKEN', async () => {
    const created = await tracker.createIssue({
      project,
      title: 'Export times out',
      description: 'Reported on ticket tk-1',
      labels: ['bug', 'Workflow::Triage'],
      confidential: true,
    });
    expect(created).toEqual({ iid: 1, webUrl: `${gitlab.url}/acme/desk/-/issues/1` });
    expect(gitlab.issue(project, 1)).toMatchObject({ labels: ['bug', 'Workflow::Triage'], confidential: true, state: 'opened' });
    const request = gitlab.requests[0]!;
    expect(request).toMatchObject({ method: 'POST', path: '/api/v4/projects/acme%2Fdesk/issues' });
    expect(request.headers['private-token']).toBe(gitlab.token);
  });

  test('a new scoped label replaces the others of its scope; plain labels stay', async () => {
    const { iid } = await tracker.createIssue({ project, title: 't', description: '', labels: ['bug', 'Workflow::Triage'] });
    await tracker.setLabels({ project, iid, add: ['Workflow::In dev'], remove: [] });
    expect(gitlab.issue(project, iid)!.labels).toEqual(['bug', 'Workflow::In dev']);
    await tracker.setLabels({ project, iid, add: ['priority::1'], remove: ['bug'] });
    expect(gitlab.issue(project, iid)!.labels).toEqual(['Workflow::In dev', 'priority::1']);
  });

  test('a milestone is found by title, created when missing, and cleared with null', async () => {
    const { iid } = await tracker.createIssue({ project, title: 't', description: '', labels: [] });
    await tracker.setMilestone({ project, iid, milestone: '2026.12' });
    await tracker.setMilestone({ project, iid, milestone: '2026.12' });
    expect(gitlab.projects.get(project)!.milestones).toHaveLength(1);
    expect(gitlab.issue(project, iid)!.milestone).toMatchObject({ title: '2026.12' });
    await tracker.setMilestone({ project, iid, milestone: null });
    expect(gitlab.issue(project, iid)!.milestone).toBeNull();
  });

  test('comments and closes an issue', async () => {
    const { iid } = await tracker.createIssue({ project, title: 't', description: '', labels: [] });
    const { noteId } = await tracker.comment({ project, iid, body: 'Fixed in 4.2' });
    await tracker.closeIssue({ project, iid });
    expect(gitlab.issue(project, iid)).toMatchObject({ state: 'closed', notes: [{ id: noteId, body: 'Fixed in 4.2' }] });
  });

  test('an issue retried through a 502 and a 503 is created exactly once', async () => {
    gitlab.failNext(1, { status: 502 });
    gitlab.failNext(1, { status: 503 });
    const key = `gitlab-test:${randomBytes(4).toString('hex')}`;
    const create = () => tracker.createIssue({ project, title: 'Once', description: '', labels: [] });
    const attempts = await retryLikeTemporal(db.pool, key, 'tracker', create);
    const again = await retryLikeTemporal(db.pool, key, 'tracker', create);
    expect(attempts.retried).toHaveLength(2);
    expect(again.result).toEqual({ iid: 1, webUrl: expect.any(String) });
    expect(gitlab.projects.get(project)!.issues).toHaveLength(1);
  });

  test('a 429 waits as long as Retry-After says', async () => {
    gitlab.failNext(1, { status: 429, retryAfter: 12 });
    const failure = await failureOf(() => tracker.createIssue({ project, title: 't', description: '', labels: [] }));
    expect(failure).toMatchObject({ nonRetryable: false, type: 'IntegrationRateLimited', nextRetryDelay: 12_000 });
  });

  test('an unknown project (404), a missing title (400) and a bad token (401) stop without retrying', async () => {
    const unknown = await retryLikeTemporal(db.pool, `gitlab-test:${randomBytes(4).toString('hex')}`, 'tracker', () =>
      tracker.createIssue({ project: 'acme/nope', title: 't', description: '', labels: [] }),
    );
    expect(unknown.retried).toHaveLength(0);
    expect(unknown.stoppedBy!.message).toMatch(/^GitLab answered 404 to a new issue in acme\/nope .*Project Not Found.*check/);

    const untitled = await failureOf(() => tracker.createIssue({ project, title: '', description: '', labels: [] }));
    expect(untitled).toMatchObject({ nonRetryable: true, type: 'IntegrationRejected' });
    expect(untitled.message).toContain('title is missing');

    const refused = await failureOf(() =>
      gitlabTracker({ url: gitlab.url, token: 'glpat-wrong' }).comment({ project, iid: 1, body: 'x' }),
    );
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('check GITLAB_TOKEN');
    expect(refused.message).not.toContain('glpat-wrong');
  });
});
