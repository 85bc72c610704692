// The pace of Slack and Zendesk writes: the rule (a property over any sequence of calls), and the
// PostgreSQL pacer shared by several workers, each with its own pool, racing for one key.
import fc from 'fast-check';
import { Pool } from 'pg';
import { nextTurn, PostgresPacer, type Pace } from '../activities/drivers/pacing';
import { createTestDatabase, type TestDatabase } from './postgres';

/** At most `limit` turns inside any window: checked at each turn, the window that starts there. */
function withinPace(pace: Pace, turns: number[]): boolean {
  const sorted = [...turns].sort((a, b) => a - b);
  return sorted.every((start, i) => sorted.slice(i).filter((t) => t < start + pace.windowMs).length <= pace.limit);
}

test('whatever the calls and their timing, no window holds more turns than the pace allows, and no turn waits needlessly', () => {
  fc.assert(
    fc.property(
      fc.record({ limit: fc.integer({ min: 1, max: 5 }), windowMs: fc.integer({ min: 1, max: 5_000 }) }),
      fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 40 }),
      (pace, gaps) => {
        const turns: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const turn = nextTurn(pace, turns, now);
          expect(turn).toBeGreaterThanOrEqual(now);
          // No needless waiting: a turn later than now could not have been a millisecond earlier.
          if (turn > now) expect(withinPace(pace, [...turns, turn - 1])).toBe(false);
          turns.push(turn);
        }
        return withinPace(pace, turns);
      },
    ),
  );
});

describe('PostgresPacer', () => {
  let db: TestDatabase;
  const pools: Pool[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    // Three workers: three pools, as three processes would have.
    for (let i = 0; i < 3; i++) pools.push(new Pool({ connectionString: db.url, max: 4 }));
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
  });

  test('three workers writing to one channel together keep its pace; another channel is not held up', async () => {
    const pace: Pace = { limit: 2, windowMs: 600 };
    const pacers = pools.map((pool) => new PostgresPacer('Slack', pace, pool));
    const turns: number[] = [];
    const other: number[] = [];
    const started = Date.now();
    await Promise.all([
      ...Array.from({ length: 9 }, (_, i) => pacers[i % 3]!.waitTurn('#escalations').then(() => turns.push(Date.now()))),
      pacers[1]!.waitTurn('#general').then(() => other.push(Date.now())),
    ]);
    // 9 writes at 2 per 600 ms: the last can go no earlier than 4 windows after the first two.
    expect(Math.max(...turns) - started).toBeGreaterThanOrEqual(4 * pace.windowMs - 50);
    expect(other[0]! - started).toBeLessThan(2 * pace.windowMs); // its own key: no queue behind #escalations
    // What PostgreSQL reserved (PostgreSQL's clock) is within the pace exactly.
    const { rows } = await db.pool.query<{ at_ms: number }>(
      `SELECT extract(epoch FROM at) * 1000 AS at_ms FROM integration_pace WHERE system = 'Slack' AND key = '#escalations'`,
    );
    expect(withinPace(pace, rows.map((r) => Number(r.at_ms)))).toBe(true);
  });

  test('a turn further off than an activity should wait is handed to Temporal as a retry delay, and reserves nothing', async () => {
    const pace: Pace = { limit: 1, windowMs: 60_000 };
    const pacer = new PostgresPacer('Zendesk', pace, pools[0]!);
    await pacer.waitTurn('ticket-42');
    const refused = await pacer.waitTurn('ticket-42').catch((e) => e);
    expect(refused).toMatchObject({ type: 'IntegrationPaced' });
    expect(refused.nextRetryDelay).toBeDefined();
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM integration_pace WHERE system = 'Zendesk' AND key = 'ticket-42'`);
    expect(rows[0].n).toBe(1);
  });
});
