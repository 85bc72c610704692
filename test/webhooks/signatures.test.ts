// The four senders' signatures, computed the way each vendor documents them: valid ones pass;
// forged, stale or missing ones are refused with a reason.
import { createHmac } from 'node:crypto';
import {
  REPLAY_WINDOW_MS,
  verifyGitLabToken,
  verifyPagerDutySignature,
  verifySlackSignature,
  verifyZendeskSignature,
} from '../../api/webhooks/signatures';
import { gitlabHeaders, pagerDutyHeaders, slackHeaders, zendeskHeaders } from './signing';

const NOW = Date.parse('2026-11-24T10:00:00Z');
const body = Buffer.from('{"type":"event_callback","event_id":"Ev1","event":{"type":"message","text":"héllo"}}');

describe('Slack: v0= HMAC-SHA256 of v0:<timestamp>:<body>', () => {
  const secret = 'slack-signing-secret';
  const check = (b: Buffer, h: Record<string, string | undefined>, now = NOW) =>
    verifySlackSignature({
      body: b,
      timestamp: h['x-slack-request-timestamp'],
      signature: h['x-slack-signature'],
      signingSecret: secret,
      now,
    });

  test("Slack's own documented example verifies", () => {
    // api.slack.com/authentication/verifying-requests-from-slack, step by step.
    const documented = Buffer.from(
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
        '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
        '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
        '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    );
    expect(
      verifySlackSignature({
        body: documented,
        timestamp: '1531420618',
        signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
        signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
        now: 1531420618_000 + 60_000,
      }),
    ).toEqual({ ok: true });
  });

  test('a request signed with the signing secret is accepted', () => {
    expect(check(body, slackHeaders(secret, body, NOW))).toEqual({ ok: true });
  });

  test('a body changed after signing is refused', () => {
    const h = slackHeaders(secret, body, NOW);
    expect(check(Buffer.from(body.toString().replace('héllo', 'hello')), h)).toMatchObject({ ok: false });
  });

  test('a signature made with another secret is refused', () => {
    expect(check(body, slackHeaders('not-the-secret', body, NOW))).toMatchObject({
      ok: false,
      reason: 'X-Slack-Signature does not match',
    });
  });

  test('a timestamp older than 5 minutes is a replay, even with a valid signature', () => {
    const signedAt = NOW - REPLAY_WINDOW_MS - 1_000;
    expect(check(body, slackHeaders(secret, body, signedAt))).toMatchObject({ ok: false, reason: expect.stringMatching(/5-minute/) });
    expect(check(body, slackHeaders(secret, body, NOW - REPLAY_WINDOW_MS + 1_000))).toEqual({ ok: true });
  });

  test('missing headers are refused', () => {
    expect(check(body, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
    const h = slackHeaders(secret, body, NOW);
    expect(check(body, { ...h, 'x-slack-signature': undefined })).toMatchObject({ ok: false });
  });
});

describe('Zendesk: base64 HMAC-SHA256 of timestamp + body', () => {
  const secret = 'zendesk-signing-secret';
  const check = (b: Buffer, h: Record<string, string | undefined>, now = NOW) =>
    verifyZendeskSignature({
      body: b,
      timestamp: h['x-zendesk-webhook-signature-timestamp'],
      signature: h['x-zendesk-webhook-signature'],
      secret,
      now,
    });

  test('a request signed as Zendesk documents it is accepted', () => {
    const timestamp = '2026-11-24T09:59:30Z';
    const signature = createHmac('sha256', secret).update(timestamp + body.toString('utf8')).digest('base64');
    expect(
      check(body, { 'x-zendesk-webhook-signature-timestamp': timestamp, 'x-zendesk-webhook-signature': signature }),
    ).toEqual({ ok: true });
  });

  test('forged, stale and missing signatures are refused', () => {
    expect(check(body, zendeskHeaders('another-secret', body, NOW))).toMatchObject({ ok: false });
    expect(check(body, zendeskHeaders(secret, body, NOW - REPLAY_WINDOW_MS - 1_000))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/5-minute/),
    });
    expect(check(body, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
    const h = zendeskHeaders(secret, body, NOW);
    expect(check(Buffer.concat([body, Buffer.from(' ')]), h)).toMatchObject({ ok: false });
  });
});

describe('PagerDuty: v1= HMAC-SHA256 of the body, one per active secret', () => {
  const check = (signature: string | undefined, secrets: string[]) =>
    verifyPagerDutySignature({ body, signature, secrets });
  const v1 = (secret: string) => 'v1=' + createHmac('sha256', secret).update(body).digest('hex');

  test('a body signed with our secret is accepted', () => {
    expect(check(pagerDutyHeaders(['pd-secret'], body)['x-pagerduty-signature'], ['pd-secret'])).toEqual({ ok: true });
  });

  test('during a rotation, any one matching signature among several is enough', () => {
    // PagerDuty signs with both the old and the new secret; we may know only one of them...
    const both = `${v1('old-secret')},${v1('new-secret')}`;
    expect(check(both, ['new-secret'])).toEqual({ ok: true });
    expect(check(both, ['old-secret'])).toEqual({ ok: true });
    // ...or we hold both while PagerDuty already signs with the new one only.
    expect(check(v1('new-secret'), ['old-secret', 'new-secret'])).toEqual({ ok: true });
  });

  test('forged and missing signatures are refused', () => {
    expect(check(v1('someone-else'), ['pd-secret'])).toMatchObject({ ok: false });
    expect(check(`${v1('x')}, ${v1('y')}`, ['pd-secret'])).toMatchObject({ ok: false });
    expect(check('sha256=abc', ['pd-secret'])).toMatchObject({ ok: false, reason: expect.stringMatching(/no v1=/) });
    expect(check(undefined, ['pd-secret'])).toMatchObject({ ok: false, reason: 'missing X-PagerDuty-Signature' });
  });
});

describe('GitLab: X-Gitlab-Token is the configured secret token', () => {
  test('the right token is accepted, a wrong or missing one refused', () => {
    expect(verifyGitLabToken({ token: gitlabHeaders('tok-123')['x-gitlab-token'], expected: 'tok-123' })).toEqual({ ok: true });
    expect(verifyGitLabToken({ token: 'tok-124', expected: 'tok-123' })).toMatchObject({ ok: false });
    expect(verifyGitLabToken({ token: 'tok-1234', expected: 'tok-123' })).toMatchObject({ ok: false });
    expect(verifyGitLabToken({ token: undefined, expected: 'tok-123' })).toMatchObject({ ok: false, reason: 'missing X-Gitlab-Token' });
  });
});
