// Contract of the PagerDuty driver against a local Events API v2: trigger, acknowledge and resolve
// under one routing key and dedup_key; retried until success with one page; 429; a 4xx stops.
import { randomBytes } from 'node:crypto';
import { pagerdutyPager } from '../../activities/drivers/pagerduty';
import type { PagerDriver } from '../../activities/integrations';
import { FakePagerduty } from '../fakes/pagerduty';
import type { TestDatabase } from '../postgres';
import { againstAFreshFake } from './contract';
import { failureOf, retryLikeTemporal } from './retry';

let pagerduty: FakePagerduty;
let pager: PagerDriver;
let db: TestDatabase;

againstAFreshFake(() => new FakePagerduty(), (fake, database) => {
  pagerduty = fake;
  db = database;
  pager = pagerdutyPager({ routingKey: pagerduty.routingKey, eventsUrl: pagerduty.url });
});

const page = (dedupKey: string) =>
  pager.trigger({ dedupKey, summary: 'Checkout is down', severity: 'critical', source: 'support-desk', target: 'oncall-primary' });

describe('the PagerDuty pager driver', () => {
  test('triggers, acknowledges and resolves one incident with the same routing key and dedup key', async () => {
    await page('incident-inc-1');
    await pager.acknowledge({ dedupKey: 'incident-inc-1' });
    await pager.resolve({ dedupKey: 'incident-inc-1' });

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
