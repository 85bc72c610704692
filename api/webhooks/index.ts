// Inbound webhooks under /webhooks: every body is read raw so its signature is checked on the exact
// bytes the sender signed, before anything is parsed or touched. Mounted before express.json().
import express, { Router } from 'express';
import type { RouteTable } from '../access';
import type { ApiDeps } from '../app';
import type { WebhookSource } from './deliveries';
import { gitlabWebhook } from './gitlab';
import { pagerDutyWebhook } from './pagerduty';
import { slackWebhook } from './slack';
import { zendeskWebhook } from './zendesk';

/** Secrets come from the environment only and are never logged. */
export interface WebhookSecrets {
  slackSigningSecret?: string;
  zendeskSecret?: string;
  /** Several during a rotation: a delivery signed with any of them is accepted. */
  pagerDutySecrets: string[];
  gitlabToken?: string;
  /** The team channel new tracker issues are announced in. */
  trackerIssuesChannel: string;
  /** Slack user ids that may act on tickets from Slack; null: any member of the workspace. */
  slackAgentUsers: string[] | null;
}

export function webhookSecretsFrom(env: NodeJS.ProcessEnv): WebhookSecrets {
  const set = (v: string | undefined) => (v && v.trim() !== '' ? v : undefined);
  return {
    slackSigningSecret: set(env.SLACK_SIGNING_SECRET),
    zendeskSecret: set(env.ZENDESK_WEBHOOK_SECRET),
    pagerDutySecrets: (env.PAGERDUTY_WEBHOOK_SECRETS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    gitlabToken: set(env.GITLAB_WEBHOOK_TOKEN),
    trackerIssuesChannel: set(env.GITLAB_ISSUES_CHANNEL) ?? '#development',
    slackAgentUsers: set(env.SLACK_AGENT_USERS)
      ? env.SLACK_AGENT_USERS!.split(',').map((s) => s.trim()).filter(Boolean)
      : null,
  };
}

/** The four senders' endpoints, each declared in `table` as signed: its signature, not a credential, proves it. */
export function webhookRoutes(deps: ApiDeps, table: RouteTable, env: NodeJS.ProcessEnv = process.env): Router {
  const secrets = webhookSecretsFrom(env);
  const router = Router();
  router.use(express.raw({ type: () => true, limit: '1mb' }));
  const senders: Record<WebhookSource, Router> = {
    slack: slackWebhook(deps, secrets.slackSigningSecret, secrets.slackAgentUsers),
    zendesk: zendeskWebhook(deps, secrets.zendeskSecret),
    pagerduty: pagerDutyWebhook(deps, secrets.pagerDutySecrets),
    gitlab: gitlabWebhook(deps, secrets.gitlabToken, secrets.trackerIssuesChannel),
  };
  for (const [source, sender] of Object.entries(senders)) {
    table.routes.push({ method: 'POST', path: `/webhooks/${source}`, needs: 'signed' });
    router.use(`/${source}`, sender);
  }
  return router;
}
