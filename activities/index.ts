// Every activity the worker registers, built from its dependencies.
import type { Pool } from 'pg';
import type { EncryptionKeys } from '../config/encryption';
import type { Integrations } from './integrations';
import type { Notifier } from './notifier';
import { createIncidentActivities } from './incident';
import { createRetentionActivities } from './retention';
import { createSecurityReportActivities } from './security-report';
import { createTicketActivities } from './ticket';
import { createTrackerAnnouncementActivities } from './tracker-announcement';
import { createWorkItemActivities } from './work-item';

export interface ActivityDeps {
  pool: Pool;
  notifier: Notifier;
  integrations: Integrations;
  /** Seal a personal item's words before they reach PostgreSQL (db/sealed.ts), and read them back. */
  encryptionKeys: EncryptionKeys;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createTicketActivities(deps),
    ...createTrackerAnnouncementActivities(deps),
    ...createWorkItemActivities(deps),
    ...createIncidentActivities(deps),
    ...createSecurityReportActivities(deps),
    ...createRetentionActivities(deps),
  };
}
