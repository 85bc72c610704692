// The workflow code a worker runs, as one webpack bundle. `npm run build` writes it to
// dist/workflow-bundle.js (scripts/build.ts), so a production worker starts without webpack; run from
// the sources (npm start, tsx), the worker bundles at start as before. Either way the bundle's SHA-256
// is logged: two workers with the same hash run the same workflow code.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../config/encryption';

export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/** Where a built worker finds its bundle: beside dist/workers, i.e. dist/workflow-bundle.js. */
export function builtBundlePath(): string {
  return path.join(__dirname, '..', WORKFLOW_BUNDLE_FILE);
}

export function bundleHash(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/** Bundles workflows/index.ts (or the compiled dist/workflows/index.js) with the desk's failure converter. */
export function buildWorkflowBundle(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
}

/**
 * WORKFLOW_BUNDLE (a path) when set, else the built bundle when this is a built worker, else a bundle
 * made now from the sources. `source` says which, for the log.
 */
export async function loadWorkflowBundle(env: NodeJS.ProcessEnv = process.env): Promise<{ bundle: WorkflowBundle; source: string; sha256: string }> {
  const file = env.WORKFLOW_BUNDLE?.trim() || (existsSync(builtBundlePath()) ? builtBundlePath() : undefined);
  if (file) {
    const code = readFileSync(file, 'utf8');
    return { bundle: { code }, source: file, sha256: bundleHash(code) };
  }
  const bundle = await buildWorkflowBundle();
  return { bundle, source: 'bundled at start from workflows/', sha256: bundleHash(bundle.code) };
}
