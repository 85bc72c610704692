// POST /webhooks/zendesk: Zendesk's ticket event webhooks (zen:event-type:ticket.*). A new helpdesk
// ticket files a desk ticket; the requester's comment on it is their reply (requesterReplied).
import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { PRIORITIES, requesterRepliedSignal, type Priority } from '../../domain/ticket';
import type { ApiDeps } from '../app';
import { HttpError } from '../errors';
import { fileTicket, ticketFrom, ticketStartOptions, type NewTicket } from '../ticket';
import type { ticketWorkflow } from '../../workflows/ticket';
import { parseJson, rawBody, receiveDelivery, requireSecret, webhookLog } from './deliveries';
import { verifyZendeskSignature } from './signatures';

/** The `detail` of a Zendesk ticket event: the ticket as it is now (ids are strings). */
interface ZendeskTicketDetail {
  id: string | number;
  subject?: string | null;
  description?: string | null;
  priority?: string | null;
  requester_id?: string | number | null;
}

interface ZendeskTicketEvent {
  id?: string;
  type?: string;
  detail?: ZendeskTicketDetail;
  event?: { comment?: { id?: string | number; body?: string; author?: { id?: string | number; is_staff?: boolean } } };
}

export function zendeskWebhook(deps: ApiDeps, secret: string | undefined): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const verdict = verifyZendeskSignature({
      body: rawBody(req),
      timestamp: req.get('x-zendesk-webhook-signature-timestamp'),
      signature: req.get('x-zendesk-webhook-signature'),
      secret: requireSecret(secret, 'ZENDESK_WEBHOOK_SECRET'),
      now: Date.now(),
    });
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    const payload = parseJson(rawBody(req)) as ZendeskTicketEvent;
    if (!payload.detail || payload.detail.id === undefined) {
      res.status(200).json({ ok: true, ignored: `not a ticket event (${payload.type ?? 'no type'})` });
      return;
    }
    // The invocation id is the same on each retry of one delivery; the event's id is the fallback.
    const deliveryId = req.get('x-zendesk-webhook-invocation-id') ?? payload.id;
    await receiveDelivery(deps, res, 'zendesk', deliveryId, () => onTicketEvent(deps, payload));
  });

  return router;
}

async function onTicketEvent(deps: ApiDeps, payload: ZendeskTicketEvent): Promise<void> {
  const detail = payload.detail!;
  if (payload.type === 'zen:event-type:ticket.created') {
    const { id, created } = await fileTicket(deps, helpdeskTicket(detail));
    webhookLog.info({ ticketId: id, created, zendeskTicket: String(detail.id) }, 'zendesk ticket filed');
    return;
  }
  if (payload.type === 'zen:event-type:ticket.comment_added') {
    const comment = payload.event?.comment;
    if (!comment?.body || !fromRequester(detail, comment.author)) return;
    await requesterCommented(deps, detail, comment.body);
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
async function requesterCommented(deps: ApiDeps, detail: ZendeskTicketDetail, message: string): Promise<void> {
  const ticket = ticketFrom(helpdeskTicket(detail));
  try {
    await deps.client.workflow.signalWithStart<typeof ticketWorkflow, [{ message: string; source: string }]>(
      'ticketWorkflow',
      {
        ...ticketStartOptions(deps, ticket),
        signal: requesterRepliedSignal,
        signalArgs: [{ message, source: 'zendesk' }],
      },
    );
  } catch (err) {
    // The ticket was closed: its workflow id is not reused, and a comment after closure reopens nothing.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
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
