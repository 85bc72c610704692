// How a notification leaves the engine. Each integration (Slack, Zendesk, GitLab, PagerDuty) is a
// driver behind this one interface; without credentials the `log` driver is used.
import type { Logger } from 'pino';
import type { Notification } from '../domain/ticket';

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
