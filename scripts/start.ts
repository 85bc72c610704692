// `npm start`: the whole desk on one machine with nothing to configure. Starts a Temporal dev server
// (state in .data/temporal) and PostgreSQL (embedded, .data/postgres) unless TEMPORAL_ADDRESS or
// DATABASE_URL point elsewhere, then the worker and the API, which encrypt every payload with the key
// in .data/encryption-keys (made on the first start) unless SUPPORT_DESK_ENCRYPTION_KEYS is set. Ctrl-C stops the worker and the API,
// then Temporal, then PostgreSQL; starting again resumes from the same .data folders.
//
// Nothing it started outlives it: each service gets SIGTERM (PostgreSQL SIGINT) from the kernel the
// moment the launcher dies, even by kill -9 (setpriv --pdeathsig, see dev-services.ts), the worker
// and the API also watch for it themselves (launcher-watch.ts), and what is recorded in .data/pids
// lets the next start stop anything that still lingers (pid-files.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeEncryptionKeys, ENCRYPTION_KEYS_VARIABLE, parseEncryptionKeys } from '../config/encryption';
import { portFromEnv } from '../config/env';
import { PRETTY_LOGS_VARIABLE, redactUrl } from '../config/logger';
import { describeTemporalConnection, temporalConnectionFromEnv } from '../config/temporal-connection';
import { workerNodeOptions, workerTuningFromEnv } from '../config/worker-tuning';
import {
  assertPortFree,
  describeExit,
  localAdminKey,
  localEncryptionKeys,
  type RunningService,
  setprivBinary,
  spawnService,
  startEmbeddedPostgres,
  startTemporalDevServer,
  waitForHttp,
  waitForPostgres,
  waitForTemporal,
} from './dev-services';
import {
  ancestorsInProcessGroup,
  forgetProcess,
  isRunning,
  LAUNCHER_RECORD,
  readRecord,
  recordProcess,
  stillRuns,
  stopLeftovers,
} from './pid-files';
import { REPO_ROOT } from './tools';

const DATA_DIR = path.resolve(process.env.SUPPORT_DESK_DATA_DIR || path.join(REPO_ROOT, '.data'));
const ENCRYPTION_KEYS_FILE = path.join(DATA_DIR, 'encryption-keys');
const ADMIN_KEY_FILE = path.join(DATA_DIR, 'admin-key');
/** What is running now, for the next start after a crash (scripts/pid-files.ts). */
const PIDS_DIR = path.join(DATA_DIR, 'pids');
const DATABASE_NAME = 'support_desk';

interface Ports {
  api: number;
  temporal: number;
  temporalUi: number;
  postgres: number;
}

interface Temporal {
  address: string;
  namespace: string;
  uiUrl?: string;
  server?: RunningService;
}

interface Database {
  url: string;
  server?: RunningService;
  /** Where embedded PostgreSQL keeps its cluster (.data/postgres unless staged for root). */
  dataDir?: string;
}

/** Everything started so far, grouped by the order it stops in: apps, then Temporal, then PostgreSQL. */
const started: { apps: RunningService[]; temporal?: RunningService; postgres?: RunningService } = {
  apps: [],
};
const startup = new AbortController();
let startingServers: Promise<unknown> = Promise.resolve();
let stopping: Promise<void> | undefined;

function say(message: string): void {
  console.log(`[start] ${message}`);
}

async function main(): Promise<void> {
  stopOnSignals();
  stopWhenTheJobEnds();
  const ports: Ports = {
    api: portFromEnv('PORT') ?? 3000,
    temporal: portFromEnv('SUPPORT_DESK_TEMPORAL_PORT') ?? 7233,
    temporalUi: portFromEnv('SUPPORT_DESK_TEMPORAL_UI_PORT') ?? 8233,
    postgres: portFromEnv('SUPPORT_DESK_PG_PORT') ?? 54329,
  };
  const apiPort = ports.api;
  const workerTuning = workerTuningFromEnv();
  claimDataDir();
  await stopLeftovers(PIDS_DIR, say);
  if (stopping) return;
  await assertPortFree(apiPort, 'API', 'Stop what runs there, or set PORT to another port.');
  const encryptionKeys = provideEncryptionKeys();
  const adminKey = provideAdminKey();

  const servers = Promise.allSettled([provideTemporal(ports), provideDatabase(ports.postgres)]);
  startingServers = servers;
  const [temporal, database] = await servers;
  if (stopping) return;
  if (temporal.status === 'rejected' || database.status === 'rejected') {
    for (const result of [temporal, database]) {
      if (result.status === 'rejected') console.error(`[start] ${errorText(result.reason)}`);
    }
    return stopEverything(1);
  }

  const env = appEnvironment(temporal.value, database.value, ports, encryptionKeys.value);
  env.SUPPORT_DESK_ADMIN_KEY = adminKey.value;
  // The worker's heap limit (WORKER_HEAP_MB) is a flag of the process, so it is given at its start.
  startApp('worker', 'workers/main.ts', { ...env, NODE_OPTIONS: workerNodeOptions(workerTuning, env.NODE_OPTIONS) });
  const api = startApp('api', 'api/main.ts', env);
  try {
    await waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, { timeoutMs: 120_000, signal: startup.signal, service: api });
  } catch (error) {
    if (stopping) return;
    console.error(`[start] ${errorText(error)}`);
    return stopEverything(1);
  }
  printWhereThingsAre(`http://localhost:${apiPort}`, temporal.value, database.value, encryptionKeys.keptIn, adminKey.keptIn);
  if (adminKey.created) {
    say(`the local admin key (shown this once; it is kept in ${adminKey.keptIn}):`);
    console.log(`  ${adminKey.value}`);
    say('send it as `Authorization: Bearer <key>`; make keys for people with `npm run desk -- keys create --name <name> --role <role>`');
  }
}

/**
 * One launcher per data folder: refuses while another one runs with it, then records this one, so
 * that what it starts is recognised as a leftover (and stopped) only once it is gone.
 */
function claimDataDir(): void {
  const other = readRecord(PIDS_DIR, LAUNCHER_RECORD);
  if (other && other.pid !== process.pid && isRunning(other)) {
    throw new Error(
      `Another \`npm start\` (pid ${other.pid}) is running with ${DATA_DIR}. ` +
        `Stop it first (Ctrl-C in its terminal, or \`kill ${other.pid}\`), or set SUPPORT_DESK_DATA_DIR to another folder.`,
    );
  }
  recordProcess(PIDS_DIR, LAUNCHER_RECORD, process.pid);
}

/**
 * SUPPORT_DESK_ADMIN_KEY when set (automation, CI); otherwise the local admin key in .data/admin-key,
 * made on the first start and shown then. The API makes it the bootstrap admin key.
 */
function provideAdminKey(): { value: string; keptIn: string; created: boolean } {
  const external = process.env.SUPPORT_DESK_ADMIN_KEY?.trim();
  if (external) return { value: external, keptIn: 'SUPPORT_DESK_ADMIN_KEY', created: false };
  const local = localAdminKey(ADMIN_KEY_FILE);
  return { ...local, keptIn: ADMIN_KEY_FILE };
}

/**
 * SUPPORT_DESK_ENCRYPTION_KEYS when set; otherwise the local key in .data/encryption-keys, made on the
 * first start and kept beside the Temporal state it encrypts. Only where the key is kept is logged.
 */
function provideEncryptionKeys(): { value: string; keptIn: string } {
  const external = process.env[ENCRYPTION_KEYS_VARIABLE];
  if (external) {
    const { activeKey } = describeEncryptionKeys(parseEncryptionKeys(external));
    say(`encrypting payloads with key ${activeKey} from ${ENCRYPTION_KEYS_VARIABLE}`);
    return { value: external, keptIn: ENCRYPTION_KEYS_VARIABLE };
  }
  const local = localEncryptionKeys(ENCRYPTION_KEYS_FILE);
  const { activeKey } = describeEncryptionKeys(parseEncryptionKeys(local.value));
  say(
    local.created
      ? `made encryption key ${activeKey} in ${ENCRYPTION_KEYS_FILE}: keep it, Temporal's state cannot be read without it`
      : `encrypting payloads with key ${activeKey} from ${ENCRYPTION_KEYS_FILE}`,
  );
  return { value: local.value, keptIn: ENCRYPTION_KEYS_FILE };
}

/** TEMPORAL_ADDRESS when set; otherwise a dev server with the desk's search attributes, kept in .data/temporal. */
async function provideTemporal(ports: Ports): Promise<Temporal> {
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) {
    // TLS, mTLS and API keys as the worker and the API read them (config/temporal-connection.ts).
    const settings = temporalConnectionFromEnv();
    const { tls } = describeTemporalConnection(settings);
    say(`using Temporal at ${external} (TEMPORAL_ADDRESS, ${tls}), namespace ${namespace}`);
    await waitForTemporal(settings, { timeoutMs: 30_000, signal: startup.signal });
    return { address: external, namespace, uiUrl: process.env.TEMPORAL_UI_URL };
  }
  const busy =
    'Another `npm start` or Temporal server may be running: stop it, or set TEMPORAL_ADDRESS to use it ' +
    '(or SUPPORT_DESK_TEMPORAL_PORT and SUPPORT_DESK_TEMPORAL_UI_PORT to start this one on other ports).';
  await assertPortFree(ports.temporal, 'Temporal gRPC', busy);
  await assertPortFree(ports.temporalUi, 'Temporal UI', busy);
  const stateDir = path.join(DATA_DIR, 'temporal');
  say(`starting the Temporal dev server (state in ${stateDir})`);
  const server = await startTemporalDevServer({
    dbFilename: path.join(stateDir, 'temporal.db'),
    ip: '127.0.0.1',
    port: ports.temporal,
    uiPort: ports.temporalUi,
    namespace,
    logLevel: 'warn',
    readyTimeoutMs: 120_000,
    signal: startup.signal,
    // The UI shows payloads decoded through the API's codec server, for a browser holding a decode key.
    uiCodecEndpoint: `http://localhost:${ports.api}/codec`,
    exitWithParent: true,
    pidsDir: PIDS_DIR,
  });
  started.temporal = server;
  stopEverythingIfItDies(server);
  return { address: server.address, namespace, uiUrl: `http://localhost:${ports.temporalUi}`, server };
}

/** DATABASE_URL when set; otherwise embedded PostgreSQL on 127.0.0.1:port, kept in .data/postgres. */
async function provideDatabase(port: number): Promise<Database> {
  const external = process.env.DATABASE_URL;
  if (external) {
    say(`using PostgreSQL at ${redactUrl(external)} (DATABASE_URL)`);
    await waitForPostgres(external, { timeoutMs: 30_000, signal: startup.signal });
    return { url: external };
  }
  await assertPortFree(
    port,
    'embedded PostgreSQL',
    'A PostgreSQL from an earlier `npm start` may still be running: stop it, ' +
      'set SUPPORT_DESK_PG_PORT to another port, or set DATABASE_URL.',
  );
  const dataDir = path.join(DATA_DIR, 'postgres');
  say(`starting PostgreSQL on 127.0.0.1:${port} (data in ${dataDir})`);
  const server = await startEmbeddedPostgres({
    dataDir,
    port,
    database: DATABASE_NAME,
    readyTimeoutMs: 120_000,
    signal: startup.signal,
    exitWithParent: true,
    pidsDir: PIDS_DIR,
  });
  started.postgres = server;
  stopEverythingIfItDies(server);
  return { url: server.databaseUrl, server, dataDir: server.dataDir };
}

/** The worker and the API get everything the launcher was given, plus where Temporal and PostgreSQL are and the keys. */
function appEnvironment(temporal: Temporal, database: Database, ports: Ports, encryptionKeys: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [ENCRYPTION_KEYS_VARIABLE]: encryptionKeys,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    DATABASE_URL: database.url,
    PORT: String(ports.api),
    // Like Temporal and PostgreSQL here, the API answers this machine only unless HOST says otherwise.
    HOST: process.env.HOST || '127.0.0.1',
  };
  if (!env.TEMPORAL_UI_URL && temporal.uiUrl) env.TEMPORAL_UI_URL = temporal.uiUrl; // the API links workflows to it
  // The UI's pages call the codec server from either name of this machine.
  if (!env.CODEC_CORS_ORIGINS && temporal.server) env.CODEC_CORS_ORIGINS = `http://localhost:${ports.temporalUi},http://127.0.0.1:${ports.temporalUi}`;
  // Their output reaches the terminal through this process (their stdout is a pipe to it), so they
  // log readable lines when it has a terminal, JSON when it is piped (config/logger.ts).
  if (env[PRETTY_LOGS_VARIABLE] === undefined && process.stdout.isTTY) env[PRETTY_LOGS_VARIABLE] = '1';
  return env;
}

/**
 * Runs an entry point in node with the project's tsx loaded into it, not with the tsx command: that
 * runs the app in a child process of its own, which would not be ours to signal or watch and would
 * outlive a killed tsx. launcher-watch.ts is loaded with tsx's require hook (through `--import` it
 * would fail in the worker's threads, which get the same flags but not tsx's module hooks). If the
 * app dies, everything stops.
 */
function startApp(name: string, entryPoint: string, env: NodeJS.ProcessEnv): RunningService {
  if (!existsSync(path.join(REPO_ROOT, entryPoint))) throw new Error(`${entryPoint} is missing from ${REPO_ROOT}`);
  if (!existsSync(path.join(REPO_ROOT, 'node_modules', 'tsx'))) throw new Error('node_modules/tsx is missing: run `npm install` first');
  say(`starting the ${name} (${entryPoint})`);
  const launcherWatch = path.join(REPO_ROOT, 'scripts', 'launcher-watch.ts');
  const app = spawnService({
    name,
    command: process.execPath,
    args: ['--require', 'tsx/cjs', '--require', launcherWatch, '--import', 'tsx/esm', entryPoint],
    cwd: REPO_ROOT,
    env: {
      ...env,
      SUPPORT_DESK_LAUNCHER_PID: String(process.pid),
      SUPPORT_DESK_LAUNCHER_PDEATHSIG: setprivBinary() ? '1' : '0',
    },
    exitWithParent: true,
    pidsDir: PIDS_DIR,
  });
  started.apps.push(app);
  stopEverythingIfItDies(app);
  return app;
}

function printWhereThingsAre(apiUrl: string, temporal: Temporal, database: Database, keysKeptIn: string, adminKeyKeptIn: string): void {
  const rows = [
    ['API', apiUrl],
    ['Temporal UI', temporal.uiUrl ?? '(the UI of the server at TEMPORAL_ADDRESS)'],
    ['Temporal gRPC', `${temporal.address} (namespace ${temporal.namespace})`],
    ['PostgreSQL', redactUrl(database.url)],
    ['Encryption key', keysKeptIn],
    ['Admin key', adminKeyKeptIn],
  ];
  if (temporal.server || database.server) rows.push(['Local state', `${DATA_DIR} (delete it to start from scratch)`]);
  if (database.dataDir && !database.dataDir.startsWith(DATA_DIR + path.sep)) rows.push(['PostgreSQL data', database.dataDir]);
  say('the support desk is running:');
  for (const [label, value] of rows) console.log(`  ${label.padEnd(16)} ${value}`);
  say('press Ctrl-C to stop everything');
}

// ---------------------------------------------------------------------------------------------
// Stopping

/**
 * Stops everything once the job that runs the launcher is gone, however it went: under `npm start`
 * that is npm, its sh and tsx above this process in its process group. A kill -9 of npm or tsx
 * would otherwise leave this process and all it started running. Without /proc, only the parent is
 * watched.
 */
function stopWhenTheJobEnds(): void {
  const parent = process.ppid;
  const job = ancestorsInProcessGroup(process.pid);
  const watch = setInterval(() => {
    if (process.ppid === parent && job.every(stillRuns)) return;
    clearInterval(watch);
    if (stopping) return;
    console.error('[start] the process that ran this launcher is gone; stopping everything');
    void stopEverything(1);
  }, 1_000);
  watch.unref();
}

function stopOnSignals(): void {
  // Once the terminal is closed (SIGHUP) every write to it fails: the stop must still run in order.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) return; // npm and tsx forward the terminal's Ctrl-C as well, so it comes more than once
      say(`${signal} received`);
      void stopEverything(0);
    });
  }
}

function stopEverythingIfItDies(service: RunningService): void {
  void service.exited.then((exit) => {
    if (stopping) return;
    console.error(`[start] the ${service.name} stopped unexpectedly (${describeExit(exit)}); stopping the rest`);
    void stopEverything(1);
  });
}

/** Stops the worker and the API, then Temporal, then PostgreSQL, and exits with exitCode. */
function stopEverything(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    say('stopping the worker and the API, then Temporal, then PostgreSQL');
    startup.abort();
    await startingServers; // anything half-started stops itself once aborted
    await Promise.all(started.apps.map((app) => app.stop()));
    await started.temporal?.stop();
    await started.postgres?.stop();
    forgetProcess(PIDS_DIR, LAUNCHER_RECORD, process.pid);
    say(exitCode === 0 ? 'stopped' : 'stopped after a failure');
    process.exit(exitCode);
  })();
  return stopping;
}

// ---------------------------------------------------------------------------------------------

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  console.error(`[start] ${errorText(error)}`);
  void stopEverything(1);
});
