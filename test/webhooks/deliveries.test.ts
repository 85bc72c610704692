// The delivery record on PostgreSQL: one effect per delivery id, a failed action left for the
// sender's redelivery to retry, a claim abandoned by a crashed process taken over in time, and a
// first owner that wakes up after the takeover changing nothing of the new claim.
import pino from 'pino';
import {
  actOnDelivery,
  actWithinBudget,
  claimDelivery,
  completeDelivery,
  refuseDelivery,
  releaseDelivery,
  type DeliveryClaim,
} from '../../api/webhooks/deliveries';
import { eventually } from '../eventually';
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
  (
    await db.pool.query('SELECT completed_at, claim_token, outcome FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2', [
      'slack',
      id,
    ])
  ).rows[0];

/** Claims a Slack delivery and fails the test if it could not. */
async function claim(deliveryId: string): Promise<DeliveryClaim> {
  const token = await claimDelivery(db.pool, 'slack', deliveryId);
  expect(token).toEqual(expect.any(String));
  return { source: 'slack', deliveryId, token: token! };
}

/** Makes a claim look abandoned: its request started longer ago than any action takes. */
const age = (deliveryId: string, by: string) =>
  db.pool.query(`UPDATE webhook_deliveries SET received_at = now() - interval '${by}' WHERE delivery_id = $1`, [deliveryId]);

test('a delivery acted on successfully is recorded, and its redelivery is not claimed again', async () => {
  const first = await claim('Ev1');
  expect(await actOnDelivery(db.pool, log, first, async () => undefined)).toBe(true);
  expect(await row('Ev1')).toMatchObject({ completed_at: expect.any(Date), outcome: 'done' });
  expect(await claimDelivery(db.pool, 'slack', 'Ev1')).toBeNull();
});

test('the same id from another sender is another delivery', async () => {
  expect(await claimDelivery(db.pool, 'slack', 'shared-id')).toEqual(expect.any(String));
  expect(await claimDelivery(db.pool, 'gitlab', 'shared-id')).toEqual(expect.any(String));
});

test('a redelivery arriving while the first is still acting is not acted on twice', async () => {
  await claim('Ev2');
  expect(await claimDelivery(db.pool, 'slack', 'Ev2')).toBeNull();
});

test("a failed action is not recorded, so the sender's redelivery acts again", async () => {
  const first = await claim('Ev3');
  expect(await actWithinBudget(db.pool, log, first, 1_000, async () => Promise.reject(new Error('Temporal unavailable')))).toBe('failed');
  expect(await row('Ev3')).toBeUndefined();
  const again = await claim('Ev3');
  expect(await actWithinBudget(db.pool, log, again, 1_000, async () => undefined)).toBe('done');
});

test('an action slower than the budget goes on after the sender was answered, and is recorded when done', async () => {
  const first = await claim('Ev4');
  let finish!: () => void;
  const slow = new Promise<void>((resolve) => (finish = resolve));
  expect(await actWithinBudget(db.pool, log, first, 50, () => slow)).toBe('still-acting');
  expect((await row('Ev4')).completed_at).toBeNull();
  finish();
  const done = await eventually(() => row('Ev4'), (r) => r.completed_at !== null);
  expect(done).toMatchObject({ completed_at: expect.any(Date), outcome: 'done' });
});

test('a claim left behind by a process that died while acting is taken over by a later redelivery', async () => {
  await claim('Ev5');
  await age('Ev5', '3 minutes');
  const takeover = await claim('Ev5');
  // ...but a completed delivery never is, however old.
  await actOnDelivery(db.pool, log, takeover, async () => undefined);
  await age('Ev5', '1 day');
  expect(await claimDelivery(db.pool, 'slack', 'Ev5')).toBeNull();
});

test("the first, slow owner's release after a takeover leaves the new claim intact", async () => {
  const slow = await claim('Ev6');
  await age('Ev6', '3 minutes');
  const takeover = await claim('Ev6');
  expect(takeover.token).not.toBe(slow.token);

  // The first request's action fails late: its release must not free the delivery the new owner acts on.
  expect(await releaseDelivery(db.pool, slow)).toBe(false);
  expect(await row('Ev6')).toMatchObject({ claim_token: takeover.token, completed_at: null });
  expect(await claimDelivery(db.pool, 'slack', 'Ev6')).toBeNull();

  // Nor does a late success of the first request complete it in the new owner's place.
  expect(await completeDelivery(db.pool, slow)).toBe(false);
  expect((await row('Ev6')).completed_at).toBeNull();

  expect(await actOnDelivery(db.pool, log, takeover, async () => undefined)).toBe(true);
  expect(await row('Ev6')).toMatchObject({ claim_token: takeover.token, completed_at: expect.any(Date), outcome: 'done' });
});

test('a refused delivery is kept as refused: never claimed, however old, and refusing it again changes nothing', async () => {
  expect(await refuseDelivery(db.pool, 'slack', 'Ev7', 'event.text: must be text')).toBe('refused');
  await age('Ev7', '1 day');
  expect(await claimDelivery(db.pool, 'slack', 'Ev7')).toBeNull();
  expect(await refuseDelivery(db.pool, 'slack', 'Ev7', 'event.text: must be text')).toBe('refused');
  expect(await row('Ev7')).toMatchObject({ outcome: 'refused', completed_at: expect.any(Date), claim_token: null });

  // A delivery already done (or being acted on) under the same id is not turned into a refusal.
  await actOnDelivery(db.pool, log, await claim('Ev8'), async () => undefined);
  expect(await refuseDelivery(db.pool, 'slack', 'Ev8', 'event.text: must be text')).toBe('done');
  await claim('Ev9');
  expect(await refuseDelivery(db.pool, 'slack', 'Ev9', 'event.text: must be text')).toBe('acting');
});
