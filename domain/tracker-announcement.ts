// A new tracker issue announced in a team channel: shared by the GitLab webhook and its workflow.

export interface TrackerIssueAnnouncement {
  /** The project's path, e.g. "support/desk". */
  project: string;
  iid: number;
  title: string;
  url: string;
  author: string;
  /** The team channel, e.g. "#development". */
  channel: string;
}

export function trackerAnnouncementWorkflowId(project: string, iid: number): string {
  return `tracker-issue-${project}#${iid}`;
}

export function announcementText(a: TrackerIssueAnnouncement): string {
  return `New issue in ${a.project}: #${a.iid} ${a.title} (opened by ${a.author})${a.url ? ` ${a.url}` : ''}`;
}
