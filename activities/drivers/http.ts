// One place that calls a third-party HTTP API the way it wants to be called, and turns its answer
// into what Temporal's activity retry understands: retry later, retry after N seconds, or stop.
import { ApplicationFailure } from '@temporalio/common';

/** Who we are talking to, so a failure says which system refused and which setting to check. */
export interface ApiSystem {
  /** As people say it: "Slack", "Zendesk", "GitLab", "PagerDuty". */
  name: string;
  /** The environment variables holding its credentials, named in 401/403 failures. */
  credentials: string;
  /** Better advice than the generic one for a status this system uses in its own way. */
  fixes?: Partial<Record<number, string>>;
}

export const INTEGRATION_REJECTED = 'IntegrationRejected';
export const INTEGRATION_RATE_LIMITED = 'IntegrationRateLimited';
export const INTEGRATION_UNAVAILABLE = 'IntegrationUnavailable';

const DEFAULT_TIMEOUT_MS = 10_000;
/** When a 429 names no wait, try again after this long (Temporal's backoff takes over after). */
const DEFAULT_RETRY_AFTER_MS = 1_000;

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** Authorization and friends; never logged and never copied into a failure. */
  headers: Record<string, string>;
  body?: unknown;
  /** What the call is about, for failures: "comment on ticket 42". */
  what: string;
  timeoutMs?: number;
}

/** Sends one request and returns its JSON body (or null), or throws the failure that fits the answer. */
export async function callApi<T = unknown>(system: ApiSystem, req: ApiRequest): Promise<T> {
  let response: Response;
  try {
    response = await fetch(req.url, {
      method: req.method,
      headers: { accept: 'application/json', ...(req.body === undefined ? {} : { 'content-type': 'application/json' }), ...req.headers },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    throw unreachable(system, req.what, err);
  }
  const text = await response.text();
  if (response.ok) return parseSuccess<T>(text);
  throw failureForStatus(system, req.what, response.status, response.headers.get('retry-after'), text);
}

/** The network failed or the call timed out: the system may be back in a moment. */
export function unreachable(system: ApiSystem, what: string, err: unknown): ApplicationFailure {
  const reason = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : err.message) : String(err);
  return ApplicationFailure.retryable(`${system.name} could not be reached (${what}): ${reason}`, INTEGRATION_UNAVAILABLE);
}

/**
 * 429 → retry after the system's Retry-After; 5xx (and anything unexpected) → retry with backoff;
 * 400/401/403/404/422 → stop: retrying cannot fix bad data, bad credentials or a missing target.
 */
export function failureForStatus(
  system: ApiSystem,
  what: string,
  status: number,
  retryAfter: string | null,
  body: string,
): ApplicationFailure {
  const detail = describeBody(body);
  if (status === 429) {
    const waitMs = retryAfterMs(retryAfter) ?? DEFAULT_RETRY_AFTER_MS;
    return ApplicationFailure.create({
      type: INTEGRATION_RATE_LIMITED,
      message: `${system.name} rate-limited ${what}; retrying after ${Math.ceil(waitMs / 1000)} s as it asked`,
      nextRetryDelay: waitMs,
    });
  }
  const fix = system.fixes?.[status] ?? PERMANENT_STATUSES[status]?.(system);
  if (fix) {
    return ApplicationFailure.nonRetryable(
      `${system.name} answered ${status} to ${what}${detail ? ` (${detail})` : ''}: ${fix}`,
      INTEGRATION_REJECTED,
      { system: system.name, status },
    );
  }
  return ApplicationFailure.retryable(
    `${system.name} answered ${status} to ${what}${detail ? ` (${detail})` : ''}; will retry`,
    INTEGRATION_UNAVAILABLE,
  );
}

/** A permanent failure in the system's own words (Slack's `ok: false` codes are not HTTP statuses). */
export function rejected(system: ApiSystem, what: string, reason: string, fix: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${system.name} refused ${what} (${reason}): ${fix}`, INTEGRATION_REJECTED, {
    system: system.name,
    reason,
  });
}

const PERMANENT_STATUSES: Record<number, (s: ApiSystem) => string> = {
  400: () => 'the request was malformed; check the data the desk sent (see the detail)',
  401: (s) => `the credentials were refused; check ${s.credentials}`,
  403: (s) => `the credentials lack permission for this; grant the account behind ${s.credentials} access`,
  404: (s) => `the target does not exist; check the id, channel or project and the ${s.name} base URL`,
  422: () => 'the request was understood but refused as invalid; check the data the desk sent (see the detail)',
};

/** Retry-After is either seconds or an HTTP date. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(at - now, 0);
}

/** A short, single-line excerpt of an error body: enough to act on, never a wall of HTML. */
function describeBody(body: string): string {
  return body.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Appends an API path to a configured base URL, keeping any path the base has (self-hosted GitLab under /gitlab). */
export function apiUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * A 2xx is a success even when its body is not the JSON we expected: throwing here would retry an
 * effect that already happened.
 */
function parseSuccess<T>(text: string): T {
  if (!text) return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}
