// The helpdesk through Zendesk's Ticketing API v2 over plain HTTP (no official Node client worth a
// dependency): public or internal comments, status, assignee and tags on /api/v2/tickets/{id}.json.
import type { Pool } from 'pg';
import type { HelpdeskDriver } from '../integrations';
import { apiUrl, callApi, type ApiSystem } from './http';
import { pacer as pacerFor, type Pacer, ZENDESK_UPDATES_PER_TICKET } from './pacing';

const ZENDESK: ApiSystem = { name: 'Zendesk', credentials: 'ZENDESK_EMAIL and ZENDESK_API_TOKEN' };

export interface ZendeskOptions {
  /** e.g. https://acme.zendesk.com */
  url: string;
  email: string;
  apiToken: string;
  timeoutMs?: number;
  /** Shares the per-ticket pace with every worker (PostgreSQL); in this process only when absent. */
  pool?: Pool;
}

interface TicketAnswer {
  ticket: { id: number };
  audit?: { id: number; events?: Array<{ id: number; type: string }> };
}

export function zendeskHelpdesk({ url, email, apiToken, timeoutMs, pool }: ZendeskOptions): HelpdeskDriver {
  // API-token authentication: Basic "{email}/token:{api_token}".
  const authorization = `Basic ${Buffer.from(`${email}/token:${apiToken}`).toString('base64')}`;
  const pacer: Pacer = pacerFor('Zendesk', ZENDESK_UPDATES_PER_TICKET, pool);

  async function updateTicket(ticketId: string, ticket: Record<string, unknown>, what: string) {
    await pacer.waitTurn(ticketId);
    return callApi<TicketAnswer>(ZENDESK, {
      method: 'PUT',
      url: apiUrl(url, `/api/v2/tickets/${encodeURIComponent(ticketId)}.json`),
      headers: { authorization },
      body: { ticket },
      what,
      timeoutMs,
    });
  }

  return {
    driver: 'zendesk',
    async addComment({ ticketId, body, public: isPublic }) {
      const answer = await updateTicket(
        ticketId,
        { comment: { body, public: isPublic } },
        `${isPublic ? 'a public' : 'an internal'} comment on ticket ${ticketId}`,
      );
      // The comment's id is the Comment event's id in the audit Zendesk returns.
      const comment = answer?.audit?.events?.find((e) => e.type === 'Comment');
      return { commentId: String(comment?.id ?? answer?.audit?.id ?? '') };
    },
    async updateTicket({ ticketId, status, assignee, tags }) {
      const ticket: Record<string, unknown> = {};
      if (status !== undefined) ticket.status = status;
      // Zendesk takes an agent's numeric id or their email address.
      if (assignee !== undefined) ticket[/^\d+$/.test(assignee) ? 'assignee_id' : 'assignee_email'] = assignee;
      if (tags !== undefined) ticket.tags = tags;
      await updateTicket(ticketId, ticket, `an update of ticket ${ticketId}`);
    },
  };
}
