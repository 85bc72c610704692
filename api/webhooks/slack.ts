// POST /webhooks/slack: one Request URL for the Events API, slash commands and interactivity.
// A direct message to the bot opens a private ticket; :escalate: on a ticket's message escalates it;
// `/support ack|resolve|status <id>` and the ticket_ack / ticket_resolve buttons act on tickets.
import { Router, type Response } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Pool } from 'pg';
import { z } from 'zod';
import { idProblem, preview } from '../../domain/text-rules';
import { requesterRepliedSignal, ticketStateQuery, ticketWorkflowId, type TicketView } from '../../domain/ticket';
import type { ApiDeps } from '../app';
import { describeProblems, fieldProblems, HttpError } from '../errors';
import { signedBy } from './deliveries';
import { link, optionalText, text } from '../input';
import { actOnTicket, fileTicket, storeRequesterMessage, ticketIdFor } from '../ticket';
import { discardMessage } from '../../db/messages';
import { ANSWER_BUDGET_MS, malformedDelivery, parseJson, rawBody, receiveDelivery, requireSecret, webhookLog } from './deliveries';
import { verifySlackSignature } from './signatures';

/** The reaction that starts the escalation procedure (domain.md, "Chat conveniences"). */
export const ESCALATE_REACTION = 'escalate';

/**
 * An Events API callback: every field the desk reads (we subscribe to `message.im` and
 * `reaction_added`), typed and under the text rules. Slack adds fields freely; the rest is ignored.
 */
export function slackEventSchema() {
  return z.object({
    type: z.literal('event_callback'),
    event_id: text('id'),
    event: z.object({
      type: text('name'),
      user: optionalText('id'),
      // A message's words; a file share may have none.
      text: text('message', { allowEmpty: true }).optional(),
      ts: optionalText('id'),
      thread_ts: optionalText('id'),
      channel: optionalText('id'),
      channel_type: optionalText('name'),
      bot_id: optionalText('id'),
      subtype: optionalText('name'),
      reaction: optionalText('name'),
      // A reaction on a message names it by channel and ts; on a file it has neither.
      item: z.object({ type: text('name'), channel: optionalText('id'), ts: optionalText('id') }).optional(),
    }),
  });
}

type SlackEvent = z.output<ReturnType<typeof slackEventSchema>>['event'];

/** The `url_verification` Slack sends once when the Request URL is set. */
export function urlVerificationSchema() {
  return z.object({ type: z.literal('url_verification'), challenge: text('id') });
}

/** A slash command's form: who typed what, and where a late answer goes. */
export function slashCommandSchema() {
  return z.object({
    command: text('name'),
    text: text('message', { allowEmpty: true }).default(''),
    user_name: optionalText('name'),
    user_id: optionalText('id'),
    response_url: link().optional(),
  });
}

/** A button click (`block_actions`): the buttons' action ids and values (ticket ids), who clicked. */
export function interactivitySchema() {
  return z.object({
    type: text('name'),
    actions: z.array(z.object({ action_id: optionalText('name'), value: optionalText('id') })).max(25).default([]),
    user: z.object({ username: optionalText('name'), name: optionalText('name'), id: optionalText('id') }).optional(),
    response_url: link().optional(),
  });
}

/**
 * Who in the Slack workspace may act on tickets (acknowledge, resolve, escalate): Slack's signature
 * proves the workspace, not a desk role. `SLACK_AGENT_USERS` (Slack user ids) narrows it; unset, any
 * member of the workspace may (README, "Webhooks").
 */
export type SlackAgents = readonly string[] | null;

const mayActInSlack = (agents: SlackAgents, userId: string | undefined) => agents === null || (userId !== undefined && agents.includes(userId));
const NOT_AN_AGENT = 'Only the desk\'s agents act on tickets from Slack; ask an admin to add your Slack user id to SLACK_AGENT_USERS.';

/**
 * Who acted, as the timeline records it: the Slack user id Slack signed for, under `slack:` so it can
 * never pass for a desk principal of the same name (a Slack user called "admin" is not the admin).
 */
const slackActor = (user: string | undefined) => `slack:${user ?? 'unknown'}`;

export function slackWebhook(deps: ApiDeps, signingSecret: string | undefined, agents: SlackAgents = null): Router {
  const router = Router();
  const events = slackEventSchema();
  const urlVerification = urlVerificationSchema();
  const commands = slashCommandSchema();
  const clicks = interactivitySchema();

  router.post('/', async (req, res) => {
    const body = rawBody(req);
    const verdict = verifySlackSignature({
      body,
      timestamp: req.get('x-slack-request-timestamp'),
      signature: req.get('x-slack-signature'),
      signingSecret: requireSecret(signingSecret, 'SLACK_SIGNING_SECRET'),
      now: Date.now(),
    });
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    signedBy(req, res, 'slack');

    // Slash commands and interactivity are form-encoded; the Events API sends JSON.
    if (req.is('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(body.toString('utf8'));
      const payload = form.get('payload');
      if (payload !== null) {
        return interactivity(deps, res, slackPayload(clicks, parseJson(Buffer.from(payload), 'slack'), 'button click'), agents);
      }
      if (form.has('command')) return slashCommand(deps, res, commands.safeParse(Object.fromEntries(form)), agents);
      throw malformedDelivery('slack', 'a form body must be a slash command or an interactivity payload');
    }
    const payload = parseJson(body, 'slack');
    if (payload.type === 'url_verification') {
      res.json({ challenge: slackPayload(urlVerification, payload, 'url_verification').challenge });
      return;
    }
    if (payload.type !== 'event_callback' || payload.event === undefined) {
      res.json({ ok: true, ignored: `payload type ${String(payload.type)}` });
      return;
    }
    await receiveDelivery(
      deps,
      res,
      { source: 'slack', deliveryId: payload.event_id, idFrom: 'event_id', payload: events.safeParse(payload) },
      (callback) => onEvent(deps, callback.event, agents),
    );
  });

  return router;
}

/** What Slack sends besides events (no delivery id, never redelivered): checked, or a 400 it will not retry. */
function slackPayload<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const details = fieldProblems(parsed.error);
  throw malformedDelivery('slack', `invalid slack ${what}: ${describeProblems(details)}`, details);
}

// ---- the Events API ---------------------------------------------------------------------------------

async function onEvent(deps: ApiDeps, event: SlackEvent, agents: SlackAgents): Promise<void> {
  if (event.type === 'message' && event.channel_type === 'im') return directMessage(deps, event);
  if (event.type === 'reaction_added' && event.reaction === ESCALATE_REACTION && event.item?.type === 'message') {
    if (!mayActInSlack(agents, event.user)) {
      webhookLog.info({ user: event.user }, ':escalate: by a Slack user who is not a desk agent; ignored');
      return;
    }
    return escalateReactedTicket(deps, event);
  }
}

/**
 * A message to the bot in a direct message: a new private ticket, or, in the thread of one, the
 * requester's reply to it. The bot's own messages and edits (subtypes) are not requests.
 */
async function directMessage(deps: ApiDeps, event: SlackEvent): Promise<void> {
  if (event.bot_id || event.subtype || !event.user || !event.text || !event.channel || !event.ts) return;
  if (event.thread_ts && event.thread_ts !== event.ts) {
    const ticketId = ticketIdFor('slack', `${event.channel}:${event.thread_ts}`);
    // Stored first, keyed by the message's own ts: a redelivered event stores and signals the same message.
    // A direct message's ticket is private (directMessage files it so).
    const message = await storeRequesterMessage(deps, {
      ticketId,
      private: true,
      body: event.text,
      key: `slack:${event.channel}:${event.ts}`,
      source: 'slack',
    });
    await deps.client.workflow
      .getHandle(ticketWorkflowId(ticketId))
      .signal(requesterRepliedSignal, { message, source: 'slack' })
      .catch(async (err) => {
        // Only "no such ticket" is ignorable; anything else releases the delivery so Slack retries it.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        await discardMessage(deps.pool, message.id);
        webhookLog.info({ ticketId }, 'slack thread reply to no open ticket ignored');
      });
    return;
  }
  const { id, created } = await fileTicket(deps, {
    // A message is named by its channel and ts: a redelivered event meets the same ticket.
    externalId: `${event.channel}:${event.ts}`,
    channel: 'slack',
    tier: 1,
    priority: 'normal',
    subject: subjectOf(event.text),
    description: event.text,
    requester: { handle: event.user },
    // Whatever someone tells the desk in private stays private.
    private: true,
    origin: { system: 'slack', channel: event.channel, threadTs: event.ts, user: event.user },
  });
  webhookLog.info({ ticketId: id, created }, 'slack direct message filed as a private ticket');
}

/** The first line as the subject: one line (tabs become spaces), cut at whole characters. */
function subjectOf(text: string): string {
  return preview(text.replace(/[\t\r]/g, ' '), 120) || 'Slack message';
}

async function escalateReactedTicket(deps: ApiDeps, event: SlackEvent): Promise<void> {
  const { channel, ts } = event.item!;
  if (!channel || !ts) return;
  const ticketId = await ticketOfSlackMessage(deps.pool, channel, ts);
  if (!ticketId) {
    webhookLog.info({ channel, ts }, ':escalate: on a message that belongs to no ticket');
    return;
  }
  try {
    await actOnTicket(deps, ticketId, 'escalate', {
      by: slackActor(event.user),
      reason: 'the :escalate: reaction in Slack',
    });
  } catch (err) {
    // Not allowed now (resolved, already escalating) or gone: an answer, not a failure to retry.
    if (err instanceof HttpError && err.status < 500) {
      webhookLog.info({ ticketId, reason: err.message }, ':escalate: not applied');
      return;
    }
    throw err;
  }
}

/**
 * Which ticket a Slack message is about. Every message the desk posts goes through once(), which
 * keeps Slack's answer ({ channel, ts }) under an idempotency key that starts with the workflow id
 * (`ticket-<id>:...`): that record names the ticket exactly, whatever the text says. A message
 * that opened a ticket (a direct message) names it through its own channel and ts.
 */
export async function ticketOfSlackMessage(pool: Pool, channel: string, ts: string): Promise<string | null> {
  const { rows } = await pool.query<{ idempotency_key: string }>(
    `SELECT idempotency_key FROM external_effects
      WHERE result ->> 'ts' = $1 AND result ->> 'channel' = $2 AND idempotency_key LIKE 'ticket-%'
      ORDER BY created_at LIMIT 1`,
    [ts, channel],
  );
  const key = rows[0]?.idempotency_key;
  if (key) return key.slice('ticket-'.length).split(':')[0]!;
  const opened = await pool.query<{ id: string }>("SELECT id FROM tickets WHERE channel = 'slack' AND external_id = $1", [
    `${channel}:${ts}`,
  ]);
  return opened.rows[0]?.id ?? null;
}

// ---- slash commands and buttons ---------------------------------------------------------------------

const USAGE = 'Usage: `/support ack <ticket id>`, `/support resolve <ticket id> <resolution>`, `/support status <ticket id>`';

/**
 * `/support <verb> <id> ...`. Slack does not redeliver slash commands, and a repeated action is
 * refused by the ticket itself (already acknowledged, already resolved), so no dedup is needed.
 * The answer comes inside Slack's 3 s when the desk is quick; otherwise "working on it" now and
 * the result through the command's response_url. A command the desk cannot take is answered to the
 * person who typed it (Slack shows them only a generic failure for anything but a 200).
 */
async function slashCommand(
  deps: ApiDeps,
  res: Response,
  form: z.ZodSafeParseResult<z.output<ReturnType<typeof slashCommandSchema>>>,
  agents: SlackAgents,
): Promise<void> {
  if (!form.success) {
    res.json({ response_type: 'ephemeral', text: `The desk cannot take that command: ${describeProblems(fieldProblems(form.error))}` });
    return;
  }
  const command = form.data;
  const by = slackActor(command.user_id || command.user_name);
  const [verb = '', id = '', ...rest] = command.text.split(/\s+/);
  const acting = verb.toLowerCase() !== 'status';
  const work = acting && !mayActInSlack(agents, command.user_id) ? Promise.resolve(NOT_AN_AGENT) : runCommand(deps, by, verb.toLowerCase(), id, rest.join(' '));
  await answerInTime(res, work, command.response_url ?? null);
}

async function runCommand(deps: ApiDeps, by: string, verb: string, id: string, rest: string): Promise<string> {
  if (!id) return USAGE;
  if (verb === 'ack' || verb === 'acknowledge') {
    return outcome(id, 'acknowledged', () => actOnTicket(deps, id, 'acknowledge', { by }));
  }
  if (verb === 'resolve') {
    if (!rest) return `Say how it was resolved: \`/support resolve ${id} <resolution>\``;
    return outcome(id, 'resolved', () => actOnTicket(deps, id, 'resolve', { by, resolution: rest }));
  }
  if (verb === 'status') {
    return outcome(id, 'status', () => deps.client.workflow.getHandle(ticketWorkflowId(id)).query(ticketStateQuery));
  }
  return USAGE;
}

/** Interactivity: buttons whose value is the ticket id. Acknowledged at once; results via response_url. */
async function interactivity(
  deps: ApiDeps,
  res: Response,
  payload: z.output<ReturnType<typeof interactivitySchema>>,
  agents: SlackAgents,
): Promise<void> {
  if (payload.type !== 'block_actions') {
    res.status(200).end();
    return;
  }
  const by = slackActor(payload.user?.id || payload.user?.username || payload.user?.name);
  const allowed = mayActInSlack(agents, payload.user?.id);
  const work = Promise.all(
    payload.actions.map((action) => {
      if (!allowed && (action.action_id === 'ticket_ack' || action.action_id === 'ticket_resolve')) return Promise.resolve(NOT_AN_AGENT);
      const id = action.value ?? '';
      if (action.action_id === 'ticket_ack') {
        return outcome(id, 'acknowledged', () => actOnTicket(deps, id, 'acknowledge', { by }));
      }
      if (action.action_id === 'ticket_resolve') {
        return outcome(id, 'resolved', () =>
          actOnTicket(deps, id, 'resolve', { by, resolution: `Resolved in Slack by ${by}.` }),
        );
      }
      return Promise.resolve(null);
    }),
  ).then((texts) => texts.filter((t): t is string => t !== null).join('\n'));
  res.status(200).end();
  const text = await work;
  if (text && payload.response_url) await postToResponseUrl(payload.response_url, text);
}

/** What the person who acted reads: the new state, or what stopped the action. */
async function outcome(id: string, done: string, act: () => Promise<Pick<TicketView, 'status' | 'tier' | 'assignee'>>): Promise<string> {
  const notAnId = idProblem(id);
  if (notAnId) return `Ticket id "${id}" ${notAnId}.`;
  try {
    const ticket = await act();
    const what = done === 'status' ? `is ${ticket.status}` : `${done} (now ${ticket.status})`;
    return `Ticket ${id} ${what}, tier ${ticket.tier}, assignee ${ticket.assignee ?? 'nobody'}.`;
  } catch (err) {
    if (err instanceof HttpError) return `Ticket ${id}: ${err.message}`;
    if (err instanceof WorkflowNotFoundError) return `Ticket ${id}: no such ticket.`;
    webhookLog.error({ err, ticketId: id }, 'slack command failed');
    return `Ticket ${id}: the desk could not do that just now; try again.`;
  }
}

async function answerInTime(res: Response, work: Promise<string>, responseUrl: string | null): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ANSWER_BUDGET_MS.slack);
  });
  const text = await Promise.race([work, late]);
  clearTimeout(timer);
  if (text !== null) {
    res.json({ response_type: 'ephemeral', text });
    return;
  }
  res.json({ response_type: 'ephemeral', text: 'Working on it…' });
  if (responseUrl) await postToResponseUrl(responseUrl, await work);
}

/** Slack's response_url takes a message for the person who acted (ephemeral) for 30 minutes. */
async function postToResponseUrl(url: string, text: string): Promise<void> {
  try {
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!answer.ok) webhookLog.warn({ status: answer.status }, 'slack response_url refused the answer');
  } catch (err) {
    webhookLog.warn({ err: String(err) }, 'could not post to the slack response_url');
  }
}
