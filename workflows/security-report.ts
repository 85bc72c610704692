// A security report from the bug-bounty platform as a durable workflow: a response target of one
// business day with the usual escalation, and a disclosure that waits 30 days (or the team's consent)
// and is never published before the report is scrubbed and linked to its fix.
import { patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { emptyEffectQueue, nothingProjected, type IntegrationRefusal } from '../domain/effects';
import { chainRanOut, dueSteps, nextChainMoment } from '../domain/escalation';
import { formatDuration } from '../domain/format';
import { DESK_BREACHED, DESK_LEVEL, DESK_SEVERITY, DESK_STATUS } from '../domain/search-attributes';
import {
  acceptDisclosureUpdate,
  closeReportUpdate,
  linkFixUpdate,
  markScrubbedUpdate,
  requestDisclosureUpdate,
  respondToReportUpdate,
  securityReportStateQuery,
  type CarriedSecurityReport,
  type SecurityReportActionResult,
  type SecurityReportIntake,
  type SecurityReportProjection,
  type SecurityReportState,
  type SecurityReportView,
  type SecurityReportWorkflowInput,
} from '../domain/security-report';
import { slaClock, type SlaClockState } from '../domain/sla-clock';
import { recordEntry, trimTimeline, unwrittenEntries } from '../domain/timeline';
import { INTEGRATION_GIVE_UP_MS, effectRunner } from './effects';
import { legacySecurityReportWorkflow } from './legacy/security-report';
import { continueWith, mainLoop, type WakeUp } from './main-loop';
import { operatorView, projectionWriter } from './publishing';
import { allowIf, invalid, requireText } from './validation';

/** Runs started before this model (no marker in their history) finish on the code they began with. */
export const SECURITY_REPORT_STATE_MODEL = 'security-report-state-model';

export async function securityReportWorkflow(input: SecurityReportWorkflowInput): Promise<unknown> {
  if (!patched(SECURITY_REPORT_STATE_MODEL)) return legacySecurityReportWorkflow(input);

  const { report, policy } = input;
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const carried: CarriedSecurityReport = input.carried ?? {
    model: 2,
    // The response clock starts when the report arrived (the workflow's start).
    report: openReport(report, info.startTime.getTime()),
    effects: emptyEffectQueue(),
    projection: nothingProjected(),
  };
  const s = carried.report;
  const loop = mainLoop();
  const record = (event: string, by?: string, note?: string) => recordEntry(s, Date.now(), event, by, note);

  const effects = effectRunner({
    queue: carried.effects,
    keyPrefix: `${workflowId}:${info.firstExecutionRunId}`,
    giveUpMs: policy.notificationGiveUpMs ?? INTEGRATION_GIVE_UP_MS,
    changed: loop.wake,
    recordRefusal: (r: IntegrationRefusal) => record('integration refused', 'system', `${r.step}: ${r.message}`),
    kinds: {
      chat: { activity: 'postOnChat', start: (data: object, key) => ({ args: { ...data, idempotencyKey: key } }) },
      publication: {
        activity: 'openTrackerIssue',
        start: (data: object, key) => ({ args: { ...data, idempotencyKey: key } }),
        done: (_data, issue: { iid: number; webUrl: string }) => {
          s.published = { at: Date.now(), ...issue };
          s.status = 'published';
          record('disclosure published', 'system', issue.webUrl);
          tellTeam('published', `Security report "${report.title}" is published: ${issue.webUrl}`);
        },
        // The team was told; it publishes by hand and closes the report.
        refused: () => {
          s.publicationRefused = true;
          tellTeam(
            'publication-refused',
            `Security report "${report.title}" could not be published (the tracker refused it); publish it by hand and close the report.`,
          );
        },
      },
    },
  });

  const projection = projectionWriter({
    progress: carried.projection,
    activity: 'recordSecurityReport',
    version: () => s.version,
    snapshot: (eventSeq) => {
      const events = unwrittenEntries(s, eventSeq);
      const row: SecurityReportProjection = {
        ...toProjection(s, responseClock(Date.now()), workflowId),
        chainId: info.firstExecutionRunId,
        events,
      };
      return { row, lastSeq: events[events.length - 1]?.seq ?? eventSeq };
    },
    changed: loop.wake,
  });

  /** Tells each person or channel of the security team, once per step. */
  function tellTeam(step: string, text: string): void {
    if (s.done.includes(step)) return;
    s.done.push(step);
    for (const to of policy.team) effects.add(`${step}:${to}`, 'chat', { to, text }, { lane: 'team', summary: `${step} → ${to}` });
  }

  // ---- reading the state ----------------------------------------------------------------------

  const isFinished = (): boolean => s.status === 'published' || s.status === 'closed';

  /** The response clock, on the policy's business calendar. */
  function responseClock(now: number): SlaClockState {
    return slaClock(
      {
        target: policy.respond,
        calendars: policy.calendars,
        warningShare: policy.warningShare,
        startedAt: s.createdAt,
        pauses: [],
        metAt: s.respondedAt,
      },
      now,
    );
  }

  function disclosureBlockedBy(): string[] {
    const blocked: string[] = [];
    if (!s.scrubbed) blocked.push('not marked scrubbed of sensitive data');
    if (!s.fixLink) blocked.push('not linked to the fix');
    return blocked;
  }

  const publicationAllowed = (now: number): boolean =>
    s.disclosure !== null &&
    (s.disclosure.acceptedAt !== null || now >= s.disclosure.dueAt) &&
    disclosureBlockedBy().length === 0;

  // ---- due work: breach and escalation, disclosure ---------------------------------------------

  function escalateIfDue(clock: SlaClockState, now: number): void {
    if (clock.metAt !== null) {
      if (s.escalating) {
        s.escalating = null;
        record('escalation stopped', 'system', 'responded');
      }
      return;
    }
    if (!clock.breached) return;
    if (!s.escalating && s.breachedAt === null) {
      s.breachedAt = clock.breachedAt;
      record('response target breached', 'system', `due ${new Date(clock.dueAt!).toISOString()}`);
      // The chain runs from the moment the response was due, however late this pass is.
      s.escalating = { startedAt: clock.breachedAt ?? now, fromLevel: 0, taken: 0 };
    }
    const run = s.escalating;
    if (!run) return;
    for (const step of dueSteps(policy.escalationChain, run, now)) {
      run.taken += 1;
      s.escalations.push({ level: step.level, repeat: step.repeat, notified: step.notify, at: now, dueAt: step.dueAt });
      record(`escalated to level ${step.level}`, 'system', step.notify.join(', '));
      for (const to of step.notify) {
        effects.add(
          `escalation:${step.level}:${step.repeat}:${to}`,
          'chat',
          {
            to,
            text:
              `Security report ${report.id} ("${report.title}", ${report.severity}) has had no response within ` +
              `${formatDuration(policy.respond.withinMs)} ${policy.respond.clock} time: escalation level ${step.level}.`,
          },
          { lane: 'escalation', summary: `escalation level ${step.level} → ${to}` },
        );
      }
    }
    if (chainRanOut(policy.escalationChain, run, now)) {
      run.ended = true;
      record('escalation chain ended', 'system');
    }
  }

  function discloseIfDue(now: number): void {
    const disclosure = s.disclosure;
    if (!disclosure || s.published || s.publicationRefused || s.done.includes('publication')) return;
    if (publicationAllowed(now)) {
      s.done.push('publication');
      effects.add(
        'publication',
        'publication',
        {
          project: policy.disclosureProject,
          title: `Security disclosure: ${report.title}`,
          description: `Reported by ${report.reporter} (${report.severity}).\n\nFixed in: ${s.fixLink}`,
          labels: ['security', 'disclosure'],
          confidential: false,
        },
        { lane: 'tracker', summary: 'publish the disclosure' },
      );
      return;
    }
    // The waiting time is over but the report is not ready: remind until it is.
    if (now < disclosure.dueAt) return;
    const due = Math.floor((now - disclosure.dueAt) / policy.remindEveryMs) + 1;
    if (due > s.reminders) {
      s.reminders = due;
      record(`disclosure reminder ${due}`, 'system', disclosureBlockedBy().join('; '));
      tellTeam(`disclosure-reminder:${due}`, `Security report "${report.title}" may be disclosed now but is ${disclosureBlockedBy().join(' and ')}.`);
    }
  }

  function nextWakeUp(clock: SlaClockState, now: number): WakeUp | null {
    const candidates: WakeUp[] = [];
    if (clock.metAt === null && !clock.breached && clock.dueAt !== null) candidates.push({ at: clock.dueAt, summary: 'response due' });
    const next = clock.metAt === null && s.escalating ? nextChainMoment(policy.escalationChain, s.escalating) : null;
    if (next) candidates.push({ at: next.at, summary: 'next escalation step' });
    const disclosure = s.disclosure;
    if (disclosure && !s.published && !s.publicationRefused && !s.done.includes('publication')) {
      if (now < disclosure.dueAt) candidates.push({ at: disclosure.dueAt, summary: 'disclosure allowed' });
      else if (disclosureBlockedBy().length > 0) {
        candidates.push({
          at: disclosure.dueAt + s.reminders * policy.remindEveryMs,
          summary: 'disclosure reminder (waiting on scrubbing or the fix link)',
        });
      }
    }
    candidates.sort((a, b) => a.at - b.at);
    return candidates[0] ?? null;
  }

  // ---- the security team's actions -------------------------------------------------------------

  const notFinished = (): void => allowIf(!isFinished(), `the report is already ${s.status}`);

  /** Every action: validate synchronously, change the state, wake the loop, answer once visible in the lists. */
  function action<A extends { by: string }>(
    update: UpdateDefinition<SecurityReportActionResult, [A]>,
    check: (a: A) => void,
    apply: (a: A) => void,
  ): void {
    setHandler(
      update,
      async (a: A) => {
        const before = s.recorded;
        apply(a);
        loop.wake();
        const version = s.version;
        const visible = await projection.visible(version);
        const event = s.timeline.find((e) => (e.seq ?? 0) > before)?.event ?? 'no change';
        return { id: report.id, status: s.status, version, event, visible };
      },
      {
        validator: (a: A) => {
          if (a === null || typeof a !== 'object') invalid('the action needs an object as its input');
          requireText(a.by, 'by', 'name');
          check(a);
        },
      },
    );
  }

  action(
    respondToReportUpdate,
    ({ message }) => {
      requireText(message, 'message', 'message');
      notFinished();
      allowIf(s.respondedAt === null, 'the report was already answered');
    },
    ({ by, message }) => {
      s.respondedAt = Date.now();
      s.respondedBy = by;
      s.status = 'responded';
      record('responded', by, message.slice(0, 160));
    },
  );

  action(
    requestDisclosureUpdate,
    () => {
      notFinished();
      allowIf(s.disclosure === null, 'disclosure was already requested');
    },
    ({ by }) => {
      const now = Date.now();
      s.disclosure = { requestedAt: now, requestedBy: by, dueAt: now + policy.disclosureAfterMs, acceptedAt: null, acceptedBy: null };
      s.status = 'disclosure-requested';
      record('disclosure requested', by, `allowed from ${new Date(s.disclosure.dueAt).toISOString()}`);
    },
  );

  action(
    markScrubbedUpdate,
    () => {
      notFinished();
      allowIf(s.scrubbed === null, 'the report is already marked scrubbed');
    },
    ({ by }) => {
      s.scrubbed = { at: Date.now(), by };
      record('scrubbed of sensitive data', by);
    },
  );

  action(
    linkFixUpdate,
    ({ url }: { by: string; url: string }) => {
      requireText(url, 'url', 'url');
      notFinished();
    },
    ({ by, url }) => {
      s.fixLink = url;
      record('linked to the fix', by, url);
    },
  );

  action(
    acceptDisclosureUpdate,
    () => {
      notFinished();
      allowIf(s.disclosure !== null, 'nobody requested a disclosure');
      allowIf(s.disclosure?.acceptedAt == null, 'the disclosure was already accepted');
    },
    ({ by }) => {
      s.disclosure!.acceptedAt = Date.now();
      s.disclosure!.acceptedBy = by;
      record('disclosure accepted early', by, disclosureBlockedBy().join('; ') || undefined);
    },
  );

  action(
    closeReportUpdate,
    () => notFinished(),
    ({ by }) => {
      s.status = 'closed';
      s.closedAt = Date.now();
      record('closed', by);
    },
  );

  setHandler(securityReportStateQuery, () => view(Date.now()));

  function view(now: number): SecurityReportView {
    const { done: _done, escalating: _escalating, recorded, ...rest } = s;
    return {
      ...rest,
      id: report.id,
      workflowId,
      timelineLength: recorded,
      response: responseClock(now),
      disclosureBlockedBy: s.disclosure && !s.published ? disclosureBlockedBy() : [],
      integrationFailures: carried.effects.refusals,
      pendingEffects: carried.effects.pending.length,
      projection: carried.projection,
    };
  }

  // ---- the main loop ---------------------------------------------------------------------------

  if (!input.carried) {
    record('reported', report.reporter, `${report.severity}; respond within ${formatDuration(policy.respond.withinMs)} ${policy.respond.clock} time`);
    tellTeam('new-report', `New security report (${report.severity}): "${report.title}" from ${report.reporter}.`);
  }
  const publishToOperators = operatorView();
  let clock = responseClock(Date.now());

  await loop.run({
    effects,
    projection,
    pass(now) {
      clock = responseClock(now);
      if (!isFinished()) {
        escalateIfDue(clock, now);
        discloseIfDue(now);
      }
      trimTimeline(s, carried.projection.eventSeq);
    },
    publish(now) {
      publishToOperators(
        [
          { key: DESK_STATUS, value: s.status },
          { key: DESK_SEVERITY, value: report.severity },
          { key: DESK_BREACHED, value: clock.breached },
          { key: DESK_LEVEL, value: s.escalations.reduce((max, e) => Math.max(max, e.level), 0) },
        ],
        describeForOperators(view(now), carried, now),
      );
      projection.sync();
    },
    nextWakeUp: (now) => nextWakeUp(clock, now),
    finished: isFinished,
    continueAsNew: () => continueWith<SecurityReportWorkflowInput>({ ...input, carried }),
    limits: { events: input.continueAsNewAfterEvents, bytes: input.continueAsNewAfterBytes },
  });
  return view(Date.now());
}

function openReport(report: SecurityReportIntake, now: number): SecurityReportState {
  return {
    report,
    status: 'new',
    createdAt: now,
    respondedAt: null,
    respondedBy: null,
    breachedAt: null,
    escalating: null,
    escalations: [],
    disclosure: null,
    scrubbed: null,
    fixLink: null,
    published: null,
    publicationRefused: false,
    reminders: 0,
    closedAt: null,
    timeline: [],
    recorded: 0,
    done: [],
    version: 0,
  };
}

function toProjection(s: SecurityReportState, clock: SlaClockState, workflowId: string): SecurityReportProjection {
  const { report } = s;
  return {
    id: report.id,
    workflowId,
    externalId: report.externalId,
    title: report.title,
    severity: report.severity,
    reporter: report.reporter,
    status: s.status,
    createdAt: s.createdAt,
    respondDueAt: clock.dueAt,
    respondedAt: s.respondedAt,
    breached: clock.breached,
    disclosureRequestedAt: s.disclosure?.requestedAt ?? null,
    disclosureDueAt: s.disclosure?.dueAt ?? null,
    scrubbed: s.scrubbed !== null,
    fixLink: s.fixLink,
    publishedAt: s.published?.at ?? null,
    version: s.version,
  };
}

function describeForOperators(view: SecurityReportView, carried: CarriedSecurityReport, now: number): string {
  const r = view.response;
  const lines = [
    // Current details are not encrypted: the reporter's name and the title stay out of them.
    `**${view.status}** · ${view.report.severity}`,
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
  const { pending, refusals, refusedCount } = carried.effects;
  if (pending.length) lines.push('', `Effects going out: ${pending.length}`);
  if (refusedCount) {
    lines.push('', `**Given up on (refused, or down past the give-up time): ${refusedCount}**`);
    for (const f of refusals.slice(-3)) lines.push(`- ${new Date(f.at).toISOString()} ${f.step}: ${f.message}`);
  }
  if (carried.projection.refused) lines.push('', `**Projection refused by PostgreSQL:** ${carried.projection.refused.message}`);
  lines.push('', '| when | what | who |', '|---|---|---|');
  const who = (by: string | null | undefined) => (by === view.report.reporter ? 'the reporter' : (by ?? ''));
  for (const e of view.timeline.slice(-15)) lines.push(`| ${new Date(e.at).toISOString()} | ${e.event} | ${who(e.by)} |`);
  lines.push('', `_as of ${new Date(now).toISOString()}_`);
  return lines.join('\n');
}
