// A private PostgreSQL schema per test file on the real server (TEST_DATABASE_URL, default the
// machine's local PostgreSQL), migrated like production and dropped afterwards.
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { migrate } from '../db/migrations';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  pool: Pool;
  /** A DATABASE_URL that lands in this schema, for child processes. */
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const pool = new Pool({ connectionString: url.toString(), max: 10 });
  await migrate(pool);
  return {
    pool,
    url: url.toString(),
    async drop() {
      await pool.end();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
