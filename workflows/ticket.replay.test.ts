// Replays committed histories of real ticket runs against today's workflow code: a change to the
// commands a running ticket emits must be guarded with patched(), or this fails.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflows } from '../test/temporal';

const dir = path.join(__dirname, '..', 'test', 'histories');
const histories = readdirSync(dir).filter((f) => f.endsWith('.json'));

let bundle: WorkflowBundle;
beforeAll(async () => {
  bundle = await bundleWorkflows();
}, 60_000);

it('there is at least one committed history to replay', () => {
  expect(histories.length).toBeGreaterThan(0);
});

it.each(histories)('%s replays without non-determinism', async (file) => {
  const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, file)).resolves.toBeUndefined();
});
