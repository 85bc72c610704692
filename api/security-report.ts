// Security-report routes: intake from the bug-bounty platform (idempotent on its report id), one route
// per security-team action (a workflow update), the report itself (a query) and lists (the projection).
import { Router } from 'express';
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
import type { ApiDeps } from './app';
import { HttpError, invalidInput } from './errors';
import { actionRequest, idForExternalId, itemLinks, pageQuery, projectionPage, runAction, startOnce, workflowStateRoute } from './workflow-routes';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

function intakeSchema() {
  return z.strictObject({
    externalId: text(200).optional(),
    title: text(500),
    description: z.string().max(50_000).default(''),
    severity: z.enum(SECURITY_SEVERITIES).default('medium'),
    reporter: text(200),
  });
}

function actionSchemas() {
  const by = text(200);
  return {
    respond: z.strictObject({ by, message: text(50_000) }),
    'request-disclosure': z.strictObject({ by }),
    'mark-scrubbed': z.strictObject({ by }),
    'link-fix': z.strictObject({ by, url: z.url() }),
    'accept-disclosure': z.strictObject({ by }),
    close: z.strictObject({ by }),
  } satisfies Record<SecurityReportAction, z.ZodType>;
}

function listQuerySchema() {
  return z.strictObject({
    status: z.enum(SECURITY_REPORT_STATUSES).optional(),
    breached: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    ...pageQuery(),
  });
}

export function securityReportIdFor(externalId: string | undefined): string {
  return idForExternalId('sr', 'security', externalId);
}

export function securityReportRoutes({ client, pool, policy, taskQueue, temporalUiUrl }: ApiDeps): Router {
  const router = Router();
  const intake = intakeSchema();
  const actions = actionSchemas();
  const listQuery = listQuerySchema();

  const links = itemLinks('/security-reports', SECURITY_REPORT_ACTIONS, securityReportWorkflowId, { client, temporalUiUrl });

  router.post('/', async (req, res) => {
    const parsed = intake.safeParse(req.body ?? {});
    if (!parsed.success) throw invalidInput(parsed.error, 'security report');
    const body = parsed.data;
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
      // The title of an undisclosed vulnerability stays out of the UI's list.
      staticSummary: `Security report (${report.severity}) from ${report.reporter}`,
    });
    res
      .status(created ? 201 : 200)
      .location(`/security-reports/${report.id}`)
      .json({ id: report.id, workflowId, created, links: links(report.id) });
  });

  router.get('/', async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw invalidInput(parsed.error, 'filter');
    const q = parsed.data;
    const rows = await projectionPage(pool, 'security_reports', { status: q.status, breached: q.breached }, 'created_at, id', q);
    res.json({ securityReports: rows.map(projectionRow), limit: q.limit, offset: q.offset });
  });

  router.get('/:id', workflowStateRoute(client, securityReportWorkflowId, securityReportStateQuery, notFound));

  router.post('/:id/:action', async (req, res) => {
    const { id, action, input } = actionRequest(req, SECURITY_REPORT_ACTIONS, actions);
    const update = SECURITY_REPORT_ACTIONS[action] as (typeof SECURITY_REPORT_ACTIONS)['link-fix'];
    res.json(
      await runAction(client.workflow.getHandle(securityReportWorkflowId(id)), update, input as { by: string; url: string }, {
        notFound: () => notFound(id),
        finished: () => 'the report is already published or closed',
      }),
    );
  });

  return router;
}

const notFound = (id: string) =>
  new HttpError(404, `no security report "${id}"; check the id returned by POST /security-reports`);

function projectionRow(r: Record<string, unknown>) {
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
  return {
    id: r.id,
    workflowId: r.workflow_id,
    externalId: r.external_id,
    title: r.title,
    severity: r.severity,
    reporter: r.reporter,
    status: r.status,
    createdAt: iso(r.created_at),
    respondDueAt: iso(r.respond_due_at),
    respondedAt: iso(r.responded_at),
    breached: r.breached,
    disclosureRequestedAt: iso(r.disclosure_requested_at),
    disclosureDueAt: iso(r.disclosure_due_at),
    scrubbed: r.scrubbed,
    fixLink: r.fix_link,
    publishedAt: iso(r.published_at),
    updatedAt: iso(r.updated_at),
  };
}
