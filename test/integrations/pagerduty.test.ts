// Contract of the PagerDuty driver against a local Events API v2: trigger, acknowledge and resolve
// under one routing key and dedup_key; one alert per paging level when each level has its own routing
// key; retried until success with one page; 429; a 4xx stops.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { integrationsFromEnv } from '../../activities/drivers';
import { pagerdutyPager } from '../../activities/drivers/pagerduty';
import type { PagerDriver } from '../../activities/integrations';
import { FakePagerduty } from '../fakes/pagerduty';
import type { TestDatabase } from '../postgres';
import { againstAFreshFake } from './contract';
import { failureOf, retryLikeTemporal } from './retry';

const SECONDARY_KEY = 'R0UT1NGKEYFAKE00000000000SECOND';
let pagerduty: FakePagerduty;
let pager: PagerDriver;
let db: TestDatabase;

againstAFreshFake(() => new FakePagerduty(undefined, [SECONDARY_KEY]), (fake, database) => {
  pagerduty = fake;
  db = database;
  pager = pagerdutyPager({ routingKey: pagerduty.routingKey, eventsUrl: pagerduty.url });
});

const page = (dedupKey: string) =>
  pager.trigger({ dedupKey, summary: 'Checkout is down', severity: 'critical', source: 'support-desk', target: 'oncall-primary' });

describe('the PagerDuty pager driver', () => {
  test('triggers, acknowledges and resolves one incident with the same routing key and dedup key', async () => {
    await page('incident-inc-1');
    await pager.acknowledge({ dedupKey: 'incident-inc-1', targets: ['oncall-primary'] });
    await pager.resolve({ dedupKey: 'incident-inc-1', targets: ['oncall-primary'] });

    expect(pagerduty.incidents.get('incident-inc-1')).toMatchObject({ status: 'resolved', events: ['trigger', 'acknowledge', 'resolve'] });
    expect(pagerduty.requests.map((r) => [r.path, r.body.routing_key, r.body.dedup_key, r.body.event_action])).toEqual([
      ['/v2/enqueue', pagerduty.routingKey, 'incident-inc-1', 'trigger'],
      ['/v2/enqueue', pagerduty.routingKey, 'incident-inc-1', 'acknowledge'],
      ['/v2/enqueue', pagerduty.routingKey, 'incident-inc-1', 'resolve'],
    ]);
    expect(pagerduty.requests[0]!.body.payload).toEqual({
      summary: 'Checkout is down',
      severity: 'critical',
      source: 'support-desk',
      custom_details: { target: 'oncall-primary' },
    });
  });

  test('with a routing key per paging level, level 2 is a second alert, and acknowledge and resolve reach both', async () => {
    const levels = pagerdutyPager({
      routingKeys: { 'oncall-primary': pagerduty.routingKey, 'oncall-secondary': SECONDARY_KEY },
      eventsUrl: pagerduty.url,
    });
    const trigger = (target: string) =>
      levels.trigger({ dedupKey: 'incident-inc-9', summary: 'Checkout is down', severity: 'critical', source: 'support-desk', target });
    await trigger('oncall-primary');
    await trigger('oncall-secondary');
    // Two services, two alerts under the same dedup key: level 2 rings instead of merging into level 1.
    expect(pagerduty.incidentsOn(pagerduty.routingKey).get('incident-inc-9')).toMatchObject({ status: 'triggered', events: ['trigger'] });
    expect(pagerduty.incidentsOn(SECONDARY_KEY).get('incident-inc-9')).toMatchObject({ status: 'triggered', events: ['trigger'] });

    await levels.acknowledge({ dedupKey: 'incident-inc-9', targets: ['oncall-primary', 'oncall-secondary'] });
    await levels.resolve({ dedupKey: 'incident-inc-9', targets: ['oncall-primary', 'oncall-secondary'] });
    for (const key of [pagerduty.routingKey, SECONDARY_KEY]) {
      expect(pagerduty.incidentsOn(key).get('incident-inc-9')).toMatchObject({ status: 'resolved', events: ['trigger', 'acknowledge', 'resolve'] });
    }
    expect(pagerduty.requests.map((r) => [r.body.routing_key === SECONDARY_KEY ? 'level 2' : 'level 1', r.body.event_action])).toEqual([
      ['level 1', 'trigger'],
      ['level 2', 'trigger'],
      ['level 1', 'acknowledge'],
      ['level 2', 'acknowledge'],
      ['level 1', 'resolve'],
      ['level 2', 'resolve'],
    ]);
  });

  test('with one routing key for every level, PagerDuty merges the second trigger into the open alert (why engine mode needs one per level)', async () => {
    await page('incident-inc-8');
    await pager.trigger({ dedupKey: 'incident-inc-8', summary: 'Checkout is down', severity: 'critical', source: 'support-desk', target: 'oncall-secondary' });
    expect(pagerduty.incidents.get('incident-inc-8')!.events).toEqual(['trigger', 'trigger']);
    expect(pagerduty.incidentsOn(SECONDARY_KEY).size).toBe(0);
  });

  test('a target with no routing key of its own and no default one stops at once and names the setting', async () => {
    const levels = pagerdutyPager({ routingKeys: { 'oncall-primary': pagerduty.routingKey }, eventsUrl: pagerduty.url });
    const failure = await failureOf(() =>
      levels.trigger({ dedupKey: 'incident-inc-7', summary: 's', severity: 'info', source: 'desk', target: 'oncall-secondary' }),
    );
    expect(failure).toMatchObject({ nonRetryable: true, type: 'IntegrationRejected' });
    expect(failure.message).toContain('PAGERDUTY_ROUTING_KEYS');
    expect(pagerduty.requests).toHaveLength(0);
  });

  test('a page retried through a 500 and a timeout-like 503 reaches PagerDuty once', async () => {
    pagerduty.failNext(1, { status: 500 });
    pagerduty.failNext(1, { status: 503 });
    const key = `pd-test:${randomBytes(4).toString('hex')}`;
    const attempts = await retryLikeTemporal(db.pool, key, 'pager', () => page('incident-inc-2'));
    await retryLikeTemporal(db.pool, key, 'pager', () => page('incident-inc-2'));
    expect(attempts.retried).toHaveLength(2);
    expect(pagerduty.requests.filter((r) => r.status === 202)).toHaveLength(1);
    expect(pagerduty.incidents.get('incident-inc-2')!.events).toEqual(['trigger']);
  });

  test('a 429 waits as long as Retry-After says', async () => {
    pagerduty.failNext(1, { status: 429, retryAfter: 3 });
    const failure = await failureOf(() => page('incident-inc-3'));
    expect(failure).toMatchObject({ nonRetryable: false, type: 'IntegrationRateLimited', nextRetryDelay: 3_000 });
  });

  test('a wrong routing key (400) stops without retrying and names the setting to check', async () => {
    const wrong = pagerdutyPager({ routingKey: 'not-the-key', eventsUrl: pagerduty.url });
    const attempts = await retryLikeTemporal(db.pool, `pd-test:${randomBytes(4).toString('hex')}`, 'pager', () =>
      wrong.trigger({ dedupKey: 'x', summary: 's', severity: 'info', source: 'desk', target: 't' }),
    );
    expect(attempts.retried).toHaveLength(0);
    expect(attempts.stoppedBy).toMatchObject({ nonRetryable: true, type: 'IntegrationRejected' });
    expect(attempts.stoppedBy!.message).toMatch(/^PagerDuty answered 400 .*Invalid routing key/);
    expect(attempts.stoppedBy!.message).toContain('check PAGERDUTY_ROUTING_KEY');
    expect(attempts.stoppedBy!.message).not.toContain('not-the-key');
  });
});

describe('PagerDuty configured from the environment', () => {
  const warningsOf = (env: NodeJS.ProcessEnv) => {
    const lines: string[] = [];
    const integrations = integrationsFromEnv(env, pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }));
    return { integrations, warnings: lines.join('') };
  };

  test('PAGERDUTY_ROUTING_KEYS gives each paging level its own service: paged by the worker, acknowledged on both', async () => {
    const { integrations, warnings } = warningsOf({
      PAGERDUTY_ROUTING_KEYS: `oncall-primary=${pagerduty.routingKey}, oncall-secondary=${SECONDARY_KEY}`,
      PAGERDUTY_EVENTS_URL: pagerduty.url,
    });
    expect(integrations.pager.driver).toBe('pagerduty');
    expect(warnings).toBe('');
    for (const target of ['oncall-primary', 'oncall-secondary']) {
      await integrations.pager.trigger({ dedupKey: 'incident-inc-5', summary: 's', severity: 'critical', source: 'desk', target });
    }
    await integrations.pager.acknowledge({ dedupKey: 'incident-inc-5', targets: ['oncall-primary', 'oncall-secondary'] });
    expect(pagerduty.incidentsOn(pagerduty.routingKey).get('incident-inc-5')!.status).toBe('acknowledged');
    expect(pagerduty.incidentsOn(SECONDARY_KEY).get('incident-inc-5')!.status).toBe('acknowledged');
  });

  test('with one routing key the worker warns at start-up that engine mode cannot page level 2 separately, naming no key', () => {
    const { integrations, warnings } = warningsOf({ PAGERDUTY_ROUTING_KEY: pagerduty.routingKey });
    expect(integrations.pager.driver).toBe('pagerduty');
    expect(warnings).toContain('engine escalation mode level 2 cannot be paged separately');
    expect(warnings).not.toContain(pagerduty.routingKey);
    expect(warningsOf({}).warnings).toBe('');
  });

  test('a malformed PAGERDUTY_ROUTING_KEYS stops start-up and says which entry, not its key', () => {
    expect(() => warningsOf({ PAGERDUTY_ROUTING_KEYS: 'oncall-primary=K1,K2-without-a-target' })).toThrow(
      /^PAGERDUTY_ROUTING_KEYS: entry 2 is not target=routing-key$/,
    );
  });
});
