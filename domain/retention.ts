// How long the desk keeps its housekeeping tables (README "Housekeeping"): shared by the retention
// workflow, its activities, the worker that schedules it and the configuration. No Node imports.

/** The Temporal Schedule that runs the retention workflow; one per namespace, whatever the number of workers. */
export const RETENTION_SCHEDULE_ID = 'desk-retention';

/** How often the schedule starts a run: each run has little to do, and a skipped hour loses nothing. */
export const RETENTION_EVERY = '1 hour';

/** What each table keeps, in days of age; `batchSize` rows are deleted per statement. */
export interface RetentionPolicy {
  /** Inbound webhook deliveries (their claims, outcomes, refusals), by the time they were received. */
  webhookDeliveriesDays: number;
  /** once()'s claims and results, by their latest time; never while the item they belong to is open. */
  externalEffectsDays: number;
  /** The log of notifications sent, by the time they were sent; never while the ticket is open. */
  notificationsDays: number;
  /**
   * The reporting event log: an item's entries go together, once the newest is this old, the item is
   * closed and its openings and endings cancel out (so the backlog the reports sum stays the same).
   */
  deskEventsDays: number;
  /** Reservations of the integrations' pacing (integration_pace), when that table exists. */
  integrationPaceDays: number;
  batchSize: number;
}

/**
 * The defaults. Senders redeliver for minutes, not weeks (Slack's last retry comes 5 minutes after the
 * first, api/webhooks/deliveries.ts; GitLab only when someone resends by hand): 30 days is far past any
 * redelivery. Effects and notifications outlive any retry of a closed item's activities by far. The event
 * log keeps the longest report range (732 days, api/reports.ts) and four weeks more, so every range a
 * report accepts that ends now is complete.
 */
export const DEFAULT_RETENTION: RetentionPolicy = {
  webhookDeliveriesDays: 30,
  externalEffectsDays: 90,
  notificationsDays: 90,
  deskEventsDays: 760,
  integrationPaceDays: 1,
  batchSize: 1_000,
};

/** The tables a run prunes, in the order it prunes them. */
export const PRUNED_TABLES = ['webhook_deliveries', 'external_effects', 'notifications', 'desk_events', 'integration_pace'] as const;
export type PrunedTable = (typeof PRUNED_TABLES)[number];

/** One batch: delete up to `batchSize` of the rows older than `olderThanDays`, from `after` on. */
export interface PruneBatch<C = unknown> {
  olderThanDays: number;
  batchSize: number;
  /** Where the previous batch of this run stopped (absent for the first). */
  after?: C;
}

export interface PruneResult<C = unknown> {
  deleted: number;
  /** True once the table has nothing more to prune now; otherwise the next batch starts at `after`. */
  done: boolean;
  after?: C;
}

/** Where a run that continued as new takes up the work. */
export interface RetentionProgress {
  /** Index in PRUNED_TABLES of the table being pruned. */
  table: number;
  after?: unknown;
  deleted: Record<PrunedTable, number>;
  batches: number;
  runs: number;
}

export interface RetentionInput {
  policy: RetentionPolicy;
  /** Batches one run takes before it continues as new, unless the server suggests it sooner. */
  batchesPerRun?: number;
  progress?: RetentionProgress;
}

/** What a run (with every run it continued as) deleted. */
export interface RetentionSummary {
  deleted: Record<PrunedTable, number>;
  batches: number;
  runs: number;
}
