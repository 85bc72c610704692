// `npm start`: the whole desk on one machine with nothing to configure. Starts a Temporal dev server
// (state in .data/temporal) and PostgreSQL (embedded, .data/postgres) unless TEMPORAL_ADDRESS or
// DATABASE_URL point elsewhere, then the worker and the API, which encrypt every payload with the key
// in .data/encryption-keys (made on the first start) unless SUPPORT_DESK_ENCRYPTION_KEYS is set. Ctrl-C stops the worker and the API,
// then Temporal, then PostgreSQL; starting again resumes from the same .data folders.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeEncryptionKeys, ENCRYPTION_KEYS_VARIABLE, parseEncryptionKeys } from '../config/encryption';
import { redactUrl } from '../config/logger';
import { describeTemporalConnection, temporalConnectionFromEnv } from '../config/temporal-connection';
import { workerNodeOptions, workerTuningFromEnv } from '../config/worker-tuning';
import {
  assertPortFree,
  describeExit,
  localAdminKey,
  localEncryptionKeys,
  type RunningService,
  spawnService,
  startEmbeddedPostgres,
  startTemporalDevServer,
  waitForHttp,
  waitForPostgres,
  waitForTemporal,
} from './dev-services';
import { REPO_ROOT } from './tools';

const DATA_DIR = path.join(REPO_ROOT, '.data');
const ENCRYPTION_KEYS_FILE = path.join(DATA_DIR, 'encryption-keys');
const ADMIN_KEY_FILE = path.join(DATA_DIR, 'admin-key');
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const EMBEDDED_POSTGRES_PORT = 54329;
const DATABASE_NAME = 'support_desk';

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
  const apiPort = portFromEnv('PORT', 3000);
  const workerTuning = workerTuningFromEnv();
  const postgresPort = portFromEnv('SUPPORT_DESK_PG_PORT', EMBEDDED_POSTGRES_PORT);
  await assertPortFree(apiPort, 'API', 'Stop what runs there, or set PORT to another port.');
  const encryptionKeys = provideEncryptionKeys();
  const adminKey = provideAdminKey();

  const servers = Promise.allSettled([provideTemporal(apiPort), provideDatabase(postgresPort)]);
  startingServers = servers;
  const [temporal, database] = await servers;
  if (stopping) return;
  if (temporal.status === 'rejected' || database.status === 'rejected') {
    for (const result of [temporal, database]) {
      if (result.status === 'rejected') console.error(`[start] ${errorText(result.reason)}`);
    }
    return stopEverything(1);
  }

  const env = appEnvironment(temporal.value, database.value, apiPort, encryptionKeys.value);
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
async function provideTemporal(apiPort: number): Promise<Temporal> {
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
  const busy = 'Another `npm start` or Temporal server may be running: stop it, or set TEMPORAL_ADDRESS to use it.';
  await assertPortFree(TEMPORAL_PORT, 'Temporal gRPC', busy);
  await assertPortFree(TEMPORAL_UI_PORT, 'Temporal UI', busy);
  say('starting the Temporal dev server (state in .data/temporal)');
  const server = await startTemporalDevServer({
    dbFilename: path.join(DATA_DIR, 'temporal', 'temporal.db'),
    ip: '127.0.0.1',
    port: TEMPORAL_PORT,
    uiPort: TEMPORAL_UI_PORT,
    namespace,
    logLevel: 'warn',
    readyTimeoutMs: 120_000,
    signal: startup.signal,
    // The UI shows payloads decoded through the API's codec server, for a browser holding a decode key.
    uiCodecEndpoint: `http://localhost:${apiPort}/codec`,
  });
  started.temporal = server;
  stopEverythingIfItDies(server);
  return { address: server.address, namespace, uiUrl: `http://localhost:${TEMPORAL_UI_PORT}`, server };
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
  say(`starting PostgreSQL on 127.0.0.1:${port} (data in .data/postgres)`);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(DATA_DIR, 'postgres'),
    port,
    database: DATABASE_NAME,
    readyTimeoutMs: 120_000,
    signal: startup.signal,
  });
  started.postgres = server;
  stopEverythingIfItDies(server);
  return { url: server.databaseUrl, server, dataDir: server.dataDir };
}

/** The worker and the API get everything the launcher was given, plus where Temporal and PostgreSQL are and the keys. */
function appEnvironment(temporal: Temporal, database: Database, apiPort: number, encryptionKeys: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [ENCRYPTION_KEYS_VARIABLE]: encryptionKeys,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    DATABASE_URL: database.url,
    PORT: String(apiPort),
    // Like Temporal and PostgreSQL here, the API answers this machine only unless HOST says otherwise.
    HOST: process.env.HOST || '127.0.0.1',
  };
  if (!env.TEMPORAL_UI_URL && temporal.uiUrl) env.TEMPORAL_UI_URL = temporal.uiUrl; // the API links workflows to it
  // The UI's pages call the codec server from either name of this machine.
  if (!env.CODEC_CORS_ORIGINS && temporal.server) env.CODEC_CORS_ORIGINS = `http://localhost:${TEMPORAL_UI_PORT},http://127.0.0.1:${TEMPORAL_UI_PORT}`;
  return env;
}

/** Runs an entry point with the project's tsx; if it dies, everything stops. */
function startApp(name: string, entryPoint: string, env: NodeJS.ProcessEnv): RunningService {
  if (!existsSync(path.join(REPO_ROOT, entryPoint))) throw new Error(`${entryPoint} is missing from ${REPO_ROOT}`);
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  if (!existsSync(tsx)) throw new Error('node_modules/.bin/tsx is missing: run `npm install` first');
  say(`starting the ${name} (${entryPoint})`);
  const app = spawnService({ name, command: tsx, args: [entryPoint], cwd: REPO_ROOT, env });
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

function stopOnSignals(): void {
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
    say(exitCode === 0 ? 'stopped' : 'stopped after a failure');
    process.exit(exitCode);
  })();
  return stopping;
}

// ---------------------------------------------------------------------------------------------

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${name}="${raw}" is not a TCP port number (1-65535)`);
  }
  return port;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  console.error(`[start] ${errorText(error)}`);
  void stopEverything(1);
});
