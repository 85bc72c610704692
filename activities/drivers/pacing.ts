// Keeps our writes inside each API's published pace (Slack: about one message per second per
// channel; Zendesk: a limited number of updates per ticket per window) by waiting instead of failing.
import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';

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

/**
 * In-process, per-key pacing: enough for one worker, and a second worker only adds a 429 that
 * the activity retry honours. Each call reserves its slot before waiting, so callers queue fairly.
 */
export class Pacer {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly system: string,
    private readonly pace: Pace,
  ) {}

  async waitTurn(key: string, now = Date.now()): Promise<void> {
    const recent = (this.sent.get(key) ?? []).filter((at) => at > now - this.pace.windowMs);
    const turnAt = recent.length < this.pace.limit ? now : recent[recent.length - this.pace.limit]! + this.pace.windowMs;
    const waitMs = turnAt - now;
    if (waitMs > LONGEST_WAIT_IN_ACTIVITY_MS) {
      this.sent.set(key, recent);
      throw ApplicationFailure.create({
        type: 'IntegrationPaced',
        message: `${this.system}: ${key} reached ${this.pace.limit} writes per ${this.pace.windowMs / 1000} s; trying again when it frees up`,
        nextRetryDelay: waitMs,
      });
    }
    recent.push(turnAt);
    this.sent.set(key, recent);
    if (waitMs > 0) await sleep(waitMs);
  }
}
