// GET /reports over HTTP: who may read them, JSON and CSV, and parameters a careless client gets
// wrong (each a 400 naming it). The figures themselves are db/reports.test.ts's.
import { toCsv } from '../api/reports';
import { seedTickets } from '../db/seed';
import { DEFAULT_POLICY } from '../domain/policy';
import type { TestCredentials } from './credentials';
import { seededReportsDesk, type ReportsDesk } from './reports-desk';

const NOW = Date.parse('2026-11-30T12:00:00Z');

let desk: ReportsDesk;
let credentials: TestCredentials;
let api: string;

beforeAll(async () => {
  desk = await seededReportsDesk({ tickets: 150, days: 20, now: NOW, seed: 3 });
  ({ api, credentials } = desk);
}, 60_000);

afterAll(async () => {
  await desk?.stop();
});

async function get(path: string, headers: Record<string, string> = {}, as: [string, string] = ['sue', 'supervisor']) {
  const res = await fetch(`${api}${path}`, { headers: { ...(await credentials.headers(...as)), ...headers } });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // CSV
  }
  return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), body };
}

it('only a supervisor (or admin) reads reports: an agent is told which role it needs, no key is a 401', async () => {
  expect((await get('/reports/volume', {}, ['alice', 'agent'])).body.error).toMatch(/needs the role supervisor or admin/);
  expect((await get('/reports/volume', {}, ['alice', 'agent'])).status).toBe(403);
  expect((await fetch(`${api}/reports/volume`)).status).toBe(401);
  expect((await get('/reports', {}, ['admin', 'admin'])).status).toBe(200);
  const index = await get('/reports');
  expect(index.body.reports.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['volume', 'sla-attainment', 'satisfaction', 'at-risk']));
  expect((await get('/reports/nope')).status).toBe(404);
});

it('answers JSON by default and CSV with Accept: text/csv, the same rows', async () => {
  const query = '?from=2026-11-10&to=2026-12-01&groupBy=week';
  const json = await get(`/reports/backlog${query}`);
  expect(json.status).toBe(200);
  expect(json.body.parameters).toMatchObject({ from: '2026-11-10T00:00:00', to: '2026-12-01T00:00:00', timeZone: 'UTC', groupBy: 'week', weekStart: 'monday' });
  // Weeks from Monday: the first is cut to the range (from Tuesday the 10th) and named by its Monday.
  expect(json.body.rows.map((r: { period: string }) => r.period)).toEqual(['2026-11-09', '2026-11-16', '2026-11-23', '2026-11-30']);
  const csv = await get(`/reports/backlog${query}`, { accept: 'text/csv' });
  expect(csv.type).toMatch(/^text\/csv/);
  expect(csv.disposition).toBe('attachment; filename="backlog-2026-11-10-2026-12-01.csv"');
  const lines = (csv.body as string).trimEnd().split('\r\n');
  expect(lines[0]).toBe('period,opened,resolved,open');
  expect(lines.slice(1)).toEqual(json.body.rows.map((r: Record<string, unknown>) => [r.period, r.opened, r.resolved, r.open].join(',')));
});

it('CSV cells are quoted when they must be, and text a spreadsheet would run as a formula is defused', () => {
  const csv = toCsv(['name', 'n', 'note'], [
    { name: '=HYPERLINK("http://evil")', n: -3, note: 'a, "b"\nc' },
    { name: '@SUM(A1)', n: null, note: '+1' },
  ]);
  expect(csv).toBe('name,n,note\r\n"\'=HYPERLINK(""http://evil"")",-3,"a, ""b""\nc"\r\n\'@SUM(A1),,\'+1\r\n');
});

it.each([
  ['from=2026-02-30', 'from', /local date or date-time/],
  ['from=2026-11-02T09:00:00Z', 'from', /no offset/],
  ['from=2026-11-10&to=2026-11-01', 'to', /must be after from/],
  ['from=2020-01-01&to=2026-01-01', 'to', /at most 732/],
  ['timeZone=Mars/Olympus', 'timeZone', /IANA time zone/],
  // Known to Node's ICU, dropped from PostgreSQL's time zone data.
  ['timeZone=US/Pacific-New', 'timeZone', /PostgreSQL does not know the time zone/],
  ['from=9999-12-25', 'from', /years 1970 to 9000/],
  ['groupBy=hour', 'groupBy', /day, week, month/],
  ['weekStart=friday', 'weekStart', /monday/],
  ['tier=4', 'tier', /1, 2 or 3/],
  ['channel=fax', 'channel', /must be one of/],
  ['region=EMEA', 'region', /short code/],
  ['at=2026-11-30T12:00:00Z', 'at', /at-risk only/],
  ['colour=red', 'colour', /not a field/],
  ['from=2026-11-01&from=2026-11-02', 'from', /give it once/],
])('GET /reports/volume?%s is a 400 naming %s', async (query, field, message) => {
  const res = await get(`/reports/volume?${query}`);
  expect(res.status).toBe(400);
  expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, message: expect.stringMatching(message) })]));
});

it('a filter a report does not take is a 400 that says which it takes', async () => {
  const res = await get('/reports/incidents?channel=helpdesk');
  expect(res.status).toBe(400);
  expect(res.body.details).toEqual([{ field: 'channel', message: 'does not apply to report incidents; it takes no filters' }]);
});

it('seeding again replaces what the last seed wrote', async () => {
  const count = async () => (await desk.db.pool.query(`SELECT (SELECT count(*) FROM tickets)::int AS t, (SELECT count(*) FROM desk_events)::int AS e`)).rows[0];
  const before = await count();
  await seedTickets(desk.db.pool, DEFAULT_POLICY, { tickets: 150, days: 20, now: NOW, seed: 3 });
  expect(await count()).toEqual(before);
  await seedTickets(desk.db.pool, DEFAULT_POLICY, { tickets: 20, days: 5, now: NOW, seed: 4 });
  expect((await count()).t).toBe(20);
  await seedTickets(desk.db.pool, DEFAULT_POLICY, { tickets: 150, days: 20, now: NOW, seed: 3 });
  expect(await count()).toEqual(before);
});

it('the ticket list takes the filters a number links to: open, a creation range, region, priority', async () => {
  const all = (await get('/tickets?limit=500')).body.tickets;
  expect(all.length).toBe(150);
  const open = (await get('/tickets?open=true&limit=500')).body.tickets;
  expect(open.length).toBeGreaterThan(0);
  expect(open.every((t: { status: string }) => !['resolved', 'closed'].includes(t.status))).toBe(true);
  const from = '2026-11-20T00:00:00Z';
  const inRange = (await get(`/tickets?createdFrom=${from}&createdTo=2026-11-25T00:00:00Z&limit=500`)).body.tickets;
  const created = (t: { createdAt: string }) => Date.parse(t.createdAt);
  const expected = all.filter((t: { createdAt: string }) => created(t) >= Date.parse(from) && created(t) < Date.parse('2026-11-25T00:00:00Z'));
  expect(expected.length).toBeGreaterThan(0);
  expect(inRange.map((t: { id: string }) => t.id)).toEqual(expected.map((t: { id: string }) => t.id));
  const emea = (await get('/tickets?region=emea&limit=500')).body.tickets;
  expect(emea.length).toBeGreaterThan(0);
  expect(emea.every((t: { region: string }) => t.region === 'emea')).toBe(true);
  expect((await get('/tickets?open=true&status=open')).status).toBe(400);
});
