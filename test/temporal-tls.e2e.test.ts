// The desk against a Temporal that takes only mTLS, as a self-hosted cluster does: a CA, a server
// certificate and a client certificate made here with openssl; the dev server behind a TLS endpoint
// that asks for a client certificate signed by that CA (the CLI's dev server has no TLS flags, so the
// endpoint is a TLS terminator in this test, speaking HTTP/2 to the server). The worker and the API
// run as their own processes with TEMPORAL_TLS_*; a ticket goes through both.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import {
  checkTemporalNamespace,
  connectionOptions,
  TemporalSetupError,
  temporalConnectionFromEnv,
} from '../config/temporal-connection';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { ensureSearchAttributes, startTemporalDevServer, type TemporalDevServer } from '../scripts/dev-services';
import { temporalBinaries } from '../scripts/tools';
import { freePort } from './desk-processes';
import { createTestDatabase, type TestDatabase } from './postgres';
import { carryTicketThrough, spawnDesk, type SpawnedDesk } from './spawned-desk';

const SERVER_NAME = 'temporal.desk.test';

let dir: string;
let server: TemporalDevServer;
let terminator: net.Server;
let tlsPort: number;
let authorizedHandshakes = 0;
let db: TestDatabase;
const desks: SpawnedDesk[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, and a server and a client certificate it signs; each key in PKCS#8 PEM. */
function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '2', '-subj', '/CN=support-desk test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const [name, extension] of [
    ['server', `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE`],
    ['client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE'],
  ]) {
    writeFileSync(path.join(dir, `${name}.ext`), `${extension}\n`);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

const file = (name: string) => path.join(dir, name);
/** The environment a deployment sets: files for the CA and the client pair, the name on the server's certificate. */
const tlsEnv = () => ({
  TEMPORAL_ADDRESS: `127.0.0.1:${tlsPort}`,
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TLS_CA: file('ca.pem'),
  TEMPORAL_TLS_CERT: file('client.pem'),
  TEMPORAL_TLS_KEY: file('client.key'),
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
});

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-tls-'));
  makeCertificates();
  const { readFileSync } = await import('node:fs');
  // No search attributes yet: the first test expects the desk to say which are missing.
  server = await startTemporalDevServer({ port: await freePort(), headless: true, searchAttributes: [], quiet: true, readyTimeoutMs: 60_000 });
  const [, upstreamPort] = server.address.split(':');
  terminator = tls.createServer(
    {
      key: readFileSync(file('server.key')),
      cert: readFileSync(file('server.pem')),
      ca: readFileSync(file('ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      if (socket.authorized) authorizedHandshakes += 1;
      const upstream = net.connect(Number(upstreamPort), '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      const close = () => (socket.destroy(), upstream.destroy());
      socket.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    },
  );
  terminator.on('tlsClientError', () => undefined); // a client without a certificate: refused, as it should be
  tlsPort = await freePort();
  await new Promise<void>((resolve) => terminator.listen(tlsPort, '127.0.0.1', resolve));
  db = await createTestDatabase();
}, 120_000);

afterAll(async () => {
  await Promise.all(desks.map((d) => d.stop()));
  await new Promise((resolve) => terminator?.close(resolve));
  await server?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('a client with the CA and a client certificate connects; without the certificate or with the wrong name it is refused', async () => {
  const settings = temporalConnectionFromEnv(tlsEnv());
  expect(settings.tls?.clientCertPair).toBeDefined();
  const connection = await Connection.connect(connectionOptions(settings));
  try {
    await connection.workflowService.getSystemInfo({});
  } finally {
    await connection.close();
  }
  expect(authorizedHandshakes).toBeGreaterThan(0);

  const { TEMPORAL_TLS_CERT: _cert, TEMPORAL_TLS_KEY: _key, ...noClientCert } = tlsEnv();
  const refused = async (env: NodeJS.ProcessEnv) => {
    const c = await Connection.connect({ ...connectionOptions(temporalConnectionFromEnv(env)), connectTimeout: '3s' }).catch((e: Error) => e);
    if (c instanceof Error) return c;
    try {
      return await c.withDeadline(Date.now() + 3_000, () => c.workflowService.getSystemInfo({})).catch((e: Error) => e);
    } finally {
      await c.close();
    }
  };
  expect(await refused(noClientCert)).toBeInstanceOf(Error);
  expect(await refused({ ...tlsEnv(), TEMPORAL_TLS_SERVER_NAME: 'someone-else.test' })).toBeInstanceOf(Error);
});

test('a namespace that does not exist, and one without the desk search attributes, are named with the command that fixes them', async () => {
  const settings = temporalConnectionFromEnv(tlsEnv());
  const connection = await Connection.connect(connectionOptions(settings));
  try {
    const missingNamespace = await checkTemporalNamespace(connection, { ...settings, namespace: 'nowhere' }).catch((e) => e);
    expect(missingNamespace).toBeInstanceOf(TemporalSetupError);
    expect(missingNamespace.message).toContain('temporal operator namespace create --namespace nowhere');

    const missingAttributes = await checkTemporalNamespace(connection, settings).catch((e) => e);
    expect(missingAttributes).toBeInstanceOf(TemporalSetupError);
    for (const { name, type } of SEARCH_ATTRIBUTES) {
      expect(missingAttributes.message).toContain(`temporal operator search-attribute create --namespace default --name ${name} --type ${type}`);
    }
  } finally {
    await connection.close();
  }
});

test('the worker and the API connect over mTLS and carry a ticket from intake to resolution', async () => {
  const { temporal } = await temporalBinaries();
  await ensureSearchAttributes(temporal, server.address, 'default', SEARCH_ATTRIBUTES);
  const desk = await spawnDesk({ env: { ...tlsEnv(), DATABASE_URL: db.url } });
  desks.push(desk);
  // The acknowledgement and the resolution are answered by the worker: they went through its TLS connection too.
  await carryTicketThrough(desk, 'VPN drops every hour');
}, 180_000);
