// `npm start` after a crash. The launcher runs as `npm start` runs it (tsx scripts/start.ts, a real
// process with its own Temporal dev server, embedded PostgreSQL, worker and API) on free ports and
// with a data folder of its own. kill -9 of it (or of tsx, or of npm) or closing its terminal leaves
// nothing running; the next start comes up, stops what an earlier one left behind but never a process
// that only reuses a recorded pid, and the ticket filed before the crash still breaches on time (the
// demo policy: acknowledge within 20 s).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prettyLogs } from '../config/logger';
import { isRunning, readProcess, readRecord, stillRuns, type ProcessRecord, type ProcessStart } from '../scripts/pid-files';
import { bearer, TEST_ADMIN_KEY } from './credentials';
import { freePort } from './desk-processes';
import { eventually } from './eventually';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
/** The machine is small and busy: a start may take a while, an exit after a crash must not. */
const START_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 20_000;

interface Launcher {
  /** The process spawned (tsx or npm), leader of the launcher's process group. */
  pid: number;
  exited: Promise<number | null>;
  output(): string;
}

let dir: string;
let dataDir: string;
let pidsDir: string;
let env: NodeJS.ProcessEnv;
let apiUrl: string;
let launcher: Launcher | undefined;
let ticketId: string;
const launchers: Launcher[] = [];
const strangers: ChildProcess[] = [];

/** `tsx scripts/start.ts`, or with `through: 'npm'` `npm start` (npm, sh, tsx and the launcher). */
function startLauncher(extraEnv: NodeJS.ProcessEnv = {}, through: 'tsx' | 'npm' = 'tsx'): Launcher {
  const [command, args] = through === 'npm' ? ['npm', ['start']] : [TSX, ['scripts/start.ts']];
  // Its own process group, as a terminal gives `npm start` one: kill -9 of the group is a crash of the launcher.
  const child = spawn(command, args, { cwd: ROOT, env: { ...env, ...extraEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const started: Launcher = { pid: child.pid!, exited, output: () => output };
  launchers.push(started);
  return started;
}

/** Polls until `done` holds; fails with what `describe` says once timeoutMs has passed. */
async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000}s: ${describe()}`);
    await sleep(250);
  }
}

async function waitUntilReady(desk: Launcher): Promise<void> {
  let exitCode: number | null | undefined;
  void desk.exited.then((code) => (exitCode = code));
  const ready = async () => {
    if (exitCode !== undefined) throw new Error(`the launcher exited (${exitCode}) before it was ready:\n${desk.output()}`);
    const answer = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    return answer?.status === 200;
  };
  await waitUntil(ready, START_TIMEOUT_MS, () => `GET /readyz never answered 200. The launcher's output:\n${desk.output()}`);
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${apiUrl}${route}`, {
    method,
    headers: { ...bearer(TEST_ADMIN_KEY), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** `pid` and every process below it, as they run now. */
function processTree(pid: number): Array<ProcessStart & { argv: string[] }> {
  const all = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => readProcess(Number(entry)) ?? []);
  const tree = all.filter((p) => p.pid === pid);
  for (let added = tree; added.length > 0; ) {
    added = all.filter((p) => added.some((parent) => parent.pid === p.ppid));
    tree.push(...added);
  }
  return tree;
}

function survivors(processes: Array<ProcessStart & { argv: string[] }>): string {
  return processes.filter(stillRuns).map((p) => `${p.pid} ${p.argv.join(' ')}`).join('\n');
}

function record(name: string): ProcessRecord {
  const found = readRecord(pidsDir, name);
  if (!found) throw new Error(`${pidsDir}/${name}.pid is missing`);
  return found;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-start-crash-'));
  // As root, PostgreSQL runs as the OS account postgres, which must reach its data folder.
  dataDir = path.join(dir, 'data');
  mkdirSync(dataDir);
  chmodSync(dir, 0o755);
  chmodSync(dataDir, 0o755);
  pidsDir = path.join(dataDir, 'pids');
  const { TEMPORAL_ADDRESS: _temporal, DATABASE_URL: _database, SUPPORT_DESK_ENCRYPTION_KEYS: _keys, ...inherited } = process.env;
  env = {
    ...inherited,
    SUPPORT_DESK_DATA_DIR: dataDir,
    SUPPORT_DESK_POLICY: 'demo',
    SUPPORT_DESK_ADMIN_KEY: TEST_ADMIN_KEY,
  };
  await choosePorts();
});

/** Free ports for the API, Temporal (gRPC, UI) and PostgreSQL; the data folder stays the same. */
async function choosePorts(): Promise<void> {
  const [apiPort, temporalPort, temporalUiPort, postgresPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  Object.assign(env, {
    PORT: String(apiPort),
    SUPPORT_DESK_TEMPORAL_PORT: String(temporalPort),
    SUPPORT_DESK_TEMPORAL_UI_PORT: String(temporalUiPort),
    SUPPORT_DESK_PG_PORT: String(postgresPort),
  });
}

/**
 * Starts and waits until ready. A port of this file's, free when chosen, may be taken meanwhile by a
 * server of a test running beside it (the dev server picks ports of its own at random): that start
 * fails saying so, and is made again on other ports, at most twice.
 */
async function launchReady(start: () => Launcher): Promise<Launcher> {
  for (let attempt = 1; ; attempt++) {
    const desk = start();
    try {
      await waitUntilReady(desk);
      return desk;
    } catch (error) {
      if (attempt === 3 || !/address already in use|is already in use/.test(desk.output())) throw error;
      await desk.exited;
      await choosePorts();
    }
  }
}

afterAll(async () => {
  const kill = (target: number) => {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  for (const desk of launchers) kill(-desk.pid);
  // Whatever a launcher started and did not stop (a failed test): its records say what.
  const records = existsSync(pidsDir) ? readdirSync(pidsDir).filter((file) => file.endsWith('.pid')) : [];
  const left = records.flatMap((file) => readRecord(pidsDir, file.slice(0, -'.pid'.length)) ?? []).filter(isRunning);
  for (const leftover of left) kill(readProcess(leftover.pid)?.pgrp === leftover.pid ? -leftover.pid : leftover.pid);
  for (const stranger of strangers) stranger.kill('SIGKILL');
  await waitUntil(() => left.every((p) => !stillRuns(p)), EXIT_TIMEOUT_MS, () => survivors(left));
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('logs are readable lines on a terminal and JSON when piped, unless SUPPORT_DESK_PRETTY_LOGS says otherwise', () => {
  expect(prettyLogs({}, true)).toBe(true);
  expect(prettyLogs({}, false)).toBe(false);
  expect(prettyLogs({ SUPPORT_DESK_PRETTY_LOGS: '1' }, false)).toBe(true); // npm start in a terminal, for its children
  expect(prettyLogs({ SUPPORT_DESK_PRETTY_LOGS: '0' }, true)).toBe(false);
});

test('a port another program holds is named, and that program is left alone', async () => {
  const foreign = net.createServer((socket) => socket.end('mine\n'));
  const port = await freePort();
  await new Promise<void>((resolve) => foreign.listen(port, '127.0.0.1', resolve));
  try {
    const refused = startLauncher({ PORT: String(port) });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain(`Port ${port} (API) is already in use. Stop what runs there, or set PORT to another port.`);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
    });
    expect(answer).toBe('mine\n');
  } finally {
    await new Promise((resolve) => foreign.close(resolve));
  }
}, 60_000);

test('kill -9 of the launcher: Temporal, PostgreSQL, the worker and the API exit within seconds', async () => {
  launcher = await launchReady(() => startLauncher());
  const filed = await api('POST', '/tickets', { subject: 'Nobody answers after the crash' });
  expect(filed.status).toBe(201);
  ticketId = filed.body.id;
  const recorded = readdirSync(pidsDir).sort();
  expect(recorded).toEqual(['api.pid', 'launcher.pid', 'postgres.pid', 'temporal.pid', 'worker.pid']);
  expect(launcher.output()).toMatch(/^\[api\] \{"level"/m); // JSON: the launcher's stdout is a pipe, not a terminal

  const started = processTree(launcher.pid);
  for (const name of ['temporal', 'postgres', 'worker', 'api']) {
    expect(started.map((p) => p.pid)).toContain(record(name).pid);
  }
  process.kill(-launcher.pid, 'SIGKILL'); // tsx and the launcher it runs; nothing gets to clean up
  const killedAt = Date.now();
  await waitUntil(() => started.every((p) => !stillRuns(p)), EXIT_TIMEOUT_MS, () => `still running:\n${survivors(started)}`);
  console.log(`every process the launcher started exited ${Date.now() - killedAt} ms after kill -9`);
}, START_TIMEOUT_MS + 60_000);

test('the next start comes up, leaves a process that reuses a recorded pid alone, and the ticket filed before the crash breaches', async () => {
  // The kernel gave the recorded pid of Temporal to another program since: only the pid matches.
  const stranger = spawn('sleep', ['300'], { stdio: 'ignore' });
  strangers.push(stranger);
  writeFileSync(path.join(pidsDir, 'temporal.pid'), JSON.stringify({ ...record('temporal'), pid: stranger.pid }));

  launcher = await launchReady(() => startLauncher());
  expect(launcher.output()).toContain(`names pid ${stranger.pid}, which now runs something else: leaving it alone`);
  expect(stranger.exitCode).toBeNull();
  expect(stranger.signalCode).toBeNull();
  expect(readProcess(stranger.pid!)?.argv).toEqual(['sleep', '300']);

  // Its acknowledge clock ran out while the desk was down: the workflow's timer fires once the worker is back.
  const breached = await eventually(
    () => api('GET', `/tickets/${ticketId}`),
    (answer) => answer.body.breaches?.some((b: { sla: string }) => b.sla === 'acknowledge') && answer.body.escalations?.length > 0,
    START_TIMEOUT_MS,
  );
  expect(breached.status).toBe(200);
  expect(breached.body.clocks.acknowledge.status).toBe('breached');
  expect(breached.body.breaches).toEqual([expect.objectContaining({ sla: 'acknowledge' })]);
  expect(breached.body.escalations[0]).toMatchObject({ sla: 'acknowledge', level: 1 });
}, 2 * START_TIMEOUT_MS + 30_000);

test('a second start with the same data folder is refused while the first runs', async () => {
  const first = record('launcher');
  const second = startLauncher();
  expect(await second.exited).toBe(1);
  expect(second.output()).toContain(`Another \`npm start\` (pid ${first.pid}) is running with ${dataDir}.`);
  expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);
  expect(record('launcher')).toEqual(first);
}, 60_000);

test('a start stops what an earlier start left running (a suspended Temporal that ignored the launcher dying)', async () => {
  const temporal = record('temporal');
  const others = ['postgres', 'worker', 'api'].map(record);
  process.kill(temporal.pid, 'SIGSTOP'); // a stopped process acts on the kernel's SIGTERM only once it runs again
  process.kill(-launcher!.pid, 'SIGKILL');
  await waitUntil(() => others.every((p) => !isRunning(p)), EXIT_TIMEOUT_MS, () => `still running:\n${survivors(others)}`);
  expect(isRunning(temporal)).toBe(true);

  launcher = await launchReady(() => startLauncher());
  expect(launcher.output()).toContain(`stopping the temporal an earlier start left running (pid ${temporal.pid})`);
  expect(isRunning(temporal)).toBe(false);
  expect(record('temporal').pid).not.toBe(temporal.pid);
}, START_TIMEOUT_MS + 60_000);

test('kill -9 of tsx alone: the launcher it ran notices, stops everything and removes its records', async () => {
  const started = processTree(launcher!.pid);
  process.kill(launcher!.pid, 'SIGKILL'); // only the tsx process: the node process running scripts/start.ts is left
  await waitUntil(() => started.every((p) => !stillRuns(p)), EXIT_TIMEOUT_MS, () => `still running:\n${survivors(started)}`);
  expect(launcher!.output()).toContain('the process that ran this launcher is gone; stopping everything');
  expect(readdirSync(pidsDir)).toEqual([]);
}, 60_000);

test('kill -9 of `npm start` itself: the sh, tsx and launcher below it stop everything', async () => {
  const npm = await launchReady(() => startLauncher({}, 'npm'));
  const started = processTree(npm.pid);
  expect(started.map((p) => p.pid)).toContain(record('launcher').pid);
  process.kill(npm.pid, 'SIGKILL');
  await waitUntil(() => started.every((p) => !stillRuns(p)), EXIT_TIMEOUT_MS, () => `still running:\n${survivors(started)}`);
  expect(npm.output()).toContain('the process that ran this launcher is gone; stopping everything');
  expect(readdirSync(pidsDir)).toEqual([]);
}, START_TIMEOUT_MS + 60_000);

test('closing its terminal stops everything in order, and in a terminal the worker and the API log readable lines', async () => {
  // `script` (util-linux) gives the launcher a terminal of its own; killing script closes it (SIGHUP).
  const transcript = path.join(dir, 'terminal.log');
  const desk = await launchReady(() => {
    rmSync(transcript, { force: true });
    const terminal = spawn('script', ['-qfec', `${TSX} scripts/start.ts`, transcript], { cwd: ROOT, env, detached: true, stdio: 'ignore' });
    const started: Launcher = {
      pid: terminal.pid!,
      exited: new Promise((resolve) => terminal.once('close', (code) => resolve(code))),
      output: () => (existsSync(transcript) ? readFileSync(transcript, 'utf8') : ''),
    };
    launchers.push(started);
    return started;
  });
  await waitUntil(() => /^\[api\] \[\d\d:\d\d:\d\d\.\d{3}\] .*API listening/m.test(desk.output()), EXIT_TIMEOUT_MS, desk.output);
  expect(desk.output()).not.toMatch(/^\[(api|worker)\] \{"level"/m);

  const started = processTree(desk.pid);
  process.kill(desk.pid, 'SIGKILL');
  await waitUntil(() => started.every((p) => !stillRuns(p)), EXIT_TIMEOUT_MS, () => `still running:\n${survivors(started)}`);
  expect(readdirSync(pidsDir)).toEqual([]); // each record is removed by a clean stop only
}, START_TIMEOUT_MS + 60_000);
