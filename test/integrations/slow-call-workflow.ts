// A one-activity workflow for test/integrations/effects.test.ts: each attempt of its activity times
// out after one second, so a slower call is still running when Temporal retries it.
import { proxyActivities } from '@temporalio/workflow';

export interface SlowCallActivities {
  callSlowService(key: string): Promise<{ call: number }>;
}

const { callSlowService } = proxyActivities<SlowCallActivities>({
  startToCloseTimeout: '1 second',
  retry: { initialInterval: '100 milliseconds', backoffCoefficient: 1, maximumAttempts: 30 },
});

export async function callSlowServiceOnce(key: string): Promise<{ call: number }> {
  return callSlowService(key);
}
