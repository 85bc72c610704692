// Keeps our writes inside each API's published pace (Slack: about one message per second per
// channel; Zendesk: a limited number of updates per ticket per window) by waiting instead of failing.
//
// The pace is per key (a channel, a ticket), and every worker must share it: three workers posting
// to one channel may together send one message a second, not three. So the reservations live in
// PostgreSQL, which every worker already shares, with PostgreSQL's clock as the one clock
// (PostgresPacer). A Temporal task queue per integration with maxTaskQueueActivitiesPerSecond was the
// other choice, and it does not fit: its rate is one number for all keys (a busy channel would slow
// every other channel) and moving activities to another queue changes every running workflow's
// commands. The in-process pacer stays for a driver built without a database (contract tests).
import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';

export interface Pace {
  /** How many writes one key (a channel, a ticket) may take within `windowMs`. */
  limit: number;
  windowMs: number;
}

/** Slack asks for about one message per second per channel. */
export const SLACK_MESSAGES_PER_CHANNEL: Pace = { limit: 1, windowMs: 1_000 };
/** Zendesk allows 30 updates to one ticket per 10 minutes. */
export const ZENDESK_UPDATES_PER_TICKET: Pace = { limit: 30, windowMs: 10 * 60_000 };

/** Longer waits than this are handed to Temporal as a retry delay rather than held in the activity. */
const LONGEST_WAIT_IN_ACTIVITY_MS = 5_000;

export interface Pacer {
  /** Resolves when this call may write for `key`; throws a retryable IntegrationPaced when that is far off. */
  waitTurn(key: string): Promise<void>;
}

/** A pacer for `system` at `pace`: shared through PostgreSQL when there is a pool, in this process otherwise. */
export function pacer(system: string, pace: Pace, pool?: Pool): Pacer {
  return pool ? new PostgresPacer(system, pace, pool) : new InProcessPacer(system, pace);
}

/**
 * The turn of a new write, given the reservations of its key still inside the window (any order):
 * now while fewer than `limit` are, else when the limit-th latest one leaves the window.
 */
export function nextTurn(pace: Pace, reservations: number[], now: number): number {
  const recent = reservations.filter((at) => at > now - pace.windowMs).sort((a, b) => b - a);
  return recent.length < pace.limit ? now : recent[pace.limit - 1]! + pace.windowMs;
}

function paced(system: string, key: string, pace: Pace, waitMs: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'IntegrationPaced',
    message: `${system}: ${key} reached ${pace.limit} writes per ${pace.windowMs / 1000} s; trying again when it frees up`,
    nextRetryDelay: waitMs,
  });
}

/** Each call reserves its slot before waiting, so callers queue fairly. */
export class InProcessPacer implements Pacer {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly system: string,
    private readonly pace: Pace,
  ) {}

  async waitTurn(key: string, now = Date.now()): Promise<void> {
    const recent = (this.sent.get(key) ?? []).filter((at) => at > now - this.pace.windowMs);
    const turnAt = nextTurn(this.pace, recent, now);
    const waitMs = turnAt - now;
    this.sent.set(key, recent);
    if (waitMs > LONGEST_WAIT_IN_ACTIVITY_MS) throw paced(this.system, key, this.pace, waitMs);
    recent.push(turnAt);
    if (waitMs > 0) await sleep(waitMs);
  }
}

/**
 * Reservations in `integration_pace`, one row per write, taken under a transaction-scoped advisory
 * lock on (system, key) so two workers never take the same slot; times are PostgreSQL's clock. A
 * key's rows older than the window are deleted as it takes a new one (the retention job removes
 * what keys no longer used leave behind).
 */
export class PostgresPacer implements Pacer {
  constructor(
    private readonly system: string,
    private readonly pace: Pace,
    private readonly pool: Pool,
  ) {}

  async waitTurn(key: string): Promise<void> {
    const client = await this.pool.connect();
    let waitMs: number;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7301002))', [`${this.system}:${key}`]);
      await client.query(
        `DELETE FROM integration_pace WHERE system = $1 AND key = $2 AND at <= clock_timestamp() - $3 * interval '1 millisecond'`,
        [this.system, key, this.pace.windowMs],
      );
      const { rows } = await client.query<{ now_ms: number; taken: number[] | null }>(
        `SELECT extract(epoch FROM clock_timestamp()) * 1000 AS now_ms,
                (SELECT array_agg(extract(epoch FROM at) * 1000) FROM integration_pace WHERE system = $1 AND key = $2) AS taken`,
        [this.system, key],
      );
      const now = Number(rows[0].now_ms);
      const turnAt = nextTurn(this.pace, (rows[0].taken ?? []).map(Number), now);
      waitMs = turnAt - now;
      if (waitMs > LONGEST_WAIT_IN_ACTIVITY_MS) {
        await client.query('ROLLBACK');
        throw paced(this.system, key, this.pace, Math.ceil(waitMs));
      }
      await client.query('INSERT INTO integration_pace (system, key, at) VALUES ($1, $2, to_timestamp($3 / 1000.0))', [this.system, key, turnAt]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (waitMs > 0) await sleep(waitMs);
  }
}
