// The HTTP API: intake, agents' actions and lists. Built from its dependencies so tests can run it.
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Policy } from '../domain/policy';
import type { Logger } from 'pino';
import { AesGcmCodec, type EncryptionKeys } from '../config/encryption';
import { logger } from '../config/logger';
import { checkTemporalNamespace } from '../config/temporal-connection';
import { pendingMigrations } from '../db/migrations';
import { permissionsOf, rolesOf } from '../domain/access';
import { declaredRoutes, RouteTable } from './access';
import { auditListing, auditTrail, requestId } from './audit';
import { authenticate, HOW_TO_AUTHENTICATE, type Authenticator } from './auth';
import { codecCookieAsBearer, codecCors, codecFormKeyAsBearer, codecSessionSameOrigin, codecHandler, codecSessionPage, codecSessionSet } from './codec-server';
import { errorHandler, undecodablePath } from './errors';
import { jsonAnswerReplacer } from './json';
import { addressLimit, credentialLimit, DEFAULT_RATE_LIMITS, failedCredentialLimit, type RateLimits } from './rate-limit';
import { dashboardRoutes } from './dashboard';
import { docsRoutes } from './docs';
import { apiMetrics, type ApiMetrics } from './metrics';
import { incidentRoutes } from './incident';
import { policyRoutes } from './policy';
import { reportRoutes } from './reports';
import { securityReportRoutes } from './security-report';
import { ticketRoutes } from './ticket';
import { workItemRoutes } from './work-item';
import { webhookRoutes } from './webhooks';

export interface ApiDeps {
  client: Client;
  pool: Pool;
  policy: Policy;
  taskQueue: string;
  /** Base of the Temporal Web UI, for links to a ticket's workflow. */
  temporalUiUrl: string;
  /** Who is calling (api/auth.ts). */
  auth: Authenticator;
  rateLimits?: RateLimits;
  /** Origins that may call the codec server (the Temporal UI's). */
  codecOrigins?: string[];
  logger?: Pick<Logger, 'error' | 'warn' | 'info'>;
  /**
   * The desk's encryption keys: they seal a private item's words before PostgreSQL keeps them and
   * unseal them for those who may read them (db/sealed.ts), and the codec server decodes with them.
   * Without them, /codec answers 404 and no private text can be stored.
   */
  encryptionKeys?: EncryptionKeys;
}

/** The app and the declaration of every route it has (the access test walks both). */
export function createApp(deps: ApiDeps): express.Express {
  return buildApp(deps).app;
}

const READINESS_TIMEOUT_MS = 2_000;

/**
 * Each dependency's state, 'ok' or 'failing' (the reason goes to the log, not to a public answer).
 * Temporal: reachable, the namespace there with the desk's search attributes; PostgreSQL: answers;
 * migrations: none this code knows is missing.
 */
async function readiness(deps: Pick<ApiDeps, 'client' | 'pool'>, log: Pick<Logger, 'warn'>): Promise<Record<'temporal' | 'postgres' | 'migrations', 'ok' | 'failing'>> {
  const connection = deps.client.connection;
  const settings = { address: 'the Temporal frontend', namespace: deps.client.options.namespace };
  const outcome = (what: string, check: Promise<unknown>) =>
    Promise.race([
      check.then(() => 'ok' as const),
      new Promise<never>((_, reject) => setTimeout(reject, READINESS_TIMEOUT_MS, new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)).unref()),
    ]).catch((error: unknown) => {
      log.warn({ check: what, reason: error instanceof Error ? error.message : String(error) }, 'not ready');
      return 'failing' as const;
    });
  const [temporal, postgres, migrations] = await Promise.all([
    outcome('temporal', connection.withDeadline(Date.now() + READINESS_TIMEOUT_MS, () => checkTemporalNamespace(connection, settings))),
    outcome('postgres', deps.pool.query('SELECT 1')),
    outcome(
      'migrations',
      pendingMigrations(deps.pool).then((pending) => {
        if (pending.length > 0) throw new Error(`not applied yet: ${pending.join(', ')}`);
      }),
    ),
  ]);
  return { temporal, postgres, migrations };
}

export function buildApp(deps: ApiDeps): { app: express.Express; routes: RouteTable; metrics: ApiMetrics } {
  const app = express();
  const roles = rolesOf(deps.policy);
  const routes = new RouteTable(roles);
  // First, so every answer is timed and counted (served on METRICS_PORT by api/main.ts).
  const metrics = apiMetrics(deps.pool, routes);
  const log = deps.logger ?? logger;
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  app.disable('x-powered-by');
  // Times as ISO 8601, durations in milliseconds named ...Ms, in every JSON answer (api/json.ts).
  app.set('json replacer', jsonAnswerReplacer);
  if (process.env.TRUST_PROXY) app.set('trust proxy', process.env.TRUST_PROXY);
  app.use(metrics.middleware);
  app.use(requestId);
  // A path that is not valid percent-encoding is the caller's mistake (400 naming the segment), never 500.
  app.use((req, _res, next) => {
    const bad = undecodablePath(req.path);
    if (bad) throw bad;
    next();
  });
  app.use(auditTrail(deps.pool, log));
  app.use(failedCredentialLimit(limits));
  // Webhooks first: their signatures are checked on the raw bytes, before express.json() parses them.
  // A sender proves itself by its signature; the audit names it as the principal.
  app.use('/webhooks', webhookRoutes(deps, routes));
  app.use(addressLimit(limits));

  // The codec server takes the UI's JSON and the session form, and answers the UI's preflight.
  if (deps.encryptionKeys) {
    const payloadCodec = new AesGcmCodec(deps.encryptionKeys);
    const codec = declaredRoutes(routes, '/codec', authenticate(deps.auth));
    app.use('/codec', codecCors(deps.codecOrigins ?? ['http://localhost:8233']), codecSessionSameOrigin, codecCookieAsBearer);
    app.use('/codec', express.json({ limit: '4mb' }), express.urlencoded({ extended: false, limit: '4kb' }), codecFormKeyAsBearer);
    codec.get('/session', 'public', codecSessionPage);
    codec.post('/session', 'decode', codecSessionSet);
    codec.post('/encode', 'decode', codecHandler(payloadCodec, 'encode'));
    codec.post('/decode', 'decode', codecHandler(payloadCodec, 'decode'));
    app.use('/codec', codec.router);
  }

  app.use(express.json({ limit: '1mb' }));
  // A body that is not JSON would otherwise read as "every field is missing".
  app.use((req, res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is('application/json')) {
      res.status(415).json({ error: 'send the body as JSON with the header content-type: application/json' });
      return;
    }
    next();
  });

  const open = declaredRoutes(routes, '');
  open.get('/', 'public', (_req, res) => {
    res.json({
      service: 'support-desk',
      policy: deps.policy.name,
      authentication: HOW_TO_AUTHENTICATE,
      links: {
        tickets: '/tickets',
        incidents: '/incidents',
        securityReports: '/security-reports',
        featureRequests: '/feature-requests',
        bugReports: '/bug-reports',
        me: '/me',
        audit: '/audit',
        reports: '/reports',
        dashboard: '/dashboard',
        openapi: '/openapi.json',
        docs: '/docs',
        health: '/healthz',
        ready: '/readyz',
        temporalUi: deps.temporalUiUrl,
      },
    });
  });
  // Liveness: the process answers (restart it when not). Readiness: it can do its work (send traffic when so).
  open.get('/healthz', 'public', (_req, res) => {
    res.json({ ok: true });
  });
  open.get('/readyz', 'public', async (_req, res) => {
    const checks = await readiness(deps, log);
    const ok = Object.values(checks).every((c) => c === 'ok');
    res.status(ok ? 200 : 503).json({ ok, checks });
  });
  app.use(open.router);
  app.use('/dashboard', dashboardRoutes(routes));
  // The contract (every route declared in `routes`) and Swagger UI over it.
  app.use(docsRoutes(routes));

  // Everything below needs a credential.
  app.use(authenticate(deps.auth));
  app.use(credentialLimit(limits));
  const own = declaredRoutes(routes, '');
  own.get('/me', 'authenticated', (req, res) => {
    const principal = req.principal!;
    res.json({ name: principal.name, roles: principal.roles, credential: principal.credential, permissions: [...permissionsOf(roles, principal)] });
  });
  own.get('/audit', 'manage', auditListing(deps.pool));
  app.use(own.router);
  app.use('/tickets', ticketRoutes(deps, routes));
  app.use('/feature-requests', workItemRoutes('feature-request', deps, routes));
  app.use('/bug-reports', workItemRoutes('bug-report', deps, routes));
  app.use('/incidents', incidentRoutes(deps, routes));
  app.use('/security-reports', securityReportRoutes(deps, routes));
  app.use('/reports', reportRoutes(deps.pool, routes));
  app.use('/policy', policyRoutes(deps, routes));

  app.use((req, res) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}; see GET / for what exists` });
  });
  app.use(errorHandler);
  return { app, routes, metrics };
}
