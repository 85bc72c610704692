// How every workflow runs an external effect (Slack, Zendesk, GitLab, PagerDuty): the activity
// options, how long a system that stays down is retried, and how an effect the server gave up on is
// told from a bug.
import { ActivityFailure, ApplicationFailure, type ActivityOptions } from '@temporalio/workflow';

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
