// Activities of the feature-request and bug-report workflows: each mirrors one change on the tracker
// (GitLab) exactly once per idempotency key, or keeps the `work_items` projection current.
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { EncryptionKeys } from '../config/encryption';
import { toDate } from '../db/pool';
import type { WorkItemProjection } from '../domain/work-item';
import { once } from './effects';
import { newerThan, writeProjection } from './projection';
import type { Integrations } from './integrations';

export interface WorkItemActivityDeps {
  pool: Pool;
  integrations: Integrations;
  encryptionKeys: EncryptionKeys;
}

interface OnIssue {
  /** Built in the workflow from its id and the step, so a retry or a replay finds the first result. */
  idempotencyKey: string;
  project: string;
  iid: number;
}

function requireIssue({ project, iid }: { project: string; iid: number }): void {
  if (!project || !Number.isInteger(iid) || iid <= 0) {
    throw ApplicationFailure.nonRetryable(`no tracker issue to act on (project "${project}", iid ${iid})`, 'InvalidInput');
  }
}

export function createWorkItemActivities({ pool, integrations, encryptionKeys }: WorkItemActivityDeps) {
  const tracker = () => integrations.tracker;
  return {
    async createTrackerIssue(i: {
      idempotencyKey: string;
      project: string;
      title: string;
      description: string;
      labels: string[];
    }): Promise<{ iid: number; webUrl: string }> {
      return once(pool, i.idempotencyKey, 'gitlab', () =>
        tracker().createIssue({ project: i.project, title: i.title, description: i.description, labels: i.labels }),
      );
    },

    /** Swaps labels; the stored result says which, so the effect log reads like the issue's history. */
    async setTrackerLabels(l: OnIssue & { add: string[]; remove: string[] }): Promise<{ add: string[]; remove: string[] }> {
      requireIssue(l);
      return once(pool, l.idempotencyKey, 'gitlab', async () => {
        await tracker().setLabels({ project: l.project, iid: l.iid, add: l.add, remove: l.remove });
        return { add: l.add, remove: l.remove };
      });
    },

    async setTrackerMilestone(m: OnIssue & { milestone: string | null }): Promise<{ milestone: string | null }> {
      requireIssue(m);
      return once(pool, m.idempotencyKey, 'gitlab', async () => {
        await tracker().setMilestone({ project: m.project, iid: m.iid, milestone: m.milestone });
        return { milestone: m.milestone };
      });
    },

    async commentOnTracker(c: OnIssue & { body: string }): Promise<{ noteId: number }> {
      requireIssue(c);
      return once(pool, c.idempotencyKey, 'gitlab', () =>
        tracker().comment({ project: c.project, iid: c.iid, body: c.body }),
      );
    },

    async closeTrackerIssue(c: OnIssue): Promise<{ closed: true }> {
      requireIssue(c);
      return once(pool, c.idempotencyKey, 'gitlab', async () => {
        await tracker().closeIssue({ project: c.project, iid: c.iid });
        return { closed: true as const };
      });
    },

    /** Upserts the item's row (an older version never overwrites a newer one) and its new timeline entries. */
    async recordWorkItem(p: WorkItemProjection): Promise<void> {
      await writeProjection(pool, {
        workflowId: p.workflowId,
        chainId: p.chainId,
        events: p.events,
        // Feature requests and bug reports are the product's, not a person's: plain.
        personal: false,
        keys: encryptionKeys,
        // A work item ends at its final stage: a `closed` entry after it ends nothing again.
        report: { kind: p.kind, itemId: p.id, doneBeforeClosed: true },
        sql: `INSERT INTO work_items (id, workflow_id, kind, external_id, title, stage, hold, hold_reason,
           tracker_project, tracker_iid, tracker_url, milestone, milestone_starts_at, created_at,
           stage_entered_at, closed_at, waiting_ms, blocked_ms, version, chain_id, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20, now())
         ON CONFLICT (id) DO UPDATE SET
           stage = EXCLUDED.stage, hold = EXCLUDED.hold, hold_reason = EXCLUDED.hold_reason,
           tracker_project = EXCLUDED.tracker_project, tracker_iid = EXCLUDED.tracker_iid,
           tracker_url = EXCLUDED.tracker_url, milestone = EXCLUDED.milestone,
           milestone_starts_at = EXCLUDED.milestone_starts_at, stage_entered_at = EXCLUDED.stage_entered_at,
           closed_at = EXCLUDED.closed_at, waiting_ms = EXCLUDED.waiting_ms, blocked_ms = EXCLUDED.blocked_ms,
           version = EXCLUDED.version, chain_id = EXCLUDED.chain_id, created_at = EXCLUDED.created_at,
           title = EXCLUDED.title, external_id = EXCLUDED.external_id, updated_at = now()
         WHERE ${newerThan('work_items')}`,
        params: [
          p.id,
          p.workflowId,
          p.kind,
          p.externalId,
          p.title,
          p.stage,
          p.hold,
          p.holdReason,
          p.trackerProject,
          p.trackerIid,
          p.trackerUrl,
          p.milestone,
          toDate(p.milestoneStartsAt),
          toDate(p.createdAt),
          toDate(p.stageEnteredAt),
          toDate(p.closedAt),
          p.waitingMs,
          p.blockedMs,
          p.version,
          p.chainId ?? null,
        ],
      });
    },
  };
}

export type WorkItemActivities = ReturnType<typeof createWorkItemActivities>;
