// API keys, the embedded default credential: made by `npm run desk -- keys create`, kept as a SHA-256
// only (a key is 256 random bits, so a plain hash is enough; nothing to stretch), shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { TEXT_RULES, textProblem } from '../domain/text-rules';

export interface ApiKeyRow {
  id: string;
  name: string;
  role: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** The id of the key `SUPPORT_DESK_ADMIN_KEY` names (npm start sets it from .data/admin-key). */
export const BOOTSTRAP_KEY_ID = 'bootstrap-admin';

/** A bootstrap key someone chose must still be hard to guess. */
const MIN_BOOTSTRAP_KEY_LENGTH = 32;

const hashOf = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/** A new key: `sd_<id>_<secret>`, so a log line or a list can name the key (its id) without its secret. */
export function newKey(): { id: string; key: string } {
  const id = randomBytes(6).toString('hex');
  return { id, key: `sd_${id}_${randomBytes(32).toString('base64url')}` };
}

export class KeyError extends Error {}

/**
 * A new key for `name` with `role`. The name is who the timeline says acted, so one name is one
 * person: a second live key for a name (a rotation) must have the same role.
 */
export async function createKey(pool: Pool, rawName: string, role: string, knownRoles: readonly string[]): Promise<{ id: string; key: string }> {
  const name = rawName.trim();
  const problem = name === '' ? 'must not be empty' : textProblem(name, TEXT_RULES.name);
  if (problem) throw new KeyError(`--name ${problem}`);
  if (!knownRoles.includes(role)) throw new KeyError(`--role "${role}" is not a role; use one of ${knownRoles.join(', ')}`);
  const { rows } = await pool.query<{ id: string; role: string }>('SELECT id, role FROM api_keys WHERE name = $1 AND revoked_at IS NULL', [name]);
  const other = rows.find((r) => r.role !== role);
  if (other) throw new KeyError(`${name} already has a live key with role ${other.role} (${other.id}): one name is one person; revoke it first or choose another name`);
  const made = newKey();
  await pool.query('INSERT INTO api_keys (id, name, role, key_hash) VALUES ($1, $2, $3, $4)', [made.id, name, role, hashOf(made.key)]);
  return made;
}

export async function listKeys(pool: Pool): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query('SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY created_at, id');
  return rows.map((r) => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at }));
}

/** Revokes a key at once (every request checks); false when no live key has that id. */
export async function revokeKey(pool: Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE api_keys SET revoked_at = clock_timestamp() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return rowCount === 1;
}

/** Whether a live key has this name (a token's name must not pass for a key's person). */
export async function nameHasKey(pool: Pool, name: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM api_keys WHERE name = $1 AND revoked_at IS NULL LIMIT 1', [name]);
  return (rowCount ?? 0) > 0;
}

/** The live key a bearer token is, or null. */
export async function findKey(pool: Pool, token: string): Promise<ApiKeyRow | null> {
  const { rows } = await pool.query(
    'SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    [hashOf(token)],
  );
  const r = rows[0];
  return r ? { id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at } : null;
}

/**
 * Makes `key` the bootstrap admin key (name `admin`). A new value replaces the old one, which stops
 * working; the same value again changes nothing, so a revoked bootstrap key stays revoked.
 */
export async function ensureBootstrapKey(pool: Pool, key: string): Promise<void> {
  if (key.length < MIN_BOOTSTRAP_KEY_LENGTH || /\s/.test(key)) {
    throw new KeyError(`SUPPORT_DESK_ADMIN_KEY must be at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters without spaces (e.g. \`openssl rand -base64 32\`)`);
  }
  await pool.query(
    `INSERT INTO api_keys (id, name, role, key_hash) VALUES ($1, 'admin', 'admin', $2)
     ON CONFLICT (id) DO UPDATE SET key_hash = EXCLUDED.key_hash, revoked_at = NULL, created_at = clock_timestamp()
       WHERE api_keys.key_hash <> EXCLUDED.key_hash`,
    [BOOTSTRAP_KEY_ID, hashOf(key)],
  );
}
