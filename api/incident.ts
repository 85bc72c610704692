// Incident routes: intake (starts the workflow, idempotent on the external id), one route per agent
// action (a workflow update), the incident itself (a query) and lists (the PostgreSQL projection).
// startIncident() is also how an emergency ticket raises its incident.
import type { Request, Router } from 'express';
import { z } from 'zod';
import {
  INCIDENT_ACTIONS,
  INCIDENT_SEVERITIES,
  INCIDENT_STATUSES,
  incidentStateQuery,
  incidentWorkflowId,
  publicIncidentTitle,
  resolveIncidentPolicy,
  type IncidentAction,
  type IncidentIntake,
  type IncidentView,
} from '../domain/incident';
import { DESK_CRISIS, DESK_KIND, DESK_LEVEL, DESK_SEVERITY, DESK_STATUS } from '../domain/search-attributes';
import type { incidentWorkflow } from '../workflows/incident';
import type { Permission } from '../domain/access';
import { declaredRoutes, forbidden, may, type RouteTable } from './access';
import type { ApiDeps } from './app';
import { HttpError } from './errors';
import { itemIdFrom, optionalText, parseBody, parseQuery, text } from './input';
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
    severity: z.enum(INCIDENT_SEVERITIES).default('critical'),
    customerTicketId: optionalText('id'),
    // A private emergency's title and description stay out of pages, chat, the tracker and the UI.
    private: z.boolean().default(false),
  });
}

/** The body each action takes; who acts (`by`) is the caller's credential. */
function actionSchemas() {
  return {
    acknowledge: z.strictObject({}),
    'add-responder': z.strictObject({ responder: text('name') }),
    'declare-crisis': z.strictObject({ reason: text('reason') }),
    resolve: z.strictObject({ resolution: text('message') }),
    'close-follow-up': z.strictObject({}),
  } satisfies Record<IncidentAction, z.ZodType>;
}

function listQuerySchema() {
  return z.strictObject({
    status: z.enum(INCIDENT_STATUSES).optional(),
    severity: z.enum(INCIDENT_SEVERITIES).optional(),
    crisis: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    ...pageQuery(),
  });
}

/** Everything the incident routes accept (the fuzz test walks them). */
export function incidentInputs() {
  return { intake: intakeSchema(), actions: actionSchemas(), listQuery: listQuerySchema() };
}

/** The same external id always names the same incident. */
export function incidentIdFor(externalId: string | undefined): string {
  return idForExternalId('in', 'incident', externalId);
}

/** Starts the incident's workflow; `created: false` when it already runs (or ran). */
export async function startIncident(
  { client, policy, taskQueue }: Pick<ApiDeps, 'client' | 'policy' | 'taskQueue'>,
  incident: IncidentIntake,
): Promise<{ workflowId: string; created: boolean }> {
  const workflowId = incidentWorkflowId(incident.id);
  const created = await startOnce<typeof incidentWorkflow>(client, 'incidentWorkflow', {
    taskQueue,
    workflowId,
    args: [{ incident, policy: resolveIncidentPolicy(policy) }],
    typedSearchAttributes: [
      { key: DESK_KIND, value: 'incident' },
      { key: DESK_STATUS, value: 'triggered' },
      { key: DESK_SEVERITY, value: incident.severity },
      { key: DESK_LEVEL, value: 0 },
      { key: DESK_CRISIS, value: false },
    ],
    // Operators see the summary in the UI's list: a private emergency's title stays out of it.
    staticSummary: incident.private
      ? `${publicIncidentTitle(incident)} (${incident.severity})`
      : `Emergency: ${incident.title} (${incident.severity})`,
  });
  return { workflowId, created };
}

export function incidentRoutes(deps: ApiDeps, table: RouteTable): Router {
  const { client, pool } = deps;
  const { router, get, post } = declaredRoutes(table, '/incidents');
  const { intake, actions, listQuery } = incidentInputs();
  const { roles } = table;

  const links = itemLinks('/incidents', INCIDENT_ACTIONS, incidentWorkflowId, deps);
  /**
   * A private emergency in full only for those who may read private items: acknowledging or being
   * added as a responder is open to every agent, so neither may open it (the on-call still acts on
   * it from the redacted view; a supervisor sees what is on fire).
   */
  const seesInFull = (req: Request<any>, isPrivate: boolean | undefined) => !isPrivate || may(req, roles, 'read-private');

  post('/', 'file', async (req, res) => {
    const body = parseBody(intake, req.body, 'incident');
    const incident: IncidentIntake = {
      id: incidentIdFor(body.externalId),
      externalId: body.externalId ?? null,
      title: body.title,
      description: body.description,
      severity: body.severity,
      customerTicketId: body.customerTicketId ?? null,
      deskTicketId: null,
      private: body.private,
    };
    const { workflowId, created } = await startIncident(deps, incident);
    res.locals.audit = { target: incident.id };
    res
      .status(created ? 201 : 200)
      .location(`/incidents/${incident.id}`)
      .json({ id: incident.id, workflowId, created, links: links(incident.id) });
  });

  // The list holds no private words: a private emergency's title there is already the neutral one.
  get('/', 'read', async (req, res) => {
    const q = parseQuery(listQuery, req.query, 'filter');
    // Newest first: the latest emergency is the one on fire.
    const rows = await projectionPage(
      pool,
      'incidents',
      { status: q.status, severity: q.severity, crisis: q.crisis },
      'created_at DESC, id',
      q,
    );
    res.json({ incidents: rows.map(projectionRow), limit: q.limit, offset: q.offset });
  });

  get(
    '/:id',
    'read',
    workflowStateRoute(client, incidentWorkflowId, incidentStateQuery, notFound, (view: IncidentView, req) =>
      seesInFull(req, view.incident.private) ? view : redacted(view as any, REDACTED_VIEW, PRIVATE_INCIDENT),
    ),
  );

  // A private emergency's entries are sealed: the timeline is read (and unsealed) only for those who see it in full.
  get('/:id/timeline', 'read', async (req, res) => {
    const id = itemIdFrom(req.params.id);
    const page = parseQuery(z.strictObject(pageQuery()), req.query, 'page');
    // The projection row decides (never a live query that may fail): fail closed.
    const { rows } = await pool.query<{ private: boolean }>('SELECT private FROM incidents WHERE id = $1', [id]);
    if (!rows[0]) throw notFound(id);
    if (!seesInFull(req, rows[0].private)) throw forbidden(roles, req.principal!, 'read-private', `incident ${id} is private: its timeline`);
    const timeline = await timelineOf(pool, 'incidents', id, page, deps.encryptionKeys);
    if (!timeline) throw notFound(id);
    res.json({ id, timeline, ...page });
  });

  post('/:id/:action', { byAction: INCIDENT_ACTION_NEEDS }, async (req, res) => {
    const { id, action, input } = actionRequest(req, INCIDENT_ACTIONS, actions);
    const key = idempotencyKeyOf(req);
    // Each action's schema matches its update's argument; the map keeps that pairing in one place.
    const update = INCIDENT_ACTIONS[action] as (typeof INCIDENT_ACTIONS)['resolve'];
    const answer = compactAnswer(
      await runAction(
        client.workflow.getHandle(incidentWorkflowId(id)),
        update,
        input as { by: string; resolution: string },
        { notFound: () => notFound(id), finished: () => 'the incident is closed' },
        key ? `${action}:${key}` : undefined,
      ),
    );
    // Not a conflict when the paging service (or another agent) acknowledged first: say who.
    const note = answer.alreadyAcknowledged ? { note: `already acknowledged by ${answer.acknowledgedBy} via ${answer.acknowledgedVia}` } : {};
    res.json({ ...answer, ...note, links: links(id) });
  });

  return router;
}

export const INCIDENT_ACTION_NEEDS: Record<IncidentAction, Permission> = {
  acknowledge: 'act',
  'add-responder': 'act',
  'declare-crisis': 'act',
  resolve: 'act',
  'close-follow-up': 'act',
};

const PRIVATE_INCIDENT = 'a private emergency: shown in full to supervisors and security';
const REDACTED_VIEW = ['id', 'workflowId', 'status', 'createdAt', 'level', 'acknowledgedAt', 'acknowledgedBy', 'acknowledgeDueAt', 'breached', 'resolvedAt', 'closedAt', 'version'];

const notFound = (id: string) => new HttpError(404, `no incident "${id}"; check the id returned by POST /incidents`);

function projectionRow(r: Record<string, unknown>) {
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
  return {
    id: r.id,
    workflowId: r.workflow_id,
    externalId: r.external_id,
    title: r.title,
    severity: r.severity,
    status: r.status,
    level: r.level,
    crisis: r.crisis,
    customerTicketId: r.customer_ticket_id,
    deskTicketId: r.desk_ticket_id,
    createdAt: iso(r.created_at),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: iso(r.resolved_at),
    documentUrl: r.document_url,
    followUpUrl: r.follow_up_url,
    followUpClosedAt: iso(r.follow_up_closed_at),
    updatedAt: iso(r.updated_at),
  };
}
