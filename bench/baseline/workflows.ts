// The raw SDK baseline `npm run bench` measures the desk against: a workflow that does nothing but wait
// for its moment and run one activity, on the same server and converter, so "breach lag" has a floor
// measured in the same run.
import { proxyActivities, sleep } from '@temporalio/workflow';

const { due } = proxyActivities<{ due(at: number): Promise<void> }>({ startToCloseTimeout: '20 seconds' });

export async function timerBaselineWorkflow(at: number): Promise<void> {
  await sleep(Math.max(at - Date.now(), 1));
  await due(at);
}
