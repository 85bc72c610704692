// Is this delivery really from the sender? Pure checks of each vendor's signature on the RAW body,
// compared in constant time, with a replay window where the vendor signs a timestamp.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old a signed timestamp may be (either way, for clock skew) before the delivery counts as a replay. */
export const REPLAY_WINDOW_MS = 5 * 60_000;

export type Verdict = { ok: true } | { ok: false; reason: string };

const accepted: Verdict = { ok: true };
const rejected = (reason: string): Verdict => ({ ok: false, reason });

/** Equal strings in time that does not depend on where they differ (lengths are not secret). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

const hmacSha256 = (secret: string, ...parts: Array<string | Buffer>) => {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

function withinReplayWindow(signedAtMs: number, now: number): boolean {
  return Number.isFinite(signedAtMs) && Math.abs(now - signedAtMs) <= REPLAY_WINDOW_MS;
}

export interface SlackSignatureInput {
  body: Buffer;
  /** X-Slack-Request-Timestamp: Unix seconds. */
  timestamp: string | undefined;
  /** X-Slack-Signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`. */
  signature: string | undefined;
  signingSecret: string;
  now: number;
}

/** Slack's signing secret scheme (api.slack.com/authentication/verifying-requests-from-slack). */
export function verifySlackSignature({ body, timestamp, signature, signingSecret, now }: SlackSignatureInput): Verdict {
  if (!timestamp || !signature) return rejected('missing X-Slack-Signature or X-Slack-Request-Timestamp');
  if (!/^\d+$/.test(timestamp) || !withinReplayWindow(Number(timestamp) * 1000, now)) {
    return rejected('X-Slack-Request-Timestamp is outside the 5-minute window');
  }
  const expected = 'v0=' + hmacSha256(signingSecret, `v0:${timestamp}:`, body).toString('hex');
  return constantTimeEqual(signature, expected) ? accepted : rejected('X-Slack-Signature does not match');
}

export interface ZendeskSignatureInput {
  body: Buffer;
  /** X-Zendesk-Webhook-Signature-Timestamp, signed as sent (ISO 8601, e.g. 2026-11-24T10:00:00Z). */
  timestamp: string | undefined;
  /** X-Zendesk-Webhook-Signature: base64 HMAC-SHA256 of timestamp + body. */
  signature: string | undefined;
  secret: string;
  now: number;
}

/**
 * Zendesk's webhook signing (developer.zendesk.com/documentation/webhooks/verifying): Zendesk
 * enforces no replay window itself, so we apply our own to the signed timestamp.
 */
export function verifyZendeskSignature({ body, timestamp, signature, secret, now }: ZendeskSignatureInput): Verdict {
  if (!timestamp || !signature) {
    return rejected('missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp');
  }
  const signedAt = /^\d+$/.test(timestamp) ? Number(timestamp) * 1000 : Date.parse(timestamp);
  if (!withinReplayWindow(signedAt, now)) {
    return rejected('X-Zendesk-Webhook-Signature-Timestamp is outside the 5-minute window');
  }
  const expected = hmacSha256(secret, timestamp, body).toString('base64');
  return constantTimeEqual(signature, expected) ? accepted : rejected('X-Zendesk-Webhook-Signature does not match');
}

export interface PagerDutySignatureInput {
  body: Buffer;
  /** X-PagerDuty-Signature: one or more comma-separated `v1=<hex>`, one per active secret. */
  signature: string | undefined;
  /** Every secret we accept (more than one while a secret is being rotated). */
  secrets: string[];
}

/**
 * PagerDuty v3 webhooks (developer.pagerduty.com, "Verifying Signatures"): the delivery is genuine
 * if any of its `v1=` signatures matches any of our secrets. PagerDuty signs no timestamp.
 */
export function verifyPagerDutySignature({ body, signature, secrets }: PagerDutySignatureInput): Verdict {
  if (!signature) return rejected('missing X-PagerDuty-Signature');
  const offered = signature
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='));
  if (offered.length === 0) return rejected('X-PagerDuty-Signature has no v1= signature');
  const expected = secrets.map((secret) => 'v1=' + hmacSha256(secret, body).toString('hex'));
  // Compare every pair (no early exit) so the time taken says nothing about which one matched.
  let matched = false;
  for (const candidate of offered) {
    for (const mine of expected) matched = constantTimeEqual(candidate, mine) || matched;
  }
  return matched ? accepted : rejected('no X-PagerDuty-Signature matches a configured secret');
}

export interface GitLabTokenInput {
  /** X-Gitlab-Token: the secret token set on the webhook, sent as is. */
  token: string | undefined;
  expected: string;
}

/** GitLab sends the webhook's secret token itself rather than a signature. */
export function verifyGitLabToken({ token, expected }: GitLabTokenInput): Verdict {
  if (!token) return rejected('missing X-Gitlab-Token');
  return constantTimeEqual(token, expected) ? accepted : rejected('X-Gitlab-Token does not match');
}
