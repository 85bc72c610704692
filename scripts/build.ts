// The second half of `npm run build` (after `tsc -p tsconfig.build.json`), run as dist/scripts/build.js:
// bundles the compiled workflow code once, so a production worker starts without webpack, and copies
// the files tsc does not (the dashboard's and the docs' pages, scripts and styles) beside the code that serves them.
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildWorkflowBundle, builtBundlePath, bundleHash } from '../workers/workflow-bundle';

async function main(): Promise<void> {
  const dist = path.resolve(__dirname, '..');
  if (path.basename(dist) !== 'dist') throw new Error('run this as dist/scripts/build.js, through `npm run build`');
  const sources = path.resolve(dist, '..');
  for (const assets of ['api/dashboard', 'api/docs']) {
    cpSync(path.join(sources, assets), path.join(dist, assets), { recursive: true });
  }
  const bundle = await buildWorkflowBundle();
  writeFileSync(builtBundlePath(), bundle.code);
  console.log(`[build] ${path.relative(sources, builtBundlePath())} ${(bundle.code.length / 2 ** 20).toFixed(1)} MB, sha256 ${bundleHash(bundle.code)}`);
}

main().catch((error: unknown) => {
  console.error(`[build] ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
