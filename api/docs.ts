// GET /openapi.json, the API's contract (api/openapi.ts), and GET /docs, Swagger UI over it: the page,
// its script, and Swagger UI's browser build from the swagger-ui-dist package, all from this origin
// under the dashboard's CSP (no inline script, no CDN: the desk runs offline).
import path from 'node:path';
import { declaredRoutes, type RouteTable } from './access';
import { pageFile } from './dashboard';
import { openApiDocument } from './openapi';

const HERE = path.join(__dirname, 'docs');
const SWAGGER_UI = path.dirname(require.resolve('swagger-ui-dist/package.json'));

export function docsRoutes(table: RouteTable) {
  const { router, get } = declaredRoutes(table, '');
  // Built at the first request, when every router has declared its routes.
  let document: ReturnType<typeof openApiDocument> | undefined;
  get('/openapi.json', 'public', (_req, res) => {
    document ??= openApiDocument(table);
    res.setHeader('Cache-Control', 'no-cache');
    res.json(document);
  });
  get('/docs', 'public', pageFile(path.join(HERE, 'index.html'), 'html'));
  get('/docs/docs.js', 'public', pageFile(path.join(HERE, 'docs.js'), 'js'));
  get('/docs/swagger-ui-bundle.js', 'public', pageFile(path.join(SWAGGER_UI, 'swagger-ui-bundle.js'), 'js'));
  get('/docs/swagger-ui.css', 'public', pageFile(path.join(SWAGGER_UI, 'swagger-ui.css'), 'css'));
  return router;
}
