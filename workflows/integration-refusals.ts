// How the incident and security-report workflows tell a system that refused an effect for good (a
// 4xx from Slack, Zendesk, GitLab, PagerDuty) from one that may still come back: as workflows/ticket.ts does.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { IntegrationRefusal } from '../domain/incident';

/** The refusal an activity ended with, or null when the error is anything else (which must fail loudly). */
export function refusedForGood(err: unknown, step: string, at: number): IntegrationRefusal | null {
  if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable)) return null;
  const details = err.cause.details?.[0] as { system?: unknown } | undefined;
  return { at, step, system: typeof details?.system === 'string' ? details.system : null, message: err.cause.message };
}
