// OIDC/JWT bearer tokens, verified with jose against an identity provider's JWKS served locally the way
// a real provider serves it; roles from the configured claim, the name recorded as `by`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { createAuthenticator, jwtSettingsFromEnv, type Authenticator } from '../api/auth';
import { createKey } from '../db/api-keys';
import { createTestDatabase, type TestDatabase } from './postgres';

let db: TestDatabase;
let jwks: Server;
let signingKey: KeyLike;
let otherKey: KeyLike;
let auth: Authenticator;
const issuer = 'https://idp.example.test/realms/desk';
const audience = 'support-desk';

beforeAll(async () => {
  db = await createTestDatabase();
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  }).listen(0);
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  const settings = jwtSettingsFromEnv({ AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, AUTH_JWKS_URL: jwksUrl, AUTH_ROLES_CLAIM: 'realm_access.roles' });
  auth = createAuthenticator(db.pool, settings);
});

afterAll(async () => {
  await new Promise((resolve) => jwks?.close(resolve));
  await db?.drop();
});

function token(claims: Record<string, unknown>, opts: { key?: KeyLike; iss?: string; aud?: string; exp?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? audience)
    .setSubject('user-123')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(opts.key ?? signingKey);
}

test('a valid token names its person and carries the roles of the configured claim', async () => {
  const principal = await auth.principalOf(await token({ preferred_username: 'alice', realm_access: { roles: ['agent', 'unknown-role'] } }));
  expect(principal).toEqual({ name: 'alice', roles: ['agent', 'unknown-role'], credential: `jwt:${issuer}` });
  const bySubject = await auth.principalOf(await token({ realm_access: { roles: 'supervisor security' } }));
  expect(bySubject).toMatchObject({ name: 'user-123', roles: ['supervisor', 'security'] });
});

test('expired, foreign, wrongly signed or mis-addressed tokens prove nothing', async () => {
  expect(await auth.principalOf(await token({}, { exp: '-1m' }))).toBeNull();
  expect(await auth.principalOf(await token({}, { iss: 'https://evil.example' }))).toBeNull();
  expect(await auth.principalOf(await token({}, { aud: 'another-app' }))).toBeNull();
  expect(await auth.principalOf(await token({}, { key: otherKey }))).toBeNull();
  expect(await auth.principalOf('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBeNull(); // alg none
  expect(await auth.principalOf(await token({ preferred_username: 'bad\u0000name' }))).toBeNull();
});

test("a token carrying the name of someone with an API key proves nothing: one name is one person", async () => {
  await createKey(db.pool, 'keyholder', 'agent', ['agent']);
  expect(await auth.principalOf(await token({ preferred_username: 'keyholder', realm_access: { roles: ['admin'] } }))).toBeNull();
  expect(await auth.principalOf(await token({ preferred_username: 'someone-else', realm_access: { roles: ['agent'] } }))).not.toBeNull();
});

test('the settings are all or nothing', () => {
  expect(jwtSettingsFromEnv({})).toBeNull();
  expect(() => jwtSettingsFromEnv({ AUTH_ISSUER: issuer })).toThrow(/AUTH_AUDIENCE and AUTH_JWKS_URL/);
  expect(() => jwtSettingsFromEnv({ AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, AUTH_JWKS_URL: 'not a url' })).toThrow(/not a URL/);
});
