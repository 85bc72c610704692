// The delivery record on PostgreSQL: one effect per delivery id, a failed action left for the
// sender's redelivery to retry, and a claim abandoned by a crashed process taken over in time.
import pino from 'pino';
import { actOnDelivery, actWithinBudget, claimDelivery } from '../../api/webhooks/deliveries';
import { createTestDatabase, type TestDatabase } from '../postgres';

let db: TestDatabase;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const row = async (id: string) =>
  (await db.pool.query('SELECT completed_at FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2', ['slack', id])).rows[0];

test('a delivery acted on successfully is recorded, and its redelivery is not claimed again', async () => {
  expect(await claimDelivery(db.pool, 'slack', 'Ev1')).toBe(true);
  expect(await actOnDelivery(db.pool, log, 'slack', 'Ev1', async () => undefined)).toBe(true);
  expect((await row('Ev1')).completed_at).toBeInstanceOf(Date);
  expect(await claimDelivery(db.pool, 'slack', 'Ev1')).toBe(false);
});

test('the same id from another sender is another delivery', async () => {
  expect(await claimDelivery(db.pool, 'slack', 'shared-id')).toBe(true);
  expect(await claimDelivery(db.pool, 'gitlab', 'shared-id')).toBe(true);
});

test('a redelivery arriving while the first is still acting is not acted on twice', async () => {
  expect(await claimDelivery(db.pool, 'slack', 'Ev2')).toBe(true);
  expect(await claimDelivery(db.pool, 'slack', 'Ev2')).toBe(false);
});

test("a failed action is not recorded, so the sender's redelivery acts again", async () => {
  expect(await claimDelivery(db.pool, 'slack', 'Ev3')).toBe(true);
  expect(await actWithinBudget(db.pool, log, 'slack', 'Ev3', 1_000, async () => Promise.reject(new Error('Temporal unavailable')))).toBe(
    'failed',
  );
  expect(await row('Ev3')).toBeUndefined();
  expect(await claimDelivery(db.pool, 'slack', 'Ev3')).toBe(true);
  expect(await actWithinBudget(db.pool, log, 'slack', 'Ev3', 1_000, async () => undefined)).toBe('done');
});

test('an action slower than the budget goes on after the sender was answered, and is recorded when done', async () => {
  expect(await claimDelivery(db.pool, 'slack', 'Ev4')).toBe(true);
  let finish!: () => void;
  const slow = new Promise<void>((resolve) => (finish = resolve));
  expect(await actWithinBudget(db.pool, log, 'slack', 'Ev4', 50, () => slow)).toBe('still-acting');
  expect((await row('Ev4')).completed_at).toBeNull();
  finish();
  await new Promise((r) => setTimeout(r, 200));
  expect((await row('Ev4')).completed_at).toBeInstanceOf(Date);
});

test('a claim left behind by a process that died while acting is taken over by a later redelivery', async () => {
  expect(await claimDelivery(db.pool, 'slack', 'Ev5')).toBe(true);
  await db.pool.query("UPDATE webhook_deliveries SET received_at = now() - interval '3 minutes' WHERE delivery_id = 'Ev5'");
  expect(await claimDelivery(db.pool, 'slack', 'Ev5')).toBe(true);
  // ...but a completed delivery never is, however old.
  await actOnDelivery(db.pool, log, 'slack', 'Ev5', async () => undefined);
  await db.pool.query("UPDATE webhook_deliveries SET received_at = now() - interval '1 day' WHERE delivery_id = 'Ev5'");
  expect(await claimDelivery(db.pool, 'slack', 'Ev5')).toBe(false);
});
