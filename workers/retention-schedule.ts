// The housekeeping schedule (README "Housekeeping"): every worker that starts creates it, or brings the
// existing one up to date, so any number of workers may start at once. An operator's pause is kept.
import {
  ScheduleAlreadyRunning,
  ScheduleClient,
  ScheduleOverlapPolicy,
  type ConnectionLike,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { deskDataConverter, type EncryptionKeys } from '../config/encryption';
import { logger } from '../config/logger';
import { retentionFromEnv } from '../config/retention';
import { RETENTION_EVERY, RETENTION_SCHEDULE_ID, type RetentionPolicy } from '../domain/retention';
import type { retentionWorkflow } from '../workflows/retention';

export interface RetentionScheduleOptions {
  /** The worker's own connection will do (a NativeConnection is a client connection too). */
  connection: ConnectionLike;
  namespace: string;
  taskQueue: string;
  /** The schedule's arguments are a payload like any other: encrypted with the desk's key. */
  encryptionKeys: EncryptionKeys;
  policy: RetentionPolicy;
}

/** Creates the schedule, or replaces its spec, action and policies with these, keeping its state. */
export async function scheduleRetention(opts: RetentionScheduleOptions): Promise<'created' | 'updated'> {
  const schedules = new ScheduleClient({
    connection: opts.connection,
    namespace: opts.namespace,
    dataConverter: deskDataConverter(opts.encryptionKeys),
  });
  const definition: Omit<ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof retentionWorkflow>>, 'scheduleId' | 'state' | 'memo'> = {
    spec: { intervals: [{ every: RETENTION_EVERY }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'retentionWorkflow',
      workflowId: RETENTION_SCHEDULE_ID,
      taskQueue: opts.taskQueue,
      args: [{ policy: opts.policy }],
      // A run that cannot finish gives way to the next one instead of holding every later run off.
      workflowExecutionTimeout: '1 day',
      staticSummary: 'Housekeeping: prune what is past its retention',
    },
    // SKIP: one run at a time. After an outage, one late run is enough: each run takes whatever is due.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  };
  try {
    await schedules.create({ scheduleId: RETENTION_SCHEDULE_ID, ...definition, state: { note: 'README "Housekeeping"' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  // Another worker made it (now or long ago): the same definition, paused or not as it is.
  await schedules.getHandle(RETENTION_SCHEDULE_ID).update((previous) => ({
    ...definition,
    state: {
      paused: previous.state.paused,
      ...(previous.state.note !== undefined ? { note: previous.state.note } : {}),
      ...(previous.state.remainingActions !== undefined ? { remainingActions: previous.state.remainingActions } : {}),
    },
  }));
  return 'updated';
}

/**
 * At the worker's start: the schedule with the periods from the environment (a bad variable stops the
 * worker, like any other). Temporal refusing is logged, not fatal: the desk's work comes first, the
 * schedule as it was goes on, and the next worker to start tries again.
 */
export async function keepRetentionScheduled(opts: Omit<RetentionScheduleOptions, 'policy'>, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const policy = retentionFromEnv(env);
  try {
    const outcome = await scheduleRetention({ ...opts, policy });
    logger.info({ schedule: RETENTION_SCHEDULE_ID, outcome, every: RETENTION_EVERY, ...policy }, 'retention schedule');
  } catch (err) {
    logger.error(
      { err, schedule: RETENTION_SCHEDULE_ID },
      'could not create or update the retention schedule (does the namespace allow schedules for this identity?); the next worker start tries again',
    );
  }
}
