// Who is calling: `Authorization: Bearer <credential>`, an API key kept hashed in PostgreSQL, or, when
// an identity provider is configured, an OIDC/JWT access token verified against its JWKS.
import type { RequestHandler } from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Pool } from 'pg';
import { findKey, nameHasKey } from '../db/api-keys';
import type { Principal } from '../domain/access';
import { TEXT_RULES, textProblem } from '../domain/text-rules';
import { ConfigError } from '../config/env';
import { HttpError } from './errors';

/** The identity provider's settings (README, "Who may do what"); absent → API keys only. */
export interface JwtSettings {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Where the token carries its roles: a claim name, or a dotted path such as `realm_access.roles`. */
  rolesClaim: string;
  /** The claim naming the person (recorded as `by`); `sub` when the token has none. */
  nameClaim: string;
}

export function jwtSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): JwtSettings | null {
  const { AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, AUTH_JWKS_URL: jwksUrl } = env;
  const set = [issuer, audience, jwksUrl].filter(Boolean).length;
  if (set === 0) return null;
  if (set < 3) throw new ConfigError('set all of AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL to accept JWTs, or none of them for API keys only');
  try {
    new URL(jwksUrl!);
  } catch {
    throw new ConfigError(`AUTH_JWKS_URL="${jwksUrl}" is not a URL (e.g. https://idp.example.com/.well-known/jwks.json)`);
  }
  return {
    issuer: issuer!,
    audience: audience!,
    jwksUrl: jwksUrl!,
    rolesClaim: env.AUTH_ROLES_CLAIM || 'roles',
    nameClaim: env.AUTH_NAME_CLAIM || 'preferred_username',
  };
}

export interface Authenticator {
  /** The principal a bearer credential proves, or null when it proves nothing. */
  principalOf(credential: string): Promise<Principal | null>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function createAuthenticator(pool: Pool, jwt: JwtSettings | null): Authenticator {
  const jwks = jwt ? createRemoteJWKSet(new URL(jwt.jwksUrl)) : null;
  return {
    async principalOf(credential) {
      if (jwt && jwks && JWT_SHAPE.test(credential)) {
        const principal = await principalOfToken(credential, jwt, jwks);
        // A name is one person: a token may not carry the name of someone who holds an API key.
        return principal && !(await nameHasKey(pool, principal.name)) ? principal : null;
      }
      const key = await findKey(pool, credential);
      return key ? { name: key.name, roles: [key.role], credential: `key:${key.id}` } : null;
    },
  };
}

async function principalOfToken(token: string, settings: JwtSettings, jwks: ReturnType<typeof createRemoteJWKSet>): Promise<Principal | null> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwks, { issuer: settings.issuer, audience: settings.audience }));
  } catch {
    return null; // expired, wrong issuer or audience, bad signature, unknown key: not a credential
  }
  const name = [payload[settings.nameClaim], payload.sub].find((v): v is string => typeof v === 'string' && v.trim() !== '');
  if (!name || textProblem(name, TEXT_RULES.name)) return null;
  return { name: name.trim(), roles: rolesIn(claimAt(payload, settings.rolesClaim)), credential: `jwt:${settings.issuer}` };
}

function claimAt(payload: JWTPayload, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), payload);
}

/** A list of role names, or one space-separated string (as OAuth scopes are written). */
function rolesIn(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(/\s+/).filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((r): r is string => typeof r === 'string');
  return [];
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticate` for every route that needs a credential. */
    principal?: Principal;
  }
}

export const HOW_TO_AUTHENTICATE =
  'send `Authorization: Bearer <key>`; `npm start` prints the local admin key (kept in .data/admin-key), ' +
  'and an admin makes more with `npm run desk -- keys create --name <name> --role <role>`';

/** Sets req.principal, or answers 401 saying how to get a credential. */
export function authenticate(auth: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const challenge = () => res.set('WWW-Authenticate', 'Bearer realm="support-desk"');
    if (!header) {
      challenge();
      throw new HttpError(401, `this needs a credential: ${HOW_TO_AUTHENTICATE}`);
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) {
      challenge();
      throw new HttpError(401, 'the Authorization header must be `Bearer <key or token>`');
    }
    const principal = await auth.principalOf(match[1]!);
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer realm="support-desk", error="invalid_token"');
      throw new HttpError(401, `the credential is unknown, revoked or expired: ${HOW_TO_AUTHENTICATE}`);
    }
    req.principal = principal;
    next();
  };
}
