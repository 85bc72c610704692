// Every activity the worker registers, built from its dependencies.
import type { Pool } from 'pg';
import type { Notifier } from './notifier';
import { createTicketActivities } from './ticket';

export function createActivities(deps: { pool: Pool; notifier: Notifier }) {
  return { ...createTicketActivities(deps) };
}
