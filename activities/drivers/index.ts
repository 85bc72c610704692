// Chooses each integration's driver from the environment: credentials present → the real service
// (base URL configurable, so a local fake or a self-hosted instance works the same); absent → log.
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { logIntegrations, type Integrations } from '../integrations';
import { gitlabTracker } from './gitlab';
import { distinctRoutingKeys, pagerdutyPager, parseRoutingKeys } from './pagerduty';
import { slackChat } from './slack';
import { zendeskHelpdesk } from './zendesk';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';
export const DEFAULT_GITLAB_URL = 'https://gitlab.com';
export const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com';

/**
 * `pool`: the desk's PostgreSQL, where Slack's and Zendesk's pace is shared by every worker (the
 * worker always passes it; a driver without it paces within its own process).
 */
export function integrationsFromEnv(env: NodeJS.ProcessEnv, log: Logger, pool?: Pool): Integrations {
  const fallback = logIntegrations(log);
  const set = (name: string): string | undefined => env[name]?.trim() || undefined;

  const slackToken = set('SLACK_BOT_TOKEN');
  const zendeskUrl = set('ZENDESK_URL');
  const zendeskEmail = set('ZENDESK_EMAIL');
  const zendeskToken = set('ZENDESK_API_TOKEN');
  const gitlabToken = set('GITLAB_TOKEN');
  const routingKey = set('PAGERDUTY_ROUTING_KEY');
  const routingKeys = parseRoutingKeys(set('PAGERDUTY_ROUTING_KEYS'));
  const pagerdutyServices = distinctRoutingKeys(routingKey, routingKeys);
  if (pagerdutyServices === 1) {
    // One service folds every trigger with the same dedup key into the open alert: level 2 never rings.
    log.warn(
      'PagerDuty has one routing key: in engine escalation mode level 2 cannot be paged separately ' +
        '(PagerDuty merges it into the level-1 alert); give each paging level its own service in PAGERDUTY_ROUTING_KEYS',
    );
  }
  const zendeskMissing = [
    ['ZENDESK_URL', zendeskUrl],
    ['ZENDESK_EMAIL', zendeskEmail],
    ['ZENDESK_API_TOKEN', zendeskToken],
  ].filter(([, value]) => !value);
  if (zendeskMissing.length > 0 && zendeskMissing.length < 3) {
    log.warn(`Zendesk stays on the log driver: set ${zendeskMissing.map(([name]) => name).join(' and ')} too`);
  }

  return {
    chat: slackToken ? slackChat({ token: slackToken, apiUrl: set('SLACK_API_URL') ?? DEFAULT_SLACK_API_URL, pool }) : fallback.chat,
    // Zendesk has no default address: every account has its own subdomain.
    helpdesk:
      zendeskUrl && zendeskEmail && zendeskToken
        ? zendeskHelpdesk({ url: zendeskUrl, email: zendeskEmail, apiToken: zendeskToken, pool })
        : fallback.helpdesk,
    tracker: gitlabToken ? gitlabTracker({ url: set('GITLAB_URL') ?? DEFAULT_GITLAB_URL, token: gitlabToken }) : fallback.tracker,
    pager: pagerdutyServices > 0
      ? pagerdutyPager({ routingKey, routingKeys, eventsUrl: set('PAGERDUTY_EVENTS_URL') ?? DEFAULT_PAGERDUTY_EVENTS_URL })
      : fallback.pager,
  };
}

/** One line for start-up: which driver each integration uses (never a credential). */
export function describeIntegrations(i: Integrations): string {
  return `integrations: chat=${i.chat.driver} helpdesk=${i.helpdesk.driver} tracker=${i.tracker.driver} pager=${i.pager.driver}`;
}
