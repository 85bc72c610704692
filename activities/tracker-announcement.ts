// Posts a new tracker issue's announcement to the team channel, once per idempotency key.
import type { Pool } from 'pg';
import { once } from './effects';
import type { Integrations } from './integrations';

export function createTrackerAnnouncementActivities({ pool, integrations }: { pool: Pool; integrations: Integrations }) {
  return {
    async announceTrackerIssue(a: { idempotencyKey: string; channel: string; text: string }): Promise<{ channel: string; ts: string }> {
      return once(pool, a.idempotencyKey, 'chat', () => integrations.chat.postMessage({ channel: a.channel, text: a.text }));
    },
  };
}

export type TrackerAnnouncementActivities = ReturnType<typeof createTrackerAnnouncementActivities>;
