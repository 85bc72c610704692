// Errors the API answers with: a status and a message that says what to fix.
import type { ErrorRequestHandler } from 'express';
import { z, type ZodError } from 'zod';
import { logger } from '../config/logger';

export interface FieldProblem {
  field: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: FieldProblem[],
    /** Headers the answer carries (e.g. Slack's X-Slack-No-Retry on a refused delivery). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const KIND_OF: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

// Say "is required" rather than zod's "expected string, received undefined", and "must be text"
// rather than "expected string, received number".
z.config({
  customError: (issue) => {
    if (issue.code !== 'invalid_type') return undefined;
    if (issue.input === undefined) return 'is required';
    const expected = KIND_OF[issue.expected];
    if (!expected) return undefined;
    const got = issue.input === null ? 'null' : Array.isArray(issue.input) ? 'a list' : typeof issue.input;
    return `must be ${expected} (got ${got})`;
  },
});

/** 400 listing every invalid field of a request body or query; an unknown field is named itself. */
export function invalidInput(err: ZodError, what: string): HttpError {
  return new HttpError(400, `invalid ${what}: ${describeProblems(fieldProblems(err))}`, fieldProblems(err));
}

export function fieldProblems(err: ZodError): FieldProblem[] {
  return err.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: [...issue.path, key].join('.'),
        message: 'is not a field of this request; remove it or check its spelling',
      }));
    }
    return [{ field: issue.path.join('.') || '(body)', message: issue.message }];
  });
}

export function describeProblems(details: FieldProblem[]): string {
  return details.map((d) => `${d.field}: ${d.message}`).join('; ');
}

// Every kind's routes are /<kind>/:id/:action, so where a segment sits says which field it is.
const ITEM_PATH_FIELDS = ['path', 'id', 'action'];

/**
 * 400 for a path with a segment that is not valid percent-encoding (`/tickets/%E0%A4%A`), naming
 * `id` or `action` where the item routes have them; null when the whole path decodes.
 */
export function undecodablePath(path: string): HttpError | null {
  const segments = path.split('/').slice(1);
  const at = segments.findIndex((segment) => {
    try {
      decodeURIComponent(segment);
      return false;
    } catch {
      return true;
    }
  });
  if (at === -1) return null;
  const field = segments[0] === 'webhooks' ? 'path' : segments[0] === 'policy' ? (at === 2 ? 'id' : 'path') : (ITEM_PATH_FIELDS[at] ?? 'path');
  const message = `is not valid percent-encoding ("${segments[at]}"); encode the ${field} as UTF-8, e.g. with encodeURIComponent`;
  return new HttpError(400, `invalid ${field}: ${message}`, [{ field, message }]);
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (err instanceof HttpError) {
    if (err.headers) res.set(err.headers);
    res.status(err.status).json({ error: err.message, ...(err.details ? { details: err.details } : {}) });
    return;
  }
  // The router decodes route params and throws when one is not valid percent-encoding.
  if (err instanceof URIError || (err?.status === 400 && /decode/i.test(String(err?.message)))) {
    const bad = undecodablePath(req.path) ?? undecodablePath(req.originalUrl.split('?')[0] ?? '');
    const answer = bad ?? new HttpError(400, 'the path is not valid percent-encoding', [{ field: 'path', message: 'is not valid percent-encoding' }]);
    res.status(400).json({ error: answer.message, details: answer.details });
    return;
  }
  // express.json() parse failures
  if (err?.type === 'entity.parse.failed') {
    res.status(400).json({ error: 'the request body is not valid JSON' });
    return;
  }
  if (err?.type === 'entity.too.large') {
    res.status(413).json({ error: 'the request body is too large (limit 1 MB)' });
    return;
  }
  logger.error({ err }, 'unhandled API error');
  res.status(500).json({ error: 'internal error; see the API log' });
};
