// GET /reports and /reports/<name>: the KPIs of db/reports.ts as JSON, or CSV with `Accept: text/csv`.
// A supervisor's (permission `supervise`). Parameters are checked here; a bad one is a 400 naming it.
import type { Pool } from 'pg';
import { z } from 'zod';
import { CHANNELS } from '../domain/policy';
import { PRIORITIES } from '../domain/ticket';
import { GROUP_BY, REPORTS, reportNamed, type Report, type ReportParams, type ReportRow } from '../db/reports';
import { declaredRoutes, type RouteTable } from './access';
import { HttpError } from './errors';
import { code, parseQuery, text, timeZone } from './input';

const DAY_MS = 86_400_000;
/** The longest range a report answers: two years of days. */
export const MAX_RANGE_DAYS = 732;
const DEFAULT_RANGE_DAYS = 30;

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

function localDateTime(field: string) {
  const problem = `must be a local date or date-time such as 2026-11-02 or 2026-11-02T09:00 (years 1970 to 9000), read in timeZone (no offset); ${field === 'from' ? 'inclusive' : 'exclusive'}`;
  const real = (value: string) => {
    const m = value.match(LOCAL);
    if (!m) return false;
    const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(y, mo - 1, d));
    return y >= 1970 && y <= 9000 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
  };
  return text('name').pipe(
    z
      .string()
      .refine(real, problem)
      .transform((value) => (value.length === 10 ? `${value}T00:00:00` : value.length === 16 ? `${value}:00` : value)),
  );
}

/** The query every report takes (the fuzz test walks it). */
export function reportQuerySchema() {
  return z.strictObject({
    from: localDateTime('from').optional(),
    to: localDateTime('to').optional(),
    timeZone: timeZone().default('UTC'),
    groupBy: z.enum(GROUP_BY, { error: `must be one of ${GROUP_BY.join(', ')}` }).default('day'),
    weekStart: z.enum(['monday', 'sunday'], { error: 'must be monday (ISO 8601, the default) or sunday' }).default('monday'),
    channel: z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` }).optional(),
    tier: z.enum(['1', '2', '3'], { error: 'must be 1, 2 or 3' }).transform(Number).optional(),
    priority: z.enum(PRIORITIES, { error: `must be one of ${PRIORITIES.join(', ')}` }).optional(),
    region: code().optional(),
    at: z.iso.datetime({ offset: true, error: 'must be an instant such as 2026-11-02T09:00:00Z' }).optional(),
  });
}

/** The local date (YYYY-MM-DD) of an instant in a time zone. */
function localDate(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
}

const shiftDays = (localIso: string, days: number): string => new Date(Date.parse(`${localIso}Z`) + days * DAY_MS).toISOString().slice(0, 19);

/** Checked parameters of one request to `report`, or a 400 naming what is wrong. */
export function reportParams(report: Report, query: unknown, now = Date.now()): ReportParams {
  const q = parseQuery(reportQuerySchema(), query, `parameters of report ${report.name}`);
  const problems: Array<{ field: string; message: string }> = [];
  for (const filter of ['channel', 'tier', 'priority', 'region'] as const) {
    if (q[filter] !== undefined && !report.filters.includes(filter)) {
      problems.push({ field: filter, message: `does not apply to report ${report.name}; it takes ${report.filters.join(', ') || 'no filters'}` });
    }
  }
  if (q.at !== undefined && report.name !== 'at-risk') problems.push({ field: 'at', message: 'applies to report at-risk only' });
  const to = q.to ?? (q.from ? shiftDays(q.from, DEFAULT_RANGE_DAYS) : shiftDays(`${localDate(now, q.timeZone)}T00:00:00`, 1));
  const from = q.from ?? shiftDays(to, -DEFAULT_RANGE_DAYS);
  const span = (Date.parse(`${to}Z`) - Date.parse(`${from}Z`)) / DAY_MS;
  if (!(span > 0)) problems.push({ field: 'to', message: `must be after from (${from}); the range is [from, to)` });
  else if (span > MAX_RANGE_DAYS) problems.push({ field: 'to', message: `the range is ${Math.ceil(span)} days; at most ${MAX_RANGE_DAYS}` });
  if (problems.length > 0) {
    throw new HttpError(400, `invalid parameters of report ${report.name}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
  return {
    from,
    to,
    timeZone: q.timeZone,
    groupBy: q.groupBy,
    weekStart: q.weekStart,
    ...(q.channel !== undefined ? { channel: q.channel } : {}),
    ...(q.tier !== undefined ? { tier: q.tier } : {}),
    ...(q.priority !== undefined ? { priority: q.priority } : {}),
    ...(q.region !== undefined ? { region: q.region } : {}),
    ...(q.at !== undefined ? { now: Date.parse(q.at) } : {}),
  };
}

/**
 * RFC 4180 CSV. A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) is prefixed
 * with an apostrophe: a name an agent chose must not become a formula in the lead's spreadsheet.
 */
export function toCsv(columns: readonly string[], rows: readonly ReportRow[]): string {
  const cell = (v: ReportRow[string]): string => {
    if (v === null || v === undefined) return '';
    if (typeof v !== 'string') return String(v);
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c] ?? null)).join(','))].join('\r\n') + '\r\n';
}

export function reportRoutes(pool: Pool, table: RouteTable) {
  const { router, get } = declaredRoutes(table, '/reports');

  get('/', 'supervise', (_req, res) => {
    res.json({
      channels: CHANNELS,
      reports: REPORTS.map((r) => ({ name: r.name, describes: r.describes, filters: r.filters, grouped: r.grouped, columns: r.columns, self: `/reports/${r.name}` })),
      parameters:
        'from, to: local dates or date-times in timeZone, the range [from, to) (default the last 30 days); timeZone: IANA (default UTC); ' +
        'groupBy: day|week|month; weekStart: monday (ISO 8601, default)|sunday; channel, tier, priority, region where a report takes them. ' +
        'Accept: text/csv for CSV.',
    });
  });

  get('/:name', 'supervise', async (req, res) => {
    const name = String(req.params.name);
    const report = reportNamed(name);
    if (!report) throw new HttpError(404, `no report ${JSON.stringify(name)}; reports: ${REPORTS.map((r) => r.name).join(', ')}`);
    const params = reportParams(report, req.query);
    const rows = await report.run(pool, params).catch((err: unknown) => {
      // A zone this runtime knows but PostgreSQL's time zone data does not (an old alias).
      if ((err as { code?: string }).code === '22023' && /time zone/.test(String((err as Error).message))) {
        const message = `PostgreSQL does not know the time zone ${JSON.stringify(params.timeZone)}; use its current name (e.g. America/Los_Angeles)`;
        throw new HttpError(400, `invalid parameters of report ${report.name}: timeZone: ${message}`, [{ field: 'timeZone', message }]);
      }
      throw err;
    });
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      res.type('text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="${report.name}-${params.from.slice(0, 10)}-${params.to.slice(0, 10)}.csv"`);
      res.send(toCsv(report.columns, rows));
      return;
    }
    const { now, ...shown } = params;
    res.json({ report: report.name, describes: report.describes, parameters: { ...shown, ...(now !== undefined ? { at: new Date(now).toISOString() } : {}) }, columns: report.columns, rows });
  });

  return router;
}
