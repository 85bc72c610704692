// The emergency incident's timing on the time-skipping test server: the 5-minute acknowledgement and
// the second level, one acknowledgement from two sources, crisis mode, resolution and its follow-up.
// Activities are the real ones on PostgreSQL with the log drivers behind a recorder (what reached each
// driver); effects are counted in external_effects. Also: a private emergency, and a system refusing for good.
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  acknowledgeIncidentUpdate,
  addResponderUpdate,
  closeFollowUpUpdate,
  declareCrisisUpdate,
  followUpClosedSignal,
  incidentStateQuery,
  incidentWorkflowId,
  pageAcknowledgedSignal,
  pageResolvedSignal,
  resolveIncidentUpdate,
  resolveIncidentPolicy,
  type IncidentActionResult,
  type IncidentIntake,
  type IncidentView,
} from '../domain/incident';
import { DEFAULT_POLICY, type Policy } from '../domain/policy';
import { parsePolicy } from '../config/policy-schema';
import { startIncident } from '../api/incident';
import { eventually } from '../test/eventually';
import { actThenView } from '../test/actions';
import type { UpdateDefinition } from '@temporalio/common';
import { recordingIntegrations, type DriverCall, type RecordingIntegrations } from '../test/recording-integrations';
import type { TestDatabase } from '../test/postgres';
import { timeSkippingDesk } from '../test/time-skipping';
import type { incidentWorkflow } from './incident';

const S = 1_000;
const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const taskQueue = 'incident-tests';
const CHANNELS = DEFAULT_POLICY.incident!.crisis.announceChannels;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
// What reached the drivers in the current test; a test that needs a refusal sets its own before withWorker.
let recorder: RecordingIntegrations;
beforeEach(() => {
  recorder = recordingIntegrations();
});
// A fresh time-skipping server and desk worker for every test (test/time-skipping.ts says why).
const withWorker = timeSkippingDesk({
  taskQueue,
  use: (test) => ({ env, db } = test),
  worker: () => ({ integrations: recorder.integrations }),
});
const callsTo = (system: DriverCall['system'], action: string): DriverCall[] =>
  recorder.calls.filter((c) => c.system === system && c.action === action);

async function raiseIncident(
  overrides: Partial<IncidentIntake> = {},
  policy: Policy = DEFAULT_POLICY,
  continueAsNewAfterEvents?: number,
): Promise<WorkflowHandle<typeof incidentWorkflow>> {
  const incident: IncidentIntake = {
    id: `in-${randomBytes(4).toString('hex')}`,
    externalId: null,
    title: 'Customer instance down',
    description: 'The customer cannot reach their instance at all.',
    severity: 'critical',
    customerTicketId: 'zendesk-5150',
    deskTicketId: null,
    ...overrides,
  };
  return env.client.workflow.start<typeof incidentWorkflow>('incidentWorkflow', {
    taskQueue,
    workflowId: incidentWorkflowId(incident.id),
    args: [{ incident, policy: resolveIncidentPolicy(policy), continueAsNewAfterEvents }],
  });
}

const state = (h: WorkflowHandle): Promise<IncidentView> => h.query(incidentStateQuery);

/** An action, then the incident as the agent sees it afterwards. */
const act = <I>(h: WorkflowHandle, update: UpdateDefinition<IncidentActionResult, [I]>, input: I): Promise<IncidentView> =>
  actThenView(h, update as UpdateDefinition<unknown, [I]>, input, incidentStateQuery);

/** External effects done for a workflow whose step (after `<workflowId>:<chainId>:`) starts with `step`. */
async function effects(h: WorkflowHandle, step: string): Promise<string[]> {
  // Effects go out beside the loop: read them once none is queued or running.
  await eventually(() => state(h), (s) => s.pendingEffects === 0, 30_000);
  const { rows } = await db.pool.query<{ idempotency_key: string }>(
    "SELECT idempotency_key FROM external_effects WHERE starts_with(idempotency_key, $1) AND completed_at IS NOT NULL ORDER BY completed_at",
    [`${h.workflowId}:`],
  );
  return rows.map((r) => r.idempotency_key.split(':').slice(2).join(':')).filter((k) => k.startsWith(step));
}

/** Waits (in real time) until `count` effects of `step` are done: effects go out beside the loop. */
const effectsDone = (h: WorkflowHandle, step: string, count: number) =>
  eventually(() => effects(h, step), (e) => e.length >= count);

/**
 * Skips the test server's clock to the moment `at` (absolute, as the workflow recorded it). Real time
 * spent in the test moves that clock too, so a relative `env.sleep` would land late by however long
 * the test took to get here.
 */
async function sleepUntil(at: number): Promise<void> {
  const ms = at - (await env.currentTimeMs());
  if (ms > 0) await env.sleep(ms);
}

/**
 * How long before a deadline a "not yet" check is made: room for the real time the check itself takes
 * (queries, a database read) on a busy machine, during which the clock runs on towards the deadline.
 */
const JUST_BEFORE = 10 * S;

describe('paging and the 5-minute acknowledgement', () => {
  it('an unacknowledged emergency pages the second level at exactly 5 minutes, not before', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      const raised = await eventually(() => state(h), (s) => s.pages.length === 1);
      expect(raised.pages[0]).toMatchObject({ level: 1, notified: ['oncall-primary'], reason: 'paging chain' });
      expect(raised.acknowledgeDueAt).toBe(raised.createdAt + 5 * M);
      expect(await effectsDone(h, 'page:', 1)).toEqual(['page:1:1:oncall-primary']);

      await sleepUntil(raised.createdAt + 5 * M - JUST_BEFORE); // 4:50
      const before = await state(h);
      expect(before.pages).toHaveLength(1);
      expect(before.level).toBe(1);
      expect(await effects(h, 'page:')).toHaveLength(1);

      await sleepUntil(raised.createdAt + 5 * M); // 5:00
      const paged = await eventually(() => state(h), (s) => s.pages.length === 2);
      expect(paged.pages[1]).toMatchObject({ level: 2, repeat: 1, notified: ['oncall-secondary'] });
      expect(paged.pages[1]!.at - paged.createdAt).toBeGreaterThanOrEqual(5 * M);
      // Taken when the timer fired: past 5:00 only by the time a busy machine takes to run the task.
      expect(paged.pages[1]!.at - paged.createdAt).toBeLessThan(5 * M + 5 * S);
      expect(paged.level).toBe(2);
      expect(paged.breached).toBe(true);
      expect(await effectsDone(h, 'page:', 2)).toEqual(['page:1:1:oncall-primary', 'page:2:1:oncall-secondary']);

      // Level 2 is paged again 5 minutes later (it has 3 pages), not sooner.
      const secondAt = paged.pages[1]!.at;
      await sleepUntil(secondAt + 5 * M - JUST_BEFORE);
      expect((await state(h)).pages).toHaveLength(2);
      await sleepUntil(secondAt + 5 * M);
      const again = await eventually(() => state(h), (s) => s.pages.length === 3);
      expect(again.pages[2]).toMatchObject({ level: 2, repeat: 2 });
      expect(again.pages[2]!.at - again.createdAt).toBeGreaterThanOrEqual(10 * M);
    });
  });

  it('an emergency acknowledged just before 5:00 never pages the second level, and the customer hears who handles it', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      const { createdAt } = await state(h);
      // 4:50: the acknowledgement itself takes real time, during which the clock runs on towards 5:00.
      await sleepUntil(createdAt + 5 * M - JUST_BEFORE);
      const acked = await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice', acknowledgedVia: 'api', alreadyAcknowledged: false });
      const ackedState = await state(h);
      expect(ackedState.acknowledgedAt! - createdAt).toBeLessThan(5 * M);
      expect(ackedState.breached).toBe(false);

      await env.sleep(50 * M); // far past every step of the chain, short of the one-hour crisis
      const s = await state(h);
      expect(s.pages).toHaveLength(1);
      expect(s.level).toBe(1);
      expect(s.crisis).toBeNull();
      expect(await effects(h, 'page')).toEqual(['page:1:1:oncall-primary', 'page-acknowledged:oncall-primary']);
      expect(await effects(h, 'customer-told-who-handles-it')).toHaveLength(1);
    });
  });

  it('acknowledged in the very request that raises it (update-with-start): on-call is still paged, then the page is acknowledged', async () => {
    await withWorker(async () => {
      const incident: IncidentIntake = {
        id: `in-${randomBytes(4).toString('hex')}`,
        externalId: null,
        title: 'Customer instance down',
        description: '',
        severity: 'critical',
        customerTicketId: null,
        deskTicketId: null,
      };
      const start = new WithStartWorkflowOperation<typeof incidentWorkflow>('incidentWorkflow', {
        taskQueue,
        workflowId: incidentWorkflowId(incident.id),
        workflowIdConflictPolicy: 'FAIL',
        args: [{ incident, policy: resolveIncidentPolicy(DEFAULT_POLICY) }],
      });
      // The update runs in the workflow's first task, as its handler is registered.
      const answer = await env.client.workflow.executeUpdateWithStart(acknowledgeIncidentUpdate, {
        args: [{ by: 'alice' }],
        startWorkflowOperation: start,
      });
      expect(answer.status).toBe('acknowledged');
      const h = await start.workflowHandle();
      await effectsDone(h, 'page-acknowledged', 1);
      const s = await state(h);
      expect(s.pages.map((p) => p.level)).toEqual([1]);
      expect(callsTo('pager', 'trigger').map((c) => c.args.target)).toEqual(['oncall-primary']);
      expect(callsTo('pager', 'acknowledge').map((c) => c.args)).toEqual([{ dedupKey: h.workflowId, targets: ['oncall-primary'] }]);
      // The acknowledgement came before 5:00: level 2 is never paged.
      await env.sleep(10 * M);
      expect((await state(h)).pages).toHaveLength(1);
    });
  });

  it('an acknowledgement from the paging service and one from an agent at the same moment count once', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      await eventually(() => state(h), (s) => s.pages.length === 1);
      const [, answer] = await Promise.all([
        h.signal(pageAcknowledgedSignal, { by: 'bob', source: 'pagerduty' }),
        h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] }),
      ]);
      expect(answer.status).toBe('acknowledged');
      const s = await eventually(() => effects(h, 'customer-told'), (e) => e.length > 0).then(() => state(h));
      expect(s.timeline.filter((e) => e.event === 'acknowledged')).toHaveLength(1);
      // Whoever came second got the state back, told it was already acknowledged.
      expect(answer.alreadyAcknowledged).toBe(s.acknowledgedVia !== 'api');
      expect(await effects(h, 'page-acknowledged')).toHaveLength(1);
      expect(await effects(h, 'customer-told-who-handles-it')).toHaveLength(1);

      const late = await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'carol' }] });
      expect(late.alreadyAcknowledged).toBe(true);
      expect(late.acknowledgedBy).toBe(s.acknowledgedBy);
    });
  });
});

describe('crisis', () => {
  it('an incident open for one hour becomes a crisis: level 2, one document, one announcement per channel, status updates every 30 minutes', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      const { createdAt } = await state(h);
      await sleepUntil(createdAt + H - JUST_BEFORE);
      expect((await state(h)).crisis).toBeNull();

      await sleepUntil(createdAt + H);
      // The document and the announcements go out in lanes of their own: wait for all of them.
      const crisis = await eventually(() => state(h), (s) => s.announcements.length === CHANNELS.length && s.document !== null);
      expect(crisis.crisis).toMatchObject({ by: 'system', reason: 'still open after 1h' });
      expect(crisis.crisis!.at - crisis.createdAt).toBeGreaterThanOrEqual(H);
      expect(crisis.crisis!.at - crisis.createdAt).toBeLessThan(H + S);
      expect(crisis.level).toBe(2);
      expect(crisis.pages.at(-1)).toMatchObject({ level: 2, reason: 'crisis', notified: ['oncall-secondary'] });
      expect(crisis.document?.webUrl).toMatch(/support\/incidents/);

      await env.sleep(65 * M); // two status updates
      const later = await eventually(() => state(h), (s) => s.statusUpdates === 2);
      expect(later.statusUpdates).toBe(2);
      expect(await effects(h, 'crisis-document')).toHaveLength(1);
      expect((await effects(h, 'announce:')).sort()).toEqual(CHANNELS.map((c) => `announce:${c}`).sort());
      expect(await effects(h, 'status-update:1:')).toHaveLength(CHANNELS.length);
      expect(await effects(h, 'status-update:2:')).toHaveLength(CHANNELS.length);
      expect(await effects(h, 'page:crisis:')).toEqual(['page:crisis:2:1:oncall-secondary']);
    });
  });

  it('more responders than the policy allows (3) make it a crisis at once', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      await h.executeUpdate(addResponderUpdate, { args: [{ by: 'alice', responder: 'bob' }] });
      const three = await h.executeUpdate(addResponderUpdate, { args: [{ by: 'alice', responder: 'carol' }] });
      expect(three.crisis).toBe(false);
      const four = await act(h, addResponderUpdate, { by: 'alice', responder: 'dave' });
      expect(four.responders).toEqual(['alice', 'bob', 'carol', 'dave']);
      expect(four.crisis).toMatchObject({ by: 'system', reason: '4 responders (more than 3)' });
      const announced = await eventually(() => state(h), (v) => v.announcements.length === CHANNELS.length);
      expect(announced.announcements).toHaveLength(CHANNELS.length);
    });
  });

  it('an agent declares a crisis: the update answers at once; the document and the announcements follow', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      const answer = await h.executeUpdate(declareCrisisUpdate, { args: [{ by: 'alice', reason: 'possible data loss; unable to help' }] });
      expect(answer).toMatchObject({ crisis: true, event: 'crisis declared' });
      // The lists show the crisis (the answer waits for that only up to 5 s; here it only has to happen).
      const row = await eventually(
        () => db.pool.query<{ crisis: boolean }>('SELECT crisis FROM incidents WHERE id = $1', [answer.id]),
        (r) => r.rows[0]?.crisis === true,
      );
      expect(row.rows[0]?.crisis).toBe(true);
      const declared = await eventually(
        () => state(h),
        (v) => v.document !== null && v.announcements.length === CHANNELS.length,
      );
      expect(declared.crisis).toMatchObject({ by: 'alice', reason: 'possible data loss; unable to help' });
      expect(declared.document).not.toBeNull();
      expect(declared.announcements.map((a) => a.channel).sort()).toEqual([...CHANNELS].sort());
      expect(declared.level).toBe(2);

      await env.sleep(2 * H); // the one-hour rule does not declare it again
      expect(await effects(h, 'crisis-document')).toHaveLength(1);
      expect(await effects(h, 'announce:')).toHaveLength(CHANNELS.length);

      const again = h.executeUpdate(declareCrisisUpdate, { args: [{ by: 'bob', reason: 'still down' }] });
      await expect(again).rejects.toMatchObject({ cause: { message: /already a crisis/ } });
    });
  });
});

describe('resolution and follow-up', () => {
  it('resolution opens the follow-up task, hands off to the people involved, and reminds daily until the follow-up is closed', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      const answer = await h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Restarted the database primary.' }] });
      expect(answer.status).toBe('resolved');
      await effectsDone(h, 'hand-off:', 1);
      const resolved = await state(h);
      expect(resolved.followUp).toMatchObject({ closedAt: null, reminders: 0 });
      expect(resolved.followUp!.webUrl).toMatch(/support\/docs/);
      expect(await effects(h, 'page-resolved')).toHaveLength(1);
      expect(await effects(h, 'customer-told-resolved')).toHaveLength(1);
      expect(await effects(h, 'follow-up')).toEqual(['follow-up']);
      expect(await effects(h, 'hand-off:')).toEqual(['hand-off:alice']);

      const followUpAt = resolved.followUp!.createdAt;
      await sleepUntil(followUpAt + D - JUST_BEFORE);
      expect((await state(h)).followUp!.reminders).toBe(0);
      await sleepUntil(followUpAt + D);
      await eventually(() => state(h), (s) => s.followUp!.reminders === 1);
      await sleepUntil(followUpAt + 2 * D);
      const reminded = await eventually(() => state(h), (s) => s.followUp!.reminders === 2);
      expect(reminded.followUp!.reminders).toBe(2);
      expect(await effects(h, 'follow-up-reminder:')).toHaveLength(2);

      const closed = await h.executeUpdate(closeFollowUpUpdate, { args: [{ by: 'alice' }] });
      expect(closed.status).toBe('closed');
      expect(((await h.result()) as IncidentView).followUp!.closedAt).not.toBeNull();
      expect(await effects(h, 'follow-up-reminder:')).toHaveLength(2);
    });
  });

  it('the paging service can resolve it and the tracker can close the follow-up (signals)', async () => {
    await withWorker(async () => {
      const h = await raiseIncident({ customerTicketId: null });
      await eventually(() => state(h), (s) => s.pages.length === 1);
      await h.signal(pageResolvedSignal, { by: 'bob', source: 'pagerduty' });
      const resolved = await eventually(() => state(h), (s) => s.followUp !== null);
      expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: 'bob', resolution: 'resolved in pagerduty' });
      expect(await effects(h, 'customer-told')).toEqual([]);
      await h.signal(followUpClosedSignal, { by: 'bob', source: 'gitlab' });
      expect(((await h.result()) as IncidentView).status).toBe('closed');
    });
  });
});

describe('escalation mode and policy', () => {
  it("in 'pagerduty' mode the engine triggers once and leaves escalation to PagerDuty", async () => {
    await withWorker(async () => {
      const policy: Policy = { ...DEFAULT_POLICY, incident: { ...DEFAULT_POLICY.incident!, escalationMode: 'pagerduty' } };
      const h = await raiseIncident({}, policy);
      await eventually(() => state(h), (s) => s.pages.length === 1);
      await effectsDone(h, 'page:', 1);
      await env.sleep(50 * M);
      const s = await state(h);
      expect(s.pages).toHaveLength(1);
      expect(s.escalationMode).toBe('pagerduty');
      expect(await effects(h, 'page:')).toEqual(['page:1:1:oncall-primary']);
    });
  });

  it('a long follow-up continues as new and keeps its state and its reminders', async () => {
    await withWorker(async () => {
      // About 75 events by the resolution, 17 more per reminder: it continues as new after the second
      // reminder, while no update is in flight.
      const h = await raiseIncident({}, DEFAULT_POLICY, 100);
      const firstRun = (await h.describe()).runId;
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      await h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Fixed.' }] });
      await env.sleep(6 * D);
      const s = await eventually(() => state(h), (v) => v.followUp?.reminders === 6);
      expect(s.followUp!.reminders).toBe(6);
      expect(s.acknowledgedBy).toBe('alice');
      expect((await h.describe()).runId).not.toBe(firstRun);
      expect(await effects(h, 'follow-up-reminder:')).toHaveLength(6);
      expect(await effects(h, 'follow-up')).toHaveLength(7); // the task itself and six reminders
    });
  });

  it("the policy's paging chain must give level 1 exactly the acknowledgement window", () => {
    const bad = JSON.parse(JSON.stringify(DEFAULT_POLICY));
    bad.incident.pagingChain[0].waitMs = 10 * M;
    expect(() => parsePolicy(bad, 'test.json')).toThrow(/incident\.pagingChain\.0: level 1 must last exactly acknowledgeWithinMs/);
    bad.incident.escalationMode = 'carrier-pigeon';
    expect(() => parsePolicy(bad, 'test.json')).toThrow(/incident\.escalationMode: Invalid option/);
    expect(parsePolicy({ ...DEFAULT_POLICY, incident: undefined }, 'no-section.json').incident).toBeUndefined();
  });
});

describe('a private emergency', () => {
  const subject = 'Payroll export leaks salaries of ACME staff';
  const description = 'Employee 4711 can see the salary table of every colleague.';

  it('keeps its subject and description out of pages, announcements, the document, the follow-up and the UI summary', async () => {
    await withWorker(async () => {
      const intake: IncidentIntake = {
        id: `in-tk-${randomBytes(4).toString('hex')}`,
        externalId: null,
        title: subject,
        description,
        severity: 'critical',
        customerTicketId: null,
        deskTicketId: 'tk-emergency-42',
        private: true,
      };
      // Started the way the API starts it, so the UI's static summary is the API's.
      const { workflowId } = await startIncident({ client: env.client, policy: DEFAULT_POLICY, taskQueue }, intake);
      const h = env.client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      await h.executeUpdate(declareCrisisUpdate, { args: [{ by: 'alice', reason: 'data exposed' }] });
      // The UI's current details are not encrypted: the crisis shows, its reason does not.
      const metadata = await eventually(
        () => h.query<{ currentDetails?: string }>('__temporal_workflow_metadata'),
        (m) => /\*\*crisis\*\*/.test(m.currentDetails ?? ''),
      );
      expect(metadata.currentDetails).not.toContain('data exposed');
      await env.sleep(31 * M); // one status update in each announcement thread
      await eventually(() => state(h), (s) => s.statusUpdates === 1);
      await h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Access revoked.' }] });
      // The follow-up task exists once the tracker has answered; how soon that is depends on the worker.
      await eventually(() => state(h), (s) => s.followUp !== null);
      await h.executeUpdate(closeFollowUpUpdate, { args: [{ by: 'alice' }] });
      const done = (await h.result()) as IncidentView;

      // The workflow's own state keeps what happened; nothing outside it does.
      expect(done.incident).toMatchObject({ title: subject, description, private: true });
      const reachedDrivers = JSON.stringify(recorder.calls);
      expect(reachedDrivers).not.toContain('Payroll');
      expect(reachedDrivers).not.toContain('4711');
      expect(callsTo('pager', 'trigger').map((c) => c.args.summary)).toEqual([
        'Emergency: Emergency on ticket tk-emergency-42',
        'Emergency: Emergency on ticket tk-emergency-42',
      ]);
      const announced = callsTo('chat', 'postMessage').filter((c) => !c.args.threadTs);
      // Each channel has its own lane, so the announcements go out side by side, in no fixed order.
      expect(announced.map((c) => c.args.channel).sort()).toEqual([...CHANNELS].sort());
      expect(callsTo('chat', 'postMessage').filter((c) => c.args.threadTs)).toHaveLength(2 * CHANNELS.length); // status + resolved
      const [document, followUp] = callsTo('tracker', 'createIssue').map((c) => c.args);
      expect(document).toMatchObject({ title: 'Incident: Emergency on ticket tk-emergency-42', confidential: true });
      expect(followUp).toMatchObject({ confidential: true });
      expect(callsTo('chat', 'directMessage').map((c) => c.args.user)).toEqual(['alice']);

      expect(await (await h.describe()).staticSummary()).toBe('Emergency on ticket tk-emergency-42 (critical)');
      const { rows } = await db.pool.query('SELECT title FROM incidents WHERE id = $1', [intake.id]);
      expect(rows).toEqual([{ title: 'Emergency on ticket tk-emergency-42' }]);
    });
  });

  it('raised by hand (no desk ticket) it is called by its own id', async () => {
    await withWorker(async () => {
      const h = await raiseIncident({ title: subject, description, private: true });
      // The page is recorded when it is queued; PagerDuty is called by an activity after that.
      const triggered = await eventually(async () => callsTo('pager', 'trigger'), (calls) => calls.length === 1);
      expect(triggered.map((c) => c.args.summary)).toEqual([`Emergency: Private emergency ${(await state(h)).id}`]);
    });
  });
});

describe('a system that refuses for good (a 4xx)', () => {
  it('a direct message Slack refuses is recorded and shown; the incident still resolves and closes its follow-up', async () => {
    recorder = recordingIntegrations((call) =>
      call.system === 'chat' && call.action === 'directMessage' ? 'Slack refused the direct message (user_not_found)' : null,
    );
    await withWorker(async () => {
      const h = await raiseIncident();
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      await h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Restarted.' }] });
      const resolved = await eventually(() => state(h), (v) => v.integrationFailures.length === 1 && v.followUp !== null);
      expect(resolved.status).toBe('resolved');
      expect(resolved.followUp).not.toBeNull();
      expect(resolved.integrationFailures).toEqual([
        { at: expect.any(Number), step: 'hand-off:alice', system: 'chat', message: 'Slack refused the direct message (user_not_found)' },
      ]);
      expect(resolved.timeline.map((e) => e.event)).toContain('integration refused');
      const metadata = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toContain('Given up on (refused, or down past the give-up time): 1');
      expect(metadata.currentDetails).toContain('hand-off:alice');

      const closed = await h.executeUpdate(closeFollowUpUpdate, { args: [{ by: 'alice' }] });
      expect(closed.status).toBe('closed');
      expect(((await h.result()) as IncidentView).status).toBe('closed');
      // Refused once, not retried.
      expect(callsTo('chat', 'directMessage')).toHaveLength(1);
    });
  });

  it('a page PagerDuty refuses does not stop the chain: level 2 is still paged at 5 minutes', async () => {
    recorder = recordingIntegrations((call) =>
      call.system === 'pager' && call.args.target === 'oncall-primary' ? 'PagerDuty answered 400 (Invalid routing key)' : null,
    );
    await withWorker(async () => {
      const h = await raiseIncident();
      await eventually(() => state(h), (s) => s.integrationFailures.length === 1);
      await env.sleep(5 * M);
      const paged = await eventually(() => state(h), (s) => s.pages.length === 2);
      expect(paged.pages[1]).toMatchObject({ level: 2, notified: ['oncall-secondary'] });
      expect(paged.integrationFailures.map((f) => f.step)).toEqual(['page:1:1:oncall-primary']);
    });
  });

  it('when the tracker refuses the follow-up task, an agent closes the follow-up by hand', async () => {
    recorder = recordingIntegrations((call) =>
      call.system === 'tracker' ? 'GitLab answered 404 to creating an issue: the target does not exist' : null,
    );
    await withWorker(async () => {
      const h = await raiseIncident({ customerTicketId: null });
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      await h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Restarted.' }] });
      const resolved = await eventually(() => state(h), (v) => v.integrationFailures.length === 1);
      expect(resolved).toMatchObject({ status: 'resolved', followUp: null });
      expect(resolved.integrationFailures.map((f) => f.step)).toEqual(['follow-up']);
      const closed = await h.executeUpdate(closeFollowUpUpdate, { args: [{ by: 'alice' }] });
      expect(closed.status).toBe('closed');
    });
  });
});

describe('paging services per level', () => {
  it('acknowledging and resolving reach every target paged, so each level\'s alert is closed', async () => {
    await withWorker(async () => {
      const h = await raiseIncident();
      await eventually(() => state(h), (s) => s.pages.length === 1);
      await env.sleep(5 * M);
      await eventually(() => state(h), (s) => s.pages.length === 2);
      await h.executeUpdate(acknowledgeIncidentUpdate, { args: [{ by: 'alice' }] });
      await h.executeUpdate(resolveIncidentUpdate, { args: [{ by: 'alice', resolution: 'Fixed.' }] });
      await effectsDone(h, 'page-resolved:', 2);
      // Each target's alert in its own order: trigger, acknowledge, resolve.
      const reached = (action: string) =>
        callsTo('pager', action).map((c) => c.args as { targets: string[] }).sort((a, b) => a.targets[0]!.localeCompare(b.targets[0]!));
      expect(reached('acknowledge')).toEqual([
        { dedupKey: h.workflowId, targets: ['oncall-primary'] },
        { dedupKey: h.workflowId, targets: ['oncall-secondary'] },
      ]);
      expect(reached('resolve')).toEqual([
        { dedupKey: h.workflowId, targets: ['oncall-primary'] },
        { dedupKey: h.workflowId, targets: ['oncall-secondary'] },
      ]);
    });
  });
});

describe('a system that stays down (retried, then given up on)', () => {
  // The test server does not skip time while an activity is being retried, so these policies give up
  // after seconds (15 minutes by default).
  it('Slack staying down does not stop the second level being paged at exactly 5 minutes', async () => {
    recorder = recordingIntegrations(undefined, (call) => (call.system === 'chat' ? 'Slack answered 503' : null));
    // The crisis escalates to level 1 here, so the only page due is the chain's level 2 at 5 minutes.
    const incident = { ...DEFAULT_POLICY.incident!, crisis: { ...DEFAULT_POLICY.incident!.crisis, escalateToLevel: 1 } };
    await withWorker(async () => {
      const h = await raiseIncident({}, { ...DEFAULT_POLICY, notificationGiveUpMs: 3_000, incident });
      const raised = await eventually(() => state(h), (s) => s.pages.length === 1);
      // Every announcement fails for as long as it is retried, then is given up on; the update answers at once.
      await h.executeUpdate(declareCrisisUpdate, { args: [{ by: 'alice', reason: 'customers cannot log in' }] });
      const declared = await eventually(() => state(h), (v) => v.integrationFailures.length === CHANNELS.length, 30_000);
      expect(declared.announcements).toEqual([]);
      expect(declared.integrationFailures).toHaveLength(CHANNELS.length);
      expect(declared.integrationFailures).toEqual(
        expect.arrayContaining(
          CHANNELS.map((c) => ({ at: expect.any(Number), step: `announce:${c}`, system: 'chat', message: 'Slack answered 503' })),
        ),
      );
      expect(callsTo('chat', 'postMessage').length).toBeGreaterThan(CHANNELS.length); // retried before giving up
      expect(declared.pages).toHaveLength(1);

      await env.sleep(raised.createdAt + 5 * M - (await env.currentTimeMs()));
      const paged = await eventually(() => state(h), (s) => s.pages.length === 2);
      expect(paged.pages[1]).toMatchObject({ level: 2, repeat: 1, notified: ['oncall-secondary'], reason: 'paging chain' });
      expect(paged.pages[1]!.at - paged.createdAt).toBeGreaterThanOrEqual(5 * M);
      // Taken when the timer fired: past 5:00 only by the time a busy machine takes to run the task.
      expect(paged.pages[1]!.at - paged.createdAt).toBeLessThan(5 * M + 5 * S);
      expect(await effects(h, 'page:')).toEqual(['page:1:1:oncall-primary', 'page:2:1:oncall-secondary']);
    });
  });

  it('a paging service that stays down is retried until the next level is due, and never delays it', async () => {
    recorder = recordingIntegrations(undefined, (call) =>
      call.system === 'pager' && call.args.target === 'oncall-primary' ? 'PagerDuty answered 503' : null,
    );
    // A chain in seconds: level 1 lasts 5 s, so its page is retried for 5 s (the default give-up is 15 minutes).
    const base = DEFAULT_POLICY.incident!;
    const incident = {
      ...base,
      acknowledgeWithinMs: 5 * S,
      pagingChain: [{ notify: ['oncall-primary'], waitMs: 5 * S, repeats: 1 }, ...base.pagingChain.slice(1)],
    };
    await withWorker(async () => {
      const h = await raiseIncident({}, { ...DEFAULT_POLICY, incident });
      const paged = await eventually(() => state(h), (s) => s.pages.length === 2, 30_000);
      expect(paged.integrationFailures).toEqual([
        { at: expect.any(Number), step: 'page:1:1:oncall-primary', system: 'pager', message: 'PagerDuty answered 503' },
      ]);
      expect(callsTo('pager', 'trigger').filter((c) => c.args.target === 'oncall-primary').length).toBeGreaterThan(1);
      expect(paged.pages[1]).toMatchObject({ level: 2, notified: ['oncall-secondary'] });
      // Due exactly when level 1 ends, and taken at the pass the timer wakes, however long level 1's
      // page keeps retrying (how soon that pass runs is the machine's, so the bound is loose).
      expect(paged.pages[1]!.dueAt! - paged.createdAt).toBe(5 * S);
      expect(paged.pages[1]!.at).toBeGreaterThanOrEqual(paged.pages[1]!.dueAt!);
      expect(paged.pages[1]!.at - paged.pages[1]!.dueAt!).toBeLessThan(3 * S);
      expect(await effects(h, 'page:')).toEqual(['page:2:1:oncall-secondary']);
    });
  });
});
