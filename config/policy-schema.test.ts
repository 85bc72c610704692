// The SLA/escalation policy is checked at start: every problem named by its path, nothing half-loaded.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY, DEMO_POLICY } from '../domain/policy';
import { loadPolicy, parsePolicy, PolicyError } from './policy-schema';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function problemsOf(raw: unknown): string {
  try {
    parsePolicy(raw, 'test.json');
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as Error).message;
  }
  throw new Error('expected the policy to be rejected');
}

describe('the SLA policy', () => {
  it('the built-in default and demo policies are valid', () => {
    expect(loadPolicy('default').name).toBe('default');
    expect(loadPolicy('demo').name).toBe('demo');
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

  it('lists every problem with its path', () => {
    const bad = clone(DEFAULT_POLICY) as any;
    bad.warningShare = 1.5;
    bad.channels.default.acknowledge.withinMs = -1;
    bad.channels.default.escalationChain = 'nobody';
    bad.channels['carrier-pigeon'] = {};
    bad.channels.helpdesk = { acknowledge: { withinMs: 1000, clock: 'business' } };
    bad.calendars['business-hours'].timeZone = 'Mars/Olympus';
    bad.calendars['business-hours'].weeklyHours.mon = [{ start: '17:00', end: '09:00' }];
    const message = problemsOf(bad);
    expect(message).toContain('invalid SLA policy in test.json');
    expect(message).toContain('warningShare:');
    expect(message).toContain('channels.default.acknowledge.withinMs:');
    expect(message).toContain('channels.default.escalationChain: no escalation chain named "nobody"');
    expect(message).toContain('channels.carrier-pigeon: unknown channel');
    expect(message).toContain('channels.helpdesk.acknowledge: a business-time target needs "calendar"');
    expect(message).toContain('calendars.business-hours.timeZone: not an IANA time zone');
    expect(message).toContain('calendars.business-hours.weeklyHours.mon.0: start must be before end');
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
  });
});
