// POST /webhooks/zendesk: Zendesk's ticket event webhooks (zen:event-type:ticket.*). A new helpdesk
// ticket files a desk ticket; the requester's comment on it is their reply (requesterReplied).
import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { PRIORITIES, requesterRepliedSignal, type Priority, type RequesterRepliedInput } from '../../domain/ticket';
import { discardMessage } from '../../db/messages';
import type { ApiDeps } from '../app';
import { signedBy } from './deliveries';
import { HttpError } from '../errors';
import { optionalText, text } from '../input';
import { fileTicket, storeRequesterMessage, ticketFrom, ticketStartOptions, type NewTicket } from '../ticket';
import type { ticketWorkflow } from '../../workflows/ticket';
import { parseJson, rawBody, receiveDelivery, requireSecret, webhookLog } from './deliveries';
import { verifyZendeskSignature } from './signatures';

/**
 * A Zendesk ticket event (zen:event-type:ticket.*): every field the desk reads, typed and under the
 * text rules. `detail` is the ticket as it is now; Zendesk sends its ids as strings, older ones as numbers.
 */
export function zendeskEventSchema() {
  const zendeskId = () => z.union([text('id'), z.number().int().nonnegative()]);
  return z.object({
    id: optionalText('id'),
    type: optionalText('name'),
    detail: z.object({
      id: zendeskId(),
      subject: text('subject', { allowEmpty: true }).nullish(),
      description: text('message', { allowEmpty: true }).nullish(),
      priority: text('name', { allowEmpty: true }).nullish(),
      requester_id: zendeskId().nullish(),
    }),
    event: z
      .object({
        comment: z
          .object({
            id: zendeskId().optional(),
            body: text('message', { allowEmpty: true }).optional(),
            author: z.object({ id: zendeskId().optional(), is_staff: z.boolean().optional() }).optional(),
          })
          .optional(),
      })
      .optional(),
  });
}

type ZendeskTicketEvent = z.output<ReturnType<typeof zendeskEventSchema>>;
type ZendeskTicketDetail = ZendeskTicketEvent['detail'];

export function zendeskWebhook(deps: ApiDeps, secret: string | undefined): Router {
  const router = Router();
  const events = zendeskEventSchema();

  router.post('/', async (req, res) => {
    const verdict = verifyZendeskSignature({
      body: rawBody(req),
      timestamp: req.get('x-zendesk-webhook-signature-timestamp'),
      signature: req.get('x-zendesk-webhook-signature'),
      secret: requireSecret(secret, 'ZENDESK_WEBHOOK_SECRET'),
      now: Date.now(),
    });
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    signedBy(req, res, 'zendesk');
    const payload = parseJson(rawBody(req), 'zendesk');
    if (payload.detail === undefined || payload.detail === null) {
      res.status(200).json({ ok: true, ignored: `not a ticket event (${String(payload.type ?? 'no type')})` });
      return;
    }
    // The invocation id is the same on each retry of one delivery; the event's id is the fallback.
    const header = req.get('x-zendesk-webhook-invocation-id');
    await receiveDelivery(
      deps,
      res,
      {
        source: 'zendesk',
        deliveryId: header ?? payload.id,
        idFrom: header ? 'X-Zendesk-Webhook-Invocation-Id' : 'id',
        payload: events.safeParse(payload),
      },
      (event) => onTicketEvent(deps, event),
    );
  });

  return router;
}

async function onTicketEvent(deps: ApiDeps, payload: ZendeskTicketEvent): Promise<void> {
  const detail = payload.detail;
  if (payload.type === 'zen:event-type:ticket.created') {
    const { id, created } = await fileTicket(deps, helpdeskTicket(detail));
    webhookLog.info({ ticketId: id, created, zendeskTicket: String(detail.id) }, 'zendesk ticket filed');
    return;
  }
  if (payload.type === 'zen:event-type:ticket.comment_added') {
    const comment = payload.event?.comment;
    if (!comment?.body || !fromRequester(detail, comment.author)) return;
    // Zendesk's comment id names the message; without one, the event's own id (the same on a redelivery).
    await requesterCommented(deps, detail, comment.body, String(comment.id ?? payload.id ?? `${detail.id}:${comment.body.length}`));
  }
  // Other ticket events (status, tags, ...) are changes the desk itself made or does not track.
}

/** A comment is the requester's reply when the requester wrote it (not an agent). */
function fromRequester(detail: ZendeskTicketDetail, author?: { id?: string | number; is_staff?: boolean }): boolean {
  if (!author || author.is_staff) return false;
  return detail.requester_id == null || String(author.id) === String(detail.requester_id);
}

/**
 * The requester's reply, as a signal-with-start: if the ticket's creation event has not arrived yet
 * (webhooks are not ordered), the reply files the ticket and is its first message.
 */
async function requesterCommented(deps: ApiDeps, detail: ZendeskTicketDetail, body: string, commentId: string): Promise<void> {
  const ticket = ticketFrom(helpdeskTicket(detail));
  // Stored first, keyed by Zendesk's comment id: a redelivered event stores and signals the same message.
  const message = await storeRequesterMessage(deps, {
    ticketId: ticket.id,
    private: ticket.private,
    body,
    key: `zendesk-comment:${commentId}`,
    source: 'zendesk',
  });
  try {
    await deps.client.workflow.signalWithStart<typeof ticketWorkflow, [RequesterRepliedInput]>('ticketWorkflow', {
      ...ticketStartOptions(deps, ticket),
      signal: requesterRepliedSignal,
      signalArgs: [{ message, source: 'zendesk' }],
    });
  } catch (err) {
    // The ticket was closed: its workflow id is not reused, and a comment after closure reopens nothing.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      await discardMessage(deps.pool, message.id);
      webhookLog.info({ ticketId: ticket.id }, 'zendesk comment on a closed ticket ignored');
      return;
    }
    throw err;
  }
}

function helpdeskTicket(detail: ZendeskTicketDetail): NewTicket {
  const zendeskId = String(detail.id);
  return {
    externalId: zendeskId,
    channel: 'helpdesk',
    tier: 1,
    priority: priorityOf(detail.priority),
    subject: detail.subject?.trim() || `Zendesk ticket ${zendeskId}`,
    description: detail.description ?? '',
    requester: detail.requester_id != null ? { handle: `zendesk:${detail.requester_id}` } : {},
    private: false,
    origin: { system: 'zendesk', ticketId: zendeskId },
  };
}

/** Zendesk sends LOW, NORMAL, HIGH, URGENT (or nothing). */
function priorityOf(value: string | null | undefined): Priority {
  const lower = (value ?? '').toLowerCase();
  return (PRIORITIES as readonly string[]).includes(lower) ? (lower as Priority) : 'normal';
}
