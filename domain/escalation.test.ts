// Escalation chains and warning ladders as tables: every step follows from the moment its run started,
// so a run looked at late takes every step that fell due meanwhile, each once, at the times they were
// due; a warning rung goes out once, never while its clock is paused.
import { chainRanOut, chainSteps, dueSteps, dueWarnings, nextChainMoment, nextWarning, type ChainRun, type WarningRung } from './escalation';
import type { EscalationChain } from './policy';

const M = 60_000;
const H = 60 * M;
/** Monday 2 March 2026, 09:00 UTC. */
const T0 = Date.UTC(2026, 2, 2, 9);

/** Level 1 once (then 1 h), level 2 twice 4 h apart, level 3 three times 30 min apart. */
const chain: EscalationChain = [
  { notify: ['#support-escalations'], waitMs: 1 * H, repeats: 1 },
  { notify: ['support-manager'], waitMs: 4 * H, repeats: 2 },
  { notify: ['head-of-support', 'cto'], waitMs: 30 * M, repeats: 3 },
];

/** [level, repeat, dueAt - T0, nextAt - T0] of each step. */
const shape = (steps: ReturnType<typeof chainSteps>['steps']) =>
  steps.map((s) => [s.level, s.repeat, s.dueAt - T0, s.nextAt - T0]);
const run = (taken: number, over: Partial<ChainRun> = {}): ChainRun => ({ startedAt: T0, fromLevel: 0, taken, ...over });

describe('chainSteps: every step of a run, timed from its start', () => {
  it.each<[string, Pick<ChainRun, 'startedAt' | 'fromLevel'>, Array<[number, number, number, number]>, number]>([
    [
      'from level 1: each level `repeats` times, `waitMs` apart, the next level `waitMs` after the last repeat',
      { startedAt: T0, fromLevel: 0 },
      [
        [1, 1, 0, 1 * H],
        [2, 1, 1 * H, 5 * H],
        [2, 2, 5 * H, 9 * H],
        [3, 1, 9 * H, 9 * H + 30 * M],
        [3, 2, 9 * H + 30 * M, 10 * H],
        [3, 3, 10 * H, 10 * H + 30 * M],
      ],
      10 * H + 30 * M,
    ],
    [
      'from level 2 (fromLevel 1): level 2 at the start, level 1 skipped',
      { startedAt: T0, fromLevel: 1 },
      [
        [2, 1, 0, 4 * H],
        [2, 2, 4 * H, 8 * H],
        [3, 1, 8 * H, 8 * H + 30 * M],
        [3, 2, 8 * H + 30 * M, 9 * H],
        [3, 3, 9 * H, 9 * H + 30 * M],
      ],
      9 * H + 30 * M,
    ],
    [
      'from the last level (fromLevel 2)',
      { startedAt: T0, fromLevel: 2 },
      [
        [3, 1, 0, 30 * M],
        [3, 2, 30 * M, 60 * M],
        [3, 3, 60 * M, 90 * M],
      ],
      90 * M,
    ],
    ['from beyond the chain: no steps, ends at the start', { startedAt: T0, fromLevel: 3 }, [], 0],
    [
      'a negative fromLevel counts as level 1',
      { startedAt: T0, fromLevel: -2 },
      [
        [1, 1, 0, 1 * H],
        [2, 1, 1 * H, 5 * H],
        [2, 2, 5 * H, 9 * H],
        [3, 1, 9 * H, 9 * H + 30 * M],
        [3, 2, 9 * H + 30 * M, 10 * H],
        [3, 3, 10 * H, 10 * H + 30 * M],
      ],
      10 * H + 30 * M,
    ],
  ])('%s', (_name, start, expected, endsAfter) => {
    const { steps, endsAt } = chainSteps(chain, start);
    expect(shape(steps)).toEqual(expected);
    expect(endsAt).toBe(T0 + endsAfter);
    for (const step of steps) {
      expect(step.levelIndex).toBe(step.level - 1);
      expect(step.notify).toBe(chain[step.levelIndex]!.notify);
    }
  });

  it('each step is due when the one before it said the next one is (no gaps, no overlaps)', () => {
    const { steps, endsAt } = chainSteps(chain, { startedAt: T0, fromLevel: 0 });
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.dueAt).toBe(steps[i - 1]!.nextAt);
    expect(steps[steps.length - 1]!.nextAt).toBe(endsAt);
  });

  it('the timing moves with the start and only with it', () => {
    const early = chainSteps(chain, { startedAt: T0, fromLevel: 0 });
    const late = chainSteps(chain, { startedAt: T0 + 7 * H + 123, fromLevel: 0 });
    expect(late.steps.map((s) => s.dueAt - (T0 + 7 * H + 123))).toEqual(early.steps.map((s) => s.dueAt - T0));
    expect(late.endsAt - early.endsAt).toBe(7 * H + 123);
  });

  it.each<[string, EscalationChain, Array<[number, number, number, number]>, number]>([
    ['an empty chain has no steps and ends at its start', [], [], 0],
    [
      'a level with repeats 0 is skipped, and so is its wait',
      [
        { notify: ['a'], waitMs: 5 * M, repeats: 1 },
        { notify: ['b'], waitMs: 1 * H, repeats: 0 },
        { notify: ['c'], waitMs: 10 * M, repeats: 2 },
      ],
      [
        [1, 1, 0, 5 * M],
        [3, 1, 5 * M, 15 * M],
        [3, 2, 15 * M, 25 * M],
      ],
      25 * M,
    ],
    [
      'a single level repeated (the urgent chain shape): 5 min, then 3 × 15 min',
      [
        { notify: ['oncall-primary'], waitMs: 5 * M, repeats: 1 },
        { notify: ['oncall-secondary'], waitMs: 15 * M, repeats: 3 },
      ],
      [
        [1, 1, 0, 5 * M],
        [2, 1, 5 * M, 20 * M],
        [2, 2, 20 * M, 35 * M],
        [2, 3, 35 * M, 50 * M],
      ],
      50 * M,
    ],
  ])('%s', (_name, c, expected, endsAfter) => {
    const { steps, endsAt } = chainSteps(c, { startedAt: T0, fromLevel: 0 });
    expect(shape(steps)).toEqual(expected);
    expect(endsAt).toBe(T0 + endsAfter);
  });
});

describe('dueSteps: what a pass at `now` takes', () => {
  /** [level, repeat, dueAt - T0] of each due step. */
  const due = (r: ChainRun, now: number) => dueSteps(chain, r, now).map((s) => [s.level, s.repeat, s.dueAt - T0]);

  it.each<[string, ChainRun, number, Array<[number, number, number]>]>([
    ['nothing a millisecond before the start', run(0), T0 - 1, []],
    ['level 1 at the very start', run(0), T0, [[1, 1, 0]]],
    ['still only level 1 a millisecond before level 2', run(0), T0 + H - 1, [[1, 1, 0]]],
    ['level 2 exactly at its due time once level 1 is taken', run(1), T0 + H, [[2, 1, H]]],
    ['nothing between steps once the due ones are taken', run(2), T0 + 5 * H - 1, []],
    [
      'a run started late (the desk was down 6 h): the three steps due are each returned once, in order, at their own due times',
      run(0),
      T0 + 6 * H,
      [
        [1, 1, 0],
        [2, 1, H],
        [2, 2, 5 * H],
      ],
    ],
    [
      'a very late look: every step, once',
      run(0),
      T0 + 100 * H,
      [
        [1, 1, 0],
        [2, 1, H],
        [2, 2, 5 * H],
        [3, 1, 9 * H],
        [3, 2, 9 * H + 30 * M],
        [3, 3, 10 * H],
      ],
    ],
    ['partly taken: only the steps after `taken`', run(4), T0 + 100 * H, [[3, 2, 9 * H + 30 * M], [3, 3, 10 * H]]],
    ['all taken: nothing', run(6), T0 + 100 * H, []],
    ['taken beyond the chain: nothing', run(9), T0 + 100 * H, []],
    [
      'from level 2, late: level 2 twice and level 3 once, timed from the start',
      run(0, { fromLevel: 1 }),
      T0 + 8 * H,
      [
        [2, 1, 0],
        [2, 2, 4 * H],
        [3, 1, 8 * H],
      ],
    ],
    ['from level 3, partly taken', run(1, { fromLevel: 2 }), T0 + 45 * M, [[3, 2, 30 * M]]],
    ['an ended run has nothing due either', run(6, { ended: true }), T0 + 100 * H, []],
  ])('%s', (_name, r, now, expected) => {
    expect(due(r, now)).toEqual(expected);
  });

  it('steps are measured from startedAt, not from now: the same run looked at later has the same due times', () => {
    const at6 = dueSteps(chain, run(0), T0 + 6 * H).map((s) => s.dueAt);
    const at8 = dueSteps(chain, run(0), T0 + 8 * H).map((s) => s.dueAt);
    expect(at8).toEqual(at6);
    expect(at6).toEqual([T0, T0 + H, T0 + 5 * H]);
  });

  it.each<[string, number[]]>([
    ['a pass at every step', [0, H, 5 * H, 9 * H, 9 * H + 30 * M, 10 * H, 10 * H + 30 * M]],
    ['one pass long after the end', [100 * H]],
    ['passes at odd moments, some between steps, some late', [-1, 30 * M, 5 * H + 1, 5 * H + 2, 9 * H + 45 * M, 11 * H, 12 * H]],
    ['passes a millisecond early each time', [-1, H - 1, 5 * H - 1, 9 * H - 1, 100 * H]],
  ])('a loop taking what is due (%s) takes every step exactly once, never before its due time', (_name, moments) => {
    const r = run(0);
    const taken: Array<{ level: number; repeat: number; dueAt: number; at: number }> = [];
    for (const offset of moments) {
      const now = T0 + offset;
      for (const step of dueSteps(chain, r, now)) {
        r.taken += 1;
        taken.push({ level: step.level, repeat: step.repeat, dueAt: step.dueAt, at: now });
      }
    }
    expect(taken.map((s) => [s.level, s.repeat])).toEqual(chainSteps(chain, r).steps.map((s) => [s.level, s.repeat]));
    for (const s of taken) expect(s.at).toBeGreaterThanOrEqual(s.dueAt);
  });
});

describe('nextChainMoment: when the run needs the loop next', () => {
  it.each<[string, ChainRun, { at: number; level: number; repeat: number } | { at: number; end: true } | null]>([
    ['a new run: level 1 at its start', run(0), { at: T0, level: 1, repeat: 1 }],
    ['after level 1: level 2 an hour later', run(1), { at: T0 + H, level: 2, repeat: 1 }],
    ['after the first level-2 notice: its reminder 4 h later', run(2), { at: T0 + 5 * H, level: 2, repeat: 2 }],
    ['after the last step: the end of its wait', run(6), { at: T0 + 10 * H + 30 * M, end: true }],
    ['ended: nothing more', run(6, { ended: true }), null],
    ['from level 2: level 2 at the start', run(0, { fromLevel: 1 }), { at: T0, level: 2, repeat: 1 }],
    ['from level 2, all taken: the end', run(5, { fromLevel: 1 }), { at: T0 + 9 * H + 30 * M, end: true }],
    ['from beyond the chain: the end at the start', run(0, { fromLevel: 3 }), { at: T0, end: true }],
  ])('%s', (_name, r, expected) => {
    const next = nextChainMoment(chain, r);
    if (expected === null) return expect(next).toBeNull();
    expect(next?.at).toBe(expected.at);
    if ('end' in expected) expect(next?.step).toBeNull();
    else expect(next?.step).toMatchObject({ level: expected.level, repeat: expected.repeat });
  });

  it('does not depend on now: an overdue step is still the next moment (the loop takes it at once)', () => {
    expect(nextChainMoment(chain, run(1))?.at).toBe(T0 + H);
  });

  it('an empty chain: the end at the start, then nothing once ended', () => {
    expect(nextChainMoment([], run(0))).toEqual({ at: T0, step: null });
    expect(nextChainMoment([], run(0, { ended: true }))).toBeNull();
  });
});

describe('chainRanOut: every step taken and the last wait over', () => {
  const end = T0 + 10 * H + 30 * M;
  it.each<[string, ChainRun, number, boolean]>([
    ['steps left, long after the end', run(5), end + 100 * H, false],
    ['all taken, a millisecond before the end', run(6), end - 1, false],
    ['all taken, at the end', run(6), end, true],
    ['all taken, after the end', run(6), end + H, true],
    ['already recorded as ended', run(6, { ended: true }), end + H, false],
    ['from level 3, all three taken, at its end', run(3, { fromLevel: 2 }), T0 + 90 * M, true],
    ['from level 3, all three taken, before its end', run(3, { fromLevel: 2 }), T0 + 90 * M - 1, false],
    ['from beyond the chain: ran out at once', run(0, { fromLevel: 3 }), T0, true],
  ])('%s', (_name, r, now, expected) => {
    expect(chainRanOut(chain, r, now)).toBe(expected);
  });

  it('an empty chain runs out at its start', () => {
    expect(chainRanOut([], run(0), T0 - 1)).toBe(false);
    expect(chainRanOut([], run(0), T0)).toBe(true);
  });
});

describe('warning ladders [0.5, 0.75, 0.9] of a 24 h target', () => {
  const ladder: WarningRung[] = [
    { share: 0.5, at: T0 + 12 * H },
    { share: 0.75, at: T0 + 18 * H },
    { share: 0.9, at: T0 + 21 * H + 36 * M },
  ];
  /** Paused after 14 h of counted time: the 50 % rung was reached, the later ones are not known. */
  const paused: WarningRung[] = [
    { share: 0.5, at: T0 + 12 * H },
    { share: 0.75, at: null },
    { share: 0.9, at: null },
  ];
  const shares = (rungs: WarningRung[]) => rungs.map((r) => r.share);

  describe('dueWarnings', () => {
    it.each<[string, WarningRung[], number[], number, number[]]>([
      ['nothing before the first rung', ladder, [], T0 + 12 * H - 1, []],
      ['the first rung at exactly its moment', ladder, [], T0 + 12 * H, [0.5]],
      ['two rungs due, none sent (a late pass): both, lowest first', ladder, [], T0 + 19 * H, [0.5, 0.75]],
      ['two rungs due, the first sent: only the second', ladder, [0.5], T0 + 19 * H, [0.75]],
      ['all due, all sent: nothing', ladder, [0.5, 0.75, 0.9], T0 + 23 * H, []],
      ['all due, the middle one sent: the other two', ladder, [0.75], T0 + 23 * H, [0.5, 0.9]],
      ['the last rung at exactly its moment', ladder, [0.5, 0.75], T0 + 21 * H + 36 * M, [0.9]],
      ['paused: only the rung reached before the pause', paused, [], T0 + 100 * H, [0.5]],
      ['paused and that rung sent: nothing, however late', paused, [0.5], T0 + 100 * H, []],
      ['all paused: nothing', [{ share: 0.5, at: null }, { share: 0.75, at: null }], [], T0 + 100 * H, []],
      ['a share sent that is not on the ladder changes nothing', ladder, [0.6], T0 + 12 * H, [0.5]],
      ['an empty ladder: nothing', [], [], T0 + 100 * H, []],
    ])('%s', (_name, rungs, sent, now, expected) => {
      expect(shares(dueWarnings(rungs, sent, now))).toEqual(expected);
    });

    it('answers the rungs themselves (with their moments)', () => {
      expect(dueWarnings(ladder, [0.5], T0 + 19 * H)).toEqual([{ share: 0.75, at: T0 + 18 * H }]);
    });

    it('a loop sending what is due sends each rung once, never before its moment', () => {
      const sent: number[] = [];
      const at: Record<number, number> = {};
      for (const now of [T0, T0 + 12 * H, T0 + 12 * H, T0 + 13 * H, T0 + 22 * H, T0 + 22 * H, T0 + 30 * H]) {
        for (const rung of dueWarnings(ladder, sent, now)) {
          sent.push(rung.share);
          at[rung.share] = now;
        }
      }
      expect(sent).toEqual([0.5, 0.75, 0.9]);
      expect(at).toEqual({ 0.5: T0 + 12 * H, 0.75: T0 + 22 * H, 0.9: T0 + 22 * H });
    });
  });

  describe('nextWarning', () => {
    it.each<[string, WarningRung[], number[], number, number | null]>([
      ['at the start: the 50 % rung', ladder, [], T0, 0.5],
      ['at the 50 % moment (not sent): the next one still to come, 75 %', ladder, [], T0 + 12 * H, 0.75],
      ['after 50 % was sent: 75 %', ladder, [0.5], T0 + 13 * H, 0.75],
      ['75 % sent early by another path: 90 % is next', ladder, [0.75], T0 + 13 * H, 0.9],
      ['after every moment: nothing', ladder, [], T0 + 22 * H, null],
      ['all sent: nothing, even at the start', ladder, [0.5, 0.75, 0.9], T0, null],
      ['paused, before the pause moment: the 50 % rung only', paused, [], T0, 0.5],
      ['paused, the reached rung sent: nothing (the rest waits for the resume)', paused, [0.5], T0 + 13 * H, null],
      ['an empty ladder: nothing', [], [], T0, null],
    ])('%s', (_name, rungs, sent, now, expected) => {
      const next = nextWarning(rungs, sent, now);
      expect(next?.share ?? null).toBe(expected);
    });

    it('rungs out of order: the earliest moment wins', () => {
      const unsorted: WarningRung[] = [ladder[2]!, ladder[0]!, ladder[1]!];
      expect(nextWarning(unsorted, [], T0)).toEqual(ladder[0]);
      expect(nextWarning(unsorted, [0.5], T0)).toEqual(ladder[1]);
    });

    it('is strictly after now, so a loop waking at its moment never wakes for it again', () => {
      for (const rung of ladder) expect(nextWarning(ladder, [], rung.at!)?.at ?? Infinity).toBeGreaterThan(rung.at!);
    });
  });
});
