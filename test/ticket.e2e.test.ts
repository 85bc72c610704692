// The desk end to end: the Temporal dev server (the real CLI), the worker and the API as separate
// processes started the way `npm start` starts them, and PostgreSQL. Uses the `demo` policy
// (acknowledge within 20 s), so escalation is watched in real time, never for minutes.
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEMO_POLICY } from '../domain/policy';
import { DESK_BREACHED, DESK_KIND, DESK_STATUS, DESK_TIER } from '../domain/search-attributes';
import { deskProcesses } from './desk-processes';
import type { TestDatabase } from './postgres';
import { eventually } from './eventually';

const ACK_MS = DEMO_POLICY.channels.default.acknowledge.withinMs;
/** The SDK's default stickyQueueScheduleToStartTimeout (workers/ does not set it). */
const STICKY_SCHEDULE_TO_START_MS = 10_000;
const taskQueue = `e2e-${process.pid}`;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
const {
  http,
  start: startDesk,
  kill: killDesk,
  waitUntilReady,
} = deskProcesses({ taskQueue, use: (desk) => ({ env, db } = desk) });

/** The identities of the workers polling the desk's workflow task queue (the server keeps a dead one listed a while). */
const workflowPollers = async (): Promise<string[]> => {
  const { pollers } = await env.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (pollers ?? []).map((p) => p.identity ?? '');
};

const fileTicket = (body: Record<string, unknown> = {}) =>
  http('POST', '/tickets', { subject: 'Printer on fire', requester: { email: 'pat@example.com' }, ...body });

describe('the README walkthrough', () => {
  it('files a ticket, shows it to operators with its search attributes, acknowledges and resolves it', async () => {
    const created = await fileTicket({ tier: 2 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ created: true, workflowId: `ticket-${created.body.id}` });
    const id = created.body.id as string;

    const ticket = await http('GET', `/tickets/${id}`);
    expect(ticket.body).toMatchObject({ id, status: 'open', tier: 2 });
    // Times are ISO 8601 in every answer (api/json.ts), durations milliseconds named ...Ms.
    expect(ticket.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(ticket.body.clocks.acknowledge.dueAt) - Date.parse(ticket.body.createdAt)).toBe(ACK_MS);
    expect(ticket.body.clocks.acknowledge.target.withinMs).toBe(ACK_MS);

    const description = await env.client.workflow.getHandle(`ticket-${id}`).describe();
    expect(description.typedSearchAttributes.get(DESK_KIND)).toBe('ticket');
    expect(description.typedSearchAttributes.get(DESK_STATUS)).toBe('open');
    expect(description.typedSearchAttributes.get(DESK_TIER)).toBe(2);

    const acked = await http('POST', `/tickets/${id}/acknowledge`, {}, { as: 'alice' });
    expect(acked.status).toBe(200);
    // An action answers small (it is kept in the workflow's history); the ticket itself is one GET away.
    expect(acked.body).toMatchObject({ id, status: 'acknowledged', event: 'acknowledged', visible: true, links: { self: `/tickets/${id}` } });
    expect((await http('GET', `/tickets/${id}`)).body.clocks.acknowledge.status).toBe('met');

    const resolved = await http('POST', `/tickets/${id}/resolve`, { resolution: 'Extinguished.' }, { as: 'alice' });
    expect(resolved.status).toBe(200);
    expect(resolved.body.status).toBe('resolved');

    // What `temporal workflow list --query ...` and the UI's filter show (visibility is eventually consistent).
    const listed = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const wf of env.client.workflow.list({ query: `DeskStatus = 'resolved' AND DeskTier = 2` })) {
          ids.push(wf.workflowId);
        }
        return ids;
      },
      (ids) => ids.includes(`ticket-${id}`),
    );
    expect(listed).toContain(`ticket-${id}`);

    const rows = await http('GET', '/tickets?status=resolved&tier=2');
    expect(rows.body.tickets.map((t: { id: string }) => t.id)).toContain(id);
  });
});

describe('intake', () => {
  it('the same external id twice gives the same ticket and one workflow', async () => {
    const first = await fileTicket({ externalId: 'zendesk-4711', channel: 'helpdesk' });
    const handle = env.client.workflow.getHandle(first.body.workflowId);
    const firstRun = (await handle.describe()).runId;
    const second = await fileTicket({ externalId: 'zendesk-4711', channel: 'helpdesk' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: first.body.id, created: false });

    const afterwards = await handle.describe();
    expect(afterwards.runId).toBe(firstRun);
    expect(afterwards.status.name).toBe('RUNNING');
    // The workflow writes its projection row in its first task, a moment after the 201.
    const count = () =>
      db.pool
        .query('SELECT count(*)::int AS n FROM tickets WHERE external_id = $1', ['zendesk-4711'])
        .then((r) => r.rows[0].n as number);
    expect(await eventually(count, (n) => n > 0)).toBe(1);

    // The same external id on another channel is another ticket.
    const other = await fileTicket({ externalId: 'zendesk-4711', channel: 'forum' });
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
    const projected = () => db.pool.query('SELECT 1 FROM tickets WHERE id = $1', [other.body.id]).then((r) => r.rowCount);
    expect(await eventually(projected, (n) => n === 1)).toBe(1);
  });

  it('a bad intake gets 400 listing every invalid field, and creates nothing', async () => {
    const before = await db.pool.query('SELECT count(*) AS n FROM tickets');
    const res = await http('POST', '/tickets', { tier: 7, channel: 'carrier-pigeon', requester: { email: 'nope' } });
    expect(res.status).toBe(400);
    const fields = res.body.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['channel', 'requester.email', 'subject', 'tier']);
    expect(res.body.details.find((d: { field: string }) => d.field === 'subject').message).toBe('is required');

    const form = await http('POST', '/tickets', 'subject=hello', 'application/x-www-form-urlencoded');
    expect(form).toEqual({
      status: 415,
      body: { error: 'send the body as JSON with the header content-type: application/json' },
    });

    const notJson = await http('POST', '/tickets', '{"subject": ');
    expect(notJson).toEqual({ status: 400, body: { error: 'the request body is not valid JSON' } });

    const after = await db.pool.query('SELECT count(*) AS n FROM tickets');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});

describe('agents acting on tickets', () => {
  it('404 for an unknown ticket or action, 400 for a bad body, 409 with the reason when the state does not allow it', async () => {
    expect((await http('POST', '/tickets/tk-nope/acknowledge', {}, { as: 'alice' })).status).toBe(404);
    expect((await http('GET', '/tickets/tk-nope')).status).toBe(404);

    const { body } = await fileTicket();
    const unknownAction = await http('POST', `/tickets/${body.id}/escalate-to-ceo`, {}, { as: 'alice' });
    expect(unknownAction.status).toBe(404);
    expect(unknownAction.body.error).toMatch(/use one of acknowledge, reply/);
    expect((await http('POST', `/tickets/${body.id}/toString`, {}, { as: 'alice' })).status).toBe(404);

    const forged = await http('POST', `/tickets/${body.id}/assign`, { by: 'mallory', assignee: 'bob' }, { as: 'alice' });
    expect(forged.status).toBe(400);
    expect(forged.body.details).toEqual([{ field: 'by', message: expect.stringMatching(/signed in as/) }]);
    const noAssignee = await http('POST', `/tickets/${body.id}/assign`, {}, { as: 'alice' });
    expect(noAssignee.body.details).toEqual([{ field: 'assignee', message: 'is required' }]);

    expect((await http('POST', `/tickets/${body.id}/acknowledge`, {}, { as: 'alice' })).status).toBe(200);
    const twice = await http('POST', `/tickets/${body.id}/acknowledge`, {}, { as: 'alice' });
    expect(twice).toEqual({ status: 409, body: { error: 'the ticket was already acknowledged (status acknowledged)' } });

    const handOff = await http('POST', `/tickets/${body.id}/hand-off`, { team: 'legal', reason: 'x' }, { as: 'alice' });
    expect(handOff.status).toBe(409);
    expect(handOff.body.error).toBe('only tier-3 tickets are handed off; change the tier to 3 first');

    expect((await http('POST', `/tickets/${body.id}/close`, {}, { as: 'alice' })).status).toBe(200);
    const afterClose = await http('POST', `/tickets/${body.id}/reply`, { message: 'hello?' }, { as: 'alice' });
    expect(afterClose.status).toBe(409);
    expect(afterClose.body.error).toMatch(/closed/);
    // A closed ticket can still be read.
    expect((await http('GET', `/tickets/${body.id}`)).body.status).toBe('closed');
  });

  it('lists come from the PostgreSQL projection, oldest first, with filters', async () => {
    const a = (await fileTicket({ channel: 'forum' })).body.id;
    const b = (await fileTicket({ channel: 'forum' })).body.id;
    await http('POST', `/tickets/${b}/assign`, { assignee: 'carol' }, { as: 'lead' });

    const idsOf = (r: { body: { tickets: Array<{ id: string }> } }) => r.body.tickets.map((t) => t.id);
    // Earlier tests leave open forum tickets of their own: wait for these two.
    const forum = await eventually(
      () => http('GET', '/tickets?channel=forum&status=open'),
      (r) => idsOf(r).includes(a) && idsOf(r).includes(b),
    );
    const ids = idsOf(forum);
    expect(ids).toEqual(expect.arrayContaining([a, b]));
    expect(ids.indexOf(a)).toBeLessThan(ids.indexOf(b));
    const carols = await eventually(
      () => http('GET', '/tickets?assignee=carol'),
      (r) => idsOf(r).includes(b),
    );
    expect(idsOf(carols)).toEqual([b]);

    const bad = await http('GET', '/tickets?tier=9&breached=maybe');
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['breached', 'tier']);
  });
});

describe('timers survive the processes', () => {
  it('with kill -9 of worker and API mid-flight, an unacknowledged ticket still escalates once, at its due time or as soon as the worker is back, and an acknowledged one never does', async () => {
    const late = (await fileTicket({ subject: 'nobody answers' })).body.id as string;
    const onTime = (await fileTicket({ subject: 'answered at once' })).body.id as string;
    await http('POST', `/tickets/${onTime}/acknowledge`, {}, { as: 'alice' });
    const createdAt = Date.parse((await http('GET', `/tickets/${late}`)).body.createdAt);
    const due = createdAt + ACK_MS;
    const killedWorkers = await workflowPollers();
    expect(killedWorkers.length).toBeGreaterThan(0);

    await killDesk();
    const restartedAt = Date.now();
    startDesk();
    // The worker (tsx, migrations, bundling the workflows) may well be back only after the due time:
    // when its first poll reaches the server is when the timer's task can run at the earliest.
    const [workerBackAt] = await Promise.all([
      eventually(workflowPollers, (ids) => ids.some((id) => !killedWorkers.includes(id)), 60_000).then((ids) => {
        expect(ids.some((id) => !killedWorkers.includes(id))).toBe(true);
        return Date.now();
      }),
      waitUntilReady(),
    ]);
    // A workflow the killed worker had cached gets its next task on that worker's sticky queue: the
    // server hands it to another worker only after the sticky schedule-to-start timeout (the SDK's
    // default, 10 s, which workers/ does not change). So the timer's task can run at the earliest when
    // the new worker polls and, if the timer fired while the sticky queue still held it, that timeout
    // after the due time (seen on an idle machine: 4.9 s after the worker was back).
    const runnableAt = Math.max(due, workerBackAt);
    const stickyHandedOverBy = due + STICKY_SCHEDULE_TO_START_MS;
    expect((await http('GET', `/tickets/${late}`)).body.status).toBe('open');

    const escalated = await eventually(
      () => http('GET', `/tickets/${late}`),
      (r) => r.body.escalations.length > 0,
      Math.max(0, due - Date.now()) + 15_000,
    );
    expect(escalated.body.escalations[0]).toMatchObject({ sla: 'acknowledge', level: 1 });
    const at = Date.parse(escalated.body.escalations[0].at); // ISO in answers
    expect(at).toBeGreaterThanOrEqual(due); // not before its time
    expect(at).toBeGreaterThan(restartedAt); // by the restarted worker, nothing was lost with the old one
    // The timer fired as soon as it could, not on a later retry or timeout.
    expect(at - Math.max(runnableAt, stickyHandedOverBy)).toBeLessThan(3_000);

    // The notification is an activity after the workflow task that queued it. Level 2 of the demo
    // chain (support-manager) follows 10 s after the due time and may be there too if the worker came back late.
    const escalationRows = () =>
      db.pool
        .query<{ ticket_id: string; kind: string; recipients: string[]; sent_ms: string }>(
          `SELECT ticket_id, kind, recipients, extract(epoch from sent_at) * 1000 AS sent_ms
             FROM notifications WHERE ticket_id = ANY($1) AND kind = 'escalation' ORDER BY sent_at`,
          [[late, onTime]],
        )
        .then((r) => r.rows);
    const level1 = (rows: Awaited<ReturnType<typeof escalationRows>>) => rows.filter((r) => r.recipients.includes('#support-escalations'));
    const rows = await eventually(escalationRows, (rs) => level1(rs).length > 0);
    expect(rows.filter((r) => r.ticket_id === onTime)).toEqual([]);
    expect(level1(rows)).toHaveLength(1);
    expect(level1(rows)[0]).toMatchObject({ ticket_id: late, recipients: ['#support-escalations'] });
    const sentMs = Number(level1(rows)[0]!.sent_ms);
    expect(sentMs).toBeGreaterThanOrEqual(at);
    expect(sentMs - Math.max(runnableAt, stickyHandedOverBy)).toBeLessThan(5_000);

    // The escalation is in the workflow's history, as an activity with its summary.
    const history = await env.client.workflow.getHandle(`ticket-${late}`).fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notify');
    expect(scheduled.length).toBeGreaterThanOrEqual(2); // the warning, then the escalation

    const search = await eventually(
      () => env.client.workflow.getHandle(`ticket-${late}`).describe(),
      (d) => d.typedSearchAttributes.get(DESK_BREACHED) === true,
    );
    expect(search.typedSearchAttributes.get(DESK_BREACHED)).toBe(true);
    expect((await http('GET', `/tickets/${onTime}`)).body.escalations).toEqual([]);
  }, 150_000);
});
