// Records one representative history per workflow kind on the time-skipping server and saves each as
// test/histories/<kind>-<story>.json for the replay test. Run: `npm run record-history [-- <kind>...]`.
// Re-record only on purpose: a committed file is what proves old histories still replay. Recordings are
// encrypted with the tests' key (test/encryption.ts), as every payload the desk writes is.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import pino from 'pino';
import { logIntegrations } from '../../activities/integrations';
import { LogNotifier } from '../../activities/notifier';
import {
  acknowledgeIncidentUpdate,
  followUpClosedSignal,
  incidentStateQuery,
  incidentWorkflowId,
  resolveIncidentPolicy,
  resolveIncidentUpdate,
  type IncidentIntake,
} from '../../domain/incident';
import { DEFAULT_POLICY, resolveTicketPolicy, resolveWorkItemPolicy } from '../../domain/policy';
import {
  linkFixUpdate,
  markScrubbedUpdate,
  requestDisclosureUpdate,
  resolveSecurityPolicy,
  respondToReportUpdate,
  securityReportStateQuery,
  securityReportWorkflowId,
  type SecurityReportIntake,
} from '../../domain/security-report';
import {
  acknowledgeUpdate,
  changePolicySignal,
  changeTierUpdate,
  closeUpdate,
  escalateUpdate,
  replyUpdate,
  reopenUpdate,
  requesterRepliedSignal,
  resolveUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  waitOnRequesterUpdate,
  type TicketIntake,
} from '../../domain/ticket';
import {
  acceptUpdate,
  blockUpdate,
  bugTriageUpdate,
  checkWorkloadUpdate,
  completeUpdate,
  decideUpdate,
  featureTriageUpdate,
  provideInformationUpdate,
  recordGamePlanUpdate,
  requestChangesUpdate,
  resumeUpdate,
  setMilestoneUpdate,
  startDevelopmentUpdate,
  submitForValidationUpdate,
  trackerLabelsChangedSignal,
  waitUpdate,
  workItemStateQuery,
  workItemWorkflowId,
  type WorkItemIntake,
  type WorkItemView,
} from '../../domain/work-item';
import { createDeskWorker } from '../../workers/worker';
import type { bugReportWorkflow } from '../../workflows/bug-report';
import type { featureRequestWorkflow } from '../../workflows/feature-request';
import type { incidentWorkflow } from '../../workflows/incident';
import type { securityReportWorkflow } from '../../workflows/security-report';
import type { ticketWorkflow } from '../../workflows/ticket';
import { testKeys } from '../encryption';
import { eventually } from '../eventually';
import { messageRef } from '../actions';
import { createTestDatabase, type TestDatabase } from '../postgres';
import { bundleWorkflows, timeSkippingEnvironment } from '../temporal';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const taskQueue = 'record-history';

/**
 * The workflow model the stories are recorded with (now: the `*-state-model` patches with projection
 * writes as local activities, `projection-local-activity`): part of every file name, so a recording
 * never overwrites a history of an earlier model, which must keep replaying.
 */
const MODEL = 'local-projection';
/**
 * How the payloads are written, also part of the name: files without it are from before the codec
 * (plain payloads, which must keep replaying through it) and are never overwritten.
 */
const ENCODING = 'encrypted';

/** One story per kind: drives a workflow to its end and returns its history. */
type Recorder = (env: TestWorkflowEnvironment) => Promise<History>;

// ---- ticket --------------------------------------------------------------------------------------

/** Warning, breach, escalation, acknowledgement, pause, signal, re-tier, resolve, reopen, close. */
async function recordTicket(env: TestWorkflowEnvironment): Promise<History> {
  const ticket: TicketIntake = {
    id: 'recorded-1',
    externalId: 'zd-1',
    channel: 'helpdesk',
    tier: 1,
    priority: 'normal',
    subject: 'Cannot log in to the VPN',
    description: '',
    requester: { name: 'Sam' },
    private: false,
  };
  const h = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk') }],
  });
  await env.sleep(5 * H + 1_000); // warning, breach, level 1, level 2
  await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
  await h.executeUpdate(replyUpdate, { args: [{ by: 'alice', role: 'agent', message: messageRef('Looking into it.') }] });
  await h.executeUpdate(waitOnRequesterUpdate, { args: [{ by: 'alice', question: messageRef('Which client?') }] });
  await h.executeUpdate(replyUpdate, { args: [{ by: 'requester', role: 'requester', message: messageRef('Version 5') }] });
  await h.executeUpdate(changeTierUpdate, { args: [{ by: 'alice', tier: 2, reason: 'root cause needed' }] });
  await h.executeUpdate(escalateUpdate, { args: [{ by: 'lead', reason: 'key account' }] });
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Upgraded the client.') }] });
  await h.executeUpdate(reopenUpdate, { args: [{ by: 'requester', reason: 'Broke again' }] });
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Reinstalled.') }] });
  // Signals last: the test server stops skipping time after one.
  await h.signal(requesterRepliedSignal, { message: messageRef('Thanks, works now'), source: 'zendesk' });
  await h.executeUpdate(closeUpdate, { args: [{ by: 'alice' }] });
  return finished(h, 'closed');
}

/**
 * A policy rollout's signal 3 h in (the warning sent): the new slice's 2 h acknowledgement is breached
 * at once and escalates; then acknowledged, resolved, closed (updates: no time to skip after a signal).
 */
async function recordTicketPolicyChange(env: TestWorkflowEnvironment): Promise<History> {
  const ticket: TicketIntake = {
    id: 'recorded-2',
    externalId: 'zd-2',
    channel: 'helpdesk',
    tier: 1,
    priority: 'normal',
    subject: 'Printer queue stuck',
    description: '',
    requester: { name: 'Kim' },
    private: false,
  };
  const h = await env.client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk') }],
  });
  await env.sleep(3 * H + 1_000);
  const faster = resolveTicketPolicy(
    { ...DEFAULT_POLICY, name: 'faster', channels: { ...DEFAULT_POLICY.channels, default: { ...DEFAULT_POLICY.channels.default, acknowledge: { withinMs: 2 * H, clock: 'calendar' } } } },
    'helpdesk',
  );
  await h.signal(changePolicySignal, { policy: faster, by: 'admin', reason: 'the new contract', rolloutId: 'recorded-rollout' });
  await until(() => h.query(ticketStateQuery), (v) => v.escalations.length >= 1);
  await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'alice', resolution: messageRef('Cleared the queue.') }] });
  await h.executeUpdate(closeUpdate, { args: [{ by: 'alice' }] });
  return finished(h, 'closed');
}

// ---- incident ------------------------------------------------------------------------------------

/**
 * Level 1 paged, nobody answers, level 2 at 5 minutes, acknowledged; still open after an hour it
 * becomes a crisis (document, announcements, a status update); resolved, two daily follow-up
 * reminders, then the tracker reports the follow-up closed.
 */
async function recordIncident(env: TestWorkflowEnvironment): Promise<History> {
  const incident: IncidentIntake = {
    id: 'recorded-1',
    externalId: 'pd-1',
    title: 'Customer instance down',
    description: 'The customer cannot reach their instance at all.',
    severity: 'critical',
    customerTicketId: 'zendesk-5150',
    deskTicketId: null,
  };
  const h = await env.client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
    taskQueue,
    workflowId: incidentWorkflowId(incident.id),
    args: [{ incident, policy: resolveIncidentPolicy(DEFAULT_POLICY) }],
  });
  const state = () => h.query(incidentStateQuery);
  // A sleep returns once time has moved; waiting for what it made due keeps the story in order.
  await env.sleep(5 * M + 1_000);
  await until(state, (s) => s.level === 2);
  await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
  await env.sleep(55 * M);
  await until(state, (s) => s.announcements.length === DEFAULT_POLICY.incident!.crisis.announceChannels.length);
  await env.sleep(31 * M);
  await until(state, (s) => s.statusUpdates === 1);
  await h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Restarted the database primary.' }] });
  await env.sleep(2 * D + M);
  await until(state, (s) => s.followUp?.reminders === 2);
  // Signals last: the test server stops skipping time after one.
  await h.signal(followUpClosedSignal, { by: 'alice', source: 'gitlab' });
  return finished(h, 'closed');
}

// ---- security report -----------------------------------------------------------------------------

/**
 * Filed on a Monday at 10:00 UTC and unanswered for a business day: breached on Tuesday at 10:00,
 * escalated to levels 1 and 2; answered; the reporter requests disclosure; 30 days later a reminder
 * (not scrubbed, no fix link); scrubbed, linked to the fix, published.
 */
async function recordSecurityReport(env: TestWorkflowEnvironment): Promise<History> {
  await env.sleep(untilNextMondayTenUtc(await env.currentTimeMs()));
  const report: SecurityReportIntake = {
    id: 'recorded-1',
    externalId: 'h1-1',
    title: 'Stored XSS in the project wiki',
    description: 'Steps to reproduce ...',
    severity: 'high',
    reporter: 'hacker-one-alice',
  };
  const h = await env.client.workflow.start<typeof securityReportWorkflow>('securityReportWorkflow', {
    taskQueue,
    workflowId: securityReportWorkflowId(report.id),
    args: [{ report, policy: resolveSecurityPolicy(DEFAULT_POLICY) }],
  });
  const state = () => h.query(securityReportStateQuery);
  await until(state, (s) => s.response.dueAt !== null);
  await env.sleep(D + 6 * M); // due Tuesday 10:00 (7 business hours Monday, 1 Tuesday); level 2 five minutes later
  await until(state, (s) => s.escalations.length === 2);
  await h.executeUpdate(respondToReportUpdate, { args: [{ by: 'sec-bob', message: 'Confirmed, fixing.' }] });
  await h.executeUpdate(requestDisclosureUpdate, { args: [{ by: 'hacker-one-alice' }] });
  await env.sleep(30 * D + M);
  await until(state, (s) => s.reminders === 1);
  await h.executeUpdate(markScrubbedUpdate, { args: [{ by: 'sec-bob' }] });
  await h.executeUpdate(linkFixUpdate, { args: [{ by: 'sec-bob', url: 'https://gitlab.example.com/product/-/merge_requests/42' }] });
  return finished(h, 'published');
}

/** The business calendar is Mon–Fri 09–17 UTC: a fixed start keeps the story the same whenever it is recorded. */
function untilNextMondayTenUtc(now: number): number {
  const at = new Date(now);
  at.setUTCHours(10, 0, 0, 0);
  at.setUTCDate(at.getUTCDate() + ((8 - at.getUTCDay()) % 7 || 7));
  return at.getTime() - now;
}

// ---- feature request -----------------------------------------------------------------------------

/**
 * Triage asks the requester (one reminder) and gets the answer; workload, game plan, decision; a
 * milestone whose start moves it to Development by itself; Waiting and Blocked there; the tracker
 * label moved to Verification; accepted.
 */
async function recordFeatureRequest(env: TestWorkflowEnvironment): Promise<History> {
  const item: WorkItemIntake = {
    id: 'recorded-1',
    kind: 'feature-request',
    externalId: 'gl-1',
    title: 'Dark mode',
    description: 'Please.',
    requester: { name: 'Sam' },
  };
  const h = await env.client.workflow.start<typeof featureRequestWorkflow>('featureRequestWorkflow', {
    taskQueue,
    workflowId: workItemWorkflowId(item.kind, item.id),
    args: [{ item, policy: resolveWorkItemPolicy(DEFAULT_POLICY, item.kind) }],
  });
  const state = () => h.query(workItemStateQuery);
  await until(state, (s) => s.tracker !== null);
  await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: false, question: 'Which screens?' }] });
  await env.sleep(3 * D + M);
  await until(state, (s) => s.hold?.reminders === 1);
  await h.executeUpdate(provideInformationUpdate, { args: [{ by: 'sam', information: 'All of them.' }] });
  await h.executeUpdate(featureTriageUpdate, { args: [{ by: 'alice', enoughInformation: true }] });
  await h.executeUpdate(checkWorkloadUpdate, { args: [{ by: 'alice', validForWorkload: true }] });
  await h.executeUpdate(recordGamePlanUpdate, { args: [{ by: 'bob', gamePlan: 'A theme switch in settings.' }] });
  await h.executeUpdate(decideUpdate, {
    args: [{ by: 'bob', technicallyPossible: true, feasible: true, exceedsCapacity: false }],
  });
  const planned = await state();
  const startsAt = new Date(planned.stageHistory.at(-1)!.enteredAt + 7 * D).toISOString();
  await h.executeUpdate(setMilestoneUpdate, { args: [{ by: 'pm', title: '2027.1', startsAt }] });
  await env.sleep(7 * D + M);
  await until(state, (s) => s.stage === 'development');
  await holdAndResume(env, h);
  // Signals last: the test server stops skipping time after one.
  await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Verification'], by: 'dana' });
  await until(state, (s) => s.stage === 'validation');
  await h.executeUpdate(acceptUpdate, { args: [{ by: 'sam' }] });
  return finished(h, 'completed');
}

/** Waiting on a dependency for 2 hours, then Blocked for 3: the same for both work-item kinds. */
async function holdAndResume(env: TestWorkflowEnvironment, h: WorkflowHandle): Promise<void> {
  await h.executeUpdate(waitUpdate, { args: [{ by: 'dev', on: 'dependency', reason: 'design tokens release' }] });
  await env.sleep(2 * H);
  await h.executeUpdate(resumeUpdate, { args: [{ by: 'dev' }] });
  await h.executeUpdate(blockUpdate, { args: [{ by: 'dev', reason: 'CI is down' }] });
  await env.sleep(3 * H);
  await h.executeUpdate(resumeUpdate, { args: [{ by: 'dev', note: 'CI is back' }] });
}

// ---- bug report ----------------------------------------------------------------------------------

/**
 * Confirmed in triage; game plan with extra labels; Development with Waiting and Blocked; a failed
 * validation back to Development; the tracker label moved to Production confirms the fix; completed.
 */
async function recordBugReport(env: TestWorkflowEnvironment): Promise<History> {
  const item: WorkItemIntake = {
    id: 'recorded-1',
    kind: 'bug-report',
    externalId: 'gl-2',
    title: 'Export crashes on empty reports',
    description: 'Stack trace attached.',
    requester: { name: 'Kim' },
  };
  const h = await env.client.workflow.start<typeof bugReportWorkflow>('bugReportWorkflow', {
    taskQueue,
    workflowId: workItemWorkflowId(item.kind, item.id),
    args: [{ item, policy: resolveWorkItemPolicy(DEFAULT_POLICY, item.kind) }],
  });
  const state = (): Promise<WorkItemView> => h.query(workItemStateQuery);
  await until(state, (s) => s.tracker !== null);
  await h.executeUpdate(bugTriageUpdate, { args: [{ by: 'alice', valid: true }] });
  await h.executeUpdate(recordGamePlanUpdate, {
    args: [{ by: 'bob', gamePlan: 'Guard the empty list in the exporter.', labels: ['severity::2', 'exporter'] }],
  });
  await h.executeUpdate(startDevelopmentUpdate, { args: [{ by: 'bob' }] });
  await holdAndResume(env, h);
  await h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'bob' }] });
  await h.executeUpdate(requestChangesUpdate, { args: [{ by: 'kim', reason: 'Still crashes with filters on.' }] });
  await h.executeUpdate(submitForValidationUpdate, { args: [{ by: 'bob' }] });
  await h.signal(trackerLabelsChangedSignal, { labels: ['Workflow::Production', 'severity::2', 'exporter'], by: 'kim' });
  await until(state, (s) => s.stage === 'production');
  await h.executeUpdate(completeUpdate, { args: [{ by: 'release-bot', note: 'shipped in 17.3.1' }] });
  return finished(h, 'completed');
}

// ---- recording and saving ------------------------------------------------------------------------

/** Like eventually(), but a story that did not happen fails the recording instead of saving it. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const value = await eventually(read, ok);
  if (!ok(value)) throw new Error(`the story went astray: ${ok.toString()} never held`);
  return value;
}

/** Waits for the workflow to complete in the state the story ends in, so the saved history is whole. */
async function finished(h: WorkflowHandle, end: string): Promise<History> {
  const result = (await h.result()) as { status?: string; stage?: string };
  const reached = result.status ?? result.stage;
  if (reached !== end) throw new Error(`${h.workflowId} ended ${reached}, not ${end}`);
  return h.fetchHistory();
}

const RECORDINGS: Array<{ kind: string; story: string; record: Recorder }> = [
  { kind: 'ticket', story: 'escalated-reopened-closed', record: recordTicket },
  { kind: 'ticket', story: 'policy-changed-breached-closed', record: recordTicketPolicyChange },
  { kind: 'incident', story: 'paged-crisis-resolved-followed-up', record: recordIncident },
  { kind: 'security-report', story: 'escalated-answered-published', record: recordSecurityReport },
  { kind: 'feature-request', story: 'triaged-milestone-held-validated', record: recordFeatureRequest },
  { kind: 'bug-report', story: 'held-refixed-by-label-completed', record: recordBugReport },
];

/** A fresh time-skipping server per story: it stops skipping time after a signal or a rejected update. */
async function recordOne(bundle: WorkflowBundle, db: TestDatabase, record: Recorder): Promise<History> {
  const env = await timeSkippingEnvironment();
  try {
    const silent = pino({ level: 'silent' });
    const worker = await createDeskWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      pool: db.pool,
      notifier: new LogNotifier(silent),
      integrations: logIntegrations(silent),
      encryptionKeys: testKeys,
      workflowBundle: bundle,
    });
    return await worker.runUntil(() => record(env));
  } finally {
    await env.teardown();
  }
}

/** Records the kinds named on the command line, or all of them. */
async function main(kinds: string[]): Promise<void> {
  const unknown = kinds.filter((k) => !RECORDINGS.some((r) => r.kind === k || `${r.kind}:${r.story}` === k));
  if (unknown.length > 0) throw new Error(`unknown kind ${unknown.join(', ')}; kinds: ${RECORDINGS.map((r) => r.kind).join(', ')}`);
  // A kind records each of its stories; `kind:story` only that one (the others' files stay as committed).
  const chosen = RECORDINGS.filter((r) => kinds.length === 0 || kinds.includes(r.kind) || kinds.includes(`${r.kind}:${r.story}`));
  const [bundle, db] = await Promise.all([bundleWorkflows(), createTestDatabase()]);
  try {
    for (const { kind, story, record } of chosen) {
      const history = await recordOne(bundle, db, record);
      const file = path.join(__dirname, `${kind}-${story}-${MODEL}-${ENCODING}.json`);
      writeFileSync(file, historyToJSON(history) + '\n');
      console.log(`saved ${history.events?.length} events to ${path.relative(process.cwd(), file)}`);
    }
  } finally {
    await db.drop();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
