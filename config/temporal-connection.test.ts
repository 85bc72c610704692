// The Temporal connection settings read from the environment: what turns TLS on, what is refused
// with a message naming the variable, and that no key's value reaches a log line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ConfigError } from './config-error';
import { describeTemporalConnection, temporalConnectionFromEnv } from './temporal-connection';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n';
const dir = mkdtempSync(path.join(tmpdir(), 'desk-tls-env-'));
const certFile = path.join(dir, 'client.pem');
writeFileSync(certFile, CERT);

test('no TLS variables: plain gRPC to 127.0.0.1:7233, namespace default', () => {
  expect(temporalConnectionFromEnv({})).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
});

test('TEMPORAL_TLS=true alone: TLS with the system roots', () => {
  expect(temporalConnectionFromEnv({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
});

test('an API key turns TLS on (Temporal Cloud) and is passed as the API key', () => {
  const settings = temporalConnectionFromEnv({ TEMPORAL_ADDRESS: 'desk.a1b2c.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret-key' });
  expect(settings).toMatchObject({ tls: {}, apiKey: 'secret-key', namespace: 'default' });
});

test('mTLS from a file and inline PEM; the server name override', () => {
  const settings = temporalConnectionFromEnv({ TEMPORAL_TLS_CERT: certFile, TEMPORAL_TLS_KEY: KEY, TEMPORAL_TLS_CA: CERT, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
  expect(settings.tls?.clientCertPair?.crt.toString()).toBe(CERT);
  expect(settings.tls?.clientCertPair?.key.toString()).toBe(KEY.trim());
  expect(settings.tls?.serverRootCACertificate?.toString()).toBe(CERT.trim());
  expect(settings.tls?.serverNameOverride).toBe('temporal.internal');
  expect(describeTemporalConnection(settings)).toMatchObject({ tls: 'mTLS', ca: 'TEMPORAL_TLS_CA', serverName: 'temporal.internal' });
});

test.each([
  [{ TEMPORAL_TLS_CERT: CERT }, /TEMPORAL_TLS_CERT is set without TEMPORAL_TLS_KEY/],
  [{ TEMPORAL_TLS_KEY: KEY }, /TEMPORAL_TLS_KEY is set without TEMPORAL_TLS_CERT/],
  [{ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }, /TEMPORAL_TLS=false, but .* TEMPORAL_API_KEY/],
  [{ TEMPORAL_TLS: 'maybe' }, /TEMPORAL_TLS="maybe" is not true or false/],
  [{ TEMPORAL_TLS_CA: '/nowhere/ca.pem' }, /TEMPORAL_TLS_CA: cannot read the file "\/nowhere\/ca.pem" \(ENOENT\)/],
  [{ TEMPORAL_TLS_CA: path.join(dir) }, /TEMPORAL_TLS_CA: cannot read the file .* \(EISDIR\)/],
  [{ TEMPORAL_TLS_CERT: certFile, TEMPORAL_TLS_KEY: certFile }, /TEMPORAL_TLS_KEY holds no PEM private key/],
  [{ TEMPORAL_ADDRESS: 'https://temporal:7233' }, /TEMPORAL_ADDRESS="https:\/\/temporal:7233" is not host:port/],
])('%p is refused with a message that says what to fix', (env, message) => {
  expect(() => temporalConnectionFromEnv(env)).toThrow(ConfigError);
  expect(() => temporalConnectionFromEnv(env)).toThrow(message);
});

test('a key that is neither PEM nor a readable path is refused without repeating it', () => {
  const mangled = Buffer.from(KEY).toString('base64');
  const refused = (() => {
    try {
      temporalConnectionFromEnv({ TEMPORAL_TLS_CERT: CERT, TEMPORAL_TLS_KEY: mangled });
    } catch (error) {
      return error as Error;
    }
  })();
  expect(refused).toBeInstanceOf(ConfigError);
  expect(refused!.message).toMatch(/^TEMPORAL_TLS_KEY: cannot read the file it names \((ENOENT|ENAMETOOLONG)\)/);
  expect(refused!.message).not.toContain(mangled.slice(0, 12));
});

test('what is logged about a connection never holds the API key or the client key', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 8 }).filter((s) => s.trim().length >= 8 && !/[\s"\\]/.test(s)), (secret) => {
      const key = `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----`;
      const settings = temporalConnectionFromEnv({ TEMPORAL_API_KEY: secret, TEMPORAL_TLS_CERT: CERT, TEMPORAL_TLS_KEY: key });
      const logged = JSON.stringify(describeTemporalConnection(settings));
      // Words of the description itself (a secret "default" or "TLS" would match by chance).
      const words = new Set(logged.match(/[\w.:()-]+/g));
      return !logged.includes(secret) || words.has(secret);
    }),
  );
});
