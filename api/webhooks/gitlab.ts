// POST /webhooks/gitlab: GitLab issue events. A new issue is announced in a team channel (durably,
// by a small workflow); a change of labels is handed to the feature-request/bug workflow it tracks;
// closing an incident's follow-up issue closes the incident.
import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { followUpClosedSignal } from '../../domain/incident';
import { trackerAnnouncementWorkflowId, type TrackerIssueAnnouncement } from '../../domain/tracker-announcement';
import type { announceTrackerIssueWorkflow } from '../../workflows/tracker-announcement';
import type { ApiDeps } from '../app';
import { z } from 'zod';
import { applyTrackerLabels } from '../work-item';
import { signedBy } from './deliveries';
import { HttpError } from '../errors';
import { optionalText, text } from '../input';
import { parseJson, rawBody, receiveDelivery, requireSecret, webhookLog } from './deliveries';
import { verifyGitLabToken } from './signatures';

/** An "Issue Hook": every field the desk reads, typed and under the text rules. */
export function gitlabIssueEventSchema() {
  const labels = z.array(z.object({ title: text('label') })).optional();
  return z.object({
    object_kind: z.literal('issue'),
    user: z.object({ username: optionalText('name'), name: optionalText('name') }).optional(),
    // A project's path (`group/subgroup/project`) is as long as a link's path can be.
    project: z.object({ path_with_namespace: text('url') }),
    object_attributes: z.object({
      // GitLab's iids are int4, and so is work_items.tracker_iid: a larger one failed the lookup (a 500) on every redelivery.
      iid: z.number().int().positive().max(2_147_483_647),
      title: text('title', { allowEmpty: true }).optional(),
      url: optionalText('url'),
      action: optionalText('name'),
      confidential: z.boolean().optional(),
    }),
    changes: z.object({ labels: z.object({ previous: labels, current: labels }).optional() }).optional(),
  });
}

type GitLabIssueEvent = z.output<ReturnType<typeof gitlabIssueEventSchema>>;

export function gitlabWebhook(deps: ApiDeps, token: string | undefined, teamChannel: string): Router {
  const router = Router();
  const events = gitlabIssueEventSchema();

  router.post('/', async (req, res) => {
    const verdict = verifyGitLabToken({ token: req.get('x-gitlab-token'), expected: requireSecret(token, 'GITLAB_WEBHOOK_TOKEN') });
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    signedBy(req, res, 'gitlab');
    const payload = parseJson(rawBody(req), 'gitlab');
    // Only issue events are acted on; every other kind (push, merge request, ...) is ignored unread.
    if (payload.object_kind !== 'issue') {
      res.status(200).json({ ok: true, ignored: typeof payload.object_kind === 'string' ? payload.object_kind : 'no object_kind' });
      return;
    }
    // Idempotency-Key is the same on every retry of one delivery (GitLab 17.4+); the event UUID before that.
    const idempotencyKey = req.get('idempotency-key');
    await receiveDelivery(
      deps,
      res,
      {
        source: 'gitlab',
        deliveryId: idempotencyKey ?? req.get('x-gitlab-event-uuid'),
        idFrom: idempotencyKey ? 'Idempotency-Key' : 'X-Gitlab-Event-UUID',
        payload: events.safeParse(payload),
      },
      (event) => onIssueEvent(deps, event, teamChannel),
    );
  });

  return router;
}

async function onIssueEvent(deps: ApiDeps, payload: GitLabIssueEvent, teamChannel: string): Promise<void> {
  const issue = payload.object_attributes;
  const project = payload.project.path_with_namespace;
  const by = payload.user?.username ?? 'gitlab';
  if (issue.action === 'open' && !issue.confidential) {
    await announceNewIssue(deps, {
      project,
      iid: issue.iid,
      title: issue.title ?? '',
      url: issue.url ?? '',
      author: by,
      channel: teamChannel,
    });
  }
  if (issue.action === 'close' && issue.url) await closeIncidentFollowUp(deps, issue.url, by);
  const labels = payload.changes?.labels;
  if (labels) {
    // The issue's labels after the change; the work item's workflow decides what a move means.
    const current = (labels.current ?? []).map((l) => l.title);
    const outcome = await applyTrackerLabels(deps, { project, iid: issue.iid, labels: current, by });
    webhookLog.info({ project, iid: issue.iid, outcome }, 'gitlab label change');
  }
}

/**
 * The incident workflow opens its follow-up issue through once(), which keeps GitLab's answer
 * ({ iid, webUrl }) under `incident-<id>:<chainId>:follow-up`: the issue's URL names the incident.
 */
async function closeIncidentFollowUp(deps: ApiDeps, issueUrl: string, by: string): Promise<void> {
  const { rows } = await deps.pool.query<{ idempotency_key: string }>(
    `SELECT idempotency_key FROM external_effects
      WHERE idempotency_key LIKE 'incident-%:follow-up' AND result ->> 'webUrl' = $1 LIMIT 1`,
    [issueUrl],
  );
  const key = rows[0]?.idempotency_key;
  if (!key) return;
  // `<workflowId>:<chainId>:follow-up` (ids hold no colon); a run of the first model keyed `<workflowId>:follow-up`.
  const workflowId = key.split(':')[0]!;
  try {
    await deps.client.workflow.getHandle(workflowId).signal(followUpClosedSignal, { by, source: 'gitlab' });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return; // the incident is already closed
    throw err;
  }
}

/**
 * A tiny workflow posts the announcement, so a Slack hiccup is retried by Temporal long after this
 * request has been answered. Its id names the issue: a redelivered "open" event starts nothing new.
 */
async function announceNewIssue(deps: ApiDeps, announcement: TrackerIssueAnnouncement): Promise<void> {
  try {
    await deps.client.workflow.start<typeof announceTrackerIssueWorkflow>('announceTrackerIssueWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId: trackerAnnouncementWorkflowId(announcement.project, announcement.iid),
      args: [announcement],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Announce ${announcement.project}#${announcement.iid} in ${announcement.channel}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw err;
  }
}
