// Activities of the security-report workflow: its projection. Its chat posts and the published
// disclosure go through the incident activities' postOnChat and openTrackerIssue, the same effects.
import type { Pool } from 'pg';
import type { EncryptionKeys } from '../config/encryption';
import { toDate } from '../db/pool';
import { seal } from '../db/sealed';
import type { SecurityReportProjection } from '../domain/security-report';
import { newerThan, writeProjection } from './projection';

export function createSecurityReportActivities({ pool, encryptionKeys: keys }: { pool: Pool; encryptionKeys: EncryptionKeys }) {
  return {
    /**
     * Upserts the report's row (an older version never overwrites a newer one) and its new timeline
     * entries. Every report is personal: an undisclosed vulnerability, who reported it and the fix are
     * sealed; its severity, status and clocks stay plain for the lists.
     */
    async recordSecurityReport(p: SecurityReportProjection): Promise<void> {
      await writeProjection(pool, {
        workflowId: p.workflowId,
        chainId: p.chainId,
        events: p.events,
        personal: true,
        keys,
        report: { kind: 'security-report', itemId: p.id, priority: p.severity, doneBeforeClosed: p.publishedAt !== null },
        sql: `INSERT INTO security_reports (id, workflow_id, external_id, title, severity, reporter, status, created_at,
           respond_due_at, responded_at, breached, disclosure_requested_at, disclosure_due_at, scrubbed, fix_link,
           published_at, version, chain_id, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18, now())
         ON CONFLICT (id) DO UPDATE SET
           status = EXCLUDED.status, respond_due_at = EXCLUDED.respond_due_at, responded_at = EXCLUDED.responded_at,
           breached = EXCLUDED.breached, disclosure_requested_at = EXCLUDED.disclosure_requested_at,
           disclosure_due_at = EXCLUDED.disclosure_due_at, scrubbed = EXCLUDED.scrubbed, fix_link = EXCLUDED.fix_link,
           published_at = EXCLUDED.published_at, version = EXCLUDED.version, chain_id = EXCLUDED.chain_id,
           created_at = EXCLUDED.created_at, title = EXCLUDED.title, reporter = EXCLUDED.reporter, updated_at = now()
         WHERE ${newerThan('security_reports')}`,
        params: [
          p.id, p.workflowId, p.externalId, seal(p.title, keys), p.severity, seal(p.reporter, keys), p.status, toDate(p.createdAt),
          toDate(p.respondDueAt), toDate(p.respondedAt), p.breached, toDate(p.disclosureRequestedAt),
          toDate(p.disclosureDueAt), p.scrubbed, p.fixLink === null ? null : seal(p.fixLink, keys), toDate(p.publishedAt),
          p.version, p.chainId ?? null,
        ],
      });
    },
  };
}

export type SecurityReportActivities = ReturnType<typeof createSecurityReportActivities>;
