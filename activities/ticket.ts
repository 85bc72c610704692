// Activities of the ticket workflow: send a notification once, keep the PostgreSQL projection current.
import type { Pool } from 'pg';
import type { Notification, SatisfactionFeedback, TicketProjection } from '../domain/ticket';
import { toDate } from '../db/pool';
import { once } from './effects';
import type { Integrations } from './integrations';
import type { Notifier } from './notifier';

export interface TicketActivityDeps {
  pool: Pool;
  notifier: Notifier;
  integrations: Integrations;
}

export function createTicketActivities({ pool, notifier, integrations }: TicketActivityDeps) {
  return {
    /**
     * Files the requester's two answers as an issue in the feedback project, once. A private
     * ticket's issue is confidential and its comment stays out of it.
     */
    async fileSatisfactionFeedback(f: SatisfactionFeedback): Promise<{ iid: number; webUrl: string }> {
      const { resolved, score, comment } = f.satisfaction;
      const lines = [
        `Ticket ${f.ticketId} (${f.channel}, tier ${f.tier}).`,
        `Did we resolve the request? ${resolved ? 'yes' : 'no'}`,
        `How satisfied (1-5)? ${score}`,
        ...(comment && !f.private ? [`Comment: ${comment}`] : []),
      ];
      return once(pool, f.idempotencyKey, 'tracker', () =>
        integrations.tracker.createIssue({
          project: f.project,
          title: `Satisfaction ${score}/5 on ticket ${f.ticketId}`,
          description: lines.join('\n\n'),
          labels: ['satisfaction', `satisfaction::${score}`, resolved ? 'resolved::yes' : 'resolved::no'],
          confidential: f.private,
        }),
      );
    },

    /**
     * Sends a notification at most once per idempotency key: a retried activity or a replayed
     * workflow finds the row and stops.
     */
    async notify(n: Notification): Promise<void> {
      const { rowCount } = await pool.query('SELECT 1 FROM notifications WHERE idempotency_key = $1', [
        n.idempotencyKey,
      ]);
      if (rowCount) return;
      await notifier.deliver(n);
      await pool.query(
        `INSERT INTO notifications (idempotency_key, ticket_id, kind, audience, recipients, body, private, driver)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [n.idempotencyKey, n.ticketId, n.kind, n.audience, n.recipients, n.text, n.private, notifier.driver],
      );
    },

    /** Upserts the ticket's row; an older version never overwrites a newer one. */
    async recordTicket(p: TicketProjection): Promise<void> {
      await pool.query(
        `INSERT INTO tickets (id, workflow_id, external_id, channel, tier, priority, status, assignee, private,
           subject, created_at, acknowledged_at, resolved_at, closed_at, acknowledge_due_at, resolution_due_at,
           breached, escalations, satisfaction, version, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20, now())
         ON CONFLICT (id) DO UPDATE SET
           tier = EXCLUDED.tier, priority = EXCLUDED.priority, status = EXCLUDED.status,
           assignee = EXCLUDED.assignee, acknowledged_at = EXCLUDED.acknowledged_at,
           resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at,
           acknowledge_due_at = EXCLUDED.acknowledge_due_at, resolution_due_at = EXCLUDED.resolution_due_at,
           breached = EXCLUDED.breached, escalations = EXCLUDED.escalations,
           satisfaction = EXCLUDED.satisfaction, version = EXCLUDED.version, updated_at = now()
         WHERE tickets.version < EXCLUDED.version`,
        [
          p.id,
          p.workflowId,
          p.externalId,
          p.channel,
          p.tier,
          p.priority,
          p.status,
          p.assignee,
          p.private,
          p.subject,
          toDate(p.createdAt),
          toDate(p.acknowledgedAt),
          toDate(p.resolvedAt),
          toDate(p.closedAt),
          toDate(p.acknowledgeDueAt),
          toDate(p.resolutionDueAt),
          p.breached,
          p.escalations,
          p.satisfaction === null ? null : JSON.stringify(p.satisfaction),
          p.version,
        ],
      );
    },
  };
}

export type TicketActivities = ReturnType<typeof createTicketActivities>;
