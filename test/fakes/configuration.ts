// The variables a user sets for the real Slack and Zendesk, with only the base URLs pointing at the
// local fakes: tests configure the drivers the way production does (integrationsFromEnv).
import type { FakeSlack } from './slack';
import type { FakeZendesk } from './zendesk';

export function slackAndZendeskVariables(slack: FakeSlack, zendesk: FakeZendesk): NodeJS.ProcessEnv {
  return {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.apiUrl,
    ZENDESK_URL: zendesk.url,
    ZENDESK_EMAIL: zendesk.email,
    ZENDESK_API_TOKEN: zendesk.apiToken,
  };
}
