// The process logger (pino). JSON lines, cheap and what CI and log collectors read, unless a person
// is watching: on a terminal, one readable line per entry through pino-pretty. Secrets never reach
// either: DATABASE_URL and tokens are redacted before an entry is formatted.
import pino from 'pino';
import pretty from 'pino-pretty';

/**
 * `1`: readable lines, `0`: JSON; unset: readable when stdout is a terminal. `npm start` sets it to
 * `1` for the worker and the API when it runs in a terminal, since their stdout is a pipe to it.
 */
export const PRETTY_LOGS_VARIABLE = 'SUPPORT_DESK_PRETTY_LOGS';

export function prettyLogs(env: NodeJS.ProcessEnv = process.env, stdoutIsTerminal = process.stdout.isTTY === true): boolean {
  const setting = env[PRETTY_LOGS_VARIABLE]?.trim();
  if (setting === '1') return true;
  if (setting === '0') return false;
  return stdoutIsTerminal;
}

const options: pino.LoggerOptions = {
  level: process.env.LOG_LEVEL ?? 'info',
  redact: ['databaseUrl', '*.password', '*.token', 'headers.authorization'],
};

export const logger = prettyLogs()
  ? pino(
      options,
      // In this thread and synchronous: no line is lost when a process exits at once (process.exit).
      pretty({
        sync: true,
        singleLine: true, // `npm start` prefixes each line with the process's name
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        colorize: !process.env.NO_COLOR,
      }),
    )
  : pino(options);

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
