// Paging through PagerDuty's Events API v2 over plain HTTP (its only call is one POST, no client
// needed): trigger, acknowledge and resolve share one routing key and the caller's dedup_key.
import type { PagerDriver } from '../integrations';
import { apiUrl, callApi, type ApiSystem } from './http';

const PAGERDUTY: ApiSystem = {
  name: 'PagerDuty',
  credentials: 'PAGERDUTY_ROUTING_KEY',
  // Events v2 answers 400 both for a bad event and for a routing key it does not know.
  fixes: { 400: 'check PAGERDUTY_ROUTING_KEY (an Events API v2 integration key) and the event fields' },
};

export interface PagerdutyOptions {
  routingKey: string;
  /** https://events.pagerduty.com (or the EU service's address). */
  eventsUrl: string;
  timeoutMs?: number;
}

export function pagerdutyPager({ routingKey, eventsUrl, timeoutMs }: PagerdutyOptions): PagerDriver {
  const enqueue = (event: Record<string, unknown>, what: string) =>
    callApi(PAGERDUTY, {
      method: 'POST',
      url: apiUrl(eventsUrl, '/v2/enqueue'),
      // The routing key travels in the body, as Events v2 wants; no Authorization header.
      headers: {},
      body: { routing_key: routingKey, ...event },
      what,
      timeoutMs,
    });

  return {
    driver: 'pagerduty',
    async trigger({ dedupKey, summary, severity, source, target, details }) {
      await enqueue(
        {
          event_action: 'trigger',
          dedup_key: dedupKey,
          payload: { summary: summary.slice(0, 1024), severity, source, custom_details: { target, ...details } },
        },
        `paging ${target} (${dedupKey})`,
      );
    },
    async acknowledge({ dedupKey }) {
      await enqueue({ event_action: 'acknowledge', dedup_key: dedupKey }, `acknowledging ${dedupKey}`);
    },
    async resolve({ dedupKey }) {
      await enqueue({ event_action: 'resolve', dedup_key: dedupKey }, `resolving ${dedupKey}`);
    },
  };
}
