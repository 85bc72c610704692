// The retention periods from the environment (README "Housekeeping"), checked when the worker starts.
import { DEFAULT_RETENTION, type RetentionPolicy } from '../domain/retention';
import { ConfigError } from './config-error';

/** The variable that sets each period; the pacing reservations keep their one day. */
export const RETENTION_ENV: Record<Exclude<keyof RetentionPolicy, 'integrationPaceDays'>, string> = {
  webhookDeliveriesDays: 'RETENTION_WEBHOOK_DELIVERIES_DAYS',
  externalEffectsDays: 'RETENTION_EXTERNAL_EFFECTS_DAYS',
  notificationsDays: 'RETENTION_NOTIFICATIONS_DAYS',
  deskEventsDays: 'RETENTION_DESK_EVENTS_DAYS',
  batchSize: 'RETENTION_BATCH_SIZE',
};

export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionPolicy {
  const policy = { ...DEFAULT_RETENTION };
  for (const key of Object.keys(RETENTION_ENV) as Array<keyof typeof RETENTION_ENV>) {
    const name = RETENTION_ENV[key];
    const text = env[name]?.trim();
    if (!text) continue;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
      throw new ConfigError(`${name}="${env[name]}" is not a whole number of at least 1 (default ${DEFAULT_RETENTION[key]})`);
    }
    policy[key] = value;
  }
  return policy;
}
