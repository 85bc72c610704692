// `npm run bench` in miniature, so the benchmark keeps working as the desk changes: a handful of
// tickets due within seconds, every row of the table printed, every ticket escalated exactly once
// (the script exits 1 otherwise). The figures themselves are not asserted: a benchmark is not a timed test.
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');

it('prints the whole table and every ticket escalates exactly once', async () => {
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['bench/run.ts', '--due', '3', '--requests', '3', '--intake', '6', '--ack-seconds', '5'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString().slice(-4_000)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`bench exited ${code}:\n${out}\n${err}`);
  for (const row of [
    'intake, concurrency 1 (tickets/s)',
    'intake, concurrency 32 p50 / p99',
    'acknowledge p50 / p99',
    'per intake (history)',
    'per action: acknowledge (history)',
    'GET /tickets (50 rows)',
    '3 due together',
    'due → notification sent',
    'per escalation (history after the due timer)',
    'worker RSS per cached workflow',
    'replay:',
    'SLA clocks, 30-business-day target',
  ]) {
    expect(out).toContain(`| ${row}`);
  }
  expect(out).toMatch(/\| 3 due together .*\| 3 \(missing 0, twice 0\) \| 3 fired/);
}, 240_000);
