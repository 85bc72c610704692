// Security-report routes: intake from the bug-bounty platform (idempotent on its report id), one route
// per security-team action (a workflow update), the report itself (a query) and lists (the projection).
import { createHash, randomUUID } from 'node:crypto';
import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
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
import { workflowActionError } from './workflow-errors';

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
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  });
}

export function securityReportIdFor(externalId: string | undefined): string {
  if (!externalId) return `sr-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  return `sr-${createHash('sha256').update(`security\0${externalId}`).digest('hex').slice(0, 16)}`;
}

export function securityReportRoutes({ client, pool, policy, taskQueue, temporalUiUrl }: ApiDeps): Router {
  const router = Router();
  const intake = intakeSchema();
  const actions = actionSchemas();
  const listQuery = listQuerySchema();

  const links = (id: string) => ({
    self: `/security-reports/${id}`,
    actions: Object.keys(SECURITY_REPORT_ACTIONS).map((a) => `/security-reports/${id}/${a}`),
    temporalUi: `${temporalUiUrl}/namespaces/${client.options.namespace}/workflows/${securityReportWorkflowId(id)}`,
  });

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
    let created = true;
    try {
      await client.workflow.start<typeof securityReportWorkflow>('securityReportWorkflow', {
        taskQueue,
        workflowId,
        args: [{ report, policy: resolveSecurityPolicy(policy) }],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
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
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      created = false;
    }
    res
      .status(created ? 201 : 200)
      .location(`/security-reports/${report.id}`)
      .json({ id: report.id, workflowId, created, links: links(report.id) });
  });

  router.get('/', async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw invalidInput(parsed.error, 'filter');
    const q = parsed.data;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (column: string, value: unknown) => {
      params.push(value);
      where.push(`${column} = $${params.length}`);
    };
    if (q.status) add('status', q.status);
    if (q.breached !== undefined) add('breached', q.breached);
    params.push(q.limit, q.offset);
    const { rows } = await pool.query(
      `SELECT * FROM security_reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at, id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    res.json({ securityReports: rows.map(projectionRow), limit: q.limit, offset: q.offset });
  });

  router.get('/:id', async (req, res) => {
    try {
      res.json(await client.workflow.getHandle(securityReportWorkflowId(req.params.id)).query(securityReportStateQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(req.params.id);
      throw err;
    }
  });

  router.post('/:id/:action', async (req, res) => {
    const { id, action } = req.params;
    if (!(action in SECURITY_REPORT_ACTIONS)) {
      throw new HttpError(404, `unknown action "${action}"; use one of ${Object.keys(SECURITY_REPORT_ACTIONS).join(', ')}`);
    }
    const parsed = actions[action as SecurityReportAction].safeParse(req.body ?? {});
    if (!parsed.success) throw invalidInput(parsed.error, `${action} request`);
    const handle = client.workflow.getHandle(securityReportWorkflowId(id));
    try {
      const update = SECURITY_REPORT_ACTIONS[action as SecurityReportAction] as (typeof SECURITY_REPORT_ACTIONS)['link-fix'];
      res.json(await handle.executeUpdate(update, { args: [parsed.data as { by: string; url: string }] }));
    } catch (err) {
      throw await workflowActionError(err, handle, notFound(id), 'the report is already published or closed');
    }
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
