// Rate limits on intake and actions (every POST outside the webhooks), per source address before the
// credential is checked and per credential after it: express-rate-limit with its in-memory store, so
// each API process counts its own (README, "Rate limits"). 429 with Retry-After.
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { ConfigError } from '../config/env';

export interface RateLimits {
  windowMs: number;
  /** Requests per window from one credential; 0 turns the limit off. */
  perCredential: number;
  /** Requests per window from one source address (whatever its credential); 0 turns it off. */
  perAddress: number;
  /**
   * Requests answered 401 per window from one source address, any route and method (a bad key, a bad
   * webhook signature); past it, the address is answered 429 until the window ends. 0 or absent: off.
   */
  failedPerAddress?: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { windowMs: 60_000, perCredential: 600, perAddress: 1_200, failedPerAddress: 60 };

export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimits {
  const read = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new ConfigError(`${name}="${raw}" must be a whole number ≥ ${min}`);
    return value;
  };
  return {
    windowMs: read('RATE_LIMIT_WINDOW_MS', DEFAULT_RATE_LIMITS.windowMs, 1_000),
    perCredential: read('RATE_LIMIT_PER_CREDENTIAL', DEFAULT_RATE_LIMITS.perCredential, 0),
    perAddress: read('RATE_LIMIT_PER_ADDRESS', DEFAULT_RATE_LIMITS.perAddress, 0),
    failedPerAddress: read('RATE_LIMIT_FAILED_PER_ADDRESS', DEFAULT_RATE_LIMITS.failedPerAddress!, 0),
  };
}

const pass: RequestHandler = (_req, _res, next) => next();

function limiter(windowMs: number, limit: number, who: string, key?: (req: Parameters<RequestHandler>[0]) => string): RequestHandler {
  if (limit === 0) return pass;
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skip: (req) => req.method !== 'POST',
    ...(key ? { keyGenerator: key } : {}),
    handler: (_req, res) => {
      const wait = res.get('Retry-After') ?? String(Math.ceil(windowMs / 1000));
      res.status(429).json({ error: `too many requests from ${who} (at most ${limit} per ${windowMs / 1000} s); retry after ${wait} s` });
    },
  });
}

/** Per source address: in front of authentication, so guessing credentials is limited too. */
export function addressLimit(limits: RateLimits): RequestHandler {
  return limiter(limits.windowMs, limits.perAddress, 'this address');
}

/** Per credential (a key's id, a token's issuer and subject name): after authentication. */
export function credentialLimit(limits: RateLimits): RequestHandler {
  return limiter(limits.windowMs, limits.perCredential, 'this credential', (req) => `${req.principal?.credential}:${req.principal?.name}`);
}

/**
 * Guessing a credential or a webhook signature: only answers of 401 count, from one address, on every
 * route and method (GETs too), so the audit trail and the key lookups cannot be flooded without one.
 */
export function failedCredentialLimit(limits: RateLimits): RequestHandler {
  const limit = limits.failedPerAddress ?? 0;
  if (limit === 0) return pass;
  return rateLimit({
    windowMs: limits.windowMs,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    handler: (_req, res) => {
      const wait = res.get('Retry-After') ?? String(Math.ceil(limits.windowMs / 1000));
      res.status(429).json({ error: `too many requests without a valid credential or signature from this address; retry after ${wait} s` });
    },
  });
}
