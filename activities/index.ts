// Every activity the worker registers, built from its dependencies.
import type { Pool } from 'pg';
import type { Integrations } from './integrations';
import type { Notifier } from './notifier';
import { createTicketActivities } from './ticket';

export interface ActivityDeps {
  pool: Pool;
  notifier: Notifier;
  integrations: Integrations;
}

export function createActivities(deps: ActivityDeps) {
  return { ...createTicketActivities(deps) };
}
