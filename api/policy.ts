// Policy changes for open work. A new policy file (SUPPORT_DESK_POLICY) applies to work filed after
// the API restarts with it; open tickets keep the slice they were filed under until told otherwise:
//
//   POST /policy/preview  { policy, offset?, limit? }            which open tickets' deadlines would move, by how much
//   POST /policy/apply    { policy, tickets: [ids], reason }     gives the chosen tickets the new slice (a rollout workflow)
//   GET  /policy/rollouts/:id                                     how far a rollout is
//
// The preview asks each open ticket's workflow (a query: its own clocks, counted under the candidate),
// so pauses, business hours and re-tiers are counted as the ticket counts them. Tickets not chosen
// keep theirs. Each ticket records the change on its timeline; the audit trail records the apply.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { z } from 'zod';
import { PolicyError, parsePolicy } from '../config/policy-schema';
import { deadlinesMove } from '../domain/policy-change';
import { resolveTicketPolicy, type Channel, type Policy } from '../domain/policy';
import { policyPreviewQuery, TICKET_DONE_STATUSES, type PolicyPreview } from '../domain/ticket';
import { rolloutProgressQuery } from '../domain/policy-rollout';
import { declaredRoutes, type RouteTable } from './access';
import { HttpError } from './errors';
import { TEXT_RULES, textProblem } from '../domain/text-rules';
import { idText, itemIdFrom, parseBody, text } from './input';
import { idempotencyKeyOf } from './workflow-routes';

/** Tickets one rollout may carry (with the candidate's 32 KiB, its input stays far below Temporal's 2 MB payload limit). */
export const MOST_TICKETS_PER_ROLLOUT = 5_000;
/** Tickets asked at once while previewing. */
const PREVIEW_CONCURRENCY = 8;

export interface PolicyDeps {
  client: Client;
  pool: Pool;
  taskQueue: string;
}

/**
 * The candidate policy, checked like a policy file (config/policy-schema.ts): refused with every
 * problem listed under the field `policy`.
 */
function candidatePolicy() {
  return z.unknown().transform((raw, ctx): Policy => {
    // Its words reach the audit trail and every chosen ticket's timeline, and each signal carries the
    // ticket's slice of it: a policy's size and every key and string in it are checked before its meaning.
    const problem = candidateTextProblem(raw);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    try {
      return parsePolicy(raw, 'the candidate policy');
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      ctx.addIssue({ code: 'custom', message: raw === undefined ? 'required: the whole candidate policy, as in a policy file' : err.message });
      return z.NEVER;
    }
  });
}

/** A policy is a few kilobytes; this bounds what a rollout's signals carry (PAGE of them in one task). */
export const LARGEST_CANDIDATE_BYTES = 32 * 1024;

/** What is wrong with the candidate's size or its text (a key or a string), or null. */
function candidateTextProblem(raw: unknown): string | null {
  if (raw === undefined) return null;
  const bytes = Buffer.byteLength(JSON.stringify(raw) ?? '');
  if (bytes > LARGEST_CANDIDATE_BYTES) return `is ${bytes} bytes as JSON; a policy may be at most ${LARGEST_CANDIDATE_BYTES}`;
  const walk = (value: unknown, where: string): string | null => {
    if (typeof value === 'string') {
      const wrong = textProblem(value, TEXT_RULES.name);
      return wrong ? `${where || '(the policy)'} ${wrong}` : null;
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) {
        const wrong = walk(v, `${where}[${i}]`);
        if (wrong) return wrong;
      }
      return null;
    }
    if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        const wrongKey = textProblem(key, TEXT_RULES.name);
        if (wrongKey) return `a key of ${where || 'the policy'} ${wrongKey}`;
        const wrong = walk(v, where ? `${where}.${key}` : key);
        if (wrong) return wrong;
      }
    }
    return null;
  };
  return walk(raw, '');
}

export function previewSchema() {
  return z.strictObject({
    policy: candidatePolicy(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(500).default(100),
  });
}

export function applySchema() {
  return z.strictObject({
    policy: candidatePolicy(),
    tickets: z.array(idText()).min(1).max(MOST_TICKETS_PER_ROLLOUT),
    reason: text('reason'),
  });
}

interface OpenTicketRow {
  id: string;
  workflow_id: string;
  channel: Channel;
}

export function policyRoutes(deps: PolicyDeps, table: RouteTable) {
  const { router, get, post } = declaredRoutes(table, '/policy');
  const { client, pool, taskQueue } = deps;

  post('/preview', 'supervise', async (req, res) => {
    const body = parseBody(previewSchema(), req.body, 'policy preview');
    const candidate = body.policy;
    const { rows } = await pool.query<OpenTicketRow>(
      `SELECT id, workflow_id, channel FROM tickets WHERE status <> ALL ($1::text[])
        ORDER BY created_at, id OFFSET $2 LIMIT $3`,
      [TICKET_DONE_STATUSES, body.offset, body.limit + 1],
    );
    const page = rows.slice(0, body.limit);
    const previews = await mapConcurrently(page, PREVIEW_CONCURRENCY, (row) => previewOne(client, row, candidate));
    const answered = previews.filter((p): p is PolicyPreview => 'acknowledge' in p);
    const moved = answered.filter(deadlinesMove);
    res.json({
      policy: candidate.name,
      checked: page.length,
      moved,
      unchanged: answered.length - moved.length,
      // Tickets that cannot say (started before policy changes existed, or closing just now): unchanged by an apply too.
      notPreviewable: previews.filter((p): p is { id: string; reason: string } => 'reason' in p),
      nextOffset: rows.length > body.limit ? body.offset + body.limit : null,
    });
  });

  post('/apply', 'manage', async (req, res) => {
    const body = parseBody(applySchema(), req.body, 'policy apply');
    const candidate = body.policy;
    const ids = [...new Set(body.tickets)];
    const { rows } = await pool.query<OpenTicketRow>(
      `SELECT id, workflow_id, channel FROM tickets WHERE id = ANY ($1::text[]) AND status <> ALL ($2::text[])`,
      [ids, TICKET_DONE_STATUSES],
    );
    const open = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !open.has(id));
    if (missing.length > 0) {
      const message = `${missing.length} of the tickets are not open tickets (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}); choose them from POST /policy/preview`;
      throw new HttpError(400, `invalid policy apply: tickets: ${message}`, [{ field: 'tickets', message }]);
    }
    const key = idempotencyKeyOf(req);
    const rolloutId = key ? key.replace(/[^A-Za-z0-9_.-]/g, '-') : randomUUID();
    const workflowId = `policy-rollout-${rolloutId}`;
    let started = true;
    try {
      await client.workflow.start('policyRolloutWorkflow', {
        taskQueue,
        workflowId,
        // A key names one rollout for good: sent again after it finished, it is still the same one.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: [{ rolloutId, policy: candidate, tickets: rows.map((r) => ({ workflowId: r.workflow_id, channel: r.channel })), by: req.principal!.name, reason: body.reason }],
      });
    } catch (err) {
      // The same Idempotency-Key again: the rollout already under way is the answer.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      started = false;
    }
    res.locals.audit = { target: workflowId, action: started ? `policy ${candidate.name} to ${rows.length} tickets` : 'policy apply repeated' };
    const links = { self: `/policy/rollouts/${rolloutId}` };
    // Repeated: the rollout under way (or done) is the answer, whatever this body says; its link tells how it stands.
    if (!started) return void res.status(200).location(links.self).json({ rolloutId, workflowId, started, links });
    res.status(202).location(links.self).json({ rolloutId, workflowId, policy: candidate.name, tickets: rows.length, started, links });
  });

  get('/rollouts/:id', 'supervise', async (req, res) => {
    const id = itemIdFrom(req.params.id);
    try {
      res.json(await client.workflow.getHandle(`policy-rollout-${id}`).query(rolloutProgressQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, `no policy rollout "${id}"; check the rolloutId POST /policy/apply answered`);
      throw err;
    }
  });

  return router;
}

async function previewOne(client: Client, row: OpenTicketRow, candidate: Policy): Promise<PolicyPreview | { id: string; reason: string }> {
  try {
    return await client.workflow.getHandle(row.workflow_id).query(policyPreviewQuery, resolveTicketPolicy(candidate, row.channel));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/unknown query|query handler|did not register a handler/i.test(message)) {
      return { id: row.id, reason: 'its workflow started before policy changes existed; it keeps its policy' };
    }
    if (err instanceof WorkflowNotFoundError) return { id: row.id, reason: 'its workflow is gone' };
    return { id: row.id, reason: 'its workflow did not answer; try again' };
  }
}

async function mapConcurrently<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
