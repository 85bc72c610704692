// Announces a new tracker issue in a team channel: one activity, retried by Temporal until chat takes it.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { TrackerAnnouncementActivities } from '../activities/tracker-announcement';
import { announcementText, type TrackerIssueAnnouncement } from '../domain/tracker-announcement';

const { announceTrackerIssue } = proxyActivities<TrackerAnnouncementActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function announceTrackerIssueWorkflow(announcement: TrackerIssueAnnouncement): Promise<void> {
  await announceTrackerIssue({
    idempotencyKey: `${workflowInfo().workflowId}:announce`,
    channel: announcement.channel,
    text: announcementText(announcement),
  });
}
