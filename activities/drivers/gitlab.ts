// The tracker through GitLab's REST API v4 over plain fetch: issues, scoped labels, milestones by
// title, notes, closing. (@gitbeaker/rest retries 429/502 itself, ignoring Retry-After; see README.)
import type { TrackerDriver } from '../integrations';
import { apiUrl, callApi, type ApiSystem } from './http';

const GITLAB: ApiSystem = { name: 'GitLab', credentials: 'GITLAB_TOKEN' };

export interface GitlabOptions {
  /** https://gitlab.com or a self-managed instance's address. */
  url: string;
  token: string;
  timeoutMs?: number;
}

interface Issue {
  iid: number;
  web_url: string;
  labels: string[];
}

/** `Workflow::Doing` → `Workflow::`; a plain label has no scope. */
function scopeOf(label: string): string | null {
  const at = label.lastIndexOf('::');
  return at > 0 ? label.slice(0, at + 2) : null;
}

/** Labels to remove so each added scoped label is the only one of its scope. */
export function labelsToSwap(current: string[], add: string[], remove: string[]): string[] {
  const scopes = new Set(add.map(scopeOf).filter((s): s is string => s !== null));
  const replaced = current.filter((l) => !add.includes(l) && scopes.has(scopeOf(l) ?? ''));
  return [...new Set([...remove, ...replaced])];
}

export function gitlabTracker({ url, token, timeoutMs }: GitlabOptions): TrackerDriver {
  const api = <T>(method: 'GET' | 'POST' | 'PUT', path: string, what: string, body?: unknown) =>
    callApi<T>(GITLAB, {
      method,
      url: apiUrl(url, `/api/v4${path}`),
      headers: { 'private-token': token },
      body,
      what,
      timeoutMs,
    });
  const project = (p: string) => `/projects/${encodeURIComponent(p)}`;
  const issue = (p: string, iid: number) => `${project(p)}/issues/${iid}`;

  async function milestoneId(p: string, title: string): Promise<number> {
    const found = await api<Array<{ id: number; title: string }>>(
      'GET',
      `${project(p)}/milestones?title=${encodeURIComponent(title)}`,
      `the milestone "${title}" of ${p}`,
    );
    const existing = found.find((m) => m.title === title);
    if (existing) return existing.id;
    const created = await api<{ id: number }>('POST', `${project(p)}/milestones`, `a new milestone "${title}" in ${p}`, {
      title,
    });
    return created.id;
  }

  return {
    driver: 'gitlab',
    async createIssue({ project: p, title, description, labels, confidential }) {
      const created = await api<Issue>('POST', `${project(p)}/issues`, `a new issue in ${p}`, {
        title,
        description,
        labels: labels.join(','),
        confidential: confidential ?? false,
      });
      return { iid: created.iid, webUrl: created.web_url };
    },
    async setLabels({ project: p, iid, add, remove }) {
      const current = await api<Issue>('GET', issue(p, iid), `issue #${iid} of ${p}`);
      await api('PUT', issue(p, iid), `the labels of issue #${iid} of ${p}`, {
        add_labels: add.join(','),
        remove_labels: labelsToSwap(current.labels, add, remove).join(','),
      });
    },
    async setMilestone({ project: p, iid, milestone }) {
      // GitLab unsets the milestone with id 0.
      const id = milestone === null ? 0 : await milestoneId(p, milestone);
      await api('PUT', issue(p, iid), `the milestone of issue #${iid} of ${p}`, { milestone_id: id });
    },
    async comment({ project: p, iid, body }) {
      const note = await api<{ id: number }>('POST', `${issue(p, iid)}/notes`, `a note on issue #${iid} of ${p}`, { body });
      return { noteId: note.id };
    },
    async closeIssue({ project: p, iid }) {
      await api('PUT', issue(p, iid), `closing issue #${iid} of ${p}`, { state_event: 'close' });
    },
  };
}
