// Paging through PagerDuty's Events API v2 over plain HTTP (its only call is one POST, no client
// needed). Each paging target may have its own routing key (its own PagerDuty service): dedup keys
// are scoped per service, so the same dedup_key on level 2's key opens a second alert, not a merge.
import { ApplicationFailure } from '@temporalio/common';
import type { PagerDriver } from '../integrations';
import { apiUrl, callApi, INTEGRATION_REJECTED, type ApiSystem } from './http';

const PAGERDUTY: ApiSystem = {
  name: 'PagerDuty',
  credentials: 'PAGERDUTY_ROUTING_KEY / PAGERDUTY_ROUTING_KEYS',
  // Events v2 answers 400 both for a bad event and for a routing key it does not know.
  fixes: {
    400: 'check PAGERDUTY_ROUTING_KEY and PAGERDUTY_ROUTING_KEYS (Events API v2 integration keys) and the event fields',
  },
};

export interface PagerdutyOptions {
  /** The routing key of every target not in `routingKeys`; absent → such a target cannot be paged. */
  routingKey?: string;
  /** A routing key per paging target ("oncall-secondary" → its service's integration key). */
  routingKeys?: Record<string, string>;
  /** https://events.pagerduty.com (or the EU service's address). */
  eventsUrl: string;
  timeoutMs?: number;
}

export function pagerdutyPager({ routingKey, routingKeys = {}, eventsUrl, timeoutMs }: PagerdutyOptions): PagerDriver {
  const enqueue = (key: string, event: Record<string, unknown>, what: string) =>
    callApi(PAGERDUTY, {
      method: 'POST',
      url: apiUrl(eventsUrl, '/v2/enqueue'),
      // The routing key travels in the body, as Events v2 wants; no Authorization header.
      headers: {},
      body: { routing_key: key, ...event },
      what,
      timeoutMs,
    });

  /** The target's own routing key, else the default one; neither is a setting to fix, not worth retrying. */
  function keyFor(target: string): string {
    const key = routingKeys[target] ?? routingKey;
    if (key) return key;
    throw ApplicationFailure.nonRetryable(
      `PagerDuty has no routing key for "${target}": add ${target}=<key> to PAGERDUTY_ROUTING_KEYS or set PAGERDUTY_ROUTING_KEY`,
      INTEGRATION_REJECTED,
      { system: PAGERDUTY.name },
    );
  }

  /**
   * The routing keys the targets were paged on. Without targets (an activity scheduled before they
   * were passed) every known key: acknowledging an alert a service does not have changes nothing.
   */
  function keysOf(targets: string[]): string[] {
    const keys = targets.map((t) => routingKeys[t] ?? routingKey).filter((k): k is string => Boolean(k));
    return [...new Set(keys.length > 0 ? keys : [...(routingKey ? [routingKey] : []), ...Object.values(routingKeys)])];
  }

  /** Acknowledge and resolve reach every alert: one event per routing key (repeating one is harmless). */
  async function onEveryAlert(action: 'acknowledge' | 'resolve', dedupKey: string, targets: string[]): Promise<void> {
    for (const key of keysOf(targets)) {
      await enqueue(key, { event_action: action, dedup_key: dedupKey }, `${action === 'acknowledge' ? 'acknowledging' : 'resolving'} ${dedupKey}`);
    }
  }

  return {
    driver: 'pagerduty',
    async trigger({ dedupKey, summary, severity, source, target, details }) {
      await enqueue(
        keyFor(target),
        {
          event_action: 'trigger',
          dedup_key: dedupKey,
          payload: { summary: summary.slice(0, 1024), severity, source, custom_details: { target, ...details } },
        },
        `paging ${target} (${dedupKey})`,
      );
    },
    async acknowledge({ dedupKey, targets }) {
      await onEveryAlert('acknowledge', dedupKey, targets);
    },
    async resolve({ dedupKey, targets }) {
      await onEveryAlert('resolve', dedupKey, targets);
    },
  };
}

/**
 * PAGERDUTY_ROUTING_KEYS: `target=key,target2=key2`. A malformed entry stops start-up (paging the
 * wrong service is worse than not starting); the message names the entry's position, never a key.
 */
export function parseRoutingKeys(value: string | undefined): Record<string, string> {
  const keys: Record<string, string> = {};
  if (!value) return keys;
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .forEach((entry, index) => {
      const at = entry.indexOf('=');
      const target = at > 0 ? entry.slice(0, at).trim() : '';
      const key = at > 0 ? entry.slice(at + 1).trim() : '';
      if (!target || !key) {
        throw new Error(`PAGERDUTY_ROUTING_KEYS: entry ${index + 1} is not target=routing-key`);
      }
      keys[target] = key;
    });
  return keys;
}

/** How many distinct PagerDuty services (routing keys) the desk can page. */
export function distinctRoutingKeys(routingKey: string | undefined, routingKeys: Record<string, string>): number {
  return new Set([...(routingKey ? [routingKey] : []), ...Object.values(routingKeys)]).size;
}
