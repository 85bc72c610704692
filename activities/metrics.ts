// What the worker's activities tell Prometheus (served on WORKER_HEALTH_PORT's /metrics by the
// worker): calls to outside systems that failed, by system, and how late escalations go out. One
// registry per process, as prom-client intends; the SDK's own metrics (task latencies, slots, polls)
// are on WORKER_SDK_METRICS_PORT.
import { Counter, Histogram, Registry } from 'prom-client';

export const workerRegistry = new Registry();

/**
 * Each failed call to an outside system (a Slack post, a Zendesk comment, a GitLab issue, a PagerDuty
 * event), by the system the call went to (chat, helpdesk, tracker, gitlab, pager). Every attempt
 * counts: Temporal retries the activity, so a failure here is not yet a lost notification.
 */
export const integrationFailures = new Counter({
  name: 'desk_notification_failures_total',
  help: 'Calls to an outside system (Slack, Zendesk, GitLab, PagerDuty) that failed, each attempt, by system',
  labelNames: ['system'],
  registers: [workerRegistry],
});

/**
 * From when an escalation step was due to when its notification's first attempt started: the timer
 * firing, the workflow task and the activity waiting for a worker. Seconds.
 */
export const escalationLag = new Histogram({
  name: 'desk_escalation_lag_seconds',
  help: 'From an escalation step being due to its notification activity starting (first attempt)',
  buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
  registers: [workerRegistry],
});
