// The API's contract as an OpenAPI 3.1 document: every route of the route table (api/access.ts) with
// the permission it declares and the roles that hold it, what it takes and answers (api/contract.ts),
// the errors every route of its kind can answer, and the credentials and webhook signatures.
//
// zod-openapi renders each schema with zod 4's own z.toJSONSchema, as input for bodies, query strings
// and headers and as output for answers, so defaults, pipes and coercions read as the routes parse
// them, and it takes zod's own .meta() (where api/input.ts keeps each field's text rule). Its 5.x line
// runs on Node 20 (6.x needs Node 22); @asteasolutions/zod-to-openapi converts with its own walker.
import {
  createDocument,
  type ZodOpenApiLinksObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { z } from 'zod';
import { rolesGranting, type Permission } from '../domain/access';
import { TEXT_RULES, type TextField } from '../domain/text-rules';
import { neededFor, type Needs, type RouteDeclaration, type RouteTable } from './access';
import { errorAnswer, isActionRoute, ROUTE_CONTRACTS, type Answer, type Operation } from './contract';
import { HOW_TO_AUTHENTICATE } from './auth';
import type { TextFieldMeta } from './input';

type OpenApiDocument = ReturnType<typeof createDocument>;

/** `/tickets/:id/timeline` → `/tickets/{id}/timeline`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** The spec's operations of one declared route: one, or one per action of a `/:id/:action` route. */
export function operationsOf(route: RouteDeclaration): Array<{ path: string; action?: string }> {
  if (typeof route.needs === 'object' && !Array.isArray(route.needs)) {
    return Object.keys(route.needs.byAction).map((action) => ({ path: openApiPath(route.path.replace(':action', action)), action }));
  }
  return [{ path: openApiPath(route.path) }];
}

/** One operation of the spec: a declared route (and action) with what it takes and answers. */
interface SpecOperation {
  route: RouteDeclaration;
  path: string;
  action?: string;
  operation: Operation & { path?: z.ZodObject };
}

/** The operations of every declared route that has a contract (test/openapi.test.ts names those without). */
function specOperations(table: RouteTable): SpecOperation[] {
  return table.routes.flatMap((route) => {
    const contract = ROUTE_CONTRACTS[`${route.method} ${route.path}`];
    if (!contract) return [];
    return operationsOf(route).flatMap(({ path, action }): SpecOperation[] => {
      if (!isActionRoute(contract)) return [{ route, path, operation: contract }];
      const shape = action !== undefined ? contract.actions[action] : undefined;
      if (!shape) return [];
      const operation = { summary: shape.summary, body: { 'application/json': shape.body }, path: contract.path, headers: contract.headers, answers: contract.answers };
      return [{ route, path, action, operation }];
    });
  });
}

export function openApiDocument(table: RouteTable): OpenApiDocument {
  const operations = specOperations(table);
  const paths: ZodOpenApiPathsObject = {};
  for (const spec of operations) {
    (paths[spec.path] ??= {})[spec.route.method === 'GET' ? 'get' : 'post'] = operationObject(table, spec, linksFrom(spec, operations));
  }
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'support-desk',
        version: '0.1.0',
        description:
          'Tickets, incidents, security reports, feature requests and bug reports as durable Temporal workflows. ' +
          `Every route but the public ones and the signed webhooks needs a credential: ${HOW_TO_AUTHENTICATE}. ` +
          'Each operation says the permission it needs (`x-permission`) and the roles that hold it (`x-roles`); a 403 names them. ' +
          'Every error is JSON `{"error": "..."}` saying what to fix; a 400 lists every invalid field in `details`. ' +
          'Text fields follow the text rules (`x-text-rule`, README "What text is accepted").',
      },
      tags: TAGS,
      paths,
      components: { securitySchemes: SECURITY_SCHEMES },
    },
    { override: textRules },
  );
}

function operationObject(table: RouteTable, { route, path, operation, action }: SpecOperation, links: ZodOpenApiLinksObject): ZodOpenApiOperationObject {
  const permissions = neededFor(route.needs, action);
  const body = operation.body;
  return {
    operationId: operationId(route.method, path),
    summary: operation.summary,
    description: [operation.description, needsInWords(table, route.needs, permissions)].filter(Boolean).join('\n\n'),
    tags: [tagOf(route.path)],
    security: operation.security ?? securityOf(route.needs),
    'x-permission': permissions ?? route.needs,
    ...(permissions ? { 'x-roles': rolesFor(table, permissions) } : {}),
    requestParams: {
      ...(operation.path ? { path: operation.path } : {}),
      ...(operation.query ? { query: operation.query } : {}),
      ...(operation.headers ? { header: operation.headers } : {}),
    },
    ...(body
      ? {
          requestBody: {
            // A body that is not sent reads as {} (api/input.ts): it is needed only when {} is not enough.
            required: Object.values(body).every((schema) => !schema.safeParse({}).success),
            content: Object.fromEntries(Object.entries(body).map(([type, schema]) => [type, { schema }])),
          },
        }
      : {}),
    responses: responsesOf(route, operation, permissions, links),
  };
}

/**
 * An intake's answer names the new item: links from it to every operation on that item, so a reader
 * (and schemathesis's stateful phase) can follow a filed ticket through its actions.
 */
function linksFrom({ route, path, operation }: SpecOperation, operations: SpecOperation[]): ZodOpenApiLinksObject {
  if (route.method !== 'POST' || !operation.answers[201]) return {};
  const onItem = operations.filter((other) => other.path.startsWith(`${path}/{id}`));
  return Object.fromEntries(
    onItem.map((other) => {
      const id = operationId(other.route.method, other.path);
      return [id, { operationId: id, parameters: { id: '$response.body#/id' } }];
    }),
  );
}

// ---- answers -------------------------------------------------------------------------------------------

/** A route's own answers, and what every route of its kind can answer (api/app.ts's middleware, api/access.ts). */
function responsesOf(route: RouteDeclaration, operation: Operation & { path?: z.ZodObject }, permissions: Permission[] | null, links: ZodOpenApiLinksObject): ZodOpenApiResponsesObject {
  const takesInput = Boolean(operation.path || operation.query || operation.headers || operation.body);
  const signed = route.needs === 'signed';
  // The webhooks read their bodies raw and the codec server parses its own; the rest go through express.json().
  const jsonBodied = route.method === 'POST' && !signed && !route.path.startsWith('/codec');
  const shared: ZodOpenApiResponsesObject = {};
  if (takesInput) shared['400'] = COMMON.invalid;
  if (route.needs !== 'public') shared['401'] = signed ? COMMON.unsigned : COMMON.unauthenticated;
  if (permissions) shared['403'] = COMMON.forbidden;
  if (route.method === 'POST') shared['413'] = COMMON.tooLarge;
  if (jsonBodied) shared['415'] = COMMON.notJson;
  shared['429'] = COMMON.tooMany;
  if (signed) shared['503'] = COMMON.notConfigured;
  const own = Object.fromEntries(
    Object.entries(operation.answers).map(([status, answer]) => {
      const linked = Number(status) < 300 && Object.keys(links).length > 0;
      return [status, { ...responseObject(Number(status), answer), ...(linked ? { links } : {}) }];
    }),
  );
  return { ...shared, ...own };
}

function responseObject(status: number, answer: Answer) {
  const schema = answer.schema ?? (status >= 400 ? errorAnswer : undefined);
  return {
    description: answer.description,
    ...(answer.headers ? { headers: answer.headers } : {}),
    ...(schema ? { content: { [answer.contentType ?? 'application/json']: { schema } } } : {}),
  };
}

/** An answer many operations share, as a component of the document. */
const common = (id: string, status: number, description: string, headers?: z.ZodObject) => ({ id, ...responseObject(status, { description, ...(headers ? { headers } : {}) }) });

const COMMON = {
  invalid: common('InvalidInput', 400, 'Invalid input (a body, a query parameter given twice, a path that is not valid percent-encoding): `details` names every invalid field and its rule.'),
  unauthenticated: common('Unauthenticated', 401, 'No credential, or one that is unknown, revoked or expired: `error` says how to get one.'),
  unsigned: common('Unsigned', 401, "The sender's signature (or token) is missing, stale or wrong: nothing was read or recorded."),
  forbidden: common('Forbidden', 403, 'The credential lacks the permission: `error` names the roles that have it.'),
  tooLarge: common('TooLarge', 413, 'The body is larger than the route takes (1 MB; the codec server 4 MB).'),
  notJson: common('NotJson', 415, 'A body that is not `content-type: application/json`.'),
  tooMany: common(
    'TooManyRequests',
    429,
    'Too many requests from this address or credential, or too many failed credentials from this address (README, "Rate limits").',
    z.object({ 'Retry-After': z.string().optional().meta({ description: 'Seconds until the window ends.' }) }),
  ),
  notConfigured: common('WebhookNotConfigured', 503, "This desk was not given the sender's secret: `error` names the variable to set."),
};

// ---- who may call ----------------------------------------------------------------------------------------

const SECURITY_SCHEMES = {
  bearer: {
    type: 'http' as const,
    scheme: 'bearer',
    bearerFormat: 'API key or JWT',
    description:
      'An API key (`npm run desk -- keys create --name <name> --role <role>`; `npm start` prints the admin key) or, ' +
      'when `AUTH_ISSUER`, `AUTH_AUDIENCE` and `AUTH_JWKS_URL` are set, an OIDC access token (JWT) whose roles claim names desk roles.',
  },
  codecSession: {
    type: 'apiKey' as const,
    in: 'cookie' as const,
    name: 'desk_codec',
    description: 'The key GET /codec/session trades for an HttpOnly cookie (path /codec), for the Temporal UI in that browser.',
  },
  slackSignature: {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: 'X-Slack-Signature',
    description: '`v0=` + hex HMAC-SHA256, keyed with `SLACK_SIGNING_SECRET`, of `v0:<X-Slack-Request-Timestamp>:<raw body>`.',
  },
  zendeskSignature: {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: 'X-Zendesk-Webhook-Signature',
    description: 'Base64 HMAC-SHA256, keyed with `ZENDESK_WEBHOOK_SECRET`, of `<X-Zendesk-Webhook-Signature-Timestamp><raw body>`.',
  },
  pagerDutySignature: {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: 'X-PagerDuty-Signature',
    description: 'One or more `v1=` + hex HMAC-SHA256 of the raw body, each keyed with one of `PAGERDUTY_WEBHOOK_SECRETS`.',
  },
  gitlabToken: {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: 'X-Gitlab-Token',
    description: "The webhook's secret token, `GITLAB_WEBHOOK_TOKEN`, sent as it is.",
  },
};

function securityOf(needs: Needs): Array<Record<string, string[]>> {
  if (needs === 'public') return [];
  return [{ bearer: [] }];
}

function rolesFor(table: RouteTable, permissions: Permission[]): string[] {
  return [...new Set(permissions.flatMap((p) => rolesGranting(table.roles, p)))];
}

function needsInWords(table: RouteTable, needs: Needs, permissions: Permission[] | null): string {
  if (needs === 'public') return 'Public: no credential needed.';
  if (needs === 'signed') return "Proven by the sender's signature, not a credential.";
  if (needs === 'authenticated' || !permissions) return 'Any valid credential.';
  const listed = permissions.map((p) => `\`${p}\``).join(' or ');
  return `Needs the permission ${listed}: roles ${rolesFor(table, permissions).join(', ')}.`;
}

// ---- names -------------------------------------------------------------------------------------------

const TAGS = [
  { name: 'desk', description: 'The desk itself: index, health, who you are, the audit trail.' },
  { name: 'tickets', description: 'Support tickets: intake, agents\' actions, lists.' },
  { name: 'incidents', description: 'Emergency incidents: paging, crisis, resolution.' },
  { name: 'security-reports', description: 'Security reports: response, disclosure.' },
  { name: 'feature-requests', description: 'Feature requests through the Support Operations process.' },
  { name: 'bug-reports', description: 'Bug reports through the Support Operations process.' },
  { name: 'reports', description: 'The KPIs, JSON or CSV.' },
  { name: 'policy', description: 'Policy changes for open work: preview, apply, rollouts.' },
  { name: 'webhooks', description: 'Signed deliveries from Slack, Zendesk, PagerDuty and GitLab.' },
  { name: 'codec', description: 'The codec server the Temporal Web UI decodes payloads through.' },
  { name: 'pages', description: 'The dashboard and these docs.' },
];

function tagOf(path: string): string {
  const first = path.split('/')[1] ?? '';
  if (first === 'dashboard' || first === 'docs' || first === 'openapi.json') return 'pages';
  return TAGS.some((t) => t.name === first) ? first : 'desk';
}

/** `POST /tickets/{id}/change-tier` → `postTicketsIdChangeTier`. */
function operationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

// ---- text rules ---------------------------------------------------------------------------------------

// The characters api/input.ts refuses (domain/text-rules.ts), as JSON Schema patterns.
const CONTROLS = '\\u0000-\\u001F\\u007F-\\u009F\\uFFFE\\uFFFF';
const FREE_CONTROLS = '\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\uFFFE\\uFFFF';
const PATTERNS = { line: `^[^${CONTROLS}]*$`, free: `^[^${FREE_CONTROLS}]*$`, itemId: `^[^\\s/:${CONTROLS}]+$` };

/** A field's text rule (kept in its zod meta by api/input.ts) as `x-text-rule`, its size and characters. */
function textRules({ jsonSchema }: { jsonSchema: Record<string, unknown> }): void {
  const meta = jsonSchema as Partial<TextFieldMeta>;
  const rule = meta.textRule as TextField | undefined;
  if (rule === undefined) return;
  const { kind, max } = TEXT_RULES[rule];
  jsonSchema['x-text-rule'] = rule;
  jsonSchema.maxLength = max;
  if (jsonSchema.type === 'string' && jsonSchema.pattern === undefined) jsonSchema.pattern = meta.itemId ? PATTERNS.itemId : PATTERNS[kind];
  if (meta.link) jsonSchema.format = 'uri';
  delete jsonSchema.textRule;
  delete jsonSchema.itemId;
  delete jsonSchema.link;
}
