// Replays committed histories of real ticket runs against today's workflow code: a change to the
// commands a running ticket emits must be guarded with patched(), or this fails. Replayed with the
// desk's data converter, as a worker would: histories from before payloads were encrypted pass through
// the codec, later ones are decrypted with the tests' key they were recorded with.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { ENCRYPTED_ENCODING } from '../config/encryption';
import { testDataConverter } from '../test/encryption';
import { bundleWorkflows } from '../test/temporal';

const dir = path.join(__dirname, '..', 'test', 'histories');
const histories = readdirSync(dir).filter((f) => f.endsWith('.json'));

let bundle: WorkflowBundle;
beforeAll(async () => {
  bundle = await bundleWorkflows();
}, 60_000);

/** Whether the history's payloads were written through the encryption codec (its JSON says so in base64). */
const encrypted = (file: string) => readFileSync(path.join(dir, file), 'utf8').includes(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));

it('there are committed histories to replay, from before payloads were encrypted and after', () => {
  expect(histories.filter((f) => !encrypted(f)).length).toBeGreaterThan(0);
  expect(histories.filter(encrypted).length).toBeGreaterThan(0);
});

it.each(histories)('%s replays without non-determinism', async (file) => {
  const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: testDataConverter }, history, file),
  ).resolves.toBeUndefined();
});
