// For contract tests: runs one external effect under once() again and again, as Temporal's activity
// retry would, stopping at the first permanent failure. Each failed attempt is kept for assertions.
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { once } from '../../activities/effects';

export interface Attempts<T> {
  result: T | undefined;
  /** The retryable failures of the attempts before the last. */
  retried: ApplicationFailure[];
  /** The failure that stopped the retries, if one did. */
  stoppedBy: ApplicationFailure | undefined;
}

export async function retryLikeTemporal<T>(
  pool: Pool,
  key: string,
  system: string,
  effect: () => Promise<T>,
  maxAttempts = 10,
): Promise<Attempts<T>> {
  const retried: ApplicationFailure[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      return { result: await once(pool, key, system, effect), retried, stoppedBy: undefined };
    } catch (err) {
      if (!(err instanceof ApplicationFailure)) throw err;
      if (err.nonRetryable) return { result: undefined, retried, stoppedBy: err };
      retried.push(err);
    }
  }
  throw new Error(`still failing after ${maxAttempts} attempts: ${retried.at(-1)?.message}`);
}

/** What the driver threw, for tests that look at one attempt's failure. */
export async function failureOf(call: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await call();
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}
