// Which driver each integration gets from the environment, and where a notification is routed:
// credentials present → the real service, absent → log; a private ticket never to a public channel.
import pino from 'pino';
import { describeIntegrations, integrationsFromEnv } from '../../activities/drivers';
import { deliveriesFor } from '../../activities/notifier';
import type { Notification } from '../../domain/ticket';

const silent = pino({ level: 'silent' });

describe('integrations chosen from the environment', () => {
  test('without credentials every integration writes to the log', () => {
    expect(describeIntegrations(integrationsFromEnv({}, silent))).toBe(
      'integrations: chat=log helpdesk=log tracker=log pager=log',
    );
  });

  test('each set of credentials switches its own integration to the real service', () => {
    const integrations = integrationsFromEnv(
      {
        SLACK_BOT_TOKEN: 'xoxb-1',
        ZENDESK_URL: 'https://acme.zendesk.com',
        ZENDESK_EMAIL: 'desk@acme.test',
        ZENDESK_API_TOKEN: 'secret',
        GITLAB_TOKEN: 'glpat-1',
        PAGERDUTY_ROUTING_KEY: 'R1',
      },
      silent,
    );
    expect(describeIntegrations(integrations)).toBe('integrations: chat=slack helpdesk=zendesk tracker=gitlab pager=pagerduty');
    expect(describeIntegrations(integrations)).not.toMatch(/xoxb|secret|glpat|R1/);
  });

  test('Zendesk with only part of its settings stays on the log and says which are missing', () => {
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const integrations = integrationsFromEnv({ ZENDESK_URL: 'https://acme.zendesk.com', ZENDESK_EMAIL: 'desk@acme.test' }, log);
    expect(integrations.helpdesk.driver).toBe('log');
    expect(warnings.join('')).toContain('set ZENDESK_API_TOKEN too');
  });
});

describe('where a notification goes', () => {
  const base: Notification = {
    idempotencyKey: 'ticket-tk-1:warning:1',
    ticketId: 'tk-1',
    kind: 'warning',
    audience: 'desk',
    recipients: ['#support-desk', 'U0LEAD', '#desk-private'],
    text: 'x',
    private: false,
  };

  test("the desk's #channels get channel posts, people get DMs", () => {
    expect(deliveriesFor(base)).toEqual([
      { to: 'chat channel', channel: '#support-desk' },
      { to: 'chat dm', user: 'U0LEAD' },
      { to: 'chat channel', channel: '#desk-private' },
    ]);
  });

  test('a private ticket skips public channels and keeps DMs and the private channels the policy names', () => {
    expect(deliveriesFor({ ...base, private: true, privateChannels: ['#desk-private'] })).toEqual([
      { to: 'log', reason: expect.stringContaining('#support-desk is not a private channel') },
      { to: 'chat dm', user: 'U0LEAD' },
      { to: 'chat channel', channel: '#desk-private' },
    ]);
  });

  test('the requester is answered where the ticket came from; a private one in a public thread by DM', () => {
    const requester = { ...base, audience: 'requester' as const, recipients: [] };
    expect(deliveriesFor({ ...requester, origin: { system: 'zendesk', ticketId: '42' } })).toEqual([
      { to: 'helpdesk comment', ticketId: '42' },
    ]);
    const slackThread = { system: 'slack' as const, channel: '#help', threadTs: '1.2', user: 'U9' };
    expect(deliveriesFor({ ...requester, origin: slackThread })).toEqual([{ to: 'chat thread', channel: '#help', threadTs: '1.2' }]);
    expect(deliveriesFor({ ...requester, private: true, origin: slackThread })).toEqual([{ to: 'chat dm', user: 'U9' }]);
    expect(deliveriesFor({ ...requester, private: true, origin: { ...slackThread, channel: 'D0SAM' } })).toEqual([
      { to: 'chat thread', channel: 'D0SAM', threadTs: '1.2' },
    ]);
    expect(deliveriesFor(requester)).toEqual([{ to: 'log', reason: expect.any(String) }]);
  });
});
