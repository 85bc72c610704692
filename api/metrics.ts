// What the API tells Prometheus, on its own port (METRICS_PORT, never the public one): HTTP latency
// by route and status, intake and agents' actions by result, and the desk's state a support lead
// alerts on, read from PostgreSQL at each scrape (so every API replica reports the same numbers).
// The series and the alerts to build on them are in the README ("Metrics").
import { createServer, type Server } from 'node:http';
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TICKET_DONE_STATUSES } from '../domain/ticket';
import type { RouteTable } from './access';

/** Intake routes (POST to a collection) and the kind of work each files. */
const INTAKE_ROUTES: Record<string, string> = {
  '/tickets': 'ticket',
  '/incidents': 'incident',
  '/security-reports': 'security-report',
  '/feature-requests': 'feature-request',
  '/bug-reports': 'bug-report',
};


export interface ApiMetrics {
  registry: Registry;
  /** Times every request and counts intake and actions; mount first. */
  middleware: RequestHandler;
}

/**
 * `routes`: the app's declared routes. An action route (`/tickets/:id/:action`) names its actions
 * (byAction), and only those become label values: a made-up action is counted as `other`, so a
 * caller cannot grow the series without bound.
 */
export function apiMetrics(pool: Pool, routes: RouteTable): ApiMetrics {
  const registry = new Registry();
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route (the declared pattern; "unmatched" for none), method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const intake = new Counter({
    name: 'desk_intake_total',
    help: 'Work filed through the API, by kind and outcome (created, or duplicate: the same externalId again)',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  const actions = new Counter({
    name: 'desk_actions_total',
    help: "Agents' actions by kind, action and result (ok, refused: 4xx, failed: 5xx)",
    labelNames: ['kind', 'action', 'result'],
    registers: [registry],
  });
  deskStateGauges(pool, registry);
  // Read once the app has declared its routes, at its first answer.
  let actionsOf: Map<string, ReadonlySet<string>> | undefined;
  const actionRoutes = () =>
    (actionsOf ??= new Map(
      routes.routes.flatMap((r) => (typeof r.needs === 'object' && 'byAction' in r.needs ? [[r.path, new Set(Object.keys(r.needs.byAction))] as const] : [])),
    ));

  const middleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.once('finish', () => {
      const route: string = res.locals.route ?? 'unmatched';
      const status = res.statusCode;
      end({ method: req.method, route, status: String(status) });
      if (req.method !== 'POST') return;
      const kind = INTAKE_ROUTES[route];
      if (kind && (status === 200 || status === 201)) intake.inc({ kind, outcome: status === 201 ? 'created' : 'duplicate' });
      const known = actionRoutes().get(route);
      if (known) {
        // From the path itself: by now an error handler may have left req.params behind.
        const action = (req.originalUrl.split('?')[0] ?? '').split('/')[3] ?? '';
        actions.inc({
          kind: INTAKE_ROUTES[`/${route.split('/')[1]}`] ?? 'other',
          action: known.has(action) ? action : 'other',
          result: status < 400 ? 'ok' : status < 500 ? 'refused' : 'failed',
        });
      }
    });
    next();
  };
  return { registry, middleware };
}

/** The desk's state, read at each scrape; a label set that is gone (no ticket left in it) disappears. */
function deskStateGauges(pool: Pool, registry: Registry): void {
  new Gauge({
    name: 'desk_open_tickets',
    help: 'Tickets not yet resolved or closed, by status and tier',
    labelNames: ['status', 'tier'],
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ status: string; tier: number; n: number }>(
        `SELECT status, tier, count(*)::int AS n FROM tickets WHERE status <> ALL ($1::text[]) GROUP BY status, tier`,
        [TICKET_DONE_STATUSES],
      );
      this.reset();
      for (const r of rows) this.set({ status: r.status, tier: String(r.tier) }, r.n);
    },
  });
  new Gauge({
    name: 'desk_open_breached_tickets',
    help: 'Open tickets that have missed a target, by tier',
    labelNames: ['tier'],
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ tier: number; n: number }>(
        `SELECT tier, count(*)::int AS n FROM tickets WHERE breached AND status <> ALL ($1::text[]) GROUP BY tier`,
        [TICKET_DONE_STATUSES],
      );
      this.reset();
      for (const r of rows) this.set({ tier: String(r.tier) }, r.n);
    },
  });
  new Gauge({
    name: 'desk_sla_breaches_24h',
    help: 'Targets missed in the last 24 hours, by kind of work and target (from the event log)',
    labelNames: ['kind', 'target'],
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ kind: string; target: string | null; n: number }>(
        `SELECT kind, target, count(*)::int AS n FROM desk_events
          WHERE type = 'breached' AND at > now() - interval '24 hours' GROUP BY kind, target`,
      );
      this.reset();
      for (const r of rows) this.set({ kind: r.kind, target: r.target ?? 'unknown' }, r.n);
    },
  });
}

/** The metrics endpoint: GET /metrics on its own port, for Prometheus on the private network; with the process's own metrics (CPU, memory, event loop). */
export function metricsServer(registry: Registry): Server {
  collectDefaultMetrics({ register: registry });
  return createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'only GET /metrics here' }));
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      },
      () => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'metrics could not be collected (is PostgreSQL reachable?)' }));
      },
    );
  });
}
