// The work-item stage machine, table-driven: every move between stages is either in the process or
// refused, for both kinds; every action in every stage; Waiting/Blocked; labels set on the tracker.
import { PolicyError, parsePolicy } from '../config/policy-schema';
import { DEFAULT_POLICY, DEMO_POLICY, WORK_ITEM_DEFAULTS, resolveWorkItemPolicy } from './policy';
import {
  FINAL_STAGES,
  STAGES_OF,
  STAGE_LABELS,
  type Stage,
  type WorkItemKind,
  type WorkItemState,
} from './work-item';
import {
  actionForMove,
  endHold,
  interpretLabels,
  isAllowedMove,
  labelOf,
  moveTo,
  newWorkItem,
  refusal,
  startHold,
  timeOnHold,
} from './work-item-machine';

/** The process as domain.md draws it: each stage and where it may go next. */
const PROCESS: Record<WorkItemKind, Partial<Record<Stage, Stage[]>>> = {
  'feature-request': {
    triage: ['design', 'rejected'],
    design: ['planning', 'rejected'],
    planning: ['development'],
    development: ['validation'],
    validation: ['development', 'completed'],
    completed: [],
    rejected: [],
  },
  'bug-report': {
    triage: ['design', 'rejected'],
    design: ['development'],
    development: ['validation'],
    validation: ['development', 'production'],
    production: ['completed'],
    completed: [],
    rejected: [],
  },
};

const every = (kind: WorkItemKind) =>
  STAGES_OF[kind].flatMap((from) => STAGES_OF[kind].map((to) => [from, to] as const)).filter(([f, t]) => f !== t);

const item = (kind: WorkItemKind, stage: Stage, patch: Partial<WorkItemState> = {}): WorkItemState => ({
  ...newWorkItem({ id: 'x', kind, externalId: null, title: 'Dark mode', description: '', requester: {} }, 0),
  stage,
  enoughInformation: true,
  gamePlan: 'the plan',
  milestone: { title: '2027.1', startsAt: 1 },
  ...patch,
});

describe.each(['feature-request', 'bug-report'] as const)('%s stages', (kind) => {
  const allowed = every(kind).filter(([from, to]) => PROCESS[kind][from]!.includes(to));
  const forbidden = every(kind).filter(([from, to]) => !PROCESS[kind][from]!.includes(to));

  it.each(allowed)('%s → %s is allowed, by an action the stage allows', (from, to) => {
    expect(isAllowedMove(kind, from, to)).toBe(true);
    const action = actionForMove(kind, from, to)!;
    expect(refusal(kind, item(kind, from), action)).toBeNull();
    expect(interpretLabels(kind, item(kind, from), [STAGE_LABELS[to]])).toEqual({ type: 'move', action, to });
  });

  it.each(forbidden)('%s → %s is refused, with the reason', (from, to) => {
    expect(isAllowedMove(kind, from, to)).toBe(false);
    expect(actionForMove(kind, from, to)).toBeNull();
    const asked = interpretLabels(kind, item(kind, from), [STAGE_LABELS[to]]);
    expect(asked.type).toBe('refuse');
    expect((asked as { reason: string }).reason.length).toBeGreaterThan(10);
  });

  it.each(STAGES_OF[kind].filter((s) => !FINAL_STAGES.includes(s)))(
    'Waiting and Blocked can be entered in %s and left again, back to the same stage',
    (stage) => {
      const s = item(kind, stage);
      expect(refusal(kind, s, 'wait')).toBeNull();
      expect(refusal(kind, s, 'block')).toBeNull();
      expect(refusal(kind, s, 'resume')).toBe(`the ${kind.replace('-', ' ')} is neither waiting nor blocked`);
      startHold(s, { kind: 'blocked', reason: 'waiting for the API team', since: 1_000, by: 'alice' });
      expect(labelOf(s)).toBe('Workflow::Blocked');
      expect(refusal(kind, s, 'block')).toMatch(/already blocked \(waiting for the API team\); resume it first/);
      for (const next of PROCESS[kind][stage]!) {
        expect(refusal(kind, s, actionForMove(kind, stage, next)!)).toMatch(/is blocked .*; resume it first/);
      }
      expect(refusal(kind, s, 'resume')).toBeNull();
      endHold(s, 6_000, 'alice');
      expect(s.stage).toBe(stage);
      expect(labelOf(s)).toBe(STAGE_LABELS[stage]);
    },
  );

  it.each(FINAL_STAGES)('nothing can happen to a %s item', (stage) => {
    for (const action of ['wait', 'block', 'resume', 'triage', 'submit-for-validation']) {
      expect(refusal(kind, item(kind, stage), action)).toBe(`the ${kind.replace('-', ' ')} is ${stage}; nothing more can happen to it`);
    }
  });
});

describe('actions in the wrong stage', () => {
  const cases: Array<[WorkItemKind, string, Stage, string]> = [
    ['feature-request', 'decide', 'triage', '"decide" is taken in Design; the feature request is in Triage'],
    ['feature-request', 'accept', 'development', '"accept" is taken in Validation; the feature request is in Development'],
    ['feature-request', 'set-milestone', 'design', '"set-milestone" is taken in Planning; the feature request is in Design'],
    ['bug-report', 'complete', 'validation', '"complete" is taken in In production; the bug report is in Validation'],
    ['bug-report', 'confirm-fix', 'development', '"confirm-fix" is taken in Validation; the bug report is in Development'],
  ];
  it.each(cases)('%s: %s in %s is refused', (kind, action, stage, reason) => {
    expect(refusal(kind, item(kind, stage), action)).toBe(reason);
  });

  it('what must be recorded first: enough information, a game plan, a milestone', () => {
    expect(refusal('feature-request', item('feature-request', 'triage', { enoughInformation: null }), 'check-workload')).toBe(
      'triage has not found enough information yet; mark it with "triage" first',
    );
    expect(refusal('feature-request', item('feature-request', 'design', { gamePlan: null }), 'decide')).toBe('record a game plan first');
    expect(refusal('bug-report', item('bug-report', 'design', { gamePlan: null }), 'start-development')).toBe('record a game plan first');
    expect(refusal('feature-request', item('feature-request', 'planning', { milestone: null }), 'start-development')).toBe(
      'set a milestone first',
    );
  });

  it('provide-information only answers a question triage asked', () => {
    const s = item('feature-request', 'triage');
    expect(refusal('feature-request', s, 'provide-information')).toBe('nobody asked the requester for information on this feature request');
    startHold(s, { kind: 'waiting', on: 'requester', reason: 'which browsers?', since: 0, by: 'alice' });
    expect(refusal('feature-request', s, 'provide-information')).toBeNull();
  });
});

describe('time in Waiting and Blocked', () => {
  it('is summed per kind, the open episode counted up to now', () => {
    const s = item('feature-request', 'development');
    startHold(s, { kind: 'waiting', on: 'dependency', reason: 'library release', since: 1_000, by: 'a' });
    endHold(s, 4_000, 'a');
    startHold(s, { kind: 'blocked', reason: 'CI down', since: 10_000, by: 'a' });
    endHold(s, 12_000, 'a');
    startHold(s, { kind: 'waiting', on: 'input', reason: 'UX review', since: 20_000, by: 'a' });
    expect(timeOnHold(s, 25_000)).toEqual({ waitingMs: 3_000 + 5_000, blockedMs: 2_000 });
    expect(s.holds.map((h) => h.stage)).toEqual(['development', 'development', 'development']);
  });
});

describe('labels set on the tracker', () => {
  const kind = 'feature-request';
  it('the label of the current stage (our own echo) asks for nothing', () => {
    expect(interpretLabels(kind, item(kind, 'design'), ['bug', 'Workflow::Design'])).toEqual({ type: 'none' });
  });
  it('Waiting by label waits on input; the stage label again resumes', () => {
    const s = item(kind, 'development');
    expect(interpretLabels(kind, s, ['Workflow::Waiting'])).toEqual({ type: 'wait' });
    startHold(s, { kind: 'waiting', on: 'input', reason: 'x', since: 0, by: 'a' });
    expect(interpretLabels(kind, s, ['Workflow::In Progress'])).toEqual({ type: 'resume' });
    expect(interpretLabels(kind, s, ['Workflow::Verification']).type).toBe('refuse');
  });
  it('Blocked needs a reason a label cannot carry; unknown and removed labels are refused', () => {
    expect(interpretLabels(kind, item(kind, 'development'), ['Workflow::Blocked'])).toEqual({
      type: 'refuse',
      reason: 'Blocked needs a reason: use the "block" action with the reason instead of the label',
    });
    expect(interpretLabels(kind, item(kind, 'development'), ['Workflow::Production'])).toMatchObject({
      type: 'refuse',
      reason: expect.stringMatching(/^"Workflow::Production" is not a stage of a feature request/),
    });
    expect(interpretLabels(kind, item(kind, 'development'), ['frontend'])).toMatchObject({ type: 'refuse' });
  });
  it('a move the stage allows but whose prerequisite is missing is refused with the reason', () => {
    expect(interpretLabels(kind, item(kind, 'design', { gamePlan: null }), ['Workflow::Planning'])).toEqual({
      type: 'refuse',
      reason: 'cannot move to Planning: record a game plan first',
    });
  });
  it('moving the stage keeps the history of when each stage was entered and left', () => {
    const s = item(kind, 'triage');
    moveTo(s, 'design', 5_000, 'alice');
    expect(s.stageHistory).toEqual([
      { stage: 'triage', enteredAt: 0, leftAt: 5_000, by: 'intake' },
      { stage: 'design', enteredAt: 5_000, leftAt: null, by: 'alice' },
    ]);
  });
});

describe('the policy\'s workItems section', () => {
  it('is optional: a policy without it gets the defaults (3-day reminders, give up after 14 days)', () => {
    const { workItems: _omitted, ...withoutWorkItems } = DEFAULT_POLICY;
    const policy = parsePolicy(withoutWorkItems, 'test');
    expect(resolveWorkItemPolicy(policy, 'bug-report')).toEqual({
      policyName: 'default',
      trackerProject: WORK_ITEM_DEFAULTS.bugReportProject,
      triageReminderMs: 3 * 24 * 3_600_000,
      informationGiveUpMs: 14 * 24 * 3_600_000,
    });
    expect(resolveWorkItemPolicy(parsePolicy(DEMO_POLICY, 'demo'), 'feature-request').triageReminderMs).toBe(20_000);
  });

  it('is checked field by field when present', () => {
    const broken = { ...DEFAULT_POLICY, workItems: { ...WORK_ITEM_DEFAULTS, bugReportProject: '', triageReminderMs: -1 } };
    expect(() => parsePolicy(broken, 'test')).toThrow(PolicyError);
    expect(() => parsePolicy(broken, 'test')).toThrow(/workItems\.bugReportProject: .*\n.*workItems\.triageReminderMs: /);
  });
});
