// What every workflow publishes about itself: its search attributes (upserted only when they change),
// the current details operators read in the Temporal UI, and its PostgreSQL projection. The projection
// is written beside the main loop: retried for as long as PostgreSQL is away without holding up any
// timer, recorded on the item when PostgreSQL refuses it for good, and awaited (bounded) by an update
// that needs its change visible in the lists.
//
// A write is first tried as a local activity: run by the worker inside the workflow task that made the
// change, so an update's answer and its row come in that one task, with no activity task for the server
// to schedule and dispatch. A local attempt that fails for a reason that may pass (PostgreSQL away or
// slow) is not retried inside the task, which would hold up timers: the write goes to an ordinary
// activity, retried beside the loop as before, and later writes go local again once one succeeds.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  TimeoutFailure,
  upsertSearchAttributes,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { ProjectionProgress } from '../domain/effects';

/** How long an update waits for its change to reach the projection before it answers anyway. */
export const VISIBLE_WITHIN_MS = 5_000;

/** Upserts the search attributes when they differ from the last ones, and sets the UI's details. */
export function operatorView() {
  let last = '';
  return (attributes: SearchAttributePair[], details: string): void => {
    const serialized = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
    if (serialized !== last) {
      upsertSearchAttributes(attributes);
      last = serialized;
    }
    setCurrentDetails(details);
  };
}

/** No give-up time: PostgreSQL is the desk's own store; a refusal for good comes back as non-retryable. */
const PROJECTION_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/**
 * Runs started before projection writes went local (no marker in their history) keep writing them as
 * ordinary activities: the commands they emit on replay must stay the same.
 */
export const LOCAL_PROJECTION = 'projection-local-activity';

/** One attempt, short: a write that does not finish in time goes to the ordinary activity. */
const LOCAL_PROJECTION_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '3 seconds',
  retry: { maximumAttempts: 1 },
};

export interface ProjectionWriterOptions {
  progress: ProjectionProgress;
  /** The activity that upserts the row (and appends the timeline entries it carries). */
  activity: string;
  /** The row as of now, carrying the timeline entries after `eventSeq`, and the last entry's seq. */
  snapshot(eventSeq: number): { row: unknown; lastSeq: number };
  version(): number;
  /** A write finished: the main loop should look again (a newer version may be waiting). */
  changed(): void;
}

export type ProjectionWriter = ReturnType<typeof projectionWriter>;

export function projectionWriter(options: ProjectionWriterOptions) {
  const { progress } = options;
  const writer = proxyActivities<Record<string, (row: unknown) => Promise<void>>>(PROJECTION_OPTIONS);
  const localWriter = proxyLocalActivities<Record<string, (row: unknown) => Promise<void>>>(LOCAL_PROJECTION_OPTIONS);
  const mayGoLocal = patched(LOCAL_PROJECTION);
  /** Whether the next write is tried locally: this run may, and the last write did not fail over. */
  let local = mayGoLocal;
  let writing = false;
  let fatal: unknown = null;

  function write(row: unknown): Promise<void> {
    if (local) return localWriter[options.activity]!.executeWithOptions({ ...LOCAL_PROJECTION_OPTIONS, summary: 'projection' }, [row]);
    return writer[options.activity]!.executeWithOptions({ ...PROJECTION_OPTIONS, summary: 'projection' }, [row]);
  }

  /** Starts a write of the current state unless one is running or the projection is up to date. */
  function sync(): void {
    if (writing) return;
    const version = options.version();
    if (version <= progress.version || progress.refused?.version === version) return;
    writing = true;
    const { row, lastSeq } = options.snapshot(progress.eventSeq);
    const wasLocal = local;
    write(row).then(
      () => {
        progress.version = Math.max(progress.version, version);
        progress.eventSeq = Math.max(progress.eventSeq, lastSeq);
        progress.refused = null;
        local = mayGoLocal;
      },
      (err: unknown) => {
        // An ordinary activity fails as an ActivityFailure around its cause; a local one as the cause itself.
        const failure =
          err instanceof ActivityFailure ? (err.cause ?? err) : wasLocal && (err instanceof ApplicationFailure || err instanceof TimeoutFailure) ? err : null;
        if (failure === null) fatal ??= err;
        else if (wasLocal && !(failure instanceof ApplicationFailure && failure.nonRetryable === true)) {
          // PostgreSQL away or slow: the same write again at once, as an ordinary activity.
          local = false;
        } else {
          // Refused for good: shown on the item; the next change tries again with its own version.
          progress.refused = { version, at: Date.now(), message: failure.message };
        }
      },
    ).finally(() => {
      writing = false;
      options.changed();
    });
  }

  return {
    sync,
    writing: (): boolean => writing,
    /** Up to date, or the latest version was refused (nothing more to write until the next change). */
    settled: (): boolean => !writing && (options.version() <= progress.version || progress.refused?.version === options.version()),
    /**
     * Waits until `version` is in the projection, at most VISIBLE_WITHIN_MS; true when it is. An update
     * calls it after changing the state, so its answer means "visible in GET /tickets" when true.
     */
    async visible(version: number): Promise<boolean> {
      sync();
      await condition(() => progress.version >= version || (progress.refused?.version ?? -1) >= version, VISIBLE_WITHIN_MS);
      return progress.version >= version;
    },
    check(): void {
      if (fatal !== null) throw fatal;
    },
  };
}
