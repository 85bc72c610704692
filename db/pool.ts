// One PostgreSQL pool per process. Timestamps cross this boundary as epoch milliseconds.
import { Pool, types } from 'pg';

// int8 (COUNT(*)) as a JS number: our counts are far below 2^53.
types.setTypeParser(types.builtins.INT8, (v) => Number(v));

/**
 * A caller waits at most 10 s for a connection: with PostgreSQL out of reach a query fails (an activity
 * retries, /readyz says so) instead of queueing for ever behind the others.
 */
export function createPool(databaseUrl: string, max = 10): Pool {
  return new Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 10_000 });
}

export const toDate = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
export const toMs = (d: Date | null): number | null => (d === null ? null : d.getTime());
