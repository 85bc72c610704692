// One effect per delivery: senders redeliver (on a timeout, a 5xx, or just because), each time with
// the same delivery id. A delivery is claimed on receipt, completed once its action succeeded, and
// released when the action failed, so the sender's redelivery tries again. A delivery whose payload
// breaks its schema is refused and recorded as such: it never acts, and neither does any redelivery.
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { logger } from '../../config/logger';
import { TEXT_RULES, textProblem } from '../../domain/text-rules';
import { describeProblems, fieldProblems, HttpError, type FieldProblem } from '../errors';

export const webhookLog = logger.child({ component: 'webhooks' });

export type WebhookSource = 'slack' | 'zendesk' | 'pagerduty' | 'gitlab';

/**
 * The sender proved itself by its signature: it is the request's principal (the audit names the vendor;
 * it holds no role, so it can reach nothing but its own webhook).
 */
export function signedBy(req: Request, res: Response, source: WebhookSource): void {
  req.principal = { name: source, roles: [], credential: `${source}-signature` };
  res.locals.route = `/webhooks/${source}`;
}

/** A delivery this request owns: only the holder of the token completes or releases it. */
export interface DeliveryClaim {
  source: WebhookSource;
  deliveryId: string;
  token: string;
}

/**
 * A claim nobody completed or released within this long belongs to a process that died while
 * acting: a redelivery may take it over. Longer than any action takes, shorter than senders retry for.
 */
const ABANDONED_CLAIM = '2 minutes';

/**
 * The claim's token if this request now owns the delivery; null if it was already done or refused,
 * or another request is acting on it right now (a redelivery that raced the first one). Taking over
 * an abandoned claim gives it a new token, so the first owner, should it wake up, changes nothing.
 */
export async function claimDelivery(pool: Pool, source: WebhookSource, deliveryId: string): Promise<string | null> {
  const { rows } = await pool.query<{ claim_token: string }>(
    `INSERT INTO webhook_deliveries (source, delivery_id, claim_token) VALUES ($1, $2, $3)
     ON CONFLICT (source, delivery_id) DO UPDATE
       SET received_at = clock_timestamp(), claim_token = EXCLUDED.claim_token
       WHERE webhook_deliveries.completed_at IS NULL
         AND webhook_deliveries.received_at < clock_timestamp() - interval '${ABANDONED_CLAIM}'
     RETURNING claim_token`,
    [source, deliveryId, randomUUID()],
  );
  return rows[0]?.claim_token ?? null;
}

/** Records the claimed delivery as done; false when the claim was taken over meanwhile. */
export async function completeDelivery(pool: Pool, claim: DeliveryClaim): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE webhook_deliveries SET completed_at = clock_timestamp(), outcome = 'done'
      WHERE source = $1 AND delivery_id = $2 AND claim_token = $3 AND completed_at IS NULL`,
    [claim.source, claim.deliveryId, claim.token],
  );
  return rowCount === 1;
}

/** Gives the claim up so a redelivery acts again; false when it was taken over meanwhile. */
export async function releaseDelivery(pool: Pool, claim: DeliveryClaim): Promise<boolean> {
  const { rowCount } = await pool.query(
    `DELETE FROM webhook_deliveries
      WHERE source = $1 AND delivery_id = $2 AND claim_token = $3 AND completed_at IS NULL`,
    [claim.source, claim.deliveryId, claim.token],
  );
  return rowCount === 1;
}

/**
 * Records a delivery as refused (its payload broke the schema) unless the id is already known:
 * answers what the record says now, so a delivery that was done or is being acted on stays so.
 */
export async function refuseDelivery(
  pool: Pool,
  source: WebhookSource,
  deliveryId: string,
  refusal: string,
): Promise<'refused' | 'done' | 'acting'> {
  const { rows } = await pool.query<{ outcome: string | null }>(
    `INSERT INTO webhook_deliveries (source, delivery_id, completed_at, outcome, refusal)
     VALUES ($1, $2, clock_timestamp(), 'refused', $3)
     ON CONFLICT (source, delivery_id) DO UPDATE SET outcome = webhook_deliveries.outcome
     RETURNING outcome`,
    [source, deliveryId, refusal],
  );
  const outcome = rows[0]?.outcome;
  return outcome === 'refused' ? 'refused' : outcome === 'done' ? 'done' : 'acting';
}

/** Why a delivery id was refused before, or null if it was not. */
async function recordedRefusal(pool: Pool, source: WebhookSource, deliveryId: string): Promise<string | null> {
  const { rows } = await pool.query<{ refusal: string | null }>(
    `SELECT refusal FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2 AND outcome = 'refused'`,
    [source, deliveryId],
  );
  return rows[0]?.refusal ?? null;
}

/**
 * Runs a claimed delivery's action. Success completes the delivery; a failure is logged and releases
 * it, so the sender's next redelivery acts again. Never throws: answers whether the action succeeded.
 */
export async function actOnDelivery(pool: Pool, log: Logger, claim: DeliveryClaim, action: () => Promise<void>): Promise<boolean> {
  const { source, deliveryId } = claim;
  try {
    await action();
    if (!(await completeDelivery(pool, claim))) {
      log.warn({ source, deliveryId }, 'webhook action finished after its claim was taken over; the new owner records it');
    }
    return true;
  } catch (err) {
    log.error({ err, source, deliveryId }, 'webhook action failed; a redelivery will retry it');
    await releaseDelivery(pool, claim).catch((releaseErr) =>
      log.error({ err: releaseErr, source, deliveryId }, 'could not release the webhook delivery'),
    );
    return false;
  }
}

export type DeliveryOutcome = 'done' | 'failed' | 'still-acting';

/**
 * Acts on a claimed delivery but waits at most `budgetMs` (safely inside the sender's deadline):
 * done or failed in time, the sender hears which (a failure answers 5xx, so the sender redelivers);
 * otherwise the action carries on in the background and the sender is told it was accepted.
 */
export async function actWithinBudget(
  pool: Pool,
  log: Logger,
  claim: DeliveryClaim,
  budgetMs: number,
  action: () => Promise<void>,
): Promise<DeliveryOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<DeliveryOutcome>((resolve) => {
    timer = setTimeout(() => resolve('still-acting'), budgetMs);
  });
  const acted = actOnDelivery(pool, log, claim, action).then((ok): DeliveryOutcome => (ok ? 'done' : 'failed'));
  try {
    return await Promise.race([acted, outOfTime]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- shared by the four senders -----------------------------------------------------------------

/** 503 naming the variable: the endpoint exists, but this desk was not given the sender's secret. */
export function requireSecret<T>(value: T | undefined, variable: string): T {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    throw new HttpError(503, `this webhook is not configured: set ${variable} to the secret the sender signs with`);
  }
  return value;
}

export function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/**
 * How each sender is told "do not send this again", from each sender's documentation:
 * - Slack retries every answer that is not 2xx (up to 3 times: at once, after 1 and 5 minutes) unless
 *   it carries `X-Slack-No-Retry: 1` (Events API, "Graceful retries / turning retries off").
 * - Zendesk retries only 409, 429 and 503 with a short Retry-After, and timeouts; any other 4xx is final.
 * - PagerDuty v3 retries 429, 5xx and timeouts, and drops a webhook at once on any other 4xx
 *   (developer docs, webhooks "Behavior": "Permanent errors").
 * - GitLab does not redeliver by itself (only "Resend request", with the same Idempotency-Key); its
 *   receiver guidance is a 4xx for what the receiver cannot take ("for unsupported events, return 400").
 * 422 says "well-formed and signed, but its content breaks the schema"; GitLab gets the 400 it asks for.
 */
export const REFUSAL: Record<WebhookSource, { status: number; headers?: Record<string, string> }> = {
  slack: { status: 422, headers: { 'X-Slack-No-Retry': '1' } },
  zendesk: { status: 422 },
  pagerduty: { status: 422 },
  gitlab: { status: 400 },
};

/** A 400 the sender must not retry: the same body can never be taken. */
export function malformedDelivery(source: WebhookSource, message: string, details?: FieldProblem[]): HttpError {
  return new HttpError(400, message, details, REFUSAL[source].headers);
}

/** Parsed only after the signature was verified. */
export function parseJson(body: Buffer, source: WebhookSource): any {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw malformedDelivery(source, 'the request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw malformedDelivery(source, 'the request body must be a JSON object');
  }
  return parsed;
}

/** How long we act before answering, safely inside each sender's deadline. */
export const ANSWER_BUDGET_MS: Record<WebhookSource, number> = {
  slack: 2_000, // Slack waits 3 s
  pagerduty: 3_500, // PagerDuty waits 5 s
  gitlab: 7_000, // GitLab waits 10 s
  zendesk: 7_000, // Zendesk waits 10 s or more
};

export interface Delivery<T> {
  source: WebhookSource;
  /** The sender's id for this delivery (a header or a field of the payload), as it arrived. */
  deliveryId: unknown;
  /** Where the id came from, for the 400 when there is none. */
  idFrom: string;
  /** The payload checked against the sender's schema. */
  payload: z.ZodSafeParseResult<T>;
}

/**
 * The one way a delivery is handled. Without a usable delivery id: 400, nothing recorded. A payload
 * that breaks the schema is refused (recorded, nothing started; the sender's own "do not retry"
 * answer, REFUSAL), and so is each redelivery of it. A redelivery of a done delivery answers 200 with
 * no second effect. Otherwise the action runs (bounded by the sender's deadline) and the answer says
 * how it went: 200 done, 500 failed (the claim is released, so the sender redelivers and we try
 * again), 202 still acting.
 */
export async function receiveDelivery<T>(
  deps: { pool: Pool },
  res: Response,
  { source, deliveryId, idFrom, payload }: Delivery<T>,
  action: (payload: T) => Promise<void>,
): Promise<void> {
  const idProblem = deliveryIdProblem(deliveryId);
  if (idProblem) {
    const message = `the ${source} delivery carries no usable delivery id (${idFrom} ${idProblem}); nothing was recorded`;
    throw malformedDelivery(source, message, [{ field: idFrom, message: idProblem }]);
  }
  const id = deliveryId as string;
  if (!payload.success) {
    const details = fieldProblems(payload.error);
    const refusal = `refused: the ${source} delivery does not match what the desk takes (${describeProblems(details)})`;
    const recorded = await refuseDelivery(deps.pool, source, id, refusal);
    if (recorded !== 'refused') {
      res.status(200).json({ ok: true, duplicate: true });
      return;
    }
    webhookLog.warn({ source, deliveryId: id, fields: details.map((d) => d.field) }, 'webhook delivery refused');
    answerRefusal(res, source, refusal, details);
    return;
  }
  const token = await claimDelivery(deps.pool, source, id);
  if (!token) {
    const refusal = await recordedRefusal(deps.pool, source, id);
    if (refusal) answerRefusal(res, source, refusal);
    else res.status(200).json({ ok: true, duplicate: true });
    return;
  }
  const data = payload.data;
  const outcome = await actWithinBudget(deps.pool, webhookLog, { source, deliveryId: id, token }, ANSWER_BUDGET_MS[source], () =>
    action(data),
  );
  if (outcome === 'done') res.status(200).json({ ok: true });
  else if (outcome === 'still-acting') res.status(202).json({ ok: true, accepted: true });
  else res.status(500).json({ error: 'acting on this delivery failed and it was not recorded; redeliver it to retry' });
}

function deliveryIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return id === undefined || id === null ? 'is missing' : 'is not text';
  if (id.trim() === '') return 'is empty';
  return textProblem(id, TEXT_RULES.id);
}

function answerRefusal(res: Response, source: WebhookSource, refusal: string, details?: FieldProblem[]): void {
  const { status, headers } = REFUSAL[source];
  if (headers) res.set(headers);
  res.status(status).json({
    error: `${refusal}; the desk will not act on it, and redelivering it changes nothing`,
    refused: true,
    ...(details ? { details } : {}),
  });
}
