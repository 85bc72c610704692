// Activities of the incident workflow (the chat post and the tracker issue serve security reports too):
// each does one external thing (a page, a chat post, a helpdesk comment, a tracker issue) exactly once
// per idempotency key, or keeps the incident's projection current.
import { ApplicationFailure } from '@temporalio/common';
import { toDate } from '../db/pool';
import type { IncidentProjection } from '../domain/incident';
import { once } from './effects';
import { newerThan, writeProjection } from './projection';
import type { ActivityDeps } from './index';

/** Every effect carries the key the workflow built from its id and the step. */
interface Keyed {
  idempotencyKey: string;
}

function requireKey(k: Keyed): void {
  if (!k.idempotencyKey) {
    throw ApplicationFailure.nonRetryable('an external effect needs an idempotency key', 'InvalidInput');
  }
}

export function createIncidentActivities(deps: ActivityDeps) {
  const { pool } = deps;
  const { pager, chat, helpdesk, tracker } = deps.integrations;
  return {
    /** Pages a level of the paging chain; the dedup key is the incident's workflow id. */
    async pageOnCall(p: Keyed & {
      dedupKey: string;
      target: string;
      summary: string;
      severity: 'critical' | 'error' | 'warning' | 'info';
      details?: Record<string, unknown>;
    }): Promise<void> {
      requireKey(p);
      await once(pool, p.idempotencyKey, 'pager', () =>
        pager.trigger({ dedupKey: p.dedupKey, summary: p.summary, severity: p.severity, source: 'support-desk', target: p.target, details: p.details }),
      );
    },

    /** Acknowledges the alert of every target paged (each level may be its own PagerDuty service). */
    async acknowledgePage(p: Keyed & { dedupKey: string; targets?: string[] }): Promise<void> {
      requireKey(p);
      // `targets` is absent from an activity scheduled before it existed: the default routing key then.
      await once(pool, p.idempotencyKey, 'pager', () => pager.acknowledge({ dedupKey: p.dedupKey, targets: p.targets ?? [] }));
    },

    /** Resolves the alert of every target paged. */
    async resolvePage(p: Keyed & { dedupKey: string; targets?: string[] }): Promise<void> {
      requireKey(p);
      await once(pool, p.idempotencyKey, 'pager', () => pager.resolve({ dedupKey: p.dedupKey, targets: p.targets ?? [] }));
    },

    /** A public comment on the customer's helpdesk ticket. */
    async commentOnCustomerTicket(c: Keyed & { ticketId: string; body: string }): Promise<{ commentId: string }> {
      requireKey(c);
      return once(pool, c.idempotencyKey, 'helpdesk', () =>
        helpdesk.addComment({ ticketId: c.ticketId, body: c.body, public: true }),
      );
    },

    /** A tracker issue: the shared incident document, a follow-up task, a published disclosure. */
    async openTrackerIssue(i: Keyed & {
      project: string;
      title: string;
      description: string;
      labels: string[];
      confidential: boolean;
    }): Promise<{ iid: number; webUrl: string }> {
      requireKey(i);
      return once(pool, i.idempotencyKey, 'tracker', () =>
        tracker.createIssue({ project: i.project, title: i.title, description: i.description, labels: i.labels, confidential: i.confidential }),
      );
    },

    /** A chat message: to a channel (`#name`, optionally in a thread) or, for a person, a direct message. */
    async postOnChat(m: Keyed & { to: string; text: string; threadTs?: string }): Promise<{ channel: string; ts: string }> {
      requireKey(m);
      return once(pool, m.idempotencyKey, 'chat', () =>
        m.to.startsWith('#')
          ? chat.postMessage({ channel: m.to, text: m.text, threadTs: m.threadTs })
          : chat.directMessage({ user: m.to, text: m.text }),
      );
    },

    /**
     * Upserts the incident's row (an older version never overwrites a newer one) and its new timeline
     * entries. A private emergency's row has its neutral title already; its entries (reasons, the
     * resolution, responders) are sealed.
     */
    async recordIncident(p: IncidentProjection): Promise<void> {
      const personal = p.private === true;
      await writeProjection(pool, {
        workflowId: p.workflowId,
        chainId: p.chainId,
        events: p.events,
        personal,
        keys: deps.encryptionKeys,
        report: {
          kind: 'incident',
          itemId: p.id,
          priority: p.severity,
          assignee: p.acknowledgedBy,
          doneBeforeClosed: p.resolvedAt !== null,
        },
        sql: `INSERT INTO incidents (id, workflow_id, external_id, title, severity, status, level, crisis,
           customer_ticket_id, desk_ticket_id, created_at, acknowledged_at, acknowledged_by, resolved_at,
           document_url, follow_up_url, follow_up_closed_at, version, chain_id, private, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20, now())
         ON CONFLICT (id) DO UPDATE SET
           status = EXCLUDED.status, level = EXCLUDED.level, crisis = EXCLUDED.crisis,
           acknowledged_at = EXCLUDED.acknowledged_at, acknowledged_by = EXCLUDED.acknowledged_by,
           resolved_at = EXCLUDED.resolved_at, document_url = EXCLUDED.document_url,
           follow_up_url = EXCLUDED.follow_up_url, follow_up_closed_at = EXCLUDED.follow_up_closed_at,
           version = EXCLUDED.version, chain_id = EXCLUDED.chain_id, created_at = EXCLUDED.created_at,
           title = EXCLUDED.title, external_id = EXCLUDED.external_id, private = EXCLUDED.private, updated_at = now()
         WHERE ${newerThan('incidents')}`,
        params: [
          p.id, p.workflowId, p.externalId, p.title, p.severity, p.status, p.level, p.crisis,
          p.customerTicketId, p.deskTicketId, toDate(p.createdAt), toDate(p.acknowledgedAt), p.acknowledgedBy,
          toDate(p.resolvedAt), p.documentUrl, p.followUpUrl, toDate(p.followUpClosedAt), p.version, p.chainId ?? null,
          personal,
        ],
      });
    },
  };
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
