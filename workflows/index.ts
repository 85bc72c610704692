// Every workflow the worker runs; the worker bundles this file.
export { ticketWorkflow } from './ticket';
export { announceTrackerIssueWorkflow } from './tracker-announcement';
export { featureRequestWorkflow } from './feature-request';
export { bugReportWorkflow } from './bug-report';
export { incidentWorkflow } from './incident';
export { securityReportWorkflow } from './security-report';
export { retentionWorkflow } from './retention';
export { policyRolloutWorkflow } from './policy-rollout';
