// The retention periods from the environment: the defaults when nothing is set, each variable setting
// its own period, and a value that is not a whole number of days refused with the variable's name.
import { DEFAULT_RETENTION } from '../domain/retention';
import { ConfigError } from './config-error';
import { retentionFromEnv } from './retention';

it('nothing set keeps the defaults', () => {
  expect(retentionFromEnv({})).toEqual(DEFAULT_RETENTION);
  expect(DEFAULT_RETENTION).toMatchObject({ webhookDeliveriesDays: 30, externalEffectsDays: 90, notificationsDays: 90, deskEventsDays: 760 });
});

it('each variable sets its own period', () => {
  expect(
    retentionFromEnv({
      RETENTION_WEBHOOK_DELIVERIES_DAYS: '7',
      RETENTION_EXTERNAL_EFFECTS_DAYS: '60',
      RETENTION_NOTIFICATIONS_DAYS: ' 45 ',
      RETENTION_DESK_EVENTS_DAYS: '1000',
      RETENTION_BATCH_SIZE: '500',
    }),
  ).toEqual({ ...DEFAULT_RETENTION, webhookDeliveriesDays: 7, externalEffectsDays: 60, notificationsDays: 45, deskEventsDays: 1000, batchSize: 500 });
});

it.each(['0', '-3', '1.5', '30d', 'thirty'])('%p is refused, naming the variable and its default', (value) => {
  expect(() => retentionFromEnv({ RETENTION_WEBHOOK_DELIVERIES_DAYS: value })).toThrow(ConfigError);
  expect(() => retentionFromEnv({ RETENTION_WEBHOOK_DELIVERIES_DAYS: value })).toThrow(
    `RETENTION_WEBHOOK_DELIVERIES_DAYS="${value}" is not a whole number of at least 1 (default 30)`,
  );
});
