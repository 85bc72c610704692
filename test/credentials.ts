// Credentials for tests, made the way an admin makes them (`npm run desk -- keys create`): a key per
// name and role in the test's own database, sent as `Authorization: Bearer <key>`.
import type { Pool } from 'pg';
import { createAuthenticator, type Authenticator } from '../api/auth';
import { createKey, ensureBootstrapKey } from '../db/api-keys';
import { DEFAULT_ROLES } from '../domain/access';

/** The bootstrap admin key the spawned desks of the tests start with (SUPPORT_DESK_ADMIN_KEY). */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnop';

export interface TestCredentials {
  auth: Authenticator;
  /** Headers of a request by `name` with `role` (a key made on first use); the admin's by default. */
  headers(name?: string, role?: string): Promise<Record<string, string>>;
}

export async function testCredentials(pool: Pool): Promise<TestCredentials> {
  await ensureBootstrapKey(pool, TEST_ADMIN_KEY);
  const made = new Map<string, Promise<string>>();
  return {
    auth: createAuthenticator(pool, null),
    async headers(name = 'admin', role = name === 'admin' ? 'admin' : 'supervisor') {
      if (name === 'admin' && role === 'admin') return bearer(TEST_ADMIN_KEY);
      const id = `${name}\u0000${role}`;
      if (!made.has(id)) made.set(id, createKey(pool, name, role, Object.keys(DEFAULT_ROLES)).then((k) => k.key));
      return bearer(await made.get(id)!);
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The people the access tests act as: a name and a role, as `headers(name, role)` takes them. */
export const PEOPLE = {
  intake: { name: 'webform', role: 'intake' },
  alice: { name: 'alice', role: 'agent' },
  bob: { name: 'bob', role: 'agent' },
  sue: { name: 'sue', role: 'supervisor' },
} as const;
