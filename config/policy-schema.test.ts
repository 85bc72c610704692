// The SLA/escalation policy is checked at start: every value a workflow will compute with, every
// problem named by its path, nothing half-loaded, so a bad calendar refuses the start instead of stalling tickets.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { DEFAULT_POLICY, DEMO_POLICY, type BusinessCalendar } from '../domain/policy';
import { loadPolicy, parsePolicy, PolicyError } from './policy-schema';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** Monday 2 March 2026, 10:00 UTC: when the policies below are loaded. */
const NOW = Date.UTC(2026, 2, 2, 10);
const H = 3_600_000;

function problemsOf(raw: unknown): string {
  try {
    parsePolicy(raw, 'test.json', { now: NOW });
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as Error).message;
  }
  throw new Error('expected the policy to be rejected');
}

/** The default policy (whose security channel acknowledges in 8 business hours) with a change. */
function defaultWith(change: (p: any) => void): unknown {
  const p = clone(DEFAULT_POLICY) as any;
  change(p);
  return p;
}

/** Every Monday for eleven years from `first`: more than the calendar arithmetic searches. */
const mondaysFrom = (first: string) =>
  Array.from({ length: 11 * 53 }, (_, week) => DateTime.fromISO(first, { zone: 'utc' }).plus({ weeks: week }).toISODate()!);

const mondaysOnly = (holidays: string[]): BusinessCalendar => ({
  timeZone: 'UTC',
  weeklyHours: { mon: [{ start: '09:00', end: '17:00' }] },
  holidays,
});

describe('roles in a policy', () => {
  it('replace the default of the same name, and must leave someone to manage keys', () => {
    const policy = parsePolicy({ ...DEFAULT_POLICY, roles: { triage: ['read', 'act'], agent: ['read'] } }, 'test.json', { now: NOW });
    expect(policy.roles).toEqual({ triage: ['read', 'act'], agent: ['read'] });
    expect(() => parsePolicy({ ...DEFAULT_POLICY, roles: { admin: ['read'] } }, 'test.json', { now: NOW })).toThrow(/no role grants "manage"/);
    expect(() => parsePolicy({ ...DEFAULT_POLICY, roles: { agent: ['fly'] } }, 'test.json', { now: NOW })).toThrow(/roles\.agent\.0/);
    expect(() => parsePolicy({ ...DEFAULT_POLICY, roles: { Agent: ['read'] } }, 'test.json', { now: NOW })).toThrow(/lowercase word/);
  });

  it('give decode only to a role that may read everything it shows', () => {
    expect(() => parsePolicy({ ...DEFAULT_POLICY, roles: { supervisor: ['read', 'read-private', 'decode'] } }, 'test.json', { now: NOW })).toThrow(
      /roles\.supervisor: decode shows every payload/,
    );
    expect(parsePolicy({ ...DEFAULT_POLICY, roles: { operator: ['decode', 'read-private', 'security'] } }, 'test.json', { now: NOW }).roles).toBeDefined();
  });
});

describe('the SLA policy', () => {
  it('the built-in default and demo policies are valid', () => {
    expect(loadPolicy('default').name).toBe('default');
    expect(loadPolicy('demo').name).toBe('demo');
    expect(parsePolicy(DEFAULT_POLICY, 'default', { now: NOW })).toEqual(DEFAULT_POLICY);
  });

  it('defaults follow the handbook: acknowledge in 4 h; tier 1 in 24 h, tier 2 in 72 h, tier-3 hand-off in 24 h', () => {
    const d = DEFAULT_POLICY.channels.default;
    expect(d.acknowledge.withinMs).toBe(4 * 3_600_000);
    expect(d.resolve[1].withinMs).toBe(24 * 3_600_000);
    expect(d.resolve[2].withinMs).toBe(72 * 3_600_000);
    expect(d.resolve[3].withinMs).toBe(24 * 3_600_000);
    expect(DEFAULT_POLICY.warningShare).toBe(0.75);
    expect(DEMO_POLICY.channels.default.acknowledge.withinMs).toBeLessThan(60_000);
  });

  it('accepts what a real desk writes: holidays, split shifts, another time zone, a warning ladder', () => {
    const policy = defaultWith((p) => {
      p.calendars.amsterdam = {
        timeZone: 'Europe/Amsterdam',
        weeklyHours: { mon: [{ start: '09:00', end: '12:00' }, { start: '13:00', end: '17:00' }], fri: [{ start: '18:00', end: '24:00' }] },
        holidays: ['2026-04-03', '2026-04-06', '2026-12-25'],
      };
      p.channels.helpdesk = { acknowledge: { withinMs: 2 * H, clock: 'business', calendar: 'amsterdam' } };
      p.warningShares = [0.5, 0.75, 0.9];
    });
    expect(parsePolicy(policy, 'test.json', { now: NOW }).warningShares).toEqual([0.5, 0.75, 0.9]);
  });

  it('lists every problem with its path', () => {
    const bad = clone(DEFAULT_POLICY) as any;
    bad.warningShare = 1.5;
    bad.channels.default.acknowledge.withinMs = -1;
    bad.channels.default.escalationChain = 'nobody';
    bad.channels['carrier-pigeon'] = {};
    bad.channels.helpdesk = { acknowledge: { withinMs: 1000, clock: 'business' } };
    bad.calendars['business-hours'].timeZone = 'Mars/Olympus';
    bad.calendars['business-hours'].weeklyHours.mon = [{ start: '17:00', end: '09:00' }];
    bad.calendars['business-hours'].holidays = ['2026-02-30'];
    const message = problemsOf(bad);
    expect(message).toContain('invalid SLA policy in test.json');
    expect(message).toContain('warningShare:');
    expect(message).toContain('channels.default.acknowledge.withinMs:');
    expect(message).toContain('channels.default.escalationChain: no escalation chain named "nobody"');
    expect(message).toContain('channels.carrier-pigeon: unknown channel');
    expect(message).toContain('channels.helpdesk.acknowledge: a business-time target needs "calendar"');
    expect(message).toContain('calendars.business-hours.timeZone: unknown time zone "Mars/Olympus"');
    expect(message).toContain('calendars.business-hours.weeklyHours.mon.0: mon 17:00–09:00 ends before it starts');
    expect(message).toContain('calendars.business-hours.holidays.0: holiday "2026-02-30" is not a date');
  });

  // Each policy is refused, and the message names where the problem is (and what it is).
  const refused: Array<[string, unknown, string]> = [
    // Calendars: read exactly as the calendar arithmetic reads them.
    ['an impossible holiday', defaultWith((p) => (p.calendars['business-hours'].holidays = ['2026-12-25', '2026-02-30'])),
      'calendars.business-hours.holidays.1: holiday "2026-02-30" is not a date; write it as YYYY-MM-DD'],
    ['a thirteenth month', defaultWith((p) => (p.calendars['business-hours'].holidays = ['2026-13-01'])),
      'calendars.business-hours.holidays.0: holiday "2026-13-01" is not a date'],
    ['a holiday not written YYYY-MM-DD', defaultWith((p) => (p.calendars['business-hours'].holidays = ['25/12/2026'])),
      'calendars.business-hours.holidays.0: holiday "25/12/2026" is not a date'],
    ['an unknown time zone', defaultWith((p) => (p.calendars['business-hours'].timeZone = 'Europe/Amsterdamm')),
      'calendars.business-hours.timeZone: unknown time zone "Europe/Amsterdamm"; use an IANA name'],
    ['an opening time without its leading zero', defaultWith((p) => (p.calendars['business-hours'].weeklyHours.tue = [{ start: '9:00', end: '17:00' }])),
      'calendars.business-hours.weeklyHours.tue.0.start: tue time "9:00" is not "HH:mm" between 00:00 and 24:00'],
    ['a closing time past midnight', defaultWith((p) => (p.calendars['business-hours'].weeklyHours.fri = [{ start: '18:00', end: '24:30' }])),
      'calendars.business-hours.weeklyHours.fri.0.end: fri time "24:30" is not "HH:mm"'],
    ['a night shift written as one interval', defaultWith((p) => (p.calendars['business-hours'].weeklyHours.wed = [{ start: '22:00', end: '06:00' }])),
      'calendars.business-hours.weeklyHours.wed.0: wed 22:00–06:00 ends before it starts; split a night shift'],
    ['a weekday spelt out', defaultWith((p) => (p.calendars['business-hours'].weeklyHours.monday = [{ start: '09:00', end: '17:00' }])),
      'calendars.business-hours.weeklyHours.monday: unknown field; did you mean "mon"?'],

    // Business-time targets: a calendar that exists, opens, and gets there.
    ['a business-time target on a calendar that does not exist', defaultWith((p) => (p.channels.security.acknowledge.calendar = 'office')),
      'channels.security.acknowledge: a business-time target needs "calendar" naming a calendar in "calendars" (there is no calendar "office"; known: business-hours)'],
    ['a business-time target on a calendar named like an object method', defaultWith((p) => (p.channels.security.acknowledge.calendar = 'toString')),
      'channels.security.acknowledge: a business-time target needs "calendar"'],
    ['a business-time target on a calendar with no opening hours', defaultWith((p) => (p.calendars['business-hours'].weeklyHours = {})),
      'channels.security.acknowledge: calendar "business-hours": the calendar has no opening hours on any weekday'],
    ['a business-time target whose only open day is a holiday for ten years', defaultWith((p) => (p.calendars['business-hours'] = mondaysOnly(mondaysFrom('2026-03-09')))),
      'channels.security.acknowledge: calendar "business-hours": a clock started on 2026-03-02 would not count 8h of opening time within 3660 days'],
    ['a target no calendar reaches in ten years', defaultWith((p) => (p.channels.security.acknowledge.withinMs = 11 * 366 * 8 * H)),
      'channels.security.acknowledge: calendar "business-hours": a clock started on 2026-03-02 would not count'],
    // The stretch begins the day after the last open Monday.
    ['ten years of holidays that begin later', defaultWith((p) => (p.calendars['business-hours'] = mondaysOnly(mondaysFrom('2030-01-07')))),
      'channels.security.acknowledge: calendar "business-hours": a clock started on 2030-01-01 would not count 8h'],
    ['a business-time resolution target every channel inherits from default', defaultWith((p) => {
      p.calendars.closed = { timeZone: 'UTC', weeklyHours: {}, holidays: [] };
      p.channels.default.resolve[2] = { withinMs: 72 * H, clock: 'business', calendar: 'closed' };
    }), 'channels.default.resolve.2: calendar "closed": the calendar has no opening hours'],
    ['a channel overriding one tier with a business-time target on a closed calendar', defaultWith((p) => {
      p.calendars.closed = { timeZone: 'UTC', weeklyHours: { sat: [] }, holidays: [] };
      p.channels.helpdesk = { resolve: { 1: { withinMs: H, clock: 'business', calendar: 'closed' } } };
    }), 'channels.helpdesk.resolve.1: calendar "closed": the calendar has no opening hours'],
    ['a security response target on a calendar with no opening hours', defaultWith((p) => {
      p.calendars.closed = { timeZone: 'UTC', weeklyHours: {}, holidays: [] };
      p.security.respond = { withinMs: 8 * H, clock: 'business', calendar: 'closed' };
    }), 'security.respond: calendar "closed": the calendar has no opening hours'],
    ['a security response target with no calendar', defaultWith((p) => (p.security.respond = { withinMs: 8 * H, clock: 'business' })),
      'security.respond: a business-time target needs "calendar"'],

    // Names used elsewhere must exist.
    ['a channel naming an escalation chain that does not exist', defaultWith((p) => (p.channels.helpdesk = { escalationChain: 'vip' })),
      'channels.helpdesk.escalationChain: no escalation chain named "vip" in "escalationChains" (known: standard, urgent)'],
    ['the security section naming an escalation chain that does not exist', defaultWith((p) => (p.security.escalationChain = 'security-team')),
      'security.escalationChain: no escalation chain named "security-team"'],
    ['a paging chain whose level 1 outlasts the acknowledgement window', defaultWith((p) => (p.incident.pagingChain[0].repeats = 2)),
      'incident.pagingChain.0: level 1 must last exactly acknowledgeWithinMs'],
    ['a crisis escalating to a level the paging chain does not have', defaultWith((p) => (p.incident.crisis.escalateToLevel = 4)),
      'incident.crisis.escalateToLevel: the paging chain has 3 level(s): a crisis cannot escalate to level 4'],
    ['an empty paging chain', defaultWith((p) => (p.incident.pagingChain = [])),
      'incident.pagingChain: needs at least level 1'],

    // Unknown keys are refused, not ignored.
    ['a misspelt top-level field', defaultWith((p) => (p.warningshare = 0.5)),
      'warningshare: unknown field; did you mean "warningShare"?'],
    ['a misspelt target field', defaultWith((p) => (p.channels.default.acknowledge.withinms = 1000)),
      'channels.default.acknowledge.withinms: unknown field; did you mean "withinMs"?'],
    ['a misspelt tier', defaultWith((p) => (p.channels.default.resolve[4] = { withinMs: H, clock: 'calendar' })),
      'channels.default.resolve.4: unknown field; the fields here are 1, 2, 3'],
    ['a field a channel does not have', defaultWith((p) => (p.channels.emergency.pageOnCall = true)),
      'channels.emergency.pageOnCall: unknown field'],
    ['a misspelt calendar field', defaultWith((p) => (p.calendars['business-hours'].holiday = ['2026-12-25'])),
      'calendars.business-hours.holiday: unknown field; did you mean "holidays"?'],
    ['a misspelt escalation level field', defaultWith((p) => (p.escalationChains.standard[0].repeat = 2)),
      'escalationChains.standard.0.repeat: unknown field; did you mean "repeats"?'],
    ['a misspelt crisis field', defaultWith((p) => (p.incident.crisis.afterOpenMS = 1000)),
      'incident.crisis.afterOpenMS: unknown field; did you mean "afterOpenMs"?'],
    ['two unknown fields at once', defaultWith((p) => Object.assign(p.security, { teams: ['#sec'], colour: 'red' })),
      'security: unknown fields "teams" (did you mean "team"?), "colour"'],

    // The warning ladder.
    ['a warning at 0', defaultWith((p) => (p.warningShares = [0, 0.5])), 'warningShares.0: a warning share lies strictly between 0 and 1'],
    ['a warning at the deadline itself', defaultWith((p) => (p.warningShares = [0.5, 1])), 'warningShares.1: a warning share lies strictly between 0 and 1'],
    ['the same warning twice', defaultWith((p) => (p.warningShares = [0.5, 0.5])), 'warningShares.1: must be greater than the warning before it (0.5)'],
    ['warnings out of order', defaultWith((p) => (p.warningShares = [0.9, 0.5])), 'warningShares.1: must be greater than the warning before it (0.9)'],
    ['more than five warnings', defaultWith((p) => (p.warningShares = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])), 'warningShares: at most 5 warnings per target'],
  ];

  it.each(refused)('refuses %s', (_case, policy, expected) => {
    expect(problemsOf(policy)).toContain(`  ${expected}`);
  });

  it('loads a JSON file, and says what is wrong with a missing or broken one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ ...clone(DEMO_POLICY), name: 'from-file' }));
    expect(loadPolicy(good).name).toBe('from-file');

    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{"name": ');
    expect(() => loadPolicy(broken)).toThrow(/is not valid JSON/);
    expect(() => loadPolicy(path.join(dir, 'missing.json'))).toThrow(
      /neither a built-in policy \(default, demo\) nor a readable JSON file/,
    );
    expect(() => loadPolicy('constructor')).toThrow(/neither a built-in policy/);

    const typo = path.join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ ...clone(DEMO_POLICY), warningshare: 0.5 }));
    expect(() => loadPolicy(typo)).toThrow(/warningshare: unknown field; did you mean "warningShare"\?/);
  });
});
