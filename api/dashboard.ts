// GET /dashboard: the page, its script and style, and Chart.js from node_modules (the desk runs
// offline: no CDN). The page holds no data; it reads the reports with the key the lead types in.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { declaredRoutes, type RouteTable } from './access';

const HERE = path.join(__dirname, 'dashboard');
/** Chart.js's browser build; the package exports only its modules, so it is found beside them. */
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/** Only its own scripts and styles; data only from this origin (the docs page, api/docs.ts, too). */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** A file of this API's own pages, read once, answered under the CSP. */
export function pageFile(location: string, type: string): RequestHandler {
  const body = readFileSync(location);
  return (_req, res) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
    res.type(type).send(body);
  };
}

export function dashboardRoutes(table: RouteTable) {
  const { router, get } = declaredRoutes(table, '/dashboard');
  get('/', 'public', pageFile(path.join(HERE, 'index.html'), 'html'));
  get('/dashboard.js', 'public', pageFile(path.join(HERE, 'dashboard.js'), 'js'));
  get('/dashboard.css', 'public', pageFile(path.join(HERE, 'dashboard.css'), 'css'));
  get('/chart.js', 'public', pageFile(CHART_JS, 'js'));
  return router;
}
