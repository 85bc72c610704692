// The audit trail: one row per mutating request (who, with which roles and credential, which route and
// item, the outcome, when, the request id), appended to `audit_log` once the answer is sent. Never a
// body, a header value or a secret: what was said is on the item's timeline, for those who may read it.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { Logger } from 'pino';
import { idProblem } from '../domain/text-rules';
import { optionalText, parseQuery } from './input';
import { pageQuery } from './workflow-routes';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a route adds to its row: the item it touched and the action (set by api/access.ts and the intakes). */
export interface AuditNote {
  target?: string;
  action?: string;
}

/** A caller's `X-Request-Id` when it is a sensible token, else a new one; echoed on every answer. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const id = given && given.length <= 100 && !idProblem(given) && /^[\w.:-]+$/.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.set('X-Request-Id', id);
  next();
};

function outcomeOf(status: number): string {
  if (status < 400) return 'ok';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'rate-limited';
  return status < 500 ? 'refused' : 'failed';
}

/** Appends a row for every mutating request when its answer has gone out (a failed write is logged, never answered). */
export function auditTrail(pool: Pool, logger: Pick<Logger, 'error'>): RequestHandler {
  return (req, res, next) => {
    if (!MUTATING.has(req.method)) return next();
    res.once('finish', () => {
      const note = (res.locals.audit ?? {}) as AuditNote;
      const principal = req.principal;
      // The declared route (`/tickets/:id/:action`), or for a request that matched none, its path cut short.
      const route = typeof res.locals.route === 'string' ? res.locals.route : req.path.slice(0, 200);
      Promise.resolve()
        .then(() => pool.query(
          `INSERT INTO audit_log (request_id, principal, roles, credential, method, route, target, action, status, outcome, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            String(res.locals.requestId ?? randomUUID()),
            principal?.name ?? 'anonymous',
            principal?.roles ?? [],
            principal?.credential ?? null,
            req.method,
            route,
            note.target ?? null,
            note.action ?? null,
            res.statusCode,
            outcomeOf(res.statusCode),
            req.ip ?? null,
          ],
        ))
        .catch((err: unknown) => logger.error({ err, requestId: res.locals.requestId }, 'audit row not written'));
    });
    next();
  };
}

/** The filters GET /audit takes (the OpenAPI document shows them too). */
export function auditQuerySchema() {
  const time = z.iso.datetime({ offset: true }).transform((v) => new Date(v));
  return z.strictObject({
    // Under the text rules like every query string: a NUL would reach PostgreSQL, which refuses it (a 500).
    principal: optionalText('name'),
    route: optionalText('id'),
    target: optionalText('id'),
    outcome: z.enum(['ok', 'unauthenticated', 'forbidden', 'rate-limited', 'refused', 'failed']).optional(),
    requestId: optionalText('id'),
    from: time.optional(),
    to: time.optional(),
    ...pageQuery(),
  });
}

/** GET /audit: newest first, filtered; `from` inclusive, `to` exclusive. */
export function auditListing(pool: Pool): RequestHandler {
  const schema = auditQuerySchema();
  return async (req, res) => {
    const q = parseQuery(schema, req.query, 'audit filter');
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.principal !== undefined) add('principal = ?', q.principal);
    if (q.route !== undefined) add('route = ?', q.route);
    if (q.target !== undefined) add('target = ?', q.target);
    if (q.outcome !== undefined) add('outcome = ?', q.outcome);
    if (q.requestId !== undefined) add('request_id = ?', q.requestId);
    if (q.from !== undefined) add('at >= ?', q.from);
    if (q.to !== undefined) add('at < ?', q.to);
    params.push(q.limit, q.offset);
    const { rows } = await pool.query(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY at DESC, id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    res.json({
      entries: rows.map((r) => ({
        at: (r.at as Date).toISOString(),
        requestId: r.request_id,
        principal: r.principal,
        roles: r.roles,
        credential: r.credential,
        method: r.method,
        route: r.route,
        target: r.target,
        action: r.action,
        status: r.status,
        outcome: r.outcome,
        source: r.source,
      })),
      limit: q.limit,
      offset: q.offset,
    });
  };
}
