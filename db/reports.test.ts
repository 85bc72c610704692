// Every report against answers worked out by hand on a small fixed event log: five tickets driven
// through the ticket machine (domain/ticket-simulation.ts) and written by the projection activity,
// one write per change as the workflow makes them. The business calendar is the default policy's
// (Mon-Fri 09:00-17:00 UTC); 2026-10-24/25 is a weekend, and Europe/Amsterdam leaves summer time on
// 2026-10-25 at 01:00 UTC.
import pino from 'pino';
import { createTicketActivities } from '../activities/ticket';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { DEFAULT_POLICY, resolveTicketPolicy, type Channel, type Tier } from '../domain/policy';
import type { TicketCommand } from '../domain/ticket-machine';
import { simulateTicket, type TimedCommand } from '../domain/ticket-simulation';
import { reportParams } from '../api/reports';
import { createTestDatabase, type TestDatabase } from '../test/postgres';
import { testKeys } from '../test/encryption';
import { reportNamed, type ReportRow } from './reports';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const UNTIL = at('2026-10-28T12:00:00Z');
const message = (id: string) => ({ id, preview: id, length: id.length });

let db: TestDatabase;
const timelines = new Map<string, string[]>();

function ticket(id: string, channel: Channel, tier: Tier, created: string, steps: Array<[string, TicketCommand]>) {
  const policy = resolveTicketPolicy(DEFAULT_POLICY, channel);
  const intake = { id, externalId: null, channel, tier, priority: 'normal' as const, subject: `Ticket ${id}`, description: '', requester: {}, private: false };
  const commands: TimedCommand[] = steps.map(([when, command]) => ({ at: at(when), command }));
  return simulateTicket(intake, policy, at(created), commands, UNTIL, { workflowId: `ticket-${id}`, chainId: `run-${id}` });
}

beforeAll(async () => {
  db = await createTestDatabase();
  const silent = pino({ level: 'silent' });
  const activities = createTicketActivities({ pool: db.pool, notifier: new LogNotifier(silent), integrations: logIntegrations(silent), encryptionKeys: testKeys });
  const tickets = [
    // Friday evening, answered on Monday: 66 h, of which 2 business hours; resolved 2 h later.
    ticket('A', 'helpdesk', 1, '2026-10-23T16:00:00Z', [
      ['2026-10-26T10:00:00Z', { type: 'acknowledge', by: 'ann' }],
      ['2026-10-26T12:00:00Z', { type: 'resolve', by: 'ann', resolution: message('a1') }],
    ]),
    // Four hours waiting on the requester, excluded from the resolution time.
    ticket('B', 'social', 2, '2026-10-26T09:00:00Z', [
      ['2026-10-26T09:30:00Z', { type: 'acknowledge', by: 'bob' }],
      ['2026-10-26T10:00:00Z', { type: 'wait-on-requester', by: 'bob', question: message('b1') }],
      ['2026-10-26T14:00:00Z', { type: 'reply', by: 'requester', role: 'requester', message: message('b2') }],
      ['2026-10-26T15:00:00Z', { type: 'resolve', by: 'bob', resolution: message('b3') }],
      ['2026-10-26T16:00:00Z', { type: 'satisfaction', resolved: true, score: 5 }],
    ]),
    // Re-tiered after its first reply, resolved, reopened and resolved again the next morning.
    ticket('C', 'helpdesk', 1, '2026-10-27T08:00:00Z', [
      ['2026-10-27T08:30:00Z', { type: 'acknowledge', by: 'ann' }],
      ['2026-10-27T10:00:00Z', { type: 'change-tier', by: 'sue', tier: 2, reason: 'a bigger job' }],
      ['2026-10-27T12:00:00Z', { type: 'resolve', by: 'ann', resolution: message('c1') }],
      ['2026-10-27T13:00:00Z', { type: 'reopen', by: 'ann', reason: 'not fixed' }],
      ['2026-10-28T09:00:00Z', { type: 'resolve', by: 'ann', resolution: message('c2') }],
      ['2026-10-28T10:00:00Z', { type: 'satisfaction', resolved: false, score: 2 }],
    ]),
    // Late on the 27th in Amsterdam (23:30 CET), never answered: its acknowledgement breached.
    ticket('D', 'helpdesk', 1, '2026-10-27T22:30:00Z', []),
    // Saturday 22:30 UTC is already Sunday 00:30 in Amsterdam (summer time); handed off in time.
    ticket('E', 'forum', 3, '2026-10-24T22:30:00Z', [
      ['2026-10-24T23:00:00Z', { type: 'acknowledge', by: 'eve' }],
      ['2026-10-25T10:00:00Z', { type: 'hand-off', by: 'eve', team: 'billing', reason: 'a refund' }],
    ]),
  ];
  for (const t of tickets) {
    timelines.set(t.state.ticket.id, t.state.timeline.map((e) => e.event));
    for (const write of t.writes) await activities.recordTicket(write);
  }
});

afterAll(async () => {
  await db.drop();
});

async function report(name: string, query: Record<string, string> = {}): Promise<ReportRow[]> {
  const r = reportNamed(name)!;
  return r.run(db.pool, reportParams(r, { from: '2026-10-23', to: '2026-10-29', ...query }));
}

const pick = (rows: ReportRow[], where: ReportRow) => rows.find((r) => Object.entries(where).every(([k, v]) => r[k] === v));

it('first reply and resolution times: calendar and business, pauses excluded, per tier at the time', async () => {
  const rows = await report('response-times');
  // First replies: A 66 h (tier 1), C 0.5 h (tier 1, before its re-tier), B 0.5 h (tier 2), E 0.5 h (tier 3).
  expect(pick(rows, { measure: 'first-reply', clock: 'calendar', tier: 'all' })).toMatchObject({ count: 4, averageMs: 16.875 * H, medianMs: 0.5 * H, p90Ms: 46.35 * H });
  expect(pick(rows, { measure: 'first-reply', clock: 'calendar', tier: '1' })).toMatchObject({ count: 2, medianMs: 33.25 * H });
  // Business: A Fri 16-17 + Mon 9-10 = 2 h; B 0.5 h; C before opening 0; E on a Saturday 0.
  expect(pick(rows, { measure: 'first-reply', clock: 'business', tier: 'all' })).toMatchObject({ count: 4, averageMs: 0.625 * H, medianMs: 0.25 * H });
  // Resolutions: A 68 h (business 1 + 3 = 4 h); B 6 h - 4 h waiting = 2 h; C created → latest resolution 25 h (business 8 h), tier 2.
  expect(pick(rows, { measure: 'resolution', clock: 'calendar', tier: '1' })).toMatchObject({ count: 1, averageMs: 68 * H });
  expect(pick(rows, { measure: 'resolution', clock: 'calendar', tier: '2' })).toMatchObject({ count: 2, medianMs: 13.5 * H });
  expect(pick(rows, { measure: 'resolution', clock: 'business', tier: 'all' })).toMatchObject({ count: 3, medianMs: 4 * H, averageMs: (14 / 3) * H });
  expect(pick(rows, { measure: 'resolution', clock: 'business', tier: '2' })).toMatchObject({ count: 2, averageMs: 5 * H });
});

it('SLA attainment per target, tier and channel: met ÷ (met + breached), in progress apart', async () => {
  const rows = await report('sla-attainment');
  expect(pick(rows, { target: 'acknowledgement', tier: 'all', channel: 'all' })).toMatchObject({ met: 3, breached: 2, inProgress: 0, attainmentPercent: 60 });
  expect(pick(rows, { target: 'resolution', tier: 'all', channel: 'all' })).toMatchObject({ met: 2, breached: 1, inProgress: 1, attainmentPercent: 66.7 });
  expect(pick(rows, { target: 'resolution', tier: '1', channel: 'all' })).toMatchObject({ met: 0, breached: 1, inProgress: 1, attainmentPercent: 0 });
  expect(pick(rows, { target: 'resolution', tier: '2', channel: 'all' })).toMatchObject({ met: 2, breached: 0, attainmentPercent: 100 });
  expect(pick(rows, { target: 'hand-off', tier: 'all', channel: 'all' })).toMatchObject({ met: 1, breached: 0, attainmentPercent: 100 });
  expect(pick(rows, { target: 'acknowledgement', tier: 'all', channel: 'helpdesk' })).toMatchObject({ met: 1, breached: 2, attainmentPercent: 33.3 });
  // A filter narrows what is counted.
  const social = await report('sla-attainment', { channel: 'social' });
  expect(pick(social, { target: 'acknowledgement', tier: 'all', channel: 'all' })).toMatchObject({ met: 1, breached: 0 });
});

it('breaches, escalations by level, reopen rate and one-touch resolutions', async () => {
  const breaches = await report('breaches', { groupBy: 'month' });
  // A's acknowledgement (Fri 20:00) and resolution (Sat 16:00), D's acknowledgement (Wed 02:30).
  expect(breaches).toEqual([
    { period: '2026-10-01', target: 'acknowledgement', channel: 'helpdesk', breaches: 2 },
    { period: '2026-10-01', target: 'resolution', channel: 'helpdesk', breaches: 1 },
  ]);
  const escalations = await report('escalations');
  const written = [...timelines.values()].flat().filter((e) => /^escalated \S+ to level \d+$/.test(e));
  expect(escalations.reduce((n, r) => n + Number(r.escalations), 0)).toBe(written.length);
  expect(written.length).toBeGreaterThan(0);
  for (const r of escalations) {
    expect(written.filter((e) => e.endsWith(`to level ${r.level}`) && e.includes(r.target === 'acknowledgement' ? 'acknowledge' : String(r.target)))).toHaveLength(Number(r.escalations));
  }
  // Resolved in the range: A, B, C. C was reopened; only A had no other message than its resolution.
  expect(await report('resolutions')).toEqual([{ resolved: 3, reopened: 1, reopenRatePercent: 33.3, oneTouch: 1, oneTouchPercent: 33.3 }]);
});

it('satisfaction: the two answers, CSAT = satisfied ÷ answered, response rate = answers ÷ resolutions', async () => {
  const rows = await report('satisfaction', { groupBy: 'month' });
  expect(rows).toEqual([
    {
      period: '2026-10-01', answered: 2, saidResolved: 1, saidNotResolved: 1, score1: 0, score2: 1, score3: 0, score4: 0, score5: 1,
      // Four resolutions (C's twice), each sending the pulse; two answers.
      csatPercent: 50, resolutions: 4, responseRatePercent: 50,
    },
  ]);
});

it('opened vs resolved and the backlog per day; volume by kind and channel', async () => {
  expect(await report('backlog')).toEqual([
    { period: '2026-10-23', opened: 1, resolved: 0, open: 1 },
    { period: '2026-10-24', opened: 1, resolved: 0, open: 2 },
    { period: '2026-10-25', opened: 0, resolved: 0, open: 2 },
    { period: '2026-10-26', opened: 1, resolved: 2, open: 1 },
    { period: '2026-10-27', opened: 3, resolved: 1, open: 3 },
    { period: '2026-10-28', opened: 0, resolved: 1, open: 2 },
  ]);
  // From the 26th on, the backlog starts with what was open before.
  expect((await report('backlog', { from: '2026-10-26' }))[0]).toEqual({ period: '2026-10-26', opened: 1, resolved: 2, open: 1 });
  const volume = await report('volume', { groupBy: 'week' });
  expect(volume).toEqual([
    { period: '2026-10-19', kind: 'ticket', channel: 'forum', opened: 1, resolved: 0 },
    { period: '2026-10-19', kind: 'ticket', channel: 'helpdesk', opened: 1, resolved: 0 },
    { period: '2026-10-26', kind: 'ticket', channel: 'helpdesk', opened: 2, resolved: 3 },
    { period: '2026-10-26', kind: 'ticket', channel: 'social', opened: 1, resolved: 1 },
  ]);
});

it("periods are the caller's local days, across the end of summer time", async () => {
  const opened = (rows: ReportRow[]) => rows.filter((r) => Number(r.opened) > 0).map((r) => [r.period, r.channel, r.opened]);
  // UTC: E on Saturday the 24th, D on the 27th.
  expect(opened(await report('volume'))).toEqual([
    ['2026-10-23', 'helpdesk', 1], ['2026-10-24', 'forum', 1], ['2026-10-26', 'social', 1], ['2026-10-27', 'helpdesk', 2],
  ]);
  // Amsterdam: E at 00:30 on the 25th (summer time, +2); D at 23:30 on the 27th (winter time, +1).
  // The range starts at local midnight: A (18:00 on the 23rd) is inside, as in UTC.
  expect(opened(await report('volume', { timeZone: 'Europe/Amsterdam' }))).toEqual([
    ['2026-10-23', 'helpdesk', 1], ['2026-10-25', 'forum', 1], ['2026-10-26', 'social', 1], ['2026-10-27', 'helpdesk', 2],
  ]);
  // The 25th has 25 hours there; the backlog's days follow the local calendar too.
  const backlog = await report('backlog', { timeZone: 'Europe/Amsterdam' });
  expect(backlog.map((r) => r.period)).toEqual(['2026-10-23', '2026-10-24', '2026-10-25', '2026-10-26', '2026-10-27', '2026-10-28']);
  expect(backlog.find((r) => r.period === '2026-10-24')).toMatchObject({ opened: 0, open: 1 });
  // A week can start on Sunday: then the 25th starts a week.
  const sunday = await report('volume', { groupBy: 'week', weekStart: 'sunday', timeZone: 'Europe/Amsterdam' });
  expect([...new Set(sunday.map((r) => r.period))]).toEqual(['2026-10-18', '2026-10-25']);
});

it('distribution by channel, tier, priority, agent and region', async () => {
  const rows = await report('distribution');
  expect(pick(rows, { dimension: 'channel', value: 'helpdesk' })).toMatchObject({ tickets: 3, sharePercent: 60 });
  expect(pick(rows, { dimension: 'tier', value: '2' })).toMatchObject({ tickets: 2, sharePercent: 40 });
  expect(pick(rows, { dimension: 'priority', value: 'normal' })).toMatchObject({ tickets: 5, sharePercent: 100 });
  expect(pick(rows, { dimension: 'region', value: '(none)' })).toMatchObject({ tickets: 5 });
  expect(pick(rows, { dimension: 'agent', value: '(unassigned)' })).toMatchObject({ tickets: 5 });
});

it('at risk: the open ticket that will breach unless someone acts, with its margin', async () => {
  const rows = await report('at-risk', { at: '2026-10-28T12:00:00Z' });
  // D: due 22:30 (10.5 h left); tier-1 helpdesk tickets took 68 h, D has used 13.5 h: it needs 54.5 h more.
  expect(rows).toEqual([
    expect.objectContaining({ id: 'D', tier: 1, channel: 'helpdesk', resolutionDueAt: '2026-10-28T22:30:00.000Z', leftMs: 10.5 * H, typicalNeedMs: 54.5 * H, marginMs: -44 * H }),
  ]);
});

it('first reply distribution in bands', async () => {
  const rows = await report('first-reply-distribution');
  expect(rows.map((r) => [r.band, r.tickets])).toEqual([
    ['< 15 min', 0], ['15 min - 1 h', 3], ['1 - 4 h', 0], ['4 - 8 h', 0], ['8 - 24 h', 0], ['> 24 h', 1],
  ]);
});

it('the event log holds each entry once, typed, at the time it happened', async () => {
  const { rows } = await db.pool.query(
    `SELECT seq, type, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS at, tier, elapsed_ms, business_ms, score, said_resolved
       FROM desk_events WHERE workflow_id = 'ticket-B' ORDER BY seq`,
  );
  expect(rows.map((r) => [r.type, r.at])).toEqual([
    ['created', '2026-10-26T09:00'],
    ['acknowledged', '2026-10-26T09:30'],
    ['paused', '2026-10-26T10:00'],
    ['requester-replied', '2026-10-26T14:00'],
    ['resumed', '2026-10-26T14:00'],
    ['resolved', '2026-10-26T15:00'],
    ['satisfaction', '2026-10-26T16:00'],
  ]);
  expect(rows.find((r) => r.type === 'resolved')).toMatchObject({ elapsed_ms: 2 * H, business_ms: 2 * H });
  expect(rows.find((r) => r.type === 'satisfaction')).toMatchObject({ score: 5, said_resolved: true });
  const retier = await db.pool.query(`SELECT type, to_value FROM desk_events WHERE workflow_id = 'ticket-C' AND type = 'retiered'`);
  expect(retier.rows).toEqual([{ type: 'retiered', to_value: '2' }]);
});
