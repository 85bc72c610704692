// A local GitLab REST API v4 (issues, labels, milestones, notes) for contract tests: checks the
// PRIVATE-TOKEN, keeps issues with their labels, milestone, notes and state, answers 400/404 like GitLab.
import { HttpFake, type FakeAnswer, type RecordedRequest } from './http-fake';

export interface GitlabIssue {
  iid: number;
  title: string;
  description: string;
  labels: string[];
  milestone: { id: number; title: string } | null;
  confidential: boolean;
  state: 'opened' | 'closed';
  notes: Array<{ id: number; body: string }>;
}

export class FakeGitlab extends HttpFake {
  readonly projects = new Map<string, { issues: GitlabIssue[]; milestones: Array<{ id: number; title: string }> }>();
  private sequence = 0;

  constructor(readonly token = 'glpat-fake-token') {
    super(
      (req) => (req.headers['private-token'] === this.token ? null : { status: 401, body: { message: '401 Unauthorized' } }),
      (req) => this.answer(req),
    );
  }

  addProject(path: string): void {
    this.projects.set(path, { issues: [], milestones: [] });
  }

  issue(project: string, iid: number): GitlabIssue | undefined {
    return this.projects.get(project)?.issues.find((i) => i.iid === iid);
  }

  private answer(req: RecordedRequest): FakeAnswer {
    const match = /^\/api\/v4\/projects\/([^/]+)\/(issues|milestones)(?:\/(\d+))?(?:\/(notes))?$/.exec(req.path);
    if (!match) return { status: 404, body: { error: '404 Not Found' } };
    const project = this.projects.get(decodeURIComponent(match[1]!));
    if (!project) return { status: 404, body: { message: '404 Project Not Found' } };
    const [, , collection, iid, notes] = match;
    const b = req.body ?? {};
    const view = (i: GitlabIssue) => ({ ...i, web_url: `${this.url}/${decodeURIComponent(match[1]!)}/-/issues/${i.iid}` });

    if (collection === 'milestones') {
      if (req.method === 'GET') return { status: 200, body: project.milestones.filter((m) => !req.query.get('title') || m.title === req.query.get('title')) };
      if (!b.title) return { status: 400, body: { error: 'title is missing' } };
      if (project.milestones.some((m) => m.title === b.title)) return { status: 400, body: { message: 'Milestone already exists' } };
      const milestone = { id: ++this.sequence, title: b.title };
      project.milestones.push(milestone);
      return { status: 201, body: milestone };
    }
    if (!iid) {
      if (req.method !== 'POST') return { status: 405, body: { error: '405 Method Not Allowed' } };
      if (!b.title) return { status: 400, body: { error: 'title is missing' } };
      const issue: GitlabIssue = {
        iid: project.issues.length + 1,
        title: b.title,
        description: b.description ?? '',
        labels: splitLabels(b.labels),
        milestone: null,
        confidential: b.confidential === true,
        state: 'opened',
        notes: [],
      };
      project.issues.push(issue);
      return { status: 201, body: view(issue) };
    }
    const issue = project.issues.find((i) => i.iid === Number(iid));
    if (!issue) return { status: 404, body: { message: '404 Not found' } };
    if (notes) {
      if (!b.body) return { status: 400, body: { error: 'body is missing' } };
      const note = { id: ++this.sequence, body: b.body };
      issue.notes.push(note);
      return { status: 201, body: note };
    }
    if (req.method === 'GET') return { status: 200, body: view(issue) };
    if (req.method !== 'PUT') return { status: 405, body: { error: '405 Method Not Allowed' } };
    const remove = splitLabels(b.remove_labels);
    issue.labels = [...new Set([...issue.labels.filter((l) => !remove.includes(l)), ...splitLabels(b.add_labels)])];
    if (b.milestone_id !== undefined) {
      const milestone = project.milestones.find((m) => m.id === b.milestone_id) ?? null;
      if (b.milestone_id !== 0 && !milestone) return { status: 404, body: { message: '404 Milestone Not Found' } };
      issue.milestone = milestone;
    }
    if (b.state_event === 'close') issue.state = 'closed';
    return { status: 200, body: view(issue) };
  }
}

function splitLabels(labels: unknown): string[] {
  return typeof labels === 'string' ? labels.split(',').map((l) => l.trim()).filter(Boolean) : [];
}
