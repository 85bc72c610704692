// Activities of the ticket workflow: send a notification once, keep the PostgreSQL projection current.
// A private ticket's words are sealed before they reach PostgreSQL (db/sealed.ts); a public ticket's
// stay plain: they are not marked personal, and lists and reports read them as they are.
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { EncryptionKeys } from '../config/encryption';
import type { Notification, Satisfaction, SatisfactionFeedback, TicketProjection } from '../domain/ticket';
import { messageBody } from '../db/messages';
import { sealIf } from '../db/sealed';
import { toDate } from '../db/pool';
import { once } from './effects';
import { escalationLag } from './metrics';
import { newerThan, writeProjection } from './projection';
import type { Integrations } from './integrations';
import type { Notifier } from './notifier';

export interface TicketActivityDeps {
  pool: Pool;
  notifier: Notifier;
  integrations: Integrations;
  encryptionKeys: EncryptionKeys;
}

export function createTicketActivities({ pool, notifier, integrations, encryptionKeys: keys }: TicketActivityDeps) {
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
     * Sends a notification once per idempotency key. The row is only a shortcut for a notification
     * already sent: two attempts can both miss it (one timed out while still sending), so what keeps
     * them from posting twice is that each post runs under once() per recipient, claimed before it is
     * sent (IntegrationNotifier; a Notifier reaching an outside system must do the same). The row is
     * written after delivery, once, whichever attempt gets there.
     */
    async notify(n: Notification): Promise<void> {
      if (n.kind === 'escalation' && n.dueAt !== undefined && Context.current().info.attempt === 1) {
        escalationLag.observe(Math.max(0, Date.now() - n.dueAt) / 1000);
      }
      const { rowCount } = await pool.query('SELECT 1 FROM notifications WHERE idempotency_key = $1', [
        n.idempotencyKey,
      ]);
      if (rowCount) return;
      // A message of the conversation travels by id: its body is read here, not carried in the workflow.
      const body = n.messageId ? ((await messageBody(pool, n.messageId, keys)) ?? n.text) : n.text;
      const notification = { ...n, text: body };
      await notifier.deliver(notification);
      await pool.query(
        `INSERT INTO notifications (idempotency_key, ticket_id, kind, audience, recipients, body, private, driver)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [n.idempotencyKey, n.ticketId, n.kind, n.audience, n.recipients, sealIf(n.private, body, keys), n.private, notifier.driver],
      );
    },

    /**
     * Upserts the ticket's row (an older version never overwrites a newer one) and appends its new
     * timeline entries to item_events, in one transaction.
     */
    async recordTicket(p: TicketProjection): Promise<void> {
      await writeProjection(pool, {
        workflowId: p.workflowId,
        chainId: p.chainId,
        events: p.events,
        personal: p.private,
        keys,
        report: {
          kind: 'ticket',
          itemId: p.id,
          channel: p.channel,
          tier: p.tier,
          priority: p.priority,
          region: p.region ?? null,
          assignee: p.assignee,
          doneBeforeClosed: p.resolvedAt !== null,
          satisfaction: p.satisfaction,
        },
        sql: `INSERT INTO tickets (id, workflow_id, external_id, channel, tier, priority, status, assignee, private,
           subject, created_at, acknowledged_at, resolved_at, closed_at, acknowledge_due_at, resolution_due_at,
           breached, escalations, satisfaction, version, chain_id, region, first_reply_ms, first_reply_business_ms,
           resolution_ms, resolution_business_ms, paused_ms, acknowledge_sla, resolution_sla, resolution_target, reopens, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31, now())
         ON CONFLICT (id) DO UPDATE SET
           tier = EXCLUDED.tier, priority = EXCLUDED.priority, status = EXCLUDED.status,
           assignee = EXCLUDED.assignee, acknowledged_at = EXCLUDED.acknowledged_at,
           resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at,
           acknowledge_due_at = EXCLUDED.acknowledge_due_at, resolution_due_at = EXCLUDED.resolution_due_at,
           breached = EXCLUDED.breached, escalations = EXCLUDED.escalations,
           satisfaction = EXCLUDED.satisfaction, version = EXCLUDED.version,
           chain_id = EXCLUDED.chain_id, created_at = EXCLUDED.created_at, subject = EXCLUDED.subject,
           channel = EXCLUDED.channel, external_id = EXCLUDED.external_id, private = EXCLUDED.private,
           region = EXCLUDED.region, first_reply_ms = EXCLUDED.first_reply_ms,
           first_reply_business_ms = EXCLUDED.first_reply_business_ms, resolution_ms = EXCLUDED.resolution_ms,
           resolution_business_ms = EXCLUDED.resolution_business_ms, paused_ms = EXCLUDED.paused_ms,
           acknowledge_sla = EXCLUDED.acknowledge_sla, resolution_sla = EXCLUDED.resolution_sla,
           resolution_target = EXCLUDED.resolution_target, reopens = EXCLUDED.reopens,
           updated_at = now()
         WHERE ${newerThan('tickets')}`,
        params: [
          p.id,
          p.workflowId,
          p.externalId,
          p.channel,
          p.tier,
          p.priority,
          p.status,
          p.assignee,
          p.private,
          sealIf(p.private, p.subject, keys),
          toDate(p.createdAt),
          toDate(p.acknowledgedAt),
          toDate(p.resolvedAt),
          toDate(p.closedAt),
          toDate(p.acknowledgeDueAt),
          toDate(p.resolutionDueAt),
          p.breached,
          p.escalations,
          // The score stays plain for reports; the requester's comment is their words.
          p.satisfaction === null ? null : JSON.stringify(sealedComment(p.satisfaction, p.private, keys)),
          p.version,
          p.chainId ?? null,
          p.region ?? null,
          ...measureParams(p),
        ],
      });
    },
  };
}

function measureParams(p: TicketProjection): unknown[] {
  const m = p.measures;
  if (!m) {
    // A run from before the reports: what its row says, as the backfill reads rows from before
    // (db/desk-events.ts): calendar times, each target judged by its due time.
    const since = (at: number | null) => (at === null ? null : at - p.createdAt);
    const standing = (done: number | null, due: number | null) =>
      done !== null ? (due === null || done <= due ? 'met' : 'breached') : due !== null && due < Date.now() ? 'breached' : 'in-progress';
    return [
      since(p.acknowledgedAt), null, since(p.resolvedAt), null, 0, standing(p.acknowledgedAt, p.acknowledgeDueAt),
      standing(p.resolvedAt, p.resolutionDueAt), p.tier === 3 ? 'hand-off' : 'resolution', 0,
    ];
  }
  return [
    m.firstReplyMs, m.firstReplyBusinessMs, m.resolutionMs, m.resolutionBusinessMs, m.pausedMs,
    m.acknowledgeSla, m.resolutionSla, m.resolutionTarget, m.reopens,
  ];
}

function sealedComment(s: Satisfaction, personal: boolean, keys: EncryptionKeys): Satisfaction {
  return s.comment === undefined ? s : { ...s, comment: sealIf(personal, s.comment, keys) };
}

export type TicketActivities = ReturnType<typeof createTicketActivities>;
