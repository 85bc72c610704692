// How every workflow carries out its external effects (Slack, Zendesk, GitLab, PagerDuty). An effect
// is queued as data in the workflow's state; the main loop starts it and it runs beside the loop, so
// no timer ever waits for Slack. Effects of one lane go one after another in the order queued; each
// runs once (its idempotency key); a system that refuses for good (a 4xx) or stays down past the
// give-up time is recorded on the item, and the item goes on. Anything else (a bug) fails the workflow
// task loudly instead of being swallowed.
import { ActivityFailure, ApplicationFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { EffectQueue, IntegrationRefusal, PendingEffect } from '../domain/effects';

/** How long an effect is retried before it is recorded as given up, when the policy does not say. */
export const INTEGRATION_GIVE_UP_MS = 15 * 60_000;

/** Retries without a limit on attempts: only the give-up time (scheduleToClose) ends them. */
export const EFFECT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/** Options with the summary operators see in the UI and the give-up time (a system that stays down). */
export const effectOptions = (summary: string, giveUpMs: number): ActivityOptions => ({
  ...EFFECT_OPTIONS,
  scheduleToCloseTimeout: giveUpMs,
  summary,
});

/**
 * What the server gave up on, or null when the error is anything else (which must fail loudly).
 * Effects retry without a limit on attempts, so any activity failure that reaches the workflow means
 * the server gave up: a permanent refusal (nonRetryable), or the give-up time ran out while the system
 * stayed down (then the cause is the last retryable failure or a timeout, not a nonRetryable one).
 */
export function gaveUp(err: unknown): { system: string | null; message: string } | null {
  if (!(err instanceof ActivityFailure)) return null;
  const failure = err.cause ?? err;
  const details = failure instanceof ApplicationFailure ? (failure.details?.[0] as { system?: unknown } | undefined) : undefined;
  return { system: typeof details?.system === 'string' ? details.system : null, message: failure.message };
}

/** An effect that is already late (a page whose successor is due) still gets this long to go out. */
const LAST_CHANCE_MS = 1_000;
/** Refusals kept in the state; the count keeps the total. */
const REFUSALS_KEPT = 20;

/** One kind of effect a workflow queues: which activity carries it out, and what follows from it. */
export interface EffectKind {
  activity: string;
  /**
   * The activity's argument as the effect starts; why it cannot be carried out (then it is recorded as
   * refused); or null when there is nothing left to do (the state already shows it).
   */
  start(data: any, key: string): { args: unknown } | { skip: string } | null;
  /** The activity's result arrived. */
  done?(data: any, result: any): void;
  /** The effect was refused or given up on (already recorded). */
  refused?(data: any, refusal: IntegrationRefusal): void;
}

export interface EffectRunnerOptions {
  queue: EffectQueue;
  kinds: Record<string, EffectKind>;
  /** `<workflowId>:<chainId>`: every idempotency key starts with it. */
  keyPrefix: string;
  giveUpMs: number;
  /** An effect finished: the main loop should look again. */
  changed(): void;
  /** Writes a refusal on the item's timeline. */
  recordRefusal(refusal: IntegrationRefusal): void;
}

export interface QueueOptions {
  lane: string;
  summary: string;
  /** Give up at this moment at the latest (a page retries until the next page is due). */
  giveUpAt?: number;
}

export type EffectRunner = ReturnType<typeof effectRunner>;

export function effectRunner(options: EffectRunnerOptions) {
  const { queue, kinds } = options;
  const activities = proxyActivities<Record<string, (arg: unknown) => Promise<unknown>>>(EFFECT_OPTIONS);
  const running = new Set<string>();
  let fatal: unknown = null;

  /** Queues an effect; a step queued again (the same key) is carried out once. */
  function add(step: string, kind: string, data: unknown, o: QueueOptions): void {
    const key = `${options.keyPrefix}:${step}`;
    if (queue.pending.some((p) => p.key === key)) return;
    const effect: PendingEffect = {
      key,
      step,
      lane: o.lane,
      kind,
      data,
      summary: o.summary,
      queuedAt: Date.now(),
      ...(o.giveUpAt !== undefined ? { giveUpAt: o.giveUpAt } : {}),
    };
    queue.pending.push(effect);
  }

  /** Starts the first waiting effect of every lane that is not busy. Never waits for any of them. */
  function pump(): void {
    const busy = new Set<string>();
    for (const effect of queue.pending) {
      if (busy.has(effect.lane)) continue;
      busy.add(effect.lane);
      if (!running.has(effect.key)) {
        running.add(effect.key);
        void carryOut(effect);
      }
    }
  }

  async function carryOut(effect: PendingEffect): Promise<void> {
    let finished = true;
    try {
      const kind = kinds[effect.kind];
      if (!kind) throw new Error(`the workflow has no effect kind "${effect.kind}" (queued as ${effect.step})`);
      const start = kind.start(effect.data, effect.key);
      if (start === null) return;
      if ('skip' in start) {
        refuse(effect, { system: null, message: start.skip });
        return;
      }
      const giveUpMs =
        effect.giveUpAt === undefined ? options.giveUpMs : Math.max(effect.giveUpAt - Date.now(), LAST_CHANCE_MS);
      const result = await activities[kind.activity]!.executeWithOptions(effectOptions(effect.summary, giveUpMs), [start.args]);
      kind.done?.(effect.data, result);
    } catch (err) {
      const given = gaveUp(err);
      if (given) refuse(effect, given);
      else {
        // Not an external system's answer: a bug. Keep the effect and fail the workflow task with it.
        fatal ??= err;
        finished = false;
      }
    } finally {
      running.delete(effect.key);
      if (finished) {
        const at = queue.pending.indexOf(effect);
        if (at >= 0) queue.pending.splice(at, 1);
      }
      options.changed();
    }
  }

  function refuse(effect: PendingEffect, given: { system: string | null; message: string }): void {
    const refusal: IntegrationRefusal = { at: Date.now(), step: effect.step, ...given };
    queue.refusals.push(refusal);
    if (queue.refusals.length > REFUSALS_KEPT) queue.refusals.splice(0, queue.refusals.length - REFUSALS_KEPT);
    queue.refusedCount += 1;
    options.recordRefusal(refusal);
    kinds[effect.kind]?.refused?.(effect.data, refusal);
  }

  return {
    add,
    pump,
    /** Nothing queued or running. */
    idle: (): boolean => queue.pending.length === 0,
    /** An effect is running (its activity scheduled and not finished). */
    busy: (): boolean => running.size > 0,
    /** Is an effect of this step (or of a step starting with it) still to be carried out? */
    pendingStep: (prefix: string): boolean => queue.pending.some((p) => p.step === prefix || p.step.startsWith(`${prefix}:`)),
    /** Throws what went wrong inside an effect that was not an external system's answer. */
    check(): void {
      if (fatal !== null) throw fatal;
    },
  };
}
