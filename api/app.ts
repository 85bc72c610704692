// The HTTP API: intake, agents' actions and lists. Built from its dependencies so tests can run it.
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Policy } from '../domain/policy';
import { errorHandler, undecodablePath } from './errors';
import { incidentRoutes } from './incident';
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
}

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // A path that is not valid percent-encoding is the caller's mistake (400 naming the segment), never 500.
  app.use((req, _res, next) => {
    const bad = undecodablePath(req.path);
    if (bad) throw bad;
    next();
  });
  // Webhooks first: their signatures are checked on the raw bytes, before express.json() parses them.
  app.use('/webhooks', webhookRoutes(deps));
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

  app.get('/', (_req, res) => {
    res.json({
      service: 'support-desk',
      policy: deps.policy.name,
      links: {
        tickets: '/tickets',
        incidents: '/incidents',
        securityReports: '/security-reports',
        featureRequests: '/feature-requests',
        bugReports: '/bug-reports',
        health: '/healthz',
        temporalUi: deps.temporalUiUrl,
      },
    });
  });
  app.get('/healthz', async (_req, res) => {
    await deps.pool.query('SELECT 1');
    res.json({ ok: true });
  });

  app.use('/tickets', ticketRoutes(deps));
  app.use('/feature-requests', workItemRoutes('feature-request', deps));
  app.use('/bug-reports', workItemRoutes('bug-report', deps));
  app.use('/incidents', incidentRoutes(deps));
  app.use('/security-reports', securityReportRoutes(deps));

  app.use((req, res) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}; see GET / for what exists` });
  });
  app.use(errorHandler);
  return app;
}
