// What the routes of every kind of work (ticket, incident, security report, work item) do alike: name a
// workflow after an external id, start it once, run an action as an update, answer from a query, list a projection.
import { createHash, randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ApplicationFailure, type QueryDefinition, type UpdateDefinition, type Workflow } from '@temporalio/common';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { EncryptionKeys } from '../config/encryption';
import { unsealed } from '../db/sealed';
import { ACTION_NOT_ALLOWED } from '../domain/ticket';
import type { ApiDeps } from './app';
import { describeProblems, HttpError } from './errors';
import { itemIdFrom, parseBody } from './input';
import { idProblem } from '../domain/text-rules';

/** The same external id in the same scope always names the same item; without one, a fresh id. */
export function idForExternalId(prefix: string, scope: string, externalId: string | undefined): string {
  if (!externalId) return `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  return `${prefix}-${createHash('sha256').update(`${scope}\0${externalId}`).digest('hex').slice(0, 16)}`;
}

/** The links an item's answers carry: the item, each of its actions, and its workflow in the Temporal UI. */
export function itemLinks(
  path: string,
  actions: object,
  workflowIdOf: (id: string) => string,
  { client, temporalUiUrl }: Pick<ApiDeps, 'client' | 'temporalUiUrl'>,
) {
  return (id: string) => ({
    self: `${path}/${id}`,
    actions: Object.keys(actions).map((a) => `${path}/${id}/${a}`),
    temporalUi: `${temporalUiUrl}/namespaces/${client.options.namespace}/workflows/${workflowIdOf(id)}`,
  });
}

/**
 * Starts a workflow unless one with its id runs or ever ran (ids are never reused): false then, so a
 * retried intake answers 200 with the same item instead of 201.
 */
export async function startOnce<W extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
): Promise<boolean> {
  try {
    await client.workflow.start<W>(workflowType, {
      ...options,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/**
 * Reads POST /:id/:action: 400 naming `id` for an id that cannot be one, 404 for an action the
 * workflow does not take (`updates` is its actions map), 400 listing every invalid field of the body
 * (checked against that action's schema). `by` is the authenticated principal, never the body's.
 */
export function actionRequest<A extends string>(
  req: Request<{ id: string; action: string }>,
  updates: Record<A, unknown>,
  schemas: Record<A, z.ZodType>,
  unknownAction = (action: string, known: string) => `unknown action "${action}"; use one of ${known}`,
): { id: string; action: A; input: Record<string, unknown> & { by: string } } {
  const id = itemIdFrom(req.params.id);
  const { action } = req.params;
  if (!Object.hasOwn(updates, action)) {
    const message = unknownAction(action, Object.keys(updates).join(', '));
    throw new HttpError(404, message, [{ field: 'action', message }]);
  }
  refuseActorFields(req.body, ['by'], `${action} request`);
  const input = parseBody(schemas[action as A], req.body, `${action} request`) as Record<string, unknown>;
  return { id, action: action as A, input: { ...input, by: actingName(req) } };
}

/** The name the timeline records for the caller: the principal `authenticate` proved. */
export function actingName(req: Request<any>): string {
  if (!req.principal) throw new HttpError(401, 'this needs a credential');
  return req.principal.name;
}

/**
 * Who acts is the credential, not the body: a body naming someone (`by`, `agent`) is refused rather
 * than ignored, so a client that believed it could act as another person learns it cannot.
 */
export function refuseActorFields(body: unknown, fields: string[], what: string): void {
  if (!body || typeof body !== 'object') return;
  const named = fields.filter((field) => Object.hasOwn(body, field));
  if (named.length === 0) return;
  const details = named.map((field) => ({
    field,
    message: 'is who you are signed in as (your credential) and cannot be sent; remove it',
  }));
  throw new HttpError(400, `invalid ${what}: ${describeProblems(details)}`, details);
}

/** What to answer when an action cannot reach its workflow: unknown id, or a workflow that has ended. */
export interface ActionFailures {
  notFound: () => HttpError;
  /** The 409 reason once the workflow is no longer running (its status says how it ended). */
  finished: (status: WorkflowExecutionStatusName) => string | Promise<string>;
}

/**
 * Runs an action (a workflow update) and answers with the update's result, or throws an HttpError a
 * person can act on: 409 with the workflow's reason, 400, 404 unknown, 409 when the workflow has ended.
 */
export async function runAction<Answer, Input>(
  handle: WorkflowHandle,
  update: UpdateDefinition<Answer, [Input]>,
  input: Input,
  failures: ActionFailures,
  /** The same id twice (a retried request with the same Idempotency-Key) is one update, answered twice. */
  updateId?: string,
): Promise<Answer> {
  try {
    return await handle.executeUpdate(update, { args: [input], ...(updateId ? { updateId } : {}) });
  } catch (err) {
    throw await actionError(err, handle, failures);
  }
}

async function actionError(err: unknown, handle: WorkflowHandle, failures: ActionFailures): Promise<unknown> {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    if (err.cause.type === ACTION_NOT_ALLOWED) return new HttpError(409, err.cause.message);
    if (err.cause.type === 'InvalidInput') return new HttpError(400, err.cause.message);
  }
  if (err instanceof WorkflowNotFoundError || (err instanceof Error && /already completed/i.test(err.message))) {
    // An update cannot reach a finished workflow: say so rather than "not found".
    try {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return new HttpError(409, await failures.finished(status.name));
    } catch (describeErr) {
      if (describeErr instanceof WorkflowNotFoundError) return failures.notFound();
      throw describeErr;
    }
  }
  return err;
}

/** GET /:id: the workflow's own answer to its state query; 400 for an id that cannot be one, 404 for one no workflow has. */
export function workflowStateRoute(
  client: Client,
  workflowIdOf: (id: string) => string,
  stateQuery: QueryDefinition<unknown, []>,
  notFound: (id: string) => HttpError,
  /** What this caller may see of the view (a private item's is redacted for most roles). */
  shown: (view: any, req: Request<{ id: string }>) => unknown = (view) => view,
): RequestHandler<{ id: string }> {
  return async (req, res) => {
    const id = itemIdFrom(req.params.id);
    try {
      res.json(shown(await client.workflow.getHandle(workflowIdOf(id)).query(stateQuery), req));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(id);
      throw err;
    }
  };
}

/** What a redacted item keeps: who it is, where it stands and its clocks, nothing a person wrote. */
export function redacted(view: Record<string, unknown>, keep: string[], why: string): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const field of keep) if (field in view) shown[field] = view[field];
  return { ...shown, redacted: why };
}

/** The paging every list takes: ?limit= (1 to 500, 100 by default) and ?offset=. */
export function pageQuery() {
  return {
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  };
}

/**
 * Filters on a projection's columns: a value is equality, undefined leaves a column out, null asks for
 * IS NULL, `{ gte, lt }` a half-open range, `{ in }` one of several values.
 */
export type ColumnFilter = string | number | boolean | null | undefined | { gte?: Date; lt?: Date } | { in: readonly string[] };
export type ColumnFilters = Record<string, ColumnFilter>;

/**
 * One page of a projection table, filtered in the order the filters are named. Table, columns and
 * order come from the code, never from the request; the values go in as parameters.
 */
export async function projectionPage(
  pool: Pool,
  table: string,
  filters: ColumnFilters,
  orderBy: string,
  page: { limit: number; offset: number },
): Promise<Array<Record<string, unknown>>> {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    if (value === null) {
      where.push(`${column} IS NULL`);
      continue;
    }
    if (typeof value === 'object') {
      if ('in' in value) {
        params.push(value.in);
        where.push(`${column} = ANY($${params.length})`);
        continue;
      }
      if (value.gte) where.push(`${column} >= $${params.push(value.gte)}`);
      if (value.lt) where.push(`${column} < $${params.push(value.lt)}`);
      continue;
    }
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  params.push(page.limit, page.offset);
  const { rows } = await pool.query(
    `SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${orderBy} LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return rows;
}

/**
 * The `Idempotency-Key` header of an action: the same key on a retried request gives one effect (the
 * same update, the same stored message). Optional; a bad one is a 400 naming the header. Scoped to the
 * caller's credential and name, so another caller sending the same key acts on its own, never taking
 * the first caller's answer (or dropping its own message).
 */
export function idempotencyKeyOf(req: Request<any>): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  const problem = idProblem(key);
  if (problem) {
    const message = `${problem}; send a short token such as a UUID`;
    throw new HttpError(400, `invalid Idempotency-Key: ${message}`, [{ field: 'Idempotency-Key', message }]);
  }
  const principal = req.principal;
  if (!principal) throw new HttpError(401, 'this needs a credential');
  return `${createHash('sha256').update(`${principal.credential}\0${principal.name}`).digest('hex').slice(0, 16)}:${key}`;
}

/** What an action's answer keeps; a run of the first model answered with its whole view (these are in it). */
const ANSWER_FIELDS = ['id', 'status', 'stage', 'hold', 'tier', 'assignee', 'level', 'crisis', 'version', 'event', 'visible', 'acknowledgedBy', 'acknowledgedVia', 'alreadyAcknowledged'];

/** Today's answers pass as they are; a first-model run's whole view is cut down to the same small answer. */
export function compactAnswer(answer: unknown): Record<string, unknown> {
  const a = answer as Record<string, unknown>;
  if (!a || typeof a !== 'object' || !('timeline' in a)) return a;
  const small: Record<string, unknown> = { event: 'done', visible: true };
  for (const field of ANSWER_FIELDS) if (field in a) small[field] = a[field];
  if (typeof a.crisis === 'object') small.crisis = a.crisis !== null;
  if (typeof a.hold === 'object') small.hold = (a.hold as { kind?: string } | null)?.kind ?? null;
  return small;
}

/**
 * One page of an item's whole timeline from item_events (its workflow keeps only the latest entries),
 * of the workflow chain its projection row belongs to; null for an item the projection does not know.
 * `table` comes from the code, never the request. A personal item's notes and actors are unsealed: call
 * it only for a caller who may read the item in full.
 */
export async function timelineOf(
  pool: Pool,
  table: 'tickets' | 'incidents' | 'security_reports' | 'work_items',
  id: string,
  page: { limit: number; offset: number },
  keys: EncryptionKeys | undefined,
): Promise<Array<{ seq: number; at: string; event: string; by: string | null; note: string | null; messageId: string | null }> | null> {
  const known = await pool.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id]);
  if (!known.rowCount) return null;
  const { rows } = await pool.query<{ seq: number; at: Date; event: string; actor: string | null; note: string | null; message_id: string | null }>(
    `SELECT e.seq, e.at, e.event, e.actor, e.note, e.message_id
       FROM ${table} t JOIN item_events e ON e.workflow_id = t.workflow_id AND e.chain_id = t.chain_id
      WHERE t.id = $1 ORDER BY e.seq LIMIT $2 OFFSET $3`,
    [id, page.limit, page.offset],
  );
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at.toISOString(),
    event: r.event,
    by: unsealed(r.actor, keys),
    note: unsealed(r.note, keys),
    messageId: r.message_id,
  }));
}
