// What each route takes and answers, for the OpenAPI document (api/openapi.ts): the schemas the routes
// parse with (each router exports its own) and the shapes of their answers. Keyed like the route table
// (api/access.ts); a declared route without an entry here is missing from the spec, and
// test/openapi.test.ts names it.
import { z } from 'zod';
import { REPORTS } from '../db/reports';
import { auditQuerySchema } from './audit';
import { incidentInputs } from './incident';
import { applySchema, previewSchema } from './policy';
import { idText } from './input';
import { reportQuerySchema } from './reports';
import { securityReportInputs } from './security-report';
import { ticketInputs } from './ticket';
import { gitlabIssueEventSchema } from './webhooks/gitlab';
import { pagerDutyEventSchema } from './webhooks/pagerduty';
import { slackEventSchema, slashCommandSchema, urlVerificationSchema } from './webhooks/slack';
import { zendeskEventSchema } from './webhooks/zendesk';
import { workItemInputs } from './work-item';
import { pageQuery } from './workflow-routes';

/** One answer of a route; an error (4xx, 5xx) without a schema has the shape of `errorAnswer`. */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** `application/json` unless said. */
  contentType?: string;
  headers?: z.ZodObject;
}

export type Answers = Record<number, Answer>;

/** What a route takes, beside what every route of its kind takes (api/openapi.ts adds those). */
export interface Operation {
  summary: string;
  description?: string;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  /** The body, per media type. */
  body?: Record<string, z.ZodType>;
  answers: Answers;
  /** The security schemes of a route that is not the bearer credential's (webhooks, the codec server). */
  security?: Array<Record<string, string[]>>;
}

export interface RouteContract extends Operation {
  path?: z.ZodObject;
}

/** `POST /<kind>/:id/:action`: one operation per action, each with its own body. */
export interface ActionRouteContract {
  path: z.ZodObject;
  headers?: z.ZodObject;
  answers: Answers;
  actions: Record<string, { summary: string; body: z.ZodType }>;
}

// ---- answers ---------------------------------------------------------------------------------------

/** Every 4xx and 5xx of the API: what was wrong and how to fix it (api/errors.ts). */
export const errorAnswer = z
  .looseObject({
    error: z.string().meta({ description: 'What was wrong, and what to do about it.' }),
    details: z
      .array(z.looseObject({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Every invalid field of a 400 (and of a refused webhook delivery).' }),
  })
  .meta({ id: 'Error' });

const links = z
  .looseObject({ self: z.string(), actions: z.array(z.string()), temporalUi: z.string() })
  .meta({ id: 'ItemLinks', description: 'The item, each of its actions, and its workflow in the Temporal Web UI.' });

const filed = z.looseObject({ id: z.string(), workflowId: z.string(), created: z.boolean(), links }).meta({ id: 'Filed' });

const actionAnswer = z
  .looseObject({
    id: z.string(),
    event: z.string().meta({ description: 'What the action recorded.' }),
    visible: z.boolean().meta({ description: 'Whether the lists (the PostgreSQL projection) show the change already.' }),
    version: z.number().int().optional(),
    status: z.string().optional(),
    stage: z.string().optional(),
    links,
  })
  .meta({ id: 'ActionAnswer', description: 'What changed, kept small; GET links.self for the whole item.' });

/** A workflow's own answer to its state query (redacted for those who may not read it in full). */
const itemView = (what: string) =>
  z.looseObject({ id: z.string(), workflowId: z.string(), redacted: z.string().optional() }).meta({ description: `The ${what} as its workflow holds it now.` });
/** A feature request's or bug report's: the item as filed, and where it stands. */
const workItemView = (what: string) =>
  z.looseObject({ item: z.looseObject({ id: z.string() }), workflowId: z.string(), stage: z.string() }).meta({ description: `The ${what} as its workflow holds it now.` });

const page = { limit: z.number().int(), offset: z.number().int() };
const instant = z.iso.datetime();

const timeline = z
  .looseObject({
    id: z.string(),
    timeline: z.array(
      z.looseObject({ seq: z.number().int(), at: instant, event: z.string(), by: z.string().nullable(), note: z.string().nullable(), messageId: z.string().nullable() }),
    ),
    ...page,
  })
  .meta({ id: 'Timeline' });

const ticketRow = z.looseObject({
  id: z.string(),
  workflowId: z.string(),
  status: z.string(),
  tier: z.number().int(),
  channel: z.string(),
  assignee: z.string().nullable(),
  redacted: z.string().optional(),
});
const incidentRow = z.looseObject({ id: z.string(), workflowId: z.string(), status: z.string(), severity: z.string(), crisis: z.boolean(), level: z.number().int() });
const securityReportRow = z.looseObject({ id: z.string(), workflowId: z.string(), status: z.string(), severity: z.string(), redacted: z.string().optional() });
const workItemRow = z.looseObject({ id: z.string(), workflowId: z.string(), kind: z.string(), stage: z.string(), hold: z.string().nullable(), waitingMs: z.number(), blockedMs: z.number() });

const json = (description: string, schema?: z.ZodType): Answer => ({ description, ...(schema ? { schema } : {}) });
const page200 = (what: string, schema: z.ZodType) => ({ 200: json(what, schema) });
const location = z.object({ Location: z.string().meta({ description: 'Where the new item is.' }) });

// ---- shared by every kind of work ----------------------------------------------------------------

const itemPath = z.object({ id: idText() });
const idempotency = z.object({
  'Idempotency-Key': idText()
    .optional()
    .meta({ description: 'The same key on a retried request gives one effect (the same update, the same stored message).' }),
});

interface ItemKind {
  base: string;
  noun: string;
  plural: string;
  inputs: { intake: z.ZodType; actions: Record<string, z.ZodType>; listQuery: z.ZodObject };
  intakeAnswer: z.ZodType;
  listKey: string;
  row: z.ZodType;
  view: z.ZodType;
  summaries: Record<string, string>;
}

function itemContracts({ base, noun, plural, inputs, intakeAnswer, listKey, row, view, summaries }: ItemKind): Record<string, RouteContract | ActionRouteContract> {
  const notFound = { 404: json(`No ${noun} with that id.`) };
  const actions = Object.fromEntries(
    Object.entries(inputs.actions).map(([action, body]) => [action, { summary: summaries[action] ?? action, body }]),
  );
  return {
    [`POST ${base}`]: {
      summary: `File a ${noun}`,
      description: `The same \`externalId\` always names the same ${noun}: a second POST answers 200 with it instead of filing another.`,
      body: { 'application/json': inputs.intake },
      answers: { 201: { ...json(`Filed.`, intakeAnswer), headers: location }, 200: json(`Filed before, with this externalId.`, intakeAnswer) },
    },
    [`GET ${base}`]: {
      summary: `List ${plural}`,
      description: 'From the PostgreSQL projection, a page at a time.',
      query: inputs.listQuery,
      answers: page200(`A page of ${plural}.`, z.looseObject({ [listKey]: z.array(row), ...page })),
    },
    [`GET ${base}/:id`]: {
      summary: `A ${noun}`,
      description: `Its state, from its workflow.`,
      path: itemPath,
      answers: { 200: json(`The ${noun}.`, view), ...notFound },
    },
    [`GET ${base}/:id/timeline`]: {
      summary: `A ${noun}'s whole timeline`,
      description: 'Every entry, oldest first.',
      path: itemPath,
      query: z.strictObject(pageQuery()),
      answers: { 200: json('A page of the timeline.', timeline), ...notFound },
    },
    [`POST ${base}/:id/:action`]: {
      path: itemPath,
      headers: idempotency,
      actions,
      answers: {
        200: json('Done: what changed.', actionAnswer),
        404: json(`No ${noun} with that id.`),
        409: json(`The ${noun}'s state does not allow it now; \`error\` says why.`),
      },
    },
  };
}

const ticketSummaries: Record<string, string> = {
  acknowledge: 'Acknowledge the ticket',
  reply: 'Reply to the requester (or relay the requester\'s reply)',
  assign: 'Assign the ticket',
  'change-tier': 'Move the ticket to another tier',
  'wait-on-requester': 'Ask the requester and pause the resolution clock',
  'hand-off': 'Hand a tier-3 ticket off to a centre of expertise',
  resolve: 'Resolve the ticket',
  reopen: 'Reopen a resolved ticket',
  close: 'Close the ticket',
  satisfaction: "The requester's satisfaction answers",
  escalate: 'Start the escalation chain now',
};

const incidentSummaries: Record<string, string> = {
  acknowledge: 'Acknowledge the page',
  'add-responder': 'Add a responder',
  'declare-crisis': 'Declare a crisis',
  resolve: 'Resolve the incident',
  'close-follow-up': 'Close the follow-up task',
};

const securityReportSummaries: Record<string, string> = {
  respond: 'Answer the reporter',
  'request-disclosure': 'The reporter asks for disclosure',
  'mark-scrubbed': 'Mark the report scrubbed of secrets',
  'link-fix': 'Link the fix',
  'accept-disclosure': 'Accept disclosure now',
  close: 'Close the report',
};

const workItemSummaries: Record<string, string> = {
  triage: 'Triage',
  'provide-information': "The requester's answer to triage's question",
  'check-workload': 'Check the request against the workload',
  'record-game-plan': 'Record the game plan',
  decide: 'Decide whether to build it',
  'set-milestone': 'Plan it into a milestone',
  'start-development': 'Start development',
  'submit-for-validation': 'Submit for validation',
  accept: 'Accept the work',
  'confirm-fix': 'Confirm the fix',
  'request-changes': 'Send it back to development',
  complete: 'Complete it',
  wait: 'Wait on input or a dependency',
  block: 'Block it',
  resume: 'Resume after a wait or a block',
};

// ---- webhooks ----------------------------------------------------------------------------------------

const signedAnswers: Answers = {
  200: json('Done, ignored (a kind of event the desk does not act on), or a redelivery of one already taken (`duplicate: true`).', z.looseObject({})),
  202: json('Accepted: the action goes on after the answer.', z.looseObject({ ok: z.literal(true), accepted: z.literal(true) })),
  500: json('Acting on the delivery failed and nothing was recorded: redeliver it to retry.'),
};

const refused = (status: number, how: string): Answers => ({ [status]: json(`A signed delivery whose payload the desk cannot take, refused once and recorded: ${how}.`) });


// ---- every route ----------------------------------------------------------------------------------

const html = (description: string): Answer => ({ description, contentType: 'text/html', schema: z.string() });
const asset = (description: string, contentType: string): Answer => ({ description, contentType, schema: z.string() });
const payloads = z.looseObject({ payloads: z.array(z.looseObject({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() })) });
const rolloutStarted = z.looseObject({ rolloutId: z.string(), workflowId: z.string(), policy: z.string(), tickets: z.number().int(), started: z.boolean(), links: z.looseObject({ self: z.string() }) });
const readiness = z.looseObject({ ok: z.boolean(), checks: z.record(z.string(), z.enum(['ok', 'failing'])) });

export const ROUTE_CONTRACTS: Record<string, RouteContract | ActionRouteContract> = {
  'GET /': {
    summary: 'What this desk is',
    description: 'Its policy, how to authenticate, and links to everything else.',
    answers: page200('The desk.', z.looseObject({ service: z.string(), policy: z.string(), authentication: z.string(), links: z.record(z.string(), z.string()) })),
  },
  'GET /healthz': { summary: 'Liveness', description: 'The process answers.', answers: page200('Alive.', z.object({ ok: z.literal(true) })) },
  'GET /readyz': {
    summary: 'Readiness',
    description: 'Temporal (namespace and search attributes), PostgreSQL and the migrations, each `ok` or `failing`.',
    answers: { 200: json('Ready.', readiness), 503: json('Not ready: `checks` says which dependency is failing.', readiness) },
  },
  'GET /openapi.json': { summary: 'This document', answers: page200('The OpenAPI 3.1 document.', z.looseObject({ openapi: z.string() })) },
  'GET /docs': { summary: 'This document, to read', answers: { 200: html('Swagger UI over /openapi.json.') } },
  'GET /docs/docs.js': { summary: "The docs page's script", answers: { 200: asset('Starts Swagger UI.', 'text/javascript') } },
  'GET /docs/swagger-ui-bundle.js': { summary: 'Swagger UI', answers: { 200: asset('From the swagger-ui-dist package.', 'text/javascript') } },
  'GET /docs/swagger-ui.css': { summary: "Swagger UI's styles", answers: { 200: asset('From the swagger-ui-dist package.', 'text/css') } },
  'GET /dashboard': { summary: 'The dashboard page', description: 'Its data needs a supervisor\'s key, typed into the page.', answers: { 200: html('The page.') } },
  'GET /dashboard/dashboard.js': { summary: "The dashboard's script", answers: { 200: asset('The script.', 'text/javascript') } },
  'GET /dashboard/dashboard.css': { summary: "The dashboard's styles", answers: { 200: asset('The styles.', 'text/css') } },
  'GET /dashboard/chart.js': { summary: 'Chart.js', answers: { 200: asset("Chart.js's browser build.", 'text/javascript') } },
  'GET /me': {
    summary: 'Who you are',
    description: 'Your name, roles and permissions.',
    answers: page200('The caller.', z.looseObject({ name: z.string(), roles: z.array(z.string()), credential: z.string(), permissions: z.array(z.string()) })),
  },
  'GET /audit': {
    summary: 'The audit trail',
    description: 'One row per mutating request, newest first; `from` inclusive, `to` exclusive.',
    query: auditQuerySchema(),
    answers: page200(
      'A page of the audit trail.',
      z.looseObject({
        entries: z.array(z.looseObject({ at: instant, requestId: z.string(), principal: z.string(), method: z.string(), route: z.string(), status: z.number().int(), outcome: z.string() })),
        ...page,
      }),
    ),
  },

  ...itemContracts({
    base: '/tickets',
    noun: 'ticket',
    plural: 'tickets',
    inputs: ticketInputs(),
    intakeAnswer: filed.extend({
      incident: z.looseObject({ id: z.string(), workflowId: z.string(), created: z.boolean(), self: z.string() }).optional().meta({ description: 'The incident an `emergency` ticket raised.' }),
    }),
    listKey: 'tickets',
    row: ticketRow,
    view: itemView('ticket'),
    summaries: ticketSummaries,
  }),
  'POST /tickets/next': {
    summary: 'Take the next ticket',
    description: "First in, first out: the caller's own oldest open ticket, else the oldest unassigned one, which becomes theirs.",
    body: { 'application/json': ticketInputs().next },
    answers: page200('The ticket, or `null` when there is none.', z.looseObject({ ticket: itemView('ticket').nullable(), message: z.string().optional() })),
  },
  'GET /tickets/:id/messages': {
    summary: "A ticket's messages",
    description: 'The conversation\'s bodies (replies, questions, resolutions), oldest first.',
    path: itemPath,
    query: z.strictObject(pageQuery()),
    answers: {
      200: json(
        'A page of messages.',
        z.looseObject({ id: z.string(), messages: z.array(z.looseObject({ id: z.string(), author: z.string(), role: z.string(), body: z.string(), createdAt: instant })), ...page }),
      ),
      404: json('No ticket with that id.'),
    },
  },
  ...itemContracts({ base: '/incidents', noun: 'incident', plural: 'incidents', inputs: incidentInputs(), intakeAnswer: filed, listKey: 'incidents', row: incidentRow, view: itemView('incident'), summaries: incidentSummaries }),
  ...itemContracts({
    base: '/security-reports',
    noun: 'security report',
    plural: 'security reports',
    inputs: securityReportInputs(),
    intakeAnswer: filed,
    listKey: 'securityReports',
    row: securityReportRow,
    view: itemView('security report'),
    summaries: securityReportSummaries,
  }),
  ...itemContracts({
    base: '/feature-requests',
    noun: 'feature request',
    plural: 'feature requests',
    inputs: workItemInputs('feature-request'),
    intakeAnswer: filed,
    listKey: 'items',
    row: workItemRow,
    view: workItemView('feature request'),
    summaries: workItemSummaries,
  }),
  ...itemContracts({
    base: '/bug-reports',
    noun: 'bug report',
    plural: 'bug reports',
    inputs: workItemInputs('bug-report'),
    intakeAnswer: filed,
    listKey: 'items',
    row: workItemRow,
    view: workItemView('bug report'),
    summaries: workItemSummaries,
  }),

  'GET /reports': {
    summary: 'The reports',
    description: 'Each report, its filters and columns.',
    answers: page200(
      'Every report.',
      z.looseObject({
        channels: z.array(z.string()),
        reports: z.array(z.looseObject({ name: z.string(), describes: z.string(), filters: z.array(z.string()), columns: z.array(z.string()), self: z.string() })),
        parameters: z.string(),
      }),
    ),
  },
  'GET /reports/:name': {
    summary: 'One report',
    description: 'JSON, or CSV with `Accept: text/csv`. A filter the report does not take is a 400 naming it.',
    path: z.object({ name: z.enum(REPORTS.map((r) => r.name) as [string, ...string[]]) }),
    query: reportQuerySchema(),
    answers: {
      200: json(
        'The report.',
        z.looseObject({ report: z.string(), describes: z.string(), parameters: z.looseObject({}), columns: z.array(z.string()), rows: z.array(z.looseObject({})) }),
      ),
      404: json('No report of that name.'),
    },
  },

  'POST /policy/preview': {
    summary: 'Preview a policy for open tickets',
    description: "Asks each open ticket's workflow how its deadlines would move under the candidate policy (a whole policy, as in a policy file), a page at a time.",
    body: { 'application/json': previewSchema() },
    answers: page200(
      'The tickets whose deadlines would move.',
      z.looseObject({
        policy: z.string(),
        checked: z.number().int(),
        moved: z.array(z.looseObject({ id: z.string() })),
        unchanged: z.number().int(),
        notPreviewable: z.array(z.looseObject({ id: z.string(), reason: z.string() })),
        nextOffset: z.number().int().nullable(),
      }),
    ),
  },
  'POST /policy/apply': {
    summary: 'Give chosen open tickets a new policy',
    description: 'Starts a rollout workflow that signals each chosen ticket its new slice; tickets not chosen keep theirs. With an `Idempotency-Key`, a retry meets the same rollout.',
    headers: idempotency,
    body: { 'application/json': applySchema() },
    answers: {
      202: { ...json('The rollout started.', rolloutStarted), headers: location },
      200: json('The rollout of this Idempotency-Key, already under way.', rolloutStarted),
    },
  },
  'GET /policy/rollouts/:id': {
    summary: 'How far a policy rollout is',
    path: itemPath,
    answers: {
      200: json(
        'Its progress.',
        z.looseObject({ rolloutId: z.string(), policy: z.string(), total: z.number().int(), signalled: z.number().int(), skippedCount: z.number().int(), remaining: z.number().int() }),
      ),
      404: json('No rollout with that id.'),
    },
  },

  'GET /codec/session': {
    summary: 'The codec session form',
    description: 'Trades a key with the `decode` permission for an HttpOnly cookie, so the Temporal UI in this browser can decode.',
    answers: { 200: html('The form.') },
  },
  'POST /codec/session': {
    summary: 'Set the codec session',
    description: "The form field `key` is this request's credential (else the bearer one); from this API's own page only.",
    body: { 'application/x-www-form-urlencoded': z.object({ key: z.string() }) },
    answers: { 200: html('Done: the cookie is set for /codec.'), 403: json('Posted from another site, or the key may not decode.') },
  },
  'POST /codec/encode': {
    summary: 'Encode payloads (Temporal UI codec server)',
    body: { 'application/json': payloads },
    security: [{ bearer: [] }, { codecSession: [] }],
    answers: { 200: json('The payloads, encoded.', payloads), 422: json('The payloads cannot be encoded.') },
  },
  'POST /codec/decode': {
    summary: 'Decode payloads (Temporal UI codec server)',
    body: { 'application/json': payloads },
    security: [{ bearer: [] }, { codecSession: [] }],
    answers: { 200: json('The payloads, decoded.', payloads), 422: json('A payload cannot be decoded (an unknown key, tampered ciphertext).') },
  },

  'POST /webhooks/slack': {
    summary: 'Slack: events, slash commands and buttons',
    description:
      'One Request URL for the Events API (JSON: `url_verification`, `event_callback`), the `/support` slash command and ' +
      'interactivity (forms; a button click is the JSON in the form field `payload`, answered 200 with no body). ' +
      'Signed with `SLACK_SIGNING_SECRET`.',
    headers: z.object({ 'X-Slack-Request-Timestamp': z.string().meta({ description: 'Unix seconds, signed with the body; at most 5 minutes old.' }) }),
    body: {
      'application/json': z.union([urlVerificationSchema(), slackEventSchema()]),
      'application/x-www-form-urlencoded': z.union([slashCommandSchema(), z.object({ payload: z.string().meta({ description: 'A block_actions payload, as JSON.' }) })]),
    },
    security: [{ slackSignature: [] }],
    answers: { ...signedAnswers, ...refused(422, 'with X-Slack-No-Retry: 1') },
  },
  'POST /webhooks/zendesk': {
    summary: 'Zendesk: ticket events',
    description: '`zen:event-type:ticket.created` files a helpdesk ticket; `ticket.comment_added` by the requester is their reply. Signed with `ZENDESK_WEBHOOK_SECRET`.',
    headers: z.object({
      'X-Zendesk-Webhook-Signature-Timestamp': z.string().meta({ description: 'Signed with the body; at most 5 minutes old.' }),
      'X-Zendesk-Webhook-Invocation-Id': z.string().optional().meta({ description: 'The delivery id (else the event\'s `id`).' }),
    }),
    body: { 'application/json': zendeskEventSchema() },
    security: [{ zendeskSignature: [] }],
    answers: { ...signedAnswers, ...refused(422, 'Zendesk does not retry it') },
  },
  'POST /webhooks/pagerduty': {
    summary: 'PagerDuty: incident acknowledged or resolved',
    description: 'v3 webhooks about an incident the desk paged. Signed with one of `PAGERDUTY_WEBHOOK_SECRETS`.',
    headers: z.object({ 'X-Webhook-Id': z.string().optional().meta({ description: 'The delivery id (else `event.id`).' }) }),
    body: { 'application/json': pagerDutyEventSchema() },
    security: [{ pagerDutySignature: [] }],
    answers: { ...signedAnswers, ...refused(422, 'PagerDuty drops it') },
  },
  'POST /webhooks/gitlab': {
    summary: 'GitLab: issue events',
    description: 'A new issue is announced, a label change moves the work item that tracks it, closing a follow-up closes its incident. Carries `GITLAB_WEBHOOK_TOKEN`.',
    headers: z.object({
      'Idempotency-Key': z.string().optional().meta({ description: 'The delivery id (GitLab 17.4+).' }),
      'X-Gitlab-Event-UUID': z.string().optional().meta({ description: 'The delivery id before GitLab 17.4.' }),
    }),
    body: { 'application/json': gitlabIssueEventSchema() },
    security: [{ gitlabToken: [] }],
    answers: {
      ...signedAnswers,
      400: json('Not JSON, no delivery id, or a payload the desk cannot take (refused once and recorded): the answer GitLab asks for.'),
    },
  },
};

export const isActionRoute = (contract: RouteContract | ActionRouteContract): contract is ActionRouteContract => 'actions' in contract;
