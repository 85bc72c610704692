// The process logger (pino: structured JSON, cheap). Secrets never reach it: DATABASE_URL and
// tokens are redacted before logging.
import pino from 'pino';

export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  redact: ['databaseUrl', '*.password', '*.token', 'headers.authorization'],
});

/** `postgresql://user:secret@host/db` → `postgresql://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
