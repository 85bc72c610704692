// The housekeeping run the `desk-retention` schedule starts (README "Housekeeping"): each table in turn,
// one batch per activity, until the table has nothing more past its retention. A long run continues as
// new where it left off, so its history stays small whatever the backlog.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention';
import {
  PRUNED_TABLES,
  type PruneBatch,
  type PrunedTable,
  type PruneResult,
  type RetentionInput,
  type RetentionPolicy,
  type RetentionProgress,
  type RetentionSummary,
} from '../domain/retention';

const prune = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '2 minutes',
  // A table that keeps failing fails this run after a few tries; the next scheduled run starts afresh.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** About 6 history events per batch: far below the server's suggestion to continue as new. */
const BATCHES_PER_RUN = 500;

/** Each table's batch and period; a batch's cursor is its table's own, the workflow only hands it back. */
const PRUNERS: Record<PrunedTable, { batch: (b: PruneBatch<any>) => Promise<PruneResult<unknown>>; days: (p: RetentionPolicy) => number }> = {
  webhook_deliveries: { batch: prune.pruneWebhookDeliveries, days: (p) => p.webhookDeliveriesDays },
  external_effects: { batch: prune.pruneExternalEffects, days: (p) => p.externalEffectsDays },
  notifications: { batch: prune.pruneNotifications, days: (p) => p.notificationsDays },
  desk_events: { batch: prune.pruneDeskEvents, days: (p) => p.deskEventsDays },
  integration_pace: { batch: prune.pruneIntegrationPace, days: (p) => p.integrationPaceDays },
};

export async function retentionWorkflow({ policy, batchesPerRun = BATCHES_PER_RUN, progress }: RetentionInput): Promise<RetentionSummary> {
  const perRun = Math.max(1, batchesPerRun); // a run always takes a batch before it continues as new
  const deleted = { ...(progress?.deleted ?? zeroPerTable()) };
  let batches = progress?.batches ?? 0;
  const runs = progress?.runs ?? 1;
  let after = progress?.after;
  let batchesThisRun = 0;
  for (let table = progress?.table ?? 0; table < PRUNED_TABLES.length; table++) {
    const name = PRUNED_TABLES[table]!;
    const { batch, days } = PRUNERS[name];
    for (;;) {
      if (batchesThisRun >= perRun || workflowInfo().continueAsNewSuggested) {
        const next: RetentionProgress = { table, deleted, batches, runs: runs + 1, ...(after !== undefined ? { after } : {}) };
        await continueAsNew<typeof retentionWorkflow>({ policy, batchesPerRun, progress: next });
      }
      const result = await batch({ olderThanDays: days(policy), batchSize: policy.batchSize, ...(after !== undefined ? { after } : {}) });
      deleted[name] += result.deleted;
      batches += 1;
      batchesThisRun += 1;
      if (result.done) break;
      after = result.after;
    }
    after = undefined;
  }
  return { deleted, batches, runs };
}

function zeroPerTable(): Record<PrunedTable, number> {
  return Object.fromEntries(PRUNED_TABLES.map((t) => [t, 0])) as Record<PrunedTable, number>;
}
