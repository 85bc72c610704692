// A driver contract test file's set-up: one test database for the file (once() keeps each external
// effect there) and a fresh local fake of the service for every test, stopped after it.
import type { HttpFake } from '../fakes/http-fake';
import { createTestDatabase, type TestDatabase } from '../postgres';

/**
 * Registers the hooks; before each test `use` gets the freshly started fake and the database, so
 * the file can point its driver at the fake.
 */
export function againstAFreshFake<Fake extends HttpFake>(createFake: () => Fake, use: (fake: Fake, db: TestDatabase) => void): void {
  let db: TestDatabase;
  let fake: Fake | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    fake = await createFake().start();
    use(fake, db);
  });
  afterEach(async () => {
    await fake?.stop();
  });
}
