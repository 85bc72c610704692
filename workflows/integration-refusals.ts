// How the incident and security-report workflows tell an effect the server gave up on (a 4xx from Slack,
// Zendesk, GitLab, PagerDuty, or a system that stayed down past the give-up time) from a bug: as workflows/ticket.ts does.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { IntegrationRefusal } from '../domain/incident';

/** How long an effect is retried before it is recorded as given up, when the policy does not say. */
export const INTEGRATION_GIVE_UP_MS = 15 * 60_000;

/**
 * The failure an effect ended with, or null when the error is anything else (which must fail loudly).
 * Effects retry without a limit on attempts, so any activity failure that reaches the workflow means
 * the server gave up: a permanent refusal (nonRetryable), or the give-up time ran out while the system
 * stayed down (then the cause is the last retryable failure or a timeout, not a nonRetryable one).
 */
export function gaveUp(err: unknown, step: string, at: number): IntegrationRefusal | null {
  if (!(err instanceof ActivityFailure)) return null;
  const failure = err.cause ?? err;
  const details = failure instanceof ApplicationFailure ? (failure.details?.[0] as { system?: unknown } | undefined) : undefined;
  return { at, step, system: typeof details?.system === 'string' ? details.system : null, message: failure.message };
}
