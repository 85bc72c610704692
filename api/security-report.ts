// Security-report routes: intake from the bug-bounty platform (idempotent on its report id), one route
// per security-team action (a workflow update), the report itself (a query) and lists (the projection).
import type { Request, Router } from 'express';
import { z } from 'zod';
import { DESK_BREACHED, DESK_KIND, DESK_LEVEL, DESK_SEVERITY, DESK_STATUS } from '../domain/search-attributes';
import {
  SECURITY_REPORT_ACTIONS,
  SECURITY_REPORT_STATUSES,
  SECURITY_SEVERITIES,
  resolveSecurityPolicy,
  securityReportStateQuery,
  securityReportWorkflowId,
  type SecurityReportAction,
  type SecurityReportIntake,
} from '../domain/security-report';
import type { securityReportWorkflow } from '../workflows/security-report';
import type { Permission } from '../domain/access';
import { unsealed } from '../db/sealed';
import { declaredRoutes, may, type RouteTable } from './access';
import type { ApiDeps } from './app';
import { HttpError } from './errors';
import { itemIdFrom, link, optionalText, parseBody, parseQuery, text } from './input';
import {
  actionRequest,
  compactAnswer,
  idForExternalId,
  idempotencyKeyOf,
  itemLinks,
  pageQuery,
  projectionPage,
  redacted,
  runAction,
  startOnce,
  timelineOf,
  workflowStateRoute,
} from './workflow-routes';

function intakeSchema() {
  return z.strictObject({
    externalId: optionalText('id'),
    title: text('title'),
    description: text('message', { allowEmpty: true }).default(''),
    severity: z.enum(SECURITY_SEVERITIES).default('medium'),
    reporter: text('name'),
  });
}

/** The body each action takes; who acts (`by`) is the caller's credential. */
function actionSchemas() {
  return {
    respond: z.strictObject({ message: text('message') }),
    'request-disclosure': z.strictObject({}),
    'mark-scrubbed': z.strictObject({}),
    'link-fix': z.strictObject({ url: link() }),
    'accept-disclosure': z.strictObject({}),
    close: z.strictObject({}),
  } satisfies Record<SecurityReportAction, z.ZodType>;
}

/** The security team's, every one; the reporter's request for disclosure may also come from the intake (the bug-bounty platform). */
export const SECURITY_REPORT_ACTION_NEEDS: Record<SecurityReportAction, Permission | Permission[]> = {
  respond: 'security',
  'request-disclosure': ['security', 'relay-requester'],
  'mark-scrubbed': 'security',
  'link-fix': 'security',
  'accept-disclosure': 'security',
  close: 'security',
};

function listQuerySchema() {
  return z.strictObject({
    status: z.enum(SECURITY_REPORT_STATUSES).optional(),
    breached: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    ...pageQuery(),
  });
}

/** Everything the security-report routes accept (the fuzz test walks them). */
export function securityReportInputs() {
  return { intake: intakeSchema(), actions: actionSchemas(), listQuery: listQuerySchema() };
}

export function securityReportIdFor(externalId: string | undefined): string {
  return idForExternalId('sr', 'security', externalId);
}

export function securityReportRoutes({ client, pool, policy, taskQueue, temporalUiUrl, encryptionKeys }: ApiDeps, table: RouteTable): Router {
  const { router, get, post } = declaredRoutes(table, '/security-reports');
  const { intake, actions, listQuery } = securityReportInputs();
  const { roles } = table;
  /** An undisclosed vulnerability and its reporter are the security team's to read. */
  const inFull = (req: Request<any>) => may(req, roles, 'security');

  const links = itemLinks('/security-reports', SECURITY_REPORT_ACTIONS, securityReportWorkflowId, { client, temporalUiUrl });

  post('/', 'file', async (req, res) => {
    const body = parseBody(intake, req.body, 'security report');
    const report: SecurityReportIntake = {
      id: securityReportIdFor(body.externalId),
      externalId: body.externalId ?? null,
      title: body.title,
      description: body.description,
      severity: body.severity,
      reporter: body.reporter,
    };
    const workflowId = securityReportWorkflowId(report.id);
    const created = await startOnce<typeof securityReportWorkflow>(client, 'securityReportWorkflow', {
      taskQueue,
      workflowId,
      args: [{ report, policy: resolveSecurityPolicy(policy) }],
      typedSearchAttributes: [
        { key: DESK_KIND, value: 'security-report' },
        { key: DESK_STATUS, value: 'new' },
        { key: DESK_SEVERITY, value: report.severity },
        { key: DESK_BREACHED, value: false },
        { key: DESK_LEVEL, value: 0 },
      ],
      // The title of an undisclosed vulnerability and its reporter's name stay out of the UI's list.
      staticSummary: `Security report (${report.severity})`,
    });
    res.locals.audit = { target: report.id };
    res
      .status(created ? 201 : 200)
      .location(`/security-reports/${report.id}`)
      .json({ id: report.id, workflowId, created, links: links(report.id) });
  });

  get('/', 'read', async (req, res) => {
    const q = parseQuery(listQuery, req.query, 'filter');
    const rows = await projectionPage(pool, 'security_reports', { status: q.status, breached: q.breached }, 'created_at, id', q);
    // The title, the reporter and the fix are sealed in the row: unsealed for the security team only.
    const shown = rows.map(projectionRow).map((row) =>
      inFull(req)
        ? { ...row, title: unsealed(row.title, encryptionKeys), reporter: unsealed(row.reporter, encryptionKeys), fixLink: unsealed(row.fixLink, encryptionKeys) }
        : redacted(row, REDACTED_ROW, SEALED_REPORT),
    );
    res.json({ securityReports: shown, limit: q.limit, offset: q.offset });
  });

  get(
    '/:id',
    'read',
    workflowStateRoute(client, securityReportWorkflowId, securityReportStateQuery, notFound, (view, req) =>
      inFull(req) ? view : redacted(view, REDACTED_VIEW, SEALED_REPORT),
    ),
  );

  get('/:id/timeline', 'security', async (req, res) => {
    const id = itemIdFrom(req.params.id);
    const page = parseQuery(z.strictObject(pageQuery()), req.query, 'page');
    const timeline = await timelineOf(pool, 'security_reports', id, page, encryptionKeys);
    if (!timeline) throw notFound(id);
    res.json({ id, timeline, ...page });
  });

  post('/:id/:action', { byAction: SECURITY_REPORT_ACTION_NEEDS }, async (req, res) => {
    const { id, action, input } = actionRequest(req, SECURITY_REPORT_ACTIONS, actions);
    const key = idempotencyKeyOf(req);
    const update = SECURITY_REPORT_ACTIONS[action] as (typeof SECURITY_REPORT_ACTIONS)['link-fix'];
    const answer = await runAction(
      client.workflow.getHandle(securityReportWorkflowId(id)),
      update,
      input as { by: string; url: string },
      { notFound: () => notFound(id), finished: () => 'the report is already published or closed' },
      key ? `${action}:${key}` : undefined,
    );
    res.json({ ...compactAnswer(answer), links: links(id) });
  });

  return router;
}

const notFound = (id: string) =>
  new HttpError(404, `no security report "${id}"; check the id returned by POST /security-reports`);

const SEALED_REPORT = 'a security report: shown in full to the security team only';
const REDACTED_VIEW = ['id', 'workflowId', 'status', 'severity', 'createdAt', 'response', 'breached', 'version'];
const REDACTED_ROW = ['id', 'workflowId', 'severity', 'status', 'createdAt', 'respondDueAt', 'respondedAt', 'breached', 'disclosureDueAt', 'publishedAt', 'updatedAt'];

function projectionRow(r: Record<string, unknown>) {
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
  return {
    id: r.id,
    workflowId: r.workflow_id,
    externalId: r.external_id,
    title: r.title as string,
    severity: r.severity,
    reporter: r.reporter as string,
    status: r.status,
    createdAt: iso(r.created_at),
    respondDueAt: iso(r.respond_due_at),
    respondedAt: iso(r.responded_at),
    breached: r.breached,
    disclosureRequestedAt: iso(r.disclosure_requested_at),
    disclosureDueAt: iso(r.disclosure_due_at),
    scrubbed: r.scrubbed,
    fixLink: r.fix_link as string | null,
    publishedAt: iso(r.published_at),
    updatedAt: iso(r.updated_at),
  };
}
