// POST /webhooks/gitlab: GitLab issue events. A new issue is announced in a team channel (durably,
// by a small workflow); a change of labels is handed to the feature-request/bug workflow it tracks;
// closing an incident's follow-up issue closes the incident.
import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { followUpClosedSignal } from '../../domain/incident';
import { trackerAnnouncementWorkflowId, type TrackerIssueAnnouncement } from '../../domain/tracker-announcement';
import type { announceTrackerIssueWorkflow } from '../../workflows/tracker-announcement';
import type { ApiDeps } from '../app';
import { applyTrackerLabels } from '../work-item';
import { HttpError } from '../errors';
import { parseJson, rawBody, receiveDelivery, requireSecret, webhookLog } from './deliveries';
import { verifyGitLabToken } from './signatures';

interface GitLabIssueEvent {
  object_kind?: string;
  user?: { username?: string; name?: string };
  project?: { id?: number; path_with_namespace?: string };
  object_attributes?: {
    iid?: number;
    title?: string;
    url?: string;
    action?: string;
    confidential?: boolean;
  };
  changes?: { labels?: { previous?: Array<{ title: string }>; current?: Array<{ title: string }> } };
}

export function gitlabWebhook(deps: ApiDeps, token: string | undefined, teamChannel: string): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const verdict = verifyGitLabToken({ token: req.get('x-gitlab-token'), expected: requireSecret(token, 'GITLAB_WEBHOOK_TOKEN') });
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    const payload = parseJson(rawBody(req)) as GitLabIssueEvent;
    const issue = payload.object_attributes;
    if (payload.object_kind !== 'issue' || !issue?.iid || !payload.project?.path_with_namespace) {
      res.status(200).json({ ok: true, ignored: payload.object_kind ?? 'no object_kind' });
      return;
    }
    // Idempotency-Key is the same on every retry of one delivery (GitLab 17.4+); the event UUID before that.
    const deliveryId = req.get('idempotency-key') ?? req.get('x-gitlab-event-uuid');
    await receiveDelivery(deps, res, 'gitlab', deliveryId, () => onIssueEvent(deps, payload, teamChannel));
  });

  return router;
}

async function onIssueEvent(deps: ApiDeps, payload: GitLabIssueEvent, teamChannel: string): Promise<void> {
  const issue = payload.object_attributes!;
  const project = payload.project!.path_with_namespace!;
  const by = payload.user?.username ?? 'gitlab';
  if (issue.action === 'open' && !issue.confidential) {
    await announceNewIssue(deps, {
      project,
      iid: issue.iid!,
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
    const outcome = await applyTrackerLabels(deps, { project, iid: issue.iid!, labels: current, by });
    webhookLog.info({ project, iid: issue.iid, outcome }, 'gitlab label change');
  }
}

/**
 * The incident workflow opens its follow-up issue through once(), which keeps GitLab's answer
 * ({ iid, webUrl }) under `incident-<id>:follow-up`: the issue's URL names the incident.
 */
async function closeIncidentFollowUp(deps: ApiDeps, issueUrl: string, by: string): Promise<void> {
  const { rows } = await deps.pool.query<{ idempotency_key: string }>(
    `SELECT idempotency_key FROM external_effects
      WHERE idempotency_key LIKE 'incident-%:follow-up' AND result ->> 'webUrl' = $1 LIMIT 1`,
    [issueUrl],
  );
  const key = rows[0]?.idempotency_key;
  if (!key) return;
  const workflowId = key.slice(0, -':follow-up'.length);
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
