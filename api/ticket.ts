// Ticket routes: intake (starts the workflow), one route per agent/requester action (a workflow
// update), the ticket itself (a workflow query) and lists (the PostgreSQL projection).
import type { Request, Router } from 'express';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { CHANNELS, resolveTicketPolicy } from '../domain/policy';
import {
  DESK_ASSIGNEE,
  DESK_BREACHED,
  DESK_CHANNEL,
  DESK_KIND,
  DESK_PRIORITY,
  DESK_STATUS,
  DESK_TIER,
} from '../domain/search-attributes';
import {
  MESSAGE_FIELDS,
  PRIORITIES,
  TICKET_ACTIONS,
  TICKET_DONE_STATUSES,
  TICKET_STATUSES,
  takeUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  type MessageRef,
  type TicketAction,
  type TicketActionResult,
  type TicketIntake,
  type TicketView,
} from '../domain/ticket';
import type { Pool } from 'pg';
import { discardMessage, messagesOf, storeMessage } from '../db/messages';
import { unsealed } from '../db/sealed';
import type { ticketWorkflow } from '../workflows/ticket';
import type { Permission } from '../domain/access';
import { declaredRoutes, forbidden, may, type RouteTable } from './access';
import type { ApiDeps } from './app';
import { HttpError } from './errors';
import { startIncident } from './incident';
import { code, email, itemIdFrom, optionalText, parseBody, parseQuery, text, timeZone } from './input';
import {
  actingName,
  actionRequest,
  compactAnswer,
  idForExternalId,
  idempotencyKeyOf,
  itemLinks,
  pageQuery,
  projectionPage,
  redacted,
  refuseActorFields,
  runAction,
  startOnce,
  timelineOf,
  workflowStateRoute,
} from './workflow-routes';

const tier = z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'tier must be 1, 2 or 3' });

function intakeSchema() {
  return z.strictObject({
    externalId: optionalText('id'),
    channel: z.enum(CHANNELS).default('helpdesk'),
    tier: tier.default(1),
    priority: z.enum(PRIORITIES).default('normal'),
    subject: text('subject'),
    description: text('message', { allowEmpty: true }).default(''),
    requester: z
      .strictObject({
        name: optionalText('name'),
        email: email().optional(),
        handle: optionalText('name'),
        timeZone: timeZone().optional(),
      })
      .default({}),
    region: code().optional(),
    private: z.boolean().default(false),
    // Where answers to the requester go back to: the Zendesk ticket or the Slack conversation.
    origin: z
      .discriminatedUnion('system', [
        z.strictObject({ system: z.literal('zendesk'), ticketId: text('id') }),
        z.strictObject({ system: z.literal('slack'), channel: text('id'), threadTs: optionalText('id'), user: text('id') }),
      ])
      .optional(),
  });
}

/** The body each action takes; who acts (`by`) is the caller's credential, never the body. */
function actionSchemas() {
  return {
    acknowledge: z.strictObject({}),
    reply: z.strictObject({ role: z.enum(['agent', 'requester']).default('agent'), message: text('message') }),
    assign: z.strictObject({ assignee: text('name') }),
    'change-tier': z.strictObject({ tier, reason: text('reason') }),
    'wait-on-requester': z.strictObject({ question: text('message') }),
    'hand-off': z.strictObject({ team: text('name'), reason: text('reason') }),
    resolve: z.strictObject({ resolution: text('message') }),
    reopen: z.strictObject({ reason: text('reason') }),
    close: z.strictObject({}),
    satisfaction: z.strictObject({
      resolved: z.boolean(),
      score: z.number().int().min(1).max(5),
      comment: optionalText('comment'),
    }),
    escalate: z.strictObject({ reason: text('reason') }),
  } satisfies Record<TicketAction, z.ZodType>;
}

/** What each action needs (api/access.ts); `reply` as the requester and `assign` to another are checked in the route. */
export const TICKET_ACTION_NEEDS: Record<TicketAction, Permission | Permission[]> = {
  acknowledge: 'act',
  reply: ['act', 'relay-requester'],
  assign: 'act',
  'change-tier': 'supervise',
  'wait-on-requester': 'act',
  'hand-off': 'act',
  resolve: 'act',
  reopen: 'act',
  close: 'act',
  satisfaction: 'relay-requester',
  escalate: 'supervise',
};

const DONE_STATUSES: readonly string[] = TICKET_DONE_STATUSES;
const OPEN_STATUSES: readonly string[] = TICKET_STATUSES.filter((s) => !DONE_STATUSES.includes(s));

function listQuerySchema() {
  const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
  return z.strictObject({
    status: z.enum(TICKET_STATUSES).optional(),
    tier: z.coerce.number().pipe(tier).optional(),
    channel: z.enum(CHANNELS).optional(),
    breached: bool.optional(),
    assignee: optionalText('name'),
    priority: z.enum(PRIORITIES).optional(),
    region: code().optional(),
    /** Open: not resolved or closed yet (what the backlog counts). */
    open: bool.optional(),
    createdFrom: z.iso.datetime({ offset: true, error: 'must be an instant such as 2026-11-02T00:00:00Z' }).optional(),
    createdTo: z.iso.datetime({ offset: true, error: 'must be an instant such as 2026-11-02T00:00:00Z' }).optional(),
    ...pageQuery(),
  });
}

/** Everything the ticket routes accept, one schema per body and query (the fuzz test walks them). */
export function ticketInputs() {
  return {
    intake: intakeSchema(),
    actions: actionSchemas(),
    listQuery: listQuerySchema(),
    next: z.strictObject({}),
  };
}

/** The same external id on the same channel always names the same ticket. */
export function ticketIdFor(channel: string, externalId: string | undefined): string {
  return idForExternalId('tk', channel, externalId);
}

/** What a caller sends for an action: the HTTP body, with a message's body as text. */
type BodyOf<A extends TicketAction> = z.output<ReturnType<typeof actionSchemas>[A]>;
export type ActionBody<A extends TicketAction> = (string extends keyof BodyOf<A> ? unknown : BodyOf<A>) & { by: string };

/** What a caller (the API, a webhook) knows about a new ticket; the id follows from it. */
export type NewTicket = Omit<TicketIntake, 'id' | 'externalId'> & { externalId?: string | null };

type IntakeDeps = Pick<ApiDeps, 'client' | 'policy' | 'taskQueue'>;

/** The options every ticket workflow starts with, for a plain start and a signal-with-start alike. */
export function ticketStartOptions({ policy, taskQueue }: Omit<IntakeDeps, 'client'>, ticket: TicketIntake) {
  return {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(policy, ticket.channel) }] as Parameters<typeof ticketWorkflow>,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: DESK_KIND, value: 'ticket' },
      { key: DESK_STATUS, value: 'open' },
      { key: DESK_TIER, value: ticket.tier },
      { key: DESK_CHANNEL, value: ticket.channel },
      { key: DESK_PRIORITY, value: ticket.priority },
      { key: DESK_ASSIGNEE, value: 'unassigned' },
      { key: DESK_BREACHED, value: false },
    ],
    // Operators see the summary in the UI's list: a private ticket's subject stays out of it.
    staticSummary: ticket.private
      ? `Private ${ticket.channel} ticket, tier ${ticket.tier}`
      : `${ticket.subject} (${ticket.channel}, tier ${ticket.tier})`,
  };
}

/** The ticket a caller's request becomes: its id follows from the channel and the external id. */
export function ticketFrom(request: NewTicket): TicketIntake {
  return { ...request, id: ticketIdFor(request.channel, request.externalId ?? undefined), externalId: request.externalId ?? null };
}

/**
 * Files a ticket: starts its workflow, or finds the one already started for the same external id on
 * the same channel (`created: false`). Shared by POST /tickets and the helpdesk and chat webhooks.
 */
export async function fileTicket(
  { client, policy, taskQueue }: IntakeDeps,
  request: NewTicket,
): Promise<{ id: string; workflowId: string; created: boolean }> {
  const ticket = ticketFrom(request);
  const options = ticketStartOptions({ policy, taskQueue }, ticket);
  const created = await startOnce<typeof ticketWorkflow>(client, 'ticketWorkflow', options);
  return { id: ticket.id, workflowId: options.workflowId, created };
}

/**
 * Runs one agent's action on a ticket (a workflow update) and answers what changed, or throws an
 * HttpError a person can act on: 404 unknown ticket, 409 not allowed now, 400 invalid. A message's
 * body (a reply, a question, a resolution) is stored first; the workflow gets its reference, and a
 * refused action leaves no message behind. With an idempotency key a retried request has one effect.
 */
export async function actOnTicket<A extends TicketAction>(
  { client, pool, encryptionKeys }: Pick<ApiDeps, 'client' | 'pool' | 'encryptionKeys'>,
  id: string,
  action: A,
  body: ActionBody<A>,
  idempotencyKey?: string,
  /** The ticket's facts as the caller looks them up (once, and only when needed); looked up here otherwise. */
  facts: () => Promise<TicketFacts | null> = () => ticketFacts({ client, pool }, id),
): Promise<TicketActionResult> {
  const workflowId = ticketWorkflowId(id);
  const field = Object.hasOwn(MESSAGE_FIELDS, action) ? MESSAGE_FIELDS[action as keyof typeof MESSAGE_FIELDS] : undefined;
  let input: Record<string, unknown> = body as Record<string, unknown>;
  let stored: MessageRef | undefined;
  if (field) {
    const by = String(input.by);
    const role = input.role === 'requester' ? 'requester' : 'agent';
    stored = await storeMessage(
      pool,
      {
        workflowId,
        author: by,
        role,
        body: String(input[field]),
        // A ticket nobody knows is taken as private: sealing a public one's message costs its readers nothing.
        private: (await facts())?.private ?? true,
        ...(idempotencyKey ? { key: `${action}:${idempotencyKey}` } : {}),
      },
      encryptionKeys,
    );
    input = { ...input, [field]: stored };
  }
  // Each action's schema matches its update's argument; the map keeps that pairing in one place.
  const update = TICKET_ACTIONS[action] as (typeof TICKET_ACTIONS)['acknowledge'];
  try {
    const answer = await runAction(
      client.workflow.getHandle(workflowId),
      update,
      input as { by: string },
      {
        notFound: () => notFound(id),
        finished: (status) => `the ticket is ${status === 'COMPLETED' ? 'closed' : status.toLowerCase()}; file a new ticket`,
      },
      idempotencyKey ? `${action}:${idempotencyKey}` : undefined,
    );
    return compactAnswer(answer) as unknown as TicketActionResult;
  } catch (err) {
    // Refused (or no such ticket): the message was never the ticket's. Anything else may have landed.
    if (stored && err instanceof HttpError && err.status < 500) await discardMessage(pool, stored.id).catch(() => undefined);
    throw err;
  }
}

/** Whether a ticket is private and who holds it: what decides who may read it, act on it, and whether its words are sealed. */
export interface TicketFacts {
  private: boolean;
  assignee: string | null;
}

/**
 * A ticket's facts from its projection row, or before its first projection write from its workflow;
 * null when there is no such ticket. One whose workflow cannot answer now is taken as private and
 * held by nobody: its words are sealed and no agent is let in on a guess.
 */
export async function ticketFacts({ client, pool }: Pick<ApiDeps, 'client' | 'pool'>, id: string): Promise<TicketFacts | null> {
  const { rows } = await pool.query<TicketFacts>('SELECT private, assignee FROM tickets WHERE id = $1', [id]);
  if (rows[0]) return rows[0];
  try {
    const view = (await client.workflow.getHandle(ticketWorkflowId(id)).query(ticketStateQuery)) as TicketView;
    return { private: view.ticket.private, assignee: view.assignee };
  } catch (err) {
    return err instanceof WorkflowNotFoundError ? null : { private: true, assignee: null };
  }
}

/** Stores a requester's message that came through the helpdesk or chat, keyed by the sender's own id. */
export function storeRequesterMessage(
  { pool, encryptionKeys }: Pick<ApiDeps, 'pool' | 'encryptionKeys'>,
  message: { ticketId: string; private: boolean; body: string; key: string; source: string },
): Promise<MessageRef> {
  const { ticketId, body, key, source } = message;
  return storeMessage(
    pool,
    { workflowId: ticketWorkflowId(ticketId), author: `requester via ${source}`, role: 'requester', body, key, private: message.private },
    encryptionKeys,
  );
}

/** The incident of an emergency ticket: its id follows from the ticket's, so a retry finds the same one. */
async function raiseIncidentFor(ticketId: string, ticket: NewTicket, deps: IntakeDeps) {
  const incidentId = `in-${ticketId}`;
  const { workflowId, created } = await startIncident(deps, {
    id: incidentId,
    externalId: ticket.externalId ?? null,
    title: ticket.subject,
    description: ticket.description,
    severity: 'critical',
    // The external id is only an idempotency key; the customer's Zendesk ticket is where it came from.
    customerTicketId: ticket.origin?.system === 'zendesk' ? ticket.origin.ticketId : null,
    deskTicketId: ticketId,
    // A private ticket's subject and description stay out of pages, announcements and the UI.
    private: ticket.private,
  });
  return { id: incidentId, workflowId, created, self: `/incidents/${incidentId}` };
}

export function ticketRoutes({ client, pool, policy, taskQueue, temporalUiUrl, encryptionKeys }: ApiDeps, table: RouteTable): Router {
  const { router, get, post } = declaredRoutes(table, '/tickets');
  const { intake, actions, listQuery, next } = ticketInputs();
  const { roles } = table;

  const links = itemLinks('/tickets', TICKET_ACTIONS, ticketWorkflowId, { client, temporalUiUrl });
  /** A private ticket in full for supervisors, security and the agent it is assigned to; redacted for the rest. */
  const seesInFull = (req: Request<any>, ticket: { private?: unknown; assignee?: unknown }) =>
    !ticket.private || may(req, roles, 'read-private') || (ticket.assignee !== null && ticket.assignee === req.principal?.name);

  post('/', 'file', async (req, res) => {
    const ticket = parseBody(intake, req.body, 'ticket');
    // An emergency files a ticket and raises an incident: only an external id lets a retry after a
    // failure in between meet the same ticket and the same incident, instead of filing a second ticket.
    if (ticket.channel === 'emergency' && !ticket.externalId) {
      const message = 'an emergency must be retry-safe: send the externalId your system knows it by';
      throw new HttpError(400, `invalid ticket: externalId: ${message}`, [{ field: 'externalId', message }]);
    }
    const { id, workflowId, created } = await fileTicket({ client, policy, taskQueue }, ticket);
    res.locals.audit = { target: id };
    // An emergency ticket also raises an incident (paging the on-call); starting it again is a no-op.
    const incident =
      ticket.channel === 'emergency' ? await raiseIncidentFor(id, ticket, { client, policy, taskQueue }) : undefined;
    if (created) res.status(201).location(`/tickets/${id}`);
    res.json({ id, workflowId, created, links: links(id), ...(incident ? { incident } : {}) });
  });

  get('/', 'read', async (req, res) => {
    const q = parseQuery(listQuery, req.query, 'filter');
    if (q.open !== undefined && q.status !== undefined) {
      const message = 'give status or open, not both';
      throw new HttpError(400, `invalid filter: open: ${message}`, [{ field: 'open', message }]);
    }
    const filters = {
      tier: q.tier,
      channel: q.channel,
      breached: q.breached,
      assignee: q.assignee === 'unassigned' ? null : q.assignee,
      priority: q.priority,
      region: q.region,
      status: q.open === undefined ? q.status : { in: q.open ? OPEN_STATUSES : DONE_STATUSES },
      created_at: q.createdFrom || q.createdTo ? { gte: q.createdFrom ? new Date(q.createdFrom) : undefined, lt: q.createdTo ? new Date(q.createdTo) : undefined } : undefined,
    };
    // Oldest first: the desk works tickets first in, first out.
    const rows = await projectionPage(pool, 'tickets', filters, 'created_at, id', q);
    // A private ticket's subject and comment are sealed in the row: unsealed only for who sees it in full.
    const shown = rows.map(projectionRow).map((row) => (seesInFull(req, row) ? unsealedRow(row) : redacted(row, REDACTED_ROW, PRIVATE_TICKET)));
    res.json({ tickets: shown, limit: q.limit, offset: q.offset });
  });

  post('/next', 'act', async (req, res) => {
    refuseActorFields(req.body, ['agent'], 'next-ticket request');
    parseBody(next, req.body, 'next-ticket request');
    const agent = actingName(req);
    const ticket = await takeNextTicket(client, pool, agent, may(req, roles, 'read-private'));
    if (ticket) res.locals.audit = { target: ticket.id };
    res.json(ticket ? { ticket } : { ticket: null, message: `no open ticket for ${agent} or unassigned` });
  });

  get(
    '/:id',
    'read',
    workflowStateRoute(client, ticketWorkflowId, ticketStateQuery, notFound, (view: TicketView, req) =>
      seesInFull(req, { private: view.ticket.private, assignee: view.assignee }) ? view : redacted(view as any, REDACTED_VIEW, PRIVATE_TICKET),
    ),
  );

  /** The whole timeline and the conversation are a private ticket's words: only for those who see it in full. */
  async function readableTicket(req: Request<{ id: string }>): Promise<string> {
    const id = itemIdFrom(req.params.id);
    const facts = await ticketFacts({ client, pool }, id);
    if (!facts) throw notFound(id);
    if (!seesInFull(req, facts)) throw forbidden(roles, req.principal!, 'read-private', `ticket ${id} is private: its timeline and messages`);
    return id;
  }

  /**
   * Being a private ticket's assignee opens it, so who holds a ticket is a supervisor's to change: an
   * agent takes no private ticket and no ticket someone else holds, and acts on a private ticket only
   * when it is theirs. The requester's own answers (through the intake) are theirs to give.
   */
  async function checkHolder(req: Request<any>, id: string, action: TicketAction, forRequester: boolean, facts: () => Promise<TicketFacts | null>): Promise<void> {
    if (forRequester || may(req, roles, 'supervise')) return;
    const ticket = await facts();
    if (!ticket) return; // no such ticket: the workflow answers 404
    const me = req.principal!.name;
    if (action === 'assign' && ticket.assignee !== null && ticket.assignee !== me) {
      throw forbidden(roles, req.principal!, 'supervise', `ticket ${id} is ${ticket.assignee}'s: reassigning it`);
    }
    if (ticket.private && !may(req, roles, 'read-private') && (action === 'assign' || ticket.assignee !== me)) {
      throw forbidden(roles, req.principal!, 'read-private', `ticket ${id} is private: ${action === 'assign' ? 'taking it' : 'acting on it unless it is yours'}`);
    }
  }

  // The whole timeline (the workflow keeps the latest entries) and the conversation's message bodies.
  get('/:id/timeline', 'read', async (req, res) => {
    const page = parseQuery(z.strictObject(pageQuery()), req.query, 'page');
    const id = await readableTicket(req);
    const timeline = await timelineOf(pool, 'tickets', id, page, encryptionKeys);
    if (!timeline) throw notFound(id);
    res.json({ id, timeline, ...page });
  });
  get('/:id/messages', 'read', async (req, res) => {
    const page = parseQuery(z.strictObject(pageQuery()), req.query, 'page');
    const id = await readableTicket(req);
    const messages = await messagesOf(pool, 'tickets', id, page, encryptionKeys);
    res.json({ id, messages: messages.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() })), ...page });
  });

  post('/:id/:action', { byAction: TICKET_ACTION_NEEDS }, async (req, res) => {
    const { id, action, input } = actionRequest(req, TICKET_ACTIONS, actions);
    // Speaking for the requester is the intake's (a form, the helpdesk); assigning to someone else, a supervisor's.
    if (action === 'reply' && input.role === 'requester' && !may(req, roles, 'relay-requester')) {
      throw forbidden(roles, req.principal!, 'relay-requester', 'a reply as the requester');
    }
    if (action === 'reply' && input.role !== 'requester' && !may(req, roles, 'act')) {
      throw forbidden(roles, req.principal!, 'act', "an agent's reply");
    }
    if (action === 'assign' && input.assignee !== input.by && !may(req, roles, 'supervise')) {
      throw forbidden(roles, req.principal!, 'supervise', 'assigning a ticket to someone else');
    }
    // Looked up at most once, and only when needed (who may act on it, whether its message is sealed):
    // before its first projection write, it costs a query to the workflow.
    let lookup: Promise<TicketFacts | null> | undefined;
    const facts = () => (lookup ??= ticketFacts({ client, pool }, id));
    await checkHolder(req, id, action, input.role === 'requester' || action === 'satisfaction', facts);
    const answer = await actOnTicket({ client, pool, encryptionKeys }, id, action, input as ActionBody<TicketAction>, idempotencyKeyOf(req), facts);
    res.json({ ...answer, links: links(id) });
  });

  function unsealedRow(row: ReturnType<typeof projectionRow>) {
    const satisfaction = row.satisfaction as { comment?: string } | null;
    return {
      ...row,
      subject: unsealed(row.subject as string, encryptionKeys),
      satisfaction: satisfaction?.comment === undefined ? satisfaction : { ...satisfaction, comment: unsealed(satisfaction.comment, encryptionKeys) },
    };
  }

  return router;
}

const PRIVATE_TICKET = 'a private ticket: shown in full to supervisors, security and the agent it is assigned to';
/** What anyone who may read sees of a private ticket: where it stands and its clocks. */
const REDACTED_VIEW = ['id', 'workflowId', 'status', 'tier', 'assignee', 'createdAt', 'acknowledgedAt', 'resolvedAt', 'closedAt', 'breached', 'clocks', 'version'];
const REDACTED_ROW = ['id', 'workflowId', 'channel', 'tier', 'priority', 'status', 'assignee', 'private', 'createdAt', 'acknowledgedAt', 'resolvedAt', 'closedAt', 'acknowledgeDueAt', 'resolutionDueAt', 'breached', 'escalations', 'region', 'firstReplyMs', 'resolutionMs', 'acknowledgeSla', 'resolutionSla', 'updatedAt'];

const notFound = (id: string) => new HttpError(404, `no ticket "${id}"; check the id returned by POST /tickets`);

/** How many unassigned tickets to try when others take the oldest ones at the same moment. */
const TAKE_ATTEMPTS = 10;

/**
 * First in, first out: the agent's own oldest ticket that needs work, else the oldest unassigned one,
 * which becomes theirs. A ticket someone else took in the meantime is refused by its workflow, and the
 * next oldest is tried.
 */
async function takeNextTicket(client: ApiDeps['client'], pool: ApiDeps['pool'], agent: string, mayTakePrivate: boolean): Promise<TicketView | null> {
  // An unassigned private ticket goes to whoever may read private tickets; an agent is given one by a supervisor.
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM tickets
      WHERE status IN ('open', 'acknowledged') AND (assignee = $1 OR (assignee IS NULL AND (NOT private OR $3)))
      ORDER BY (assignee IS NULL), created_at, id
      LIMIT $2`,
    [agent, TAKE_ATTEMPTS, mayTakePrivate],
  );
  for (const { id } of rows) {
    try {
      const handle = client.workflow.getHandle(ticketWorkflowId(id));
      await runAction(handle, takeUpdate, { agent }, { notFound: () => notFound(id), finished: () => 'closed' });
      // The agent gets the whole ticket to work on (an action itself answers small).
      return (await handle.query(ticketStateQuery)) as TicketView;
    } catch (err) {
      // Taken, resolved or closed meanwhile, or a stale row whose workflow is gone: try the next one.
      if (err instanceof HttpError && (err.status === 409 || err.status === 404)) continue;
      throw err;
    }
  }
  return null;
}

/** A projection row as the API shows it (camelCase, ISO times). */
function projectionRow(r: Record<string, unknown>) {
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
  return {
    id: r.id,
    workflowId: r.workflow_id,
    externalId: r.external_id,
    channel: r.channel,
    tier: r.tier,
    priority: r.priority,
    status: r.status,
    assignee: r.assignee,
    private: r.private,
    subject: r.subject,
    createdAt: iso(r.created_at),
    acknowledgedAt: iso(r.acknowledged_at),
    resolvedAt: iso(r.resolved_at),
    closedAt: iso(r.closed_at),
    acknowledgeDueAt: iso(r.acknowledge_due_at),
    resolutionDueAt: iso(r.resolution_due_at),
    breached: r.breached,
    escalations: r.escalations,
    satisfaction: r.satisfaction,
    region: r.region ?? null,
    // What the reports count (README "Reports"): the measured times and each target's standing.
    firstReplyMs: r.first_reply_ms ?? null,
    resolutionMs: r.resolution_ms ?? null,
    acknowledgeSla: r.acknowledge_sla ?? null,
    resolutionSla: r.resolution_sla ?? null,
    updatedAt: iso(r.updated_at),
  };
}
