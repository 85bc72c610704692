// How a notification leaves the engine. Each integration (Slack, Zendesk, GitLab, PagerDuty) is a
// driver behind this one interface; without credentials the `log` driver is used.
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Notification } from '../domain/ticket';
import { once } from './effects';
import type { Integrations } from './integrations';

export interface Notifier {
  /** Name shown at start-up and stored with every notification sent. */
  readonly driver: string;
  deliver(notification: Notification): Promise<void>;
}

/** Writes the notification to the log; the notify activity records it in PostgreSQL. */
export class LogNotifier implements Notifier {
  readonly driver = 'log';

  constructor(private readonly log: Logger) {}

  async deliver(n: Notification): Promise<void> {
    this.log.info(
      {
        ticketId: n.ticketId,
        kind: n.kind,
        audience: n.audience,
        recipients: n.recipients,
        // A private ticket's words stay out of the log; the notification row keeps them.
        text: n.private ? '[private]' : n.text,
      },
      'notification',
    );
  }
}

/**
 * Sends each notification through the real systems: the requester is answered where the ticket came
 * from, the desk on Slack. Every single post goes through once(), so a retry after a partial
 * success does not post to the recipients that already have it.
 */
export class IntegrationNotifier implements Notifier {
  readonly driver: string;

  constructor(
    private readonly integrations: Integrations,
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {
    this.driver = `chat:${integrations.chat.driver} helpdesk:${integrations.helpdesk.driver}`;
  }

  deliver(n: Notification): Promise<void> {
    return routeNotification(n, {
      integrations: this.integrations,
      log: this.log,
      once: (target, system, effect) => once(this.pool, `${n.idempotencyKey}:to:${target}`, system, effect),
    });
  }
}

export interface RouteDeps {
  integrations: Integrations;
  log: Logger;
  /** Runs one external effect at most once per target of this notification. */
  once<T>(target: string, system: string, effect: () => Promise<T>): Promise<T>;
}

/** One post the notification turns into. */
type Delivery =
  | { to: 'helpdesk comment'; ticketId: string }
  | { to: 'chat thread'; channel: string; threadTs: string }
  | { to: 'chat channel'; channel: string }
  | { to: 'chat dm'; user: string }
  | { to: 'log'; reason: string };

export async function routeNotification(n: Notification, deps: RouteDeps): Promise<void> {
  const refused: ApplicationFailure[] = [];
  for (const delivery of deliveriesFor(n)) {
    try {
      await deliverOne(n, delivery, deps);
    } catch (err) {
      // A permanent refusal for one recipient must not keep the others from hearing; anything
      // retryable stops here, and once() spares those already served on the next attempt.
      if (err instanceof ApplicationFailure && err.nonRetryable) refused.push(err);
      else throw err;
    }
  }
  if (refused.length === 1) throw refused[0];
  if (refused.length > 1) {
    throw ApplicationFailure.nonRetryable(refused.map((f) => f.message).join('; '), refused[0]!.type ?? undefined, ...(refused[0]!.details ?? []));
  }
}

/** Where a notification goes; a private ticket's never includes a public channel. */
export function deliveriesFor(n: Notification): Delivery[] {
  if (n.audience === 'requester') return [requesterDelivery(n)];
  return n.recipients.map((recipient): Delivery => {
    if (!recipient.startsWith('#')) return { to: 'chat dm', user: recipient };
    if (n.private && !isPrivateChannel(recipient, n)) {
      return { to: 'log', reason: `${recipient} is not a private channel named in the policy; a private ticket stays out of it` };
    }
    return { to: 'chat channel', channel: recipient };
  });
}

function requesterDelivery(n: Notification): Delivery {
  const origin = n.origin;
  if (origin?.system === 'zendesk') return { to: 'helpdesk comment', ticketId: origin.ticketId };
  if (origin?.system === 'slack') {
    // A thread in a public channel is still a public channel: a private ticket answers by DM.
    if (origin.threadTs && (!n.private || isPrivateChannel(origin.channel, n))) {
      return { to: 'chat thread', channel: origin.channel, threadTs: origin.threadTs };
    }
    return { to: 'chat dm', user: origin.user };
  }
  return { to: 'log', reason: 'the ticket has no helpdesk or chat origin to answer in' };
}

/** Slack DM conversations have ids starting with D; other private channels must be named in the policy. */
function isPrivateChannel(channel: string, n: Notification): boolean {
  return /^D[A-Z0-9]+$/.test(channel) || (n.privateChannels ?? []).includes(channel);
}

async function deliverOne(n: Notification, d: Delivery, { integrations, log, once }: RouteDeps): Promise<void> {
  const { chat, helpdesk } = integrations;
  switch (d.to) {
    case 'helpdesk comment':
      await once(`zendesk:${d.ticketId}`, 'helpdesk', () => helpdesk.addComment({ ticketId: d.ticketId, body: n.text, public: true }));
      return;
    case 'chat thread':
      await once(`slack:${d.channel}:${d.threadTs}`, 'chat', () =>
        chat.postMessage({ channel: d.channel, threadTs: d.threadTs, text: n.text }),
      );
      return;
    case 'chat channel':
      await once(`slack:${d.channel}`, 'chat', () => chat.postMessage({ channel: d.channel, text: n.text }));
      return;
    case 'chat dm':
      await once(`slack-dm:${d.user}`, 'chat', () => chat.directMessage({ user: d.user, text: n.text }));
      return;
    case 'log':
      log.info(
        {
          ticketId: n.ticketId,
          kind: n.kind,
          audience: n.audience,
          recipients: n.recipients,
          reason: d.reason,
          // A private ticket's words stay out of the log; the notification row keeps them.
          text: n.private ? '[private]' : n.text,
        },
        'notification (not sent to an external system)',
      );
  }
}
