// One effect per delivery: senders redeliver (on a timeout, a 5xx, or just because), each time with
// the same delivery id. A delivery is claimed on receipt, completed once its action succeeded, and
// released when the action failed, so the sender's redelivery tries again.
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { logger } from '../../config/logger';
import { HttpError } from '../errors';

export const webhookLog = logger.child({ component: 'webhooks' });

export type WebhookSource = 'slack' | 'zendesk' | 'pagerduty' | 'gitlab';

/**
 * A claim nobody completed or released within this long belongs to a process that died while
 * acting: a redelivery may take it over. Longer than any action takes, shorter than senders retry for.
 */
const ABANDONED_CLAIM = '2 minutes';

/**
 * True if this process now owns the delivery; false if it was already done, or another request is
 * acting on it right now (a redelivery that raced the first one).
 */
export async function claimDelivery(pool: Pool, source: WebhookSource, deliveryId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO webhook_deliveries (source, delivery_id) VALUES ($1, $2)
     ON CONFLICT (source, delivery_id) DO UPDATE SET received_at = clock_timestamp()
       WHERE webhook_deliveries.completed_at IS NULL
         AND webhook_deliveries.received_at < clock_timestamp() - interval '${ABANDONED_CLAIM}'
     RETURNING 1`,
    [source, deliveryId],
  );
  return rowCount === 1;
}

export async function completeDelivery(pool: Pool, source: WebhookSource, deliveryId: string): Promise<void> {
  await pool.query(
    'UPDATE webhook_deliveries SET completed_at = clock_timestamp() WHERE source = $1 AND delivery_id = $2',
    [source, deliveryId],
  );
}

export async function releaseDelivery(pool: Pool, source: WebhookSource, deliveryId: string): Promise<void> {
  await pool.query('DELETE FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2 AND completed_at IS NULL', [
    source,
    deliveryId,
  ]);
}

/**
 * Runs a claimed delivery's action. Success completes the delivery; a failure is logged and releases
 * it, so the sender's next redelivery acts again. Never throws: answers whether the action succeeded.
 */
export async function actOnDelivery(
  pool: Pool,
  log: Logger,
  source: WebhookSource,
  deliveryId: string,
  action: () => Promise<void>,
): Promise<boolean> {
  try {
    await action();
    await completeDelivery(pool, source, deliveryId);
    return true;
  } catch (err) {
    log.error({ err, source, deliveryId }, 'webhook action failed; a redelivery will retry it');
    await releaseDelivery(pool, source, deliveryId).catch((releaseErr) =>
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
  source: WebhookSource,
  deliveryId: string,
  budgetMs: number,
  action: () => Promise<void>,
): Promise<DeliveryOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<DeliveryOutcome>((resolve) => {
    timer = setTimeout(() => resolve('still-acting'), budgetMs);
  });
  const acted = actOnDelivery(pool, log, source, deliveryId, action).then((ok): DeliveryOutcome => (ok ? 'done' : 'failed'));
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

/** Parsed only after the signature was verified. */
export function parseJson(body: Buffer): any {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'the request body must be a JSON object');
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

/**
 * The one way a delivery is handled: a redelivery answers 200 with no second effect; otherwise the
 * action runs (bounded by the sender's deadline) and the answer says how it went: 200 done, 500
 * failed (nothing recorded, so the sender redelivers and we try again), 202 still acting.
 */
export async function receiveDelivery(
  deps: { pool: Pool },
  res: Response,
  source: WebhookSource,
  deliveryId: string | undefined,
  action: () => Promise<void>,
): Promise<void> {
  if (!deliveryId) throw new HttpError(400, `the ${source} delivery carries no delivery id`);
  if (!(await claimDelivery(deps.pool, source, deliveryId))) {
    res.status(200).json({ ok: true, duplicate: true });
    return;
  }
  const outcome = await actWithinBudget(deps.pool, webhookLog, source, deliveryId, ANSWER_BUDGET_MS[source], action);
  if (outcome === 'done') res.status(200).json({ ok: true });
  else if (outcome === 'still-acting') res.status(202).json({ ok: true, accepted: true });
  else res.status(500).json({ error: 'acting on this delivery failed and it was not recorded; redeliver it to retry' });
}
