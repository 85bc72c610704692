// The bug report workflow of the first model, kept only so that runs started before
// workflows/bug-report.ts (the `work-item-state-model` patch) replay and finish as they began.
import {
  bugTriageUpdate,
  completeUpdate,
  confirmFixUpdate,
  recordGamePlanUpdate,
  requestChangesUpdate,
  startDevelopmentUpdate,
  submitForValidationUpdate,
  LABEL_SCOPE,
  type Stage,
  type WorkItemWorkflowInput,
} from '../../domain/work-item';
import { record } from '../../domain/work-item-machine';
import { workItemRuntime, type LegacyWorkItemView as WorkItemView } from './work-item';

export async function legacyBugReportWorkflow(input: WorkItemWorkflowInput): Promise<WorkItemView> {
  const desk = workItemRuntime(input);
  const { state } = desk;

  async function triage(by: string, valid: boolean, reason?: string): Promise<void> {
    if (valid) desk.move('design', by, reason ?? 'confirmed');
    else await desk.reject(`invalid: ${reason ?? 'closed in triage'}`, by);
  }

  desk.action(
    bugTriageUpdate,
    'triage',
    ({ valid, reason }) => {
      desk.requireBoolean(valid, 'valid');
      if (!valid) desk.requireText(reason, 'reason (why the report is invalid)');
    },
    ({ by, valid, reason }) => triage(by, valid, reason),
  );

  desk.action(
    recordGamePlanUpdate,
    'record-game-plan',
    ({ gamePlan, labels }) => {
      desk.requireText(gamePlan, 'gamePlan');
      if (labels !== undefined && (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || l.trim() === ''))) {
        desk.invalid('labels must be a list of label names');
      }
      // The stage label belongs to the workflow; a game plan only adds the others.
      if (labels?.some((l) => l.startsWith(LABEL_SCOPE))) desk.invalid(`labels must not be ${LABEL_SCOPE} labels`);
    },
    async ({ by, gamePlan, labels }) => {
      state.gamePlan = gamePlan;
      for (const l of labels ?? []) if (!state.labels.includes(l)) state.labels.push(l);
      record(state, Date.now(), 'game plan recorded', by, labels?.length ? `labels ${labels.join(', ')}` : undefined);
      await desk.comment(`game-plan:${state.version}`, `Game plan:\n\n${gamePlan}`, 'post the game plan');
    },
  );

  desk.action(
    startDevelopmentUpdate,
    'start-development',
    () => undefined,
    ({ by, note }) => desk.move('development', by, note),
  );

  desk.action(
    submitForValidationUpdate,
    'submit-for-validation',
    () => undefined,
    async ({ by, note }) => {
      desk.move('validation', by, note);
      await desk.comment(`validation:${state.version}`, 'A fix is ready: please check whether it solves the problem.', 'ask the requester to check the fix');
    },
  );

  const confirmFix = (by: string) => {
    state.validations.push({ accepted: true, by, at: Date.now() });
    desk.move('production', by, 'fix confirmed');
  };

  desk.action(confirmFixUpdate, 'confirm-fix', () => undefined, ({ by }) => confirmFix(by));

  async function notFixed(by: string, reason: string): Promise<void> {
    state.validations.push({ accepted: false, reason, by, at: Date.now() });
    desk.move('development', by, reason);
    await desk.comment(`not-fixed:${state.version}`, `Not fixed yet, back to development: ${reason}`, 'say why it went back');
  }

  desk.action(
    requestChangesUpdate,
    'request-changes',
    ({ reason }) => desk.requireText(reason, 'reason'),
    ({ by, reason }) => notFixed(by, reason),
  );

  desk.action(
    completeUpdate,
    'complete',
    () => undefined,
    async ({ by, note }) => {
      desk.move('completed', by, note ?? 'in production');
      await desk.comment('completed', 'The fix is in production. Thank you for the report!', 'announce the fix');
    },
  );

  desk.onTrackerLabels(async (action: string, to: Stage, by: string) => {
    switch (action) {
      case 'triage':
        return triage(by, to === 'design', to === 'design' ? 'confirmed on the tracker' : 'closed on the tracker');
      case 'confirm-fix':
        return confirmFix(by);
      case 'request-changes':
        return notFixed(by, 'sent back to development on the tracker');
      default:
        desk.move(to, by, 'moved on the tracker');
    }
  });

  // Nothing is timed in a bug report's process: it sleeps until the next change.
  return desk.run(() => null);
}
