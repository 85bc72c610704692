// Errors the API answers with: a status and a message that says what to fix.
import type { ErrorRequestHandler } from 'express';
import { z, type ZodError } from 'zod';
import { logger } from '../config/logger';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Array<{ field: string; message: string }>,
  ) {
    super(message);
  }
}

// Say "is required" rather than zod's "expected string, received undefined".
z.config({
  customError: (issue) =>
    issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined,
});

/** 400 listing every invalid field of a request body or query. */
export function invalidInput(err: ZodError, what: string): HttpError {
  const details = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  return new HttpError(400, `invalid ${what}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`, details);
}

export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof HttpError) {
    res.status(err.status).json({ error: err.message, ...(err.details ? { details: err.details } : {}) });
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
