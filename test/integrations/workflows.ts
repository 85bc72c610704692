// A one-activity workflow for the contract tests: delivers one notification through the real
// notify activity, so Temporal's own retry policy is what retries the Slack call.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { TicketActivities } from '../../activities/ticket';
import type { Notification } from '../../domain/ticket';

const { notify } = proxyActivities<TicketActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds' },
});

export async function deliverNotification(n: Notification): Promise<{ delivered: boolean; failure?: string }> {
  try {
    await notify(n);
    return { delivered: true };
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
      return { delivered: false, failure: err.cause.message };
    }
    throw err;
  }
}
