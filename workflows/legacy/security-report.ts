// The security-report workflow of the first model, kept only so that runs started before
// workflows/security-report.ts (the `security-report-state-model` patch) replay and finish as they
// began; remove it with deprecatePatch once no such run is open.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { IncidentActivities } from '../../activities/incident';
import type { SecurityReportActivities } from '../../activities/security-report';
import { formatDuration } from '../../domain/format';
import { DESK_BREACHED, DESK_LEVEL, DESK_SEVERITY, DESK_STATUS } from '../../domain/search-attributes';
import type { SecurityReportProjection } from '../../domain/security-report';
import {
  acceptDisclosureUpdate,
  closeReportUpdate,
  linkFixUpdate,
  markScrubbedUpdate,
  requestDisclosureUpdate,
  respondToReportUpdate,
  securityReportStateQuery,
  type LegacySecurityReportState as SecurityReportState,
  type LegacySecurityReportView as SecurityReportView,
  type LegacySecurityReportWorkflowInput as SecurityReportWorkflowInput,
} from './security-report-types';
import { slaClock, type SlaClockState } from '../../domain/sla-clock';
import { ACTION_NOT_ALLOWED } from '../../domain/ticket';
import { EFFECT_OPTIONS, INTEGRATION_GIVE_UP_MS, effectOptions as summarised, gaveUp } from '../effects';

const activities = proxyActivities<IncidentActivities & SecurityReportActivities>(EFFECT_OPTIONS);

export async function legacySecurityReportWorkflow(input: SecurityReportWorkflowInput): Promise<SecurityReportView> {
  const { report, policy } = input;
  const workflowId = workflowInfo().workflowId;
  const state: SecurityReportState = {
    report,
    status: 'new',
    createdAt: Date.now(),
    respondedAt: null,
    respondedBy: null,
    breachedAt: null,
    escalating: null,
    escalations: [],
    disclosure: null,
    scrubbed: null,
    fixLink: null,
    published: null,
    reminders: 0,
    closedAt: null,
    timeline: [],
    integrationFailures: [],
    done: [],
    version: 0,
  };

  // ---- reading the state ----------------------------------------------------------------------

  const isFinished = (): boolean => state.status === 'published' || state.status === 'closed';

  /** The response clock, on the policy's business calendar. */
  const responseClock = (now: number): SlaClockState =>
    slaClock(
      {
        target: policy.respond,
        calendars: policy.calendars,
        warningShare: policy.warningShare,
        startedAt: state.createdAt,
        pauses: [],
        metAt: state.respondedAt,
      },
      now,
    );

  function disclosureBlockedBy(): string[] {
    const blocked: string[] = [];
    if (!state.scrubbed) blocked.push('not marked scrubbed of sensitive data');
    if (!state.fixLink) blocked.push('not linked to the fix');
    return blocked;
  }

  function view(): SecurityReportView {
    const { done: _done, escalating: _escalating, ...rest } = state;
    return {
      ...rest,
      id: report.id,
      workflowId,
      response: responseClock(Date.now()),
      disclosureBlockedBy: state.disclosure && !state.published ? disclosureBlockedBy() : [],
    };
  }

  // ---- changing the state ---------------------------------------------------------------------

  let dirty = false;
  /** The main loop is carrying out what is due (activities may be in flight). */
  let passRunning = false;

  function record(event: string, by?: string, note?: string): void {
    state.version += 1;
    state.timeline.push({ at: Date.now(), event, ...(by ? { by } : {}), ...(note ? { note } : {}) });
  }

  /** An update answers once the main loop has carried out every change so far (its own included). */
  async function settled(): Promise<void> {
    await condition(() => !dirty && !passRunning);
  }

  const key = (step: string): string => `${workflowId}:${step}`;

  /** A system that stays down is given up on after this (the policy's notificationGiveUpMs). */
  const giveUpMs = policy.notificationGiveUpMs ?? INTEGRATION_GIVE_UP_MS;

  /**
   * Runs one external effect. A system that refused it for good (a 4xx) or stayed down past the give-up
   * time is recorded and shown, the step counts as done (undefined), and the report goes on: escalation
   * never stops for a refused message or a chat system that is down.
   */
  async function attempt<T>(step: string, effect: () => Promise<T>): Promise<T | undefined> {
    try {
      return await effect();
    } catch (err) {
      const given = gaveUp(err);
      if (!given) throw err;
      const refusal = { at: Date.now(), step, ...given };
      state.integrationFailures.push(refusal);
      record('integration refused', 'system', `${step}: ${refusal.message}`);
      return undefined;
    }
  }

  async function tell(to: string, step: string, text: string): Promise<void> {
    if (state.done.includes(step)) return;
    await attempt(`${step}:${to}`, () =>
      activities.postOnChat.executeWithOptions(summarised(`${step} → ${to}`, giveUpMs), [
        { idempotencyKey: key(`${step}:${to}`), to, text },
      ]),
    );
  }

  async function tellTeam(step: string, text: string): Promise<void> {
    if (state.done.includes(step)) return;
    for (const to of policy.team) await tell(to, step, text);
    state.done.push(step);
  }

  // ---- due work: breach and escalation, disclosure ---------------------------------------------

  async function escalateIfDue(now: number): Promise<void> {
    const clock = responseClock(now);
    if (clock.metAt !== null || !clock.breached) {
      if (state.escalating?.nextAt != null && clock.metAt !== null) {
        state.escalating.nextAt = null;
        record('escalation stopped', 'system', 'responded');
      }
      return;
    }
    if (!state.escalating) {
      state.breachedAt = clock.breachedAt;
      record('response target breached', 'system', `due ${new Date(clock.dueAt!).toISOString()}`);
      state.escalating = { levelIndex: 0, repeat: 1, nextAt: null };
      await escalate(clock.dueAt ?? now);
      return;
    }
    const active = state.escalating;
    if (active.nextAt === null || now < active.nextAt) return;
    const level = policy.escalationChain[active.levelIndex];
    if (level && active.repeat < level.repeats) active.repeat += 1;
    else {
      active.levelIndex += 1;
      active.repeat = 1;
    }
    await escalate(active.nextAt);
  }

  async function escalate(dueAt: number): Promise<void> {
    const active = state.escalating!;
    const level = policy.escalationChain[active.levelIndex];
    if (!level) {
      active.nextAt = null;
      record('escalation chain ended', 'system');
      return;
    }
    active.nextAt = dueAt + level.waitMs;
    const step = { level: active.levelIndex + 1, repeat: active.repeat, notified: level.notify, at: Date.now() };
    state.escalations.push(step);
    record(`escalated to level ${step.level}`, 'system', level.notify.join(', '));
    for (const to of level.notify) {
      await tell(
        to,
        `escalation:${step.level}:${step.repeat}`,
        `Security report ${report.id} ("${report.title}", ${report.severity}) has had no response within ` +
          `${formatDuration(policy.respond.withinMs)} ${policy.respond.clock} time: escalation level ${step.level}.`,
      );
    }
  }

  const publicationAllowed = (now: number): boolean =>
    state.disclosure !== null &&
    (state.disclosure.acceptedAt !== null || now >= state.disclosure.dueAt) &&
    disclosureBlockedBy().length === 0;

  async function discloseIfDue(now: number): Promise<void> {
    const disclosure = state.disclosure;
    if (!disclosure || state.published) return;
    // The tracker refused the publication for good: the team was told; it publishes by hand and closes.
    if (state.done.includes('publication')) return;
    if (publicationAllowed(now)) {
      const issue = await attempt('publication', () =>
        activities.openTrackerIssue.executeWithOptions(summarised('publish the disclosure', giveUpMs), [
          {
            idempotencyKey: key('publication'),
            project: policy.disclosureProject,
            title: `Security disclosure: ${report.title}`,
            description: `Reported by ${report.reporter} (${report.severity}).\n\nFixed in: ${state.fixLink}`,
            labels: ['security', 'disclosure'],
            confidential: false,
          },
        ]),
      );
      if (!issue) {
        state.done.push('publication');
        await tellTeam(
          'publication-refused',
          `Security report "${report.title}" could not be published (the tracker refused it); publish it by hand and close the report.`,
        );
        return;
      }
      state.published = { at: now, ...issue };
      state.status = 'published';
      record('disclosure published', 'system', issue.webUrl);
      await tellTeam('published', `Security report "${report.title}" is published: ${issue.webUrl}`);
      return;
    }
    // The waiting time is over but the report is not ready: remind until it is.
    if (now < disclosure.dueAt) return;
    const due = Math.floor((now - disclosure.dueAt) / policy.remindEveryMs) + 1;
    if (due > state.reminders) {
      state.reminders = due;
      record(`disclosure reminder ${due}`, 'system', disclosureBlockedBy().join('; '));
      await tellTeam(
        `disclosure-reminder:${due}`,
        `Security report "${report.title}" may be disclosed now but is ${disclosureBlockedBy().join(' and ')}.`,
      );
    }
  }

  function nextWakeUp(now: number): { at: number; summary: string } | null {
    const candidates: Array<{ at: number; summary: string }> = [];
    const clock = responseClock(now);
    if (clock.metAt === null && !clock.breached && clock.dueAt !== null) {
      candidates.push({ at: clock.dueAt, summary: 'response due' });
    }
    if (clock.metAt === null && state.escalating?.nextAt != null) {
      candidates.push({ at: state.escalating.nextAt, summary: 'next escalation step' });
    }
    const disclosure = state.disclosure;
    if (disclosure && !state.published && !state.done.includes('publication')) {
      if (now < disclosure.dueAt) candidates.push({ at: disclosure.dueAt, summary: 'disclosure allowed' });
      else if (disclosureBlockedBy().length > 0) {
        candidates.push({
          at: disclosure.dueAt + state.reminders * policy.remindEveryMs,
          summary: 'disclosure reminder (waiting on scrubbing or the fix link)',
        });
      }
    }
    candidates.sort((a, b) => a.at - b.at);
    return candidates[0] ?? null;
  }

  // ---- publishing ------------------------------------------------------------------------------

  let lastSearchAttributes = '';
  let projectedVersion = -1;

  async function publish(): Promise<void> {
    const now = Date.now();
    const clock = responseClock(now);
    const attributes = [
      { key: DESK_STATUS, value: state.status },
      { key: DESK_SEVERITY, value: report.severity },
      { key: DESK_BREACHED, value: clock.breached },
      { key: DESK_LEVEL, value: state.escalations.reduce((max, e) => Math.max(max, e.level), 0) },
    ];
    const serialized = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
    if (serialized !== lastSearchAttributes) {
      upsertSearchAttributes(attributes);
      lastSearchAttributes = serialized;
    }
    setCurrentDetails(describeForOperators(view(), now));
    if (state.version > projectedVersion) {
      const version = state.version;
      await activities.recordSecurityReport(toProjection(state, clock, workflowId));
      projectedVersion = Math.max(projectedVersion, version);
    }
  }

  // ---- the security team's actions -------------------------------------------------------------

  const allowIf = (ok: boolean, reason: string): void => {
    if (!ok) throw ApplicationFailure.create({ type: ACTION_NOT_ALLOWED, message: reason, nonRetryable: true });
  };
  const requireText = (value: unknown, field: string): void => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw ApplicationFailure.create({ type: 'InvalidInput', message: `${field} is required`, nonRetryable: true });
    }
  };
  const notFinished = (): void => allowIf(!isFinished(), `the report is already ${state.status}`);

  setHandler(securityReportStateQuery, view);

  /** Every action: validate synchronously, change the state, answer after the loop acted on it. */
  function action<A extends { by: string }>(
    update: UpdateDefinition<SecurityReportView, [A]>,
    validate: (a: A) => void,
    apply: (a: A) => void,
  ): void {
    setHandler(
      update,
      async (a: A) => {
        apply(a);
        dirty = true;
        await settled();
        return view();
      },
      {
        validator: (a: A) => {
          requireText(a.by, 'by');
          validate(a);
        },
      },
    );
  }

  action(
    respondToReportUpdate,
    ({ message }) => {
      requireText(message, 'message');
      notFinished();
      allowIf(state.respondedAt === null, 'the report was already answered');
    },
    ({ by, message }) => {
      state.respondedAt = Date.now();
      state.respondedBy = by;
      state.status = 'responded';
      record('responded', by, message);
    },
  );

  action(
    requestDisclosureUpdate,
    () => {
      notFinished();
      allowIf(state.disclosure === null, 'disclosure was already requested');
    },
    ({ by }) => {
      const now = Date.now();
      state.disclosure = { requestedAt: now, requestedBy: by, dueAt: now + policy.disclosureAfterMs, acceptedAt: null, acceptedBy: null };
      state.status = 'disclosure-requested';
      record('disclosure requested', by, `allowed from ${new Date(state.disclosure.dueAt).toISOString()}`);
    },
  );

  action(
    markScrubbedUpdate,
    () => {
      notFinished();
      allowIf(state.scrubbed === null, 'the report is already marked scrubbed');
    },
    ({ by }) => {
      state.scrubbed = { at: Date.now(), by };
      record('scrubbed of sensitive data', by);
    },
  );

  action(
    linkFixUpdate,
    ({ url }: { by: string; url: string }) => {
      requireText(url, 'url');
      notFinished();
    },
    ({ by, url }) => {
      state.fixLink = url;
      record('linked to the fix', by, url);
    },
  );

  action(
    acceptDisclosureUpdate,
    () => {
      notFinished();
      allowIf(state.disclosure !== null, 'nobody requested a disclosure');
      allowIf(state.disclosure?.acceptedAt == null, 'the disclosure was already accepted');
    },
    ({ by }) => {
      state.disclosure!.acceptedAt = Date.now();
      state.disclosure!.acceptedBy = by;
      record('disclosure accepted early', by, disclosureBlockedBy().join('; ') || undefined);
    },
  );

  action(
    closeReportUpdate,
    () => notFinished(),
    ({ by }) => {
      state.status = 'closed';
      state.closedAt = Date.now();
      record('closed', by);
    },
  );

  // ---- the main loop ---------------------------------------------------------------------------

  record('reported', report.reporter, `${report.severity}; respond within ${formatDuration(policy.respond.withinMs)} ${policy.respond.clock} time`);
  await tellTeam('new-report', `New security report (${report.severity}): "${report.title}" from ${report.reporter}.`);

  for (;;) {
    passRunning = true;
    dirty = false;
    const now = Date.now();
    if (!isFinished()) {
      await escalateIfDue(now);
      await discloseIfDue(now);
    }
    await publish();
    passRunning = false;
    if (isFinished()) break;
    const next = nextWakeUp(Date.now());
    if (next === null) await condition(() => dirty);
    else await condition(() => dirty, Math.max(next.at - Date.now(), 1), { summary: next.summary });
  }

  await condition(allHandlersFinished);
  return view();
}

function toProjection(state: SecurityReportState, clock: SlaClockState, workflowId: string): SecurityReportProjection {
  const { report } = state;
  return {
    id: report.id,
    workflowId,
    externalId: report.externalId,
    title: report.title,
    severity: report.severity,
    reporter: report.reporter,
    status: state.status,
    createdAt: state.createdAt,
    respondDueAt: clock.dueAt,
    respondedAt: state.respondedAt,
    breached: clock.breached,
    disclosureRequestedAt: state.disclosure?.requestedAt ?? null,
    disclosureDueAt: state.disclosure?.dueAt ?? null,
    scrubbed: state.scrubbed !== null,
    fixLink: state.fixLink,
    publishedAt: state.published?.at ?? null,
    version: state.version,
  };
}

function describeForOperators(view: SecurityReportView, now: number): string {
  const r = view.response;
  const lines = [
    `**${view.status}** · ${view.report.severity} · reported by ${view.report.reporter}`,
    '',
    `Response: ${r.status}${r.dueAt !== null ? `, due ${new Date(r.dueAt).toISOString()}` : ''}` +
      (r.metAt === null ? ` (${formatDuration(r.remainingMs)} ${r.target.clock} time left)` : ''),
  ];
  if (view.disclosure) {
    lines.push(
      `Disclosure allowed from ${new Date(view.disclosure.dueAt).toISOString()}` +
        (view.disclosureBlockedBy.length ? `; blocked: ${view.disclosureBlockedBy.join(', ')}` : ''),
    );
  }
  const refused = view.integrationFailures;
  if (refused.length) {
    lines.push('', `**Given up on (refused, or down past the give-up time): ${refused.length}**`);
    for (const f of refused.slice(-3)) lines.push(`- ${new Date(f.at).toISOString()} ${f.step}: ${f.message}`);
  }
  lines.push('', '| when | what | who |', '|---|---|---|');
  for (const e of view.timeline.slice(-15)) lines.push(`| ${new Date(e.at).toISOString()} | ${e.event} | ${e.by ?? ''} |`);
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}
