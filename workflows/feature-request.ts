// A feature request as a durable workflow (`feature-<id>`): Triage → Design → Planning → Development →
// Validation → Completed, or Rejected; mirrored on the tracker issue's `Workflow::` label.
import { formatDuration } from '../domain/format';
import {
  acceptUpdate,
  checkWorkloadUpdate,
  decideUpdate,
  featureTriageUpdate,
  provideInformationUpdate,
  recordGamePlanUpdate,
  requestChangesUpdate,
  setMilestoneUpdate,
  startDevelopmentUpdate,
  submitForValidationUpdate,
  type Stage,
  type WorkItemWorkflowInput,
} from '../domain/work-item';
import { endHold, record, startHold } from '../domain/work-item-machine';
import { legacyFeatureRequestWorkflow } from './legacy/feature-request';
import { isCurrentModel, workItemRuntime, type WakeUp } from './work-item';

export async function featureRequestWorkflow(input: WorkItemWorkflowInput): Promise<unknown> {
  if (!isCurrentModel()) return legacyFeatureRequestWorkflow(input);
  const desk = workItemRuntime(input);
  const { state, policy } = desk;

  // ---- Triage: enough information? then the workload check ------------------------------------

  function askRequester(question: string, by: string): void {
    state.enoughInformation = false;
    startHold(state, { kind: 'waiting', on: 'requester', reason: question, since: Date.now(), by, reminders: 0 });
    desk.comment(`question:${state.version}`, `To triage this request we need more information: ${question}`, 'ask the requester');
  }

  desk.action(
    featureTriageUpdate,
    'triage',
    ({ enoughInformation, question }) => {
      desk.requireBoolean(enoughInformation, 'enoughInformation');
      if (!enoughInformation) desk.requireText(question, 'question (what to ask the requester)', 'message');
    },
    ({ by, enoughInformation, question }) => {
      if (enoughInformation) {
        state.enoughInformation = true;
        record(state, Date.now(), 'enough information', by);
      } else {
        askRequester(question!, by);
      }
    },
  );

  desk.action(
    provideInformationUpdate,
    'provide-information',
    ({ information }) => desk.requireText(information, 'information', 'message'),
    ({ by, information }) => endHold(state, Date.now(), by, information),
  );

  function checkWorkload(by: string, validForWorkload: boolean, reason?: string): void {
    if (validForWorkload) desk.move('design', by, reason);
    else desk.reject(reason ?? 'not valid for the current workload', by);
  }

  desk.action(
    checkWorkloadUpdate,
    'check-workload',
    ({ validForWorkload, reason }) => {
      desk.requireBoolean(validForWorkload, 'validForWorkload');
      if (!validForWorkload) desk.requireText(reason, 'reason (why it does not fit the workload)', 'note');
    },
    ({ by, validForWorkload, reason }) => checkWorkload(by, validForWorkload, reason),
  );

  // ---- Design: a game plan, then the three-question decision -----------------------------------

  desk.action(
    recordGamePlanUpdate,
    'record-game-plan',
    ({ gamePlan }) => desk.requireText(gamePlan, 'gamePlan', 'message'),
    ({ by, gamePlan }) => {
      state.gamePlan = gamePlan;
      record(state, Date.now(), 'game plan recorded', by);
      desk.comment(`game-plan:${state.version}`, `Game plan:\n\n${gamePlan}`, 'post the game plan');
    },
  );

  desk.action(
    decideUpdate,
    'decide',
    ({ technicallyPossible, feasible, exceedsCapacity }) => {
      desk.requireBoolean(technicallyPossible, 'technicallyPossible');
      desk.requireBoolean(feasible, 'feasible');
      desk.requireBoolean(exceedsCapacity, 'exceedsCapacity');
    },
    ({ by, technicallyPossible, feasible, exceedsCapacity, note }) => {
      const answers = { technicallyPossible, feasible, exceedsCapacity };
      const approved = technicallyPossible && feasible && !exceedsCapacity;
      state.decision = { approved, answers, by, at: Date.now(), ...(note ? { note } : {}) };
      if (approved) desk.move('planning', by, note ?? 'approved');
      else desk.reject(rejectionReason(answers, note), by);
    },
  );

  // ---- Planning: a milestone; Development starts by itself when it begins ------------------------

  desk.action(
    setMilestoneUpdate,
    'set-milestone',
    ({ title, startsAt }) => {
      desk.requireText(title, 'title', 'title');
      if (typeof startsAt !== 'string' || !Number.isFinite(Date.parse(startsAt))) {
        desk.invalid('startsAt must be an ISO 8601 date-time, e.g. 2027-01-04T09:00:00Z');
      }
    },
    ({ by, title, startsAt }) => {
      state.milestone = { title, startsAt: Date.parse(startsAt) };
      record(state, Date.now(), 'milestone set', by, `${title} from ${startsAt}`);
    },
  );

  desk.action(
    startDevelopmentUpdate,
    'start-development',
    () => undefined,
    ({ by, note }) => desk.move('development', by, note ?? 'started before the milestone'),
  );

  // ---- Development and Validation -------------------------------------------------------------

  desk.action(
    submitForValidationUpdate,
    'submit-for-validation',
    () => undefined,
    ({ by, note }) => {
      desk.move('validation', by, note);
      desk.comment(
        `validation:${state.version}`,
        'Ready for validation: please check it meets your requirements and accept it or say what is missing.',
        'ask the requester to validate',
      );
    },
  );

  desk.action(
    acceptUpdate,
    'accept',
    () => undefined,
    ({ by }) => {
      state.validations.push({ accepted: true, by, at: Date.now() });
      desk.move('completed', by, 'validated; changes finalised');
      desk.comment('completed', `Validated by ${by}; the changes are finalised. Thank you!`, 'announce completion');
    },
  );

  function requestChanges(by: string, reason: string): void {
    state.validations.push({ accepted: false, reason, by, at: Date.now() });
    desk.move('development', by, reason);
    desk.comment(`changes:${state.version}`, `Back to development: ${reason}`, 'say why it went back');
  }

  desk.action(
    requestChangesUpdate,
    'request-changes',
    ({ reason }) => desk.requireText(reason, 'reason', 'note'),
    ({ by, reason }) => requestChanges(by, reason),
  );

  // ---- a label moved on the tracker: the same action, with what a label cannot say filled in -----

  desk.onTrackerLabels((action: string, to: Stage, by: string) => {
    const moved = 'moved on the tracker';
    switch (action) {
      case 'check-workload':
        return checkWorkload(by, to === 'design', to === 'design' ? moved : 'rejected on the tracker');
      case 'decide':
        state.decision = { approved: to === 'planning', answers: null, note: moved, by, at: Date.now() };
        if (to === 'planning') desk.move('planning', by, moved);
        else desk.reject('rejected in design on the tracker', by);
        return;
      case 'accept':
        state.validations.push({ accepted: true, by, at: Date.now() });
        desk.move('completed', by, 'validated on the tracker');
        return;
      case 'request-changes':
        return requestChanges(by, 'sent back to development on the tracker');
      default:
        desk.move(to, by, moved);
    }
  });

  // ---- what wakes the workflow: reminders, the give-up, the milestone --------------------------

  function nextWakeUp(): WakeUp | null {
    const hold = state.hold;
    if (hold?.on === 'requester') {
      const giveUpAt = hold.since + policy.informationGiveUpMs;
      const reminderAt = hold.since + ((hold.reminders ?? 0) + 1) * policy.triageReminderMs;
      if (reminderAt < giveUpAt) return { at: reminderAt, summary: 'remind the requester', run: remindRequester };
      return { at: giveUpAt, summary: 'give up waiting on the requester', run: giveUp };
    }
    if (state.stage === 'planning' && !hold && state.milestone) {
      const { title, startsAt } = state.milestone;
      return {
        at: startsAt,
        summary: `milestone ${title} begins`,
        run: () => desk.move('development', 'system', `milestone ${title} began`),
      };
    }
    return null;
  }

  function remindRequester(): void {
    const hold = state.hold!;
    hold.reminders = (hold.reminders ?? 0) + 1;
    record(state, Date.now(), 'requester reminded', 'system', `reminder ${hold.reminders}`);
    desk.comment(
      `reminder:${hold.since}:${hold.reminders}`,
      `A friendly reminder: we still need this to triage the request: ${hold.reason}`,
      'remind the requester',
    );
  }

  function giveUp(): void {
    endHold(state, Date.now(), 'system', 'no answer');
    state.rejection = { reason: 'no answer from the requester', by: 'system', at: Date.now() };
    desk.move('rejected', 'system', `no answer from the requester within ${formatDuration(policy.informationGiveUpMs)}`);
    desk.comment(
      'give-up',
      `We have not heard back for ${formatDuration(policy.informationGiveUpMs)}, so we are closing this request for now. ` +
        'Thank you for suggesting it: reopen it with the missing information whenever you like.',
      'close politely',
    );
  }

  return desk.run(nextWakeUp);
}

function rejectionReason(
  answers: { technicallyPossible: boolean; feasible: boolean; exceedsCapacity: boolean },
  note?: string,
): string {
  const why = !answers.technicallyPossible
    ? 'not technically possible'
    : !answers.feasible
      ? 'not feasible'
      : 'the effort far exceeds what the team can do with its current and future workload';
  return note ? `${why} (${note})` : why;
}
