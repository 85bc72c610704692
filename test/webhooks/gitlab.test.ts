// POST /webhooks/gitlab against the real API, the dev server, PostgreSQL and a local Slack: a new
// issue is announced in the team channel once (however often GitLab redelivers), a confidential one
// is not, and only the configured X-Gitlab-Token is accepted.
import type { WorkflowBundle } from '@temporalio/worker';
import { logIntegrations } from '../../activities/integrations';
import { slackChat } from '../../activities/drivers/slack';
import { incidentStateQuery, incidentWorkflowId } from '../../domain/incident';
import { trackerAnnouncementWorkflowId } from '../../domain/tracker-announcement';
import { FakeSlack } from '../fakes/slack';
import { eventually } from '../eventually';
import { bundleWorkflows } from '../temporal';
import { quiet, SECRETS, startWebhookDesk, type WebhookDesk } from './desk';
import { gitlabHeaders } from './signing';

let bundle: WorkflowBundle;
let desk: WebhookDesk;
let slack: FakeSlack;

beforeAll(async () => {
  [bundle, slack] = await Promise.all([bundleWorkflows(), new FakeSlack().start()]);
  const integrations = { ...logIntegrations(quiet), chat: slackChat({ token: slack.token, apiUrl: slack.apiUrl }) };
  desk = await startWebhookDesk({ bundle, integrations });
}, 180_000);

afterAll(async () => {
  await desk?.stop();
  await slack?.stop();
});

let iid = 100;

/** An "Issue Hook" as GitLab sends it. */
function issueEvent(action: string, overrides: { iid?: number; confidential?: boolean; changes?: unknown; url?: string } = {}) {
  const number = overrides.iid ?? ++iid;
  return {
    object_kind: 'issue',
    event_type: overrides.confidential ? 'confidential_issue' : 'issue',
    user: { id: 7, name: 'Robin Reporter', username: 'robin' },
    project: { id: 42, name: 'desk', path_with_namespace: 'support/desk', web_url: 'https://gitlab.example.com/support/desk' },
    object_attributes: {
      id: 9000 + number,
      iid: number,
      title: 'Export tickets as CSV',
      action,
      state: action === 'close' ? 'closed' : 'opened',
      confidential: overrides.confidential ?? false,
      url: overrides.url ?? `https://gitlab.example.com/support/desk/-/issues/${number}`,
    },
    labels: [],
    changes: overrides.changes ?? {},
  };
}

function send(payload: unknown, idempotencyKey: string, token = SECRETS.GITLAB_WEBHOOK_TOKEN) {
  return desk.post('/webhooks/gitlab', JSON.stringify(payload), {
    ...gitlabHeaders(token),
    'x-gitlab-event': 'Issue Hook',
    'x-gitlab-event-uuid': `uuid-${idempotencyKey}`,
    'idempotency-key': idempotencyKey,
  });
}

const announcementsOf = (number: number) => slack.messages.filter((m) => m.text.includes(`#${number} `));

test('a new issue is announced in the team channel, once, even when GitLab redelivers it', async () => {
  const event = issueEvent('open');
  const number = event.object_attributes.iid;
  expect((await send(event, `idem-${number}`)).status).toBe(200);
  expect((await send(event, `idem-${number}`)).body).toMatchObject({ duplicate: true });
  // A redelivery that lost its idempotency key (a manual "resend") still starts no second announcement.
  expect((await send(event, `idem-${number}-resent`)).status).toBe(200);

  await eventually(async () => announcementsOf(number), (m) => m.length > 0);
  const handle = desk.client.workflow.getHandle(trackerAnnouncementWorkflowId('support/desk', number));
  await handle.result();
  expect(announcementsOf(number)).toEqual([
    expect.objectContaining({
      channel: '#development',
      text: `New issue in support/desk: #${number} Export tickets as CSV (opened by robin) https://gitlab.example.com/support/desk/-/issues/${number}`,
    }),
  ]);
});

test('a confidential issue is not announced in a channel', async () => {
  const event = issueEvent('open', { confidential: true });
  const number = event.object_attributes.iid;
  expect((await send(event, `idem-${number}`)).status).toBe(200);
  expect(await desk.exists(trackerAnnouncementWorkflowId('support/desk', number))).toBe(false);
  expect(announcementsOf(number)).toEqual([]);
});

test("moving a feature request's Workflow:: label on GitLab moves its workflow, once per delivery", async () => {
  const filed = await desk.api('POST', '/feature-requests', { title: 'Keyboard shortcuts' });
  expect(filed.status).toBe(201);
  const id: string = filed.body.id;
  await desk.api('POST', `/feature-requests/${id}/triage`, { enoughInformation: true }, { name: 'alice' });
  const { rows } = await eventually(
    () => desk.db.pool.query('SELECT tracker_project, tracker_iid FROM work_items WHERE id = $1', [id]),
    (r) => r.rows[0]?.tracker_iid != null,
  );
  const { tracker_project: project, tracker_iid: number } = rows[0];

  const relabelled = issueEvent('update', {
    iid: number,
    changes: {
      labels: {
        previous: [{ id: 1, title: 'Workflow::Triage' }],
        current: [{ id: 2, title: 'Workflow::Design' }],
      },
    },
  });
  relabelled.project.path_with_namespace = project;
  expect(await send(relabelled, `idem-labels-${id}`)).toMatchObject({ status: 200, body: { ok: true } });
  expect(await send(relabelled, `idem-labels-${id}`)).toMatchObject({ status: 200, body: { duplicate: true } });
  const moved = (await eventually(() => desk.api('GET', `/feature-requests/${id}`), (r) => r.body.stage === 'design')).body;
  expect(moved.stage).toBe('design');
  expect(moved.stageHistory.filter((h: { stage: string }) => h.stage === 'design')).toHaveLength(1);
});

test('a label change on an issue no work item tracks is answered and recorded, and changes nothing', async () => {
  const event = issueEvent('update', {
    changes: { labels: { previous: [], current: [{ id: 2, title: 'Workflow::Design' }] } },
  });
  const res = await send(event, `idem-labels-${event.object_attributes.iid}`);
  expect(res).toMatchObject({ status: 200, body: { ok: true } });
  expect(await desk.deliveries()).toContainEqual(
    expect.objectContaining({ source: 'gitlab', delivery_id: `idem-labels-${event.object_attributes.iid}`, completed_at: expect.any(Date) }),
  );
});

test("closing an incident's follow-up issue closes the incident", async () => {
  const raised = await desk.api('POST', '/incidents', { title: 'Checkout is down', severity: 'critical' });
  const incident = desk.client.workflow.getHandle(incidentWorkflowId(raised.body.id));
  await desk.api('POST', `/incidents/${raised.body.id}/acknowledge`, {}, { name: 'dana' });
  await desk.api('POST', `/incidents/${raised.body.id}/resolve`, { resolution: 'Rolled back.' }, { name: 'dana' });
  const resolved = await eventually(() => incident.query(incidentStateQuery), (s) => s.followUp !== null);
  const followUp = resolved.followUp!;

  const closed = issueEvent('close', { iid: followUp.iid, url: followUp.webUrl });
  expect((await send(closed, `idem-close-${followUp.iid}`)).status).toBe(200);
  const after = await eventually(() => incident.query(incidentStateQuery), (s) => s.status === 'closed');
  expect(after.status).toBe('closed');
  expect(after.timeline).toContainEqual(expect.objectContaining({ event: 'follow-up closed', by: 'robin', note: 'via gitlab' }));
});

test('a delivery with a wrong or missing X-Gitlab-Token is refused with 401 and announces nothing', async () => {
  const event = issueEvent('open');
  const number = event.object_attributes.iid;
  const wrong = await send(event, `idem-${number}`, 'guessed-token');
  const missing = await desk.post('/webhooks/gitlab', JSON.stringify(event), { 'idempotency-key': `idem-${number}` });
  expect(wrong).toMatchObject({ status: 401, body: { error: 'X-Gitlab-Token does not match' } });
  expect(missing).toMatchObject({ status: 401, body: { error: 'missing X-Gitlab-Token' } });
  expect(await desk.exists(trackerAnnouncementWorkflowId('support/desk', number))).toBe(false);
  expect((await desk.deliveries()).map((d) => d.delivery_id)).not.toContain(`idem-${number}`);
});
