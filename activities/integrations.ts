// The four external systems the desk talks to, each behind one small interface, and the `log`
// driver every integration falls back to when it has no credentials. Real drivers (Slack Web API,
// Zendesk, GitLab, PagerDuty Events API v2) implement the same interfaces.
import type { Logger } from 'pino';

/** Chat (Slack): channels, threads, direct messages, reactions. */
export interface ChatDriver {
  readonly driver: string;
  postMessage(m: { channel: string; text: string; threadTs?: string }): Promise<{ channel: string; ts: string }>;
  directMessage(m: { user: string; text: string }): Promise<{ channel: string; ts: string }>;
  addReaction(r: { channel: string; ts: string; name: string }): Promise<void>;
}

/** Helpdesk (Zendesk): comments, status, assignee, tags on a helpdesk ticket. */
export interface HelpdeskDriver {
  readonly driver: string;
  addComment(c: { ticketId: string; body: string; public: boolean }): Promise<{ commentId: string }>;
  updateTicket(u: { ticketId: string; status?: string; assignee?: string; tags?: string[] }): Promise<void>;
}

/** Tracker (GitLab): issues, scoped labels, milestones, comments. */
export interface TrackerDriver {
  readonly driver: string;
  createIssue(i: {
    project: string;
    title: string;
    description: string;
    labels: string[];
    confidential?: boolean;
  }): Promise<{ iid: number; webUrl: string }>;
  /** Adds and removes labels; a scoped label (`Workflow::X`) replaces the others of its scope. */
  setLabels(l: { project: string; iid: number; add: string[]; remove: string[] }): Promise<void>;
  setMilestone(m: { project: string; iid: number; milestone: string | null }): Promise<void>;
  comment(c: { project: string; iid: number; body: string }): Promise<{ noteId: number }>;
  closeIssue(c: { project: string; iid: number }): Promise<void>;
}

/**
 * Paging (PagerDuty Events API v2): one alert per dedup key on each target's service. Acknowledge and
 * resolve name the targets paged, so every alert the dedup key opened is reached.
 */
export interface PagerDriver {
  readonly driver: string;
  trigger(p: {
    dedupKey: string;
    summary: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    source: string;
    /** Who is paged: the escalation level's target, e.g. "oncall-primary". */
    target: string;
    details?: Record<string, unknown>;
  }): Promise<void>;
  /** `targets`: everyone paged under this dedup key; empty means the default service only. */
  acknowledge(p: { dedupKey: string; targets: string[] }): Promise<void>;
  resolve(p: { dedupKey: string; targets: string[] }): Promise<void>;
}

export interface Integrations {
  chat: ChatDriver;
  helpdesk: HelpdeskDriver;
  tracker: TrackerDriver;
  pager: PagerDriver;
}

/**
 * Without credentials every integration writes what it would have done to the log. The ids it
 * returns are its own (prefixed `log-`), never pretended to be the real service's.
 */
export function logIntegrations(log: Logger): Integrations {
  let sequence = 0;
  const next = () => `log-${Date.now()}-${++sequence}`;
  const say = (system: string, action: string, fields: Record<string, unknown>) =>
    log.info({ integration: system, driver: 'log', action, ...fields }, `${system}: ${action}`);
  return {
    chat: {
      driver: 'log',
      async postMessage({ channel, threadTs }) {
        say('chat', 'post', { channel, threadTs });
        return { channel, ts: next() };
      },
      async directMessage({ user }) {
        say('chat', 'direct message', { user });
        return { channel: `dm-${user}`, ts: next() };
      },
      async addReaction(r) {
        say('chat', 'reaction', r);
      },
    },
    helpdesk: {
      driver: 'log',
      async addComment({ ticketId, public: isPublic }) {
        say('helpdesk', 'comment', { ticketId, public: isPublic });
        return { commentId: next() };
      },
      async updateTicket(u) {
        say('helpdesk', 'update', u);
      },
    },
    tracker: {
      driver: 'log',
      async createIssue({ project, title, labels }) {
        say('tracker', 'create issue', { project, title, labels });
        const iid = ++sequence;
        return { iid, webUrl: `log://${project}/-/issues/${iid}` };
      },
      async setLabels(l) {
        say('tracker', 'labels', l);
      },
      async setMilestone(m) {
        say('tracker', 'milestone', m);
      },
      async comment({ project, iid }) {
        say('tracker', 'comment', { project, iid });
        return { noteId: ++sequence };
      },
      async closeIssue(c) {
        say('tracker', 'close', c);
      },
    },
    pager: {
      driver: 'log',
      async trigger({ dedupKey, summary, severity, target }) {
        say('pager', 'trigger', { dedupKey, summary, severity, target });
      },
      async acknowledge(p) {
        say('pager', 'acknowledge', p);
      },
      async resolve(p) {
        say('pager', 'resolve', p);
      },
    },
  };
}
