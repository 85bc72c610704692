// How each sender signs a delivery, written from the vendors' documentation, so tests send exactly
// what Slack, Zendesk, PagerDuty and GitLab would.
import { createHmac } from 'node:crypto';

export function slackHeaders(signingSecret: string, body: Buffer, signedAt = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(signedAt / 1000));
  const mac = createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex');
  return { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${mac}` };
}

export function zendeskHeaders(secret: string, body: Buffer, signedAt = Date.now()): Record<string, string> {
  const timestamp = new Date(signedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signature = createHmac('sha256', secret).update(timestamp).update(body).digest('base64');
  return { 'x-zendesk-webhook-signature-timestamp': timestamp, 'x-zendesk-webhook-signature': signature };
}

/** One `v1=` signature per secret PagerDuty currently signs with, comma-separated. */
export function pagerDutyHeaders(secrets: string[], body: Buffer): Record<string, string> {
  const signatures = secrets.map((s) => 'v1=' + createHmac('sha256', s).update(body).digest('hex'));
  return { 'x-pagerduty-signature': signatures.join(',') };
}

export function gitlabHeaders(token: string): Record<string, string> {
  return { 'x-gitlab-token': token };
}
