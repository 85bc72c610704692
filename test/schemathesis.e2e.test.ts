// The running desk against its own contract: schemathesis (PyPI, pinned in scripts/tools.ts, settings
// in test/schemathesis.toml) reads GET /openapi.json and sends every operation generated requests as
// the admin: boundary and invalid values of every parameter and body field (coverage), random valid
// and invalid ones (fuzzing), then chains that follow the spec's links from a filed item through its
// actions (stateful). Not one answer may be a 5xx, and every answer must be one the spec documents:
// its status, its content type and its body's schema. The desk runs as `npm start` runs it: the dev
// server, PostgreSQL, the worker and the API as processes. Reports go to .artifacts/schemathesis/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { schemathesisBinary } from '../scripts/tools';
import { TEST_ADMIN_KEY } from './credentials';
import { deskProcesses } from './desk-processes';

const ROOT = path.join(__dirname, '..');
const ARTIFACTS = path.join(ROOT, '.artifacts', 'schemathesis');
const CONFIG = path.join(__dirname, 'schemathesis.toml');
const GITLAB_TOKEN = 'schemathesis-gitlab-token';

/** What every answer is checked for (schemathesis's names). */
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_headers_conformance', 'response_schema_conformance'];

/**
 * Time budgets in seconds, which keep the test near two and a half minutes on CI's two busy cores:
 * fuzzing goes on until its run's budget is spent, so the chains get a run of their own.
 */
const RUNS = [
  { name: 'coverage-fuzzing', phases: 'examples,coverage,fuzzing', seconds: 100 },
  { name: 'stateful', phases: 'stateful', seconds: 20 },
];

const desk = deskProcesses({
  taskQueue: `schemathesis-${process.pid}`,
  env: {
    // Thousands of requests from one address and one key: the limits would answer most of them 429.
    RATE_LIMIT_PER_CREDENTIAL: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    RATE_LIMIT_FAILED_PER_ADDRESS: '0',
    // Each webhook checks its signature (401) rather than answering that it is not configured (503);
    // GitLab's token is a header schemathesis sends, so its deliveries are taken and acted on.
    SLACK_SIGNING_SECRET: 'schemathesis-slack-secret',
    ZENDESK_WEBHOOK_SECRET: 'schemathesis-zendesk-secret',
    PAGERDUTY_WEBHOOK_SECRETS: 'schemathesis-pagerduty-secret',
    GITLAB_WEBHOOK_TOKEN: GITLAB_TOKEN,
    LOG_LEVEL: 'error',
  },
  use: () => undefined,
});

/** What a run's JSON report says (the parts this test reads). */
interface RunReport {
  exit_code: number;
  running_time: number;
  stop_reason: string;
  operations: { selected: number; tested: number; errored: number };
  test_cases: { generated: number; with_failures: number };
  failures: Array<{ code: string; title: string; operations: string[] }>;
  errors: Array<{ title: string; count: number }>;
}

async function schemathesis(run: (typeof RUNS)[number]): Promise<{ report: RunReport; output: string }> {
  const reportPath = path.join(ARTIFACTS, `${run.name}.json`);
  rmSync(reportPath, { force: true });
  const args = [
    '--config-file',
    CONFIG,
    'run',
    `${desk.url()}/openapi.json`,
    '--checks',
    CHECKS.join(','),
    '--header',
    `Authorization: Bearer ${TEST_ADMIN_KEY}`,
    '--header',
    `X-Gitlab-Token: ${GITLAB_TOKEN}`,
    '--phases',
    run.phases,
    '--max-time',
    String(run.seconds),
    '--seed',
    '13',
    '--report',
    'json',
    '--report-json-path',
    reportPath,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    // From the repository's root, where test/schemathesis.toml keeps its cache (under .artifacts/).
    const child = spawn(schemathesisBinary(), args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', COLUMNS: '160' } });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
  if (!existsSync(reportPath)) throw new Error(`schemathesis wrote no report:\n${output.slice(-4000)}`);
  return { report: JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport, output };
}

test('every operation of /openapi.json: no 5xx, and every answer is the one the spec documents', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const run of RUNS) {
    const { report, output } = await schemathesis(run);
    const { operations, test_cases: cases } = report;
    console.log(
      `schemathesis ${run.phases}: ${operations.tested}/${operations.selected} operations, ${cases.generated} test cases, ` +
        `${cases.with_failures} failing, ${report.errors.length} errors, ${report.running_time.toFixed(0)} s (${report.stop_reason})`,
    );
    // On a failure, the output names each failing case and the curl that reproduces it.
    const found = { failures: report.failures, errors: report.errors, exitCode: report.exit_code };
    if (found.exitCode !== 0) console.log(output);
    expect(found).toEqual({ failures: [], errors: [], exitCode: 0 });
    expect(cases.generated).toBeGreaterThan(0);
  }
}, 240_000);
