// Feature-request and bug-report routes: intake (starts the workflow, idempotent on externalId), one
// route per transition (a workflow update), the item itself (a query), lists (the `work_items`
// projection), and applyTrackerLabels, which the GitLab webhook calls when an issue's labels change.
import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { z } from 'zod';
import { resolveWorkItemPolicy } from '../domain/policy';
import { DESK_BLOCKED, DESK_KIND, DESK_MILESTONE, DESK_STAGE } from '../domain/search-attributes';
import {
  BUG_ACTIONS,
  FEATURE_ACTIONS,
  STAGES_OF,
  trackerLabelsChangedSignal,
  workItemStateQuery,
  workItemWorkflowId,
  type WorkItemIntake,
  type WorkItemKind,
} from '../domain/work-item';
import type { Permission } from '../domain/access';
import { declaredRoutes, type RouteTable } from './access';
import type { ApiDeps } from './app';
import { HttpError } from './errors';
import { email, itemIdFrom, optionalText, parseBody, parseQuery, text } from './input';
import {
  actionRequest,
  compactAnswer,
  idForExternalId,
  idempotencyKeyOf,
  itemLinks,
  pageQuery,
  projectionPage,
  runAction,
  startOnce,
  timelineOf,
  workflowStateRoute,
} from './workflow-routes';

const KINDS = {
  'feature-request': { path: '/feature-requests', noun: 'feature request', idPrefix: 'fr', workflowType: 'featureRequestWorkflow' },
  'bug-report': { path: '/bug-reports', noun: 'bug report', idPrefix: 'br', workflowType: 'bugReportWorkflow' },
} as const;

const ACTIONS_OF: Record<WorkItemKind, Record<string, (typeof FEATURE_ACTIONS)[keyof typeof FEATURE_ACTIONS]>> = {
  'feature-request': FEATURE_ACTIONS,
  'bug-report': BUG_ACTIONS as unknown as Record<string, (typeof FEATURE_ACTIONS)[keyof typeof FEATURE_ACTIONS]>,
};

function intakeSchema() {
  return z.strictObject({
    externalId: optionalText('id'),
    title: text('title'),
    description: text('message', { allowEmpty: true }).default(''),
    requester: z
      .strictObject({ name: optionalText('name'), email: email().optional(), handle: optionalText('name') })
      .default({}),
  });
}

/** The body of every action; the workflow's validators check what depends on the state. */
function actionSchemas(kind: WorkItemKind): Record<string, z.ZodType> {
  const note = optionalText('note');
  const reason = text('reason');
  const shared = {
    'record-game-plan': z.strictObject({ gamePlan: text('message'), ...(kind === 'bug-report' ? { labels: z.array(text('label')).max(20).optional() } : {}) }),
    'start-development': z.strictObject({ note }),
    'submit-for-validation': z.strictObject({ note }),
    'request-changes': z.strictObject({ reason }),
    wait: z.strictObject({ on: z.enum(['input', 'dependency']), reason }),
    block: z.strictObject({ reason }),
    resume: z.strictObject({ note }),
  };
  if (kind === 'bug-report') {
    return {
      ...shared,
      triage: z.strictObject({ valid: z.boolean(), reason: reason.optional() }),
      'confirm-fix': z.strictObject({}),
      complete: z.strictObject({ note }),
    };
  }
  return {
    ...shared,
    triage: z.strictObject({ enoughInformation: z.boolean(), question: optionalText('message') }),
    'provide-information': z.strictObject({ information: text('message') }),
    'check-workload': z.strictObject({ validForWorkload: z.boolean(), reason: reason.optional() }),
    decide: z.strictObject({ technicallyPossible: z.boolean(), feasible: z.boolean(), exceedsCapacity: z.boolean(), note }),
    'set-milestone': z.strictObject({ title: text('title'), startsAt: z.iso.datetime({ offset: true }) }),
    accept: z.strictObject({}),
  };
}

/** What each action needs: agents work items; the requester's own answers may also come through the intake. */
function actionNeeds(kind: WorkItemKind): Record<string, Permission | Permission[]> {
  const needs: Record<string, Permission | Permission[]> = {};
  for (const action of Object.keys(ACTIONS_OF[kind])) needs[action] = 'act';
  if (kind === 'feature-request') needs['provide-information'] = ['act', 'relay-requester'];
  if (kind === 'bug-report') needs['confirm-fix'] = ['act', 'relay-requester'];
  return needs;
}

function listQuerySchema(kind: WorkItemKind) {
  return z.strictObject({
    stage: z.enum(STAGES_OF[kind] as [string, ...string[]]).optional(),
    hold: z.enum(['waiting', 'blocked', 'none']).optional(),
    ...pageQuery(),
  });
}

/** Everything a feature request's (or bug report's) routes accept (the fuzz test walks them). */
export function workItemInputs(kind: WorkItemKind) {
  return { intake: intakeSchema(), actions: actionSchemas(kind), listQuery: listQuerySchema(kind) };
}

/** The same external id always names the same feature request (or bug report). */
export function workItemIdFor(kind: WorkItemKind, externalId: string | undefined): string {
  return idForExternalId(KINDS[kind].idPrefix, kind, externalId);
}

export function workItemRoutes(kind: WorkItemKind, { client, pool, policy, taskQueue, temporalUiUrl, encryptionKeys }: ApiDeps, table: RouteTable): Router {
  const { path, noun, workflowType } = KINDS[kind];
  const { router, get, post } = declaredRoutes(table, path);
  const { intake, actions, listQuery } = workItemInputs(kind);
  const notFound = (id: string) => new HttpError(404, `no ${noun} "${id}"; check the id returned by POST ${path}`);

  const links = itemLinks(path, ACTIONS_OF[kind], (id) => workItemWorkflowId(kind, id), { client, temporalUiUrl });

  post('/', 'file', async (req, res) => {
    const body = parseBody(intake, req.body, noun);
    const item: WorkItemIntake = {
      id: workItemIdFor(kind, body.externalId),
      kind,
      externalId: body.externalId ?? null,
      title: body.title,
      description: body.description,
      requester: body.requester,
    };
    const workflowId = workItemWorkflowId(kind, item.id);
    const created = await startOnce(client, workflowType, {
      taskQueue,
      workflowId,
      args: [{ item, policy: resolveWorkItemPolicy(policy, kind) }],
      typedSearchAttributes: [
        { key: DESK_KIND, value: kind },
        { key: DESK_STAGE, value: 'triage' },
        { key: DESK_MILESTONE, value: 'none' },
        { key: DESK_BLOCKED, value: false },
      ],
      staticSummary: `${item.title} (${noun})`,
    });
    res.locals.audit = { target: item.id };
    if (!created) {
      res.status(200).json({ id: item.id, workflowId, created: false, links: links(item.id) });
      return;
    }
    res.status(201).location(`${path}/${item.id}`).json({ id: item.id, workflowId, created: true, links: links(item.id) });
  });

  get('/', 'read', async (req, res) => {
    const q = parseQuery(listQuery, req.query, 'filter');
    // Feature requests and bug reports share one projection table: the kind is always a filter.
    const filters = { kind, stage: q.stage, hold: q.hold === 'none' ? null : q.hold };
    const rows = await projectionPage(pool, 'work_items', filters, 'created_at, id', q);
    res.json({ items: rows.map(projectionRow), limit: q.limit, offset: q.offset });
  });

  get('/:id', 'read', workflowStateRoute(client, (id) => workItemWorkflowId(kind, id), workItemStateQuery, notFound));

  post('/:id/:action', { byAction: actionNeeds(kind) }, async (req, res) => {
    const { id, action, input } = actionRequest(
      req,
      ACTIONS_OF[kind],
      actions,
      (unknown, known) => `unknown action "${unknown}"; a ${noun} takes ${known}`,
    );
    const handle = client.workflow.getHandle(workItemWorkflowId(kind, id));
    const key = idempotencyKeyOf(req);
    const answer = await runAction(
      handle,
      ACTIONS_OF[kind][action]!,
      input as never,
      {
        notFound: () => notFound(id),
        // A completed item ended in a stage (done, rejected…): say which.
        finished: async (status) =>
          status === 'COMPLETED'
            ? `the ${noun} is ${(await handle.query(workItemStateQuery)).stage}; nothing more can happen to it`
            : `the ${noun}'s workflow is ${status.toLowerCase()}`,
      },
      key ? `${action}:${key}` : undefined,
    );
    res.json({ ...compactAnswer(answer), links: links(id) });
  });

  get('/:id/timeline', 'read', async (req, res) => {
    const id = itemIdFrom(req.params.id);
    const page = parseQuery(z.strictObject(pageQuery()), req.query, 'page');
    const timeline = await timelineOf(pool, 'work_items', id, page, encryptionKeys);
    if (!timeline) throw notFound(id);
    res.json({ id, timeline, ...page });
  });

  return router;
}

/**
 * A GitLab issue's labels changed (the webhook calls this). Finds the open work item mirrored on
 * (project, iid) and signals its workflow with the labels; the workflow moves when the
 * `Workflow::` label is a move it may make now, and otherwise answers on the issue and restores its
 * label. 'unknown-issue' when no open work item is mirrored there (also once it is completed or
 * rejected: its workflow has ended).
 */
export async function applyTrackerLabels(
  deps: { client: Client; pool: Pool },
  change: { project: string; iid: number; labels: string[]; by: string },
): Promise<'signalled' | 'unknown-issue'> {
  const { rows } = await deps.pool.query<{ workflow_id: string }>(
    `SELECT workflow_id FROM work_items
     WHERE tracker_project = $1 AND tracker_iid = $2 AND closed_at IS NULL
     ORDER BY created_at DESC LIMIT 1`,
    [change.project, change.iid],
  );
  const workflowId = rows[0]?.workflow_id;
  if (!workflowId) return 'unknown-issue';
  try {
    await deps.client.workflow
      .getHandle(workflowId)
      .signal(trackerLabelsChangedSignal, { labels: change.labels, by: change.by });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'unknown-issue';
    throw err;
  }
  return 'signalled';
}

/** A projection row as the API shows it (camelCase, ISO times, milliseconds as numbers). */
function projectionRow(r: Record<string, unknown>) {
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
  return {
    id: r.id,
    workflowId: r.workflow_id,
    kind: r.kind,
    externalId: r.external_id,
    title: r.title,
    stage: r.stage,
    hold: r.hold,
    holdReason: r.hold_reason,
    tracker: r.tracker_iid === null ? null : { project: r.tracker_project, iid: r.tracker_iid, webUrl: r.tracker_url },
    milestone: r.milestone === null ? null : { title: r.milestone, startsAt: iso(r.milestone_starts_at) },
    createdAt: iso(r.created_at),
    stageEnteredAt: iso(r.stage_entered_at),
    closedAt: iso(r.closed_at),
    waitingMs: Number(r.waiting_ms),
    blockedMs: Number(r.blocked_ms),
    updatedAt: iso(r.updated_at),
  };
}
