// Escalation chains and warning ladders, shared by tickets, incidents and security reports. Pure: every
// step of a chain follows from the moment its run started (a breach, an agent's escalation, a crisis),
// so its timing never drifts with when a worker got round to it, and a step due during a slow pass or
// an outage is taken late but never lost or taken twice.
import type { EscalationChain } from './policy';

/** One run of a chain: from a level, started at a moment; `taken` counts the steps already notified. */
export interface ChainRun {
  startedAt: number;
  /** 0-based level the run starts at (a crisis jumps to a later one). */
  fromLevel: number;
  taken: number;
  /** The end of the chain has been recorded. */
  ended?: boolean;
}

export interface ChainStep {
  /** 0-based index into the chain. */
  levelIndex: number;
  /** 1-based, as people say "level 1". */
  level: number;
  /** 1 for the first notification of a level, 2 for its first reminder, ... */
  repeat: number;
  notify: string[];
  dueAt: number;
  /** When the following step is due, or the chain runs out after this one. */
  nextAt: number;
}

/**
 * Every step of a run in order: each level is notified `repeats` times, `waitMs` apart, and the next
 * level follows `waitMs` after the last of them. `endsAt` is when the last level's wait is over.
 */
export function chainSteps(chain: EscalationChain, run: Pick<ChainRun, 'startedAt' | 'fromLevel'>): { steps: ChainStep[]; endsAt: number } {
  const steps: ChainStep[] = [];
  let at = run.startedAt;
  for (let levelIndex = Math.max(0, run.fromLevel); levelIndex < chain.length; levelIndex++) {
    const level = chain[levelIndex]!;
    for (let repeat = 1; repeat <= level.repeats; repeat++) {
      steps.push({ levelIndex, level: levelIndex + 1, repeat, notify: level.notify, dueAt: at, nextAt: at + level.waitMs });
      at += level.waitMs;
    }
  }
  return { steps, endsAt: at };
}

/** The steps of a run that are due at `now` and not taken yet, in order. */
export function dueSteps(chain: EscalationChain, run: ChainRun, now: number): ChainStep[] {
  return chainSteps(chain, run).steps.slice(run.taken).filter((step) => step.dueAt <= now);
}

/** When the run needs attention next: its next step, or the end of the chain; null once ended. */
export function nextChainMoment(chain: EscalationChain, run: ChainRun): { at: number; step: ChainStep | null } | null {
  const { steps, endsAt } = chainSteps(chain, run);
  const next = steps[run.taken];
  if (next) return { at: next.dueAt, step: next };
  return run.ended ? null : { at: endsAt, step: null };
}

/** True when every step was taken and the last level's wait is over (the end is not yet recorded). */
export function chainRanOut(chain: EscalationChain, run: ChainRun, now: number): boolean {
  if (run.ended) return false;
  const { steps, endsAt } = chainSteps(chain, run);
  return run.taken >= steps.length && now >= endsAt;
}

// ---- warning ladders ------------------------------------------------------------------------------

/** One rung of a warning ladder: a share of a target and the moment it is used up (null while paused). */
export interface WarningRung {
  share: number;
  at: number | null;
}

/** Rungs due at `now` that were not sent yet, lowest share first. */
export function dueWarnings(rungs: readonly WarningRung[], sent: readonly number[], now: number): WarningRung[] {
  return rungs.filter((rung) => rung.at !== null && rung.at <= now && !sent.includes(rung.share));
}

/** The next rung still to come after `now`, if any. */
export function nextWarning(rungs: readonly WarningRung[], sent: readonly number[], now: number): WarningRung | null {
  let next: WarningRung | null = null;
  for (const rung of rungs) {
    if (rung.at === null || rung.at <= now || sent.includes(rung.share)) continue;
    if (next === null || rung.at < next.at!) next = rung;
  }
  return next;
}
