// Exactly one external effect per intended action: an idempotency key is claimed before anything is
// sent, only the attempt holding the claim acts, and its result (a Slack ts, a comment id, an issue iid)
// is stored; a retried activity or a replayed workflow asking again gets the stored result.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { integrationFailures } from './metrics';

export interface OnceOptions {
  /**
   * A claim neither completed nor released for this long belongs to an attempt that died while acting
   * (worker killed mid-call); the next attempt takes it over and acts. Far longer than any call can
   * take (the HTTP drivers give up after 10 s, activities after 30 s). Default 5 minutes.
   *
   * This is the one case that can send twice: the dead attempt's call may have landed before it died,
   * and nothing here can know. A PagerDuty trigger is safe even then, because PagerDuty folds events
   * with the same dedup_key (the workflow id) into one incident.
   */
  takeoverAfterMs?: number;
  /** How soon Temporal asks again while another attempt is still acting under the key. Default 5 s. */
  inProgressRetryMs?: number;
}

const TAKEOVER_AFTER_MS = 5 * 60_000;
const IN_PROGRESS_RETRY_MS = 5_000;

/** Thrown (retryably) while another attempt holds the claim: by the next try it has usually finished. */
export const EFFECT_IN_PROGRESS = 'EffectInProgress';
/** Thrown (retryably) by a late owner whose claim was taken over: the retry returns the stored result. */
export const EFFECT_CLAIM_LOST = 'EffectClaimLost';

/**
 * Runs `effect` at most once per `key` (per takeover, see OnceOptions) and returns its result, now or
 * on any later call.
 *
 * The case this exists for: an activity attempt times out (startToCloseTimeout) while its call is still
 * running, and Temporal retries. The retry finds the first attempt's claim and fails with
 * EffectInProgress instead of sending a second time; a retry after the first attempt finished gets
 * its result.
 */
export async function once<T>(
  pool: Pool,
  key: string,
  system: string,
  effect: () => Promise<T>,
  options: OnceOptions = {},
): Promise<T> {
  const takeoverAfterMs = options.takeoverAfterMs ?? TAKEOVER_AFTER_MS;
  const token = randomUUID();
  // Two tries: the holder may release its claim between our claim and our look at the row.
  for (let tries = 0; tries < 2; tries++) {
    if (await claim(pool, key, system, token, takeoverAfterMs)) return act(pool, key, system, token, effect);
    const { rows } = await pool.query<{ result: T; completed: boolean }>(
      'SELECT result, completed_at IS NOT NULL AS completed FROM external_effects WHERE idempotency_key = $1',
      [key],
    );
    const row = rows[0];
    if (row?.completed) return row.result;
    if (row) throw inProgress(key, system, options.inProgressRetryMs ?? IN_PROGRESS_RETRY_MS);
  }
  throw inProgress(key, system, options.inProgressRetryMs ?? IN_PROGRESS_RETRY_MS);
}

/**
 * Inserts the claim, or takes over one abandoned for longer than `takeoverAfterMs`. The database's
 * clock decides staleness, so workers' clocks need not agree. True if `token` now holds the key.
 */
async function claim(pool: Pool, key: string, system: string, token: string, takeoverAfterMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO external_effects (idempotency_key, system, claim_token) VALUES ($1, $2, $3)
     ON CONFLICT (idempotency_key) DO UPDATE SET claim_token = EXCLUDED.claim_token, claimed_at = clock_timestamp()
       WHERE external_effects.completed_at IS NULL
         AND external_effects.claimed_at < clock_timestamp() - $4::double precision * interval '1 millisecond'
     RETURNING 1`,
    [key, system, token, takeoverAfterMs],
  );
  return rowCount === 1;
}

async function act<T>(pool: Pool, key: string, system: string, token: string, effect: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await effect();
  } catch (err) {
    // A turn the pace hands to Temporal (activities/drivers/pacing.ts) is a wait, not a failed call.
    if (!(err instanceof ApplicationFailure && err.type === 'IntegrationPaced')) integrationFailures.inc({ system });
    // Releasing lets the retry act again. A refused call had no effect; a call that timed out may or
    // may not have landed, and sending again (at least once) is the lesser evil than never sending.
    // Should the release itself fail, the claim is taken over after takeoverAfterMs.
    await pool
      .query('DELETE FROM external_effects WHERE idempotency_key = $1 AND claim_token = $2 AND completed_at IS NULL', [key, token])
      .catch(() => undefined);
    throw err;
  }
  // Fenced by the token: an owner whose claim was taken over must not overwrite the new owner's result.
  // If this write fails, the claim stays (the effect did happen) and is taken over after takeoverAfterMs.
  const { rowCount } = await pool.query(
    `UPDATE external_effects SET result = $3, completed_at = clock_timestamp()
      WHERE idempotency_key = $1 AND claim_token = $2 AND completed_at IS NULL`,
    [key, token, JSON.stringify(result ?? null)],
  );
  if (rowCount !== 1) {
    // Our claim was taken over (we outlived takeoverAfterMs), so the effect may have happened twice.
    // A retry returns the result the new owner stores, so every caller sees the same one.
    throw ApplicationFailure.create({
      message: `the claim on ${key} was taken over while this attempt was still acting; the effect may have happened twice`,
      type: EFFECT_CLAIM_LOST,
      nonRetryable: false,
    });
  }
  return result;
}

function inProgress(key: string, system: string, retryMs: number): ApplicationFailure {
  return ApplicationFailure.create({
    message: `another attempt is still acting on ${key} (${system}); asking again once it has finished`,
    type: EFFECT_IN_PROGRESS,
    nonRetryable: false,
    nextRetryDelay: retryMs,
  });
}
