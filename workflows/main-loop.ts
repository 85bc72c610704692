// The one concurrency model of every workflow (docs/architecture.md, "One concurrency model"):
// handlers validate, change the state, wake the loop and return; the loop alone acts on time and
// starts external effects. A pass is synchronous, so the clocks it reads are the clocks it acts on,
// and whatever fell due while the workflow was busy or down is acted on in the next pass, at once.
import { CancellationScope, allHandlersFinished, condition, continueAsNew, sleep, workflowInfo } from '@temporalio/workflow';
import type { EffectRunner } from './effects';
import type { ProjectionWriter } from './publishing';

/** Something the loop must look at at a moment; the timer's summary names it for operators. */
export interface WakeUp {
  at: number;
  summary: string;
}

/** Continue as new well before the history gets long or large; the server may suggest it earlier. */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 4_000;
export const CONTINUE_AS_NEW_AFTER_BYTES = 512 * 1024;

/**
 * Before continuing as new the loop starts no new effects and waits this long at most for the running
 * ones, so the next run rarely has to ask again for an effect already under way (once() keeps that
 * safe either way). Timers keep being acted on meanwhile.
 */
const DRAIN_MS = 10_000;

const earliest = (a: WakeUp | null, b: WakeUp): WakeUp => (a !== null && a.at <= b.at ? a : b);

export interface MainLoopOptions {
  effects: EffectRunner;
  projection: ProjectionWriter;
  /** Does whatever is due at `now`: pure state changes and queued effects. Synchronous. */
  pass(now: number): void;
  /** Search attributes, UI details, and the projection write. Synchronous. */
  publish(now: number): void;
  nextWakeUp(now: number): WakeUp | null;
  /** The item reached its end: the loop stops once its effects and projection are done. */
  finished(): boolean;
  /** Continues as new with everything the next run needs. */
  continueAsNew(): Promise<never>;
  limits?: { events?: number; bytes?: number };
}

export function mainLoop() {
  let wakes = 0;
  const alarm = wakeUpTimer();
  return {
    /** A handler or an effect changed something: the loop looks again now. */
    wake(): void {
      wakes += 1;
    },
    async run(o: MainLoopOptions): Promise<void> {
      const events = o.limits?.events ?? CONTINUE_AS_NEW_AFTER_EVENTS;
      const bytes = o.limits?.bytes ?? CONTINUE_AS_NEW_AFTER_BYTES;
      /** Since when the loop has been winding down for a continue-as-new (no new effects started). */
      let drainingSince: number | null = null;
      for (;;) {
        const seen = wakes;
        o.effects.check();
        o.projection.check();
        const now = Date.now();
        o.pass(now);
        o.publish(now);
        if (drainingSince === null) o.effects.pump();
        if (o.finished() && o.effects.idle() && o.projection.settled()) break;

        const info = workflowInfo();
        if (drainingSince === null && (info.continueAsNewSuggested || info.historyLength > events || info.historySize > bytes)) {
          drainingSince = now;
        }
        if (drainingSince !== null && ((!o.effects.busy() && !o.projection.writing()) || now >= drainingSince + DRAIN_MS)) {
          // Handlers only wait for their projection write (bounded): let them answer, then carry on.
          // Effects still queued (or still running after DRAIN_MS) are carried and run in the next run.
          // The continue-as-new comes in a workflow task of its own: the time-skipping test server stops
          // skipping time for good when a timer is cancelled in the task that continues as new (seen in
          // 2 runs of 6); on a real server it costs one short timer per run. An update that arrived
          // meanwhile is let finish too.
          do {
            while (!allHandlersFinished()) {
              o.projection.sync();
              const before = wakes;
              await condition(() => allHandlersFinished() || wakes !== before);
            }
            await sleep(1);
          } while (!allHandlersFinished());
          await o.continueAsNew();
        }

        const due = o.nextWakeUp(now);
        const next = drainingSince === null ? due : earliest(due, { at: drainingSince + DRAIN_MS, summary: 'continue as new' });
        const timer = alarm.set(next, now);
        await condition(() => wakes !== seen || timer.rang());
      }
      await condition(allHandlersFinished);
    },
  };
}

/** Continues as new with `carried` as the next run's input (its type's own name). */
export function continueWith<A>(input: A): Promise<never> {
  return continueAsNew<(input: A) => Promise<unknown>>(input);
}

/**
 * The one timer the loop sleeps on. It is kept while the next moment stays the same (a handler's
 * change or an effect's answer wakes the loop without moving the next deadline), so a busy ticket does
 * not start and cancel a timer in its history for every wake-up.
 */
function wakeUpTimer() {
  let current: { at: number; scope: CancellationScope; rang: boolean } | null = null;
  return {
    set(next: WakeUp | null, now: number): { rang(): boolean } {
      if (current && !current.rang && next?.at === current.at) return { rang: () => current!.rang };
      if (current && !current.rang) current.scope.cancel();
      current = null;
      if (next === null) return { rang: () => false };
      const timer = { at: next.at, scope: new CancellationScope(), rang: false };
      timer.scope
        .run(() => sleep(Math.max(next.at - now, 1), { summary: next.summary }))
        .then(
          () => {
            timer.rang = true;
          },
          () => undefined, // cancelled: the next moment moved
        );
      current = timer;
      return { rang: () => timer.rang };
    },
  };
}
