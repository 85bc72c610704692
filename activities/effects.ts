// Exactly one external effect per intended action: the first successful call under an idempotency
// key stores its result (a Slack ts, a comment id, an issue iid); a retried activity or a replayed
// workflow asking again gets the stored result instead of a second post, comment or page.
import type { Pool } from 'pg';

export async function once<T>(pool: Pool, key: string, system: string, effect: () => Promise<T>): Promise<T> {
  const found = await pool.query<{ result: T }>('SELECT result FROM external_effects WHERE idempotency_key = $1', [key]);
  if (found.rowCount) return found.rows[0]!.result;
  const result = await effect();
  // If two attempts raced (an activity timed out while its first attempt still ran), keep the first.
  const stored = await pool.query<{ result: T }>(
    `INSERT INTO external_effects (idempotency_key, system, result) VALUES ($1, $2, $3)
     ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
     RETURNING result`,
    [key, system, JSON.stringify(result ?? null)],
  );
  return stored.rows[0]!.result;
}
