// `npm run desk -- <command>`: administration from the command line. Talks to the desk's PostgreSQL
// (DATABASE_URL, or the embedded one `npm start` runs).
//
//   keys create --name alice --role agent    prints the new key once; only its hash is stored
//   keys list                                id, name, role, created, revoked (never a key)
//   keys revoke <id>                         the key stops working at once
//   seed --tickets 100000 --days 90          demo data for the reports (rows and events, no workflows)
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { loadPolicy } from '../config/policy-schema';
import { createKey, KeyError, listKeys, revokeKey } from '../db/api-keys';
import { migrate } from '../db/migrations';
import { seedTickets } from '../db/seed';
import { rolesOf } from '../domain/access';
import { EMBEDDED_POSTGRES_PASSWORD, EMBEDDED_POSTGRES_USER } from './dev-services';

const USAGE = `usage:
  npm run desk -- keys create --name <name> --role <role>
  npm run desk -- keys list
  npm run desk -- keys revoke <key id>
  npm run desk -- seed [--tickets 1000] [--days 90] [--seed 1]`;

function databaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const port = process.env.SUPPORT_DESK_PG_PORT || '54329';
  return `postgresql://${EMBEDDED_POSTGRES_USER}:${EMBEDDED_POSTGRES_PASSWORD}@127.0.0.1:${port}/support_desk`;
}

async function keys(pool: Pool, args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { name: { type: 'string' }, role: { type: 'string' } }, allowPositionals: true });
  if (verb === 'create') {
    if (!values.name || !values.role) return fail(`keys create needs --name and --role\n${USAGE}`);
    const roles = Object.keys(rolesOf(loadPolicy(process.env.SUPPORT_DESK_POLICY ?? 'default')));
    const { id, key } = await createKey(pool, values.name, values.role, roles);
    console.log(`key ${id} for ${values.name} (role ${values.role}); it is shown only now, keep it safe:\n${key}`);
    return 0;
  }
  if (verb === 'list') {
    const rows = await listKeys(pool);
    if (rows.length === 0) console.log('no keys yet');
    for (const k of rows) {
      const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
      console.log(`${k.id.padEnd(16)} ${k.name.padEnd(24)} ${k.role.padEnd(12)} created ${k.createdAt.toISOString()}  ${state}`);
    }
    return 0;
  }
  if (verb === 'revoke') {
    const id = positionals[0];
    if (!id) return fail(`keys revoke needs the key's id (see keys list)\n${USAGE}`);
    if (!(await revokeKey(pool, id))) return fail(`no active key "${id}" (see keys list)`);
    console.log(`key ${id} revoked`);
    return 0;
  }
  return fail(USAGE);
}

async function seed(pool: Pool, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { tickets: { type: 'string', default: '1000' }, days: { type: 'string', default: '90' }, seed: { type: 'string', default: '1' } } });
  const tickets = Number(values.tickets);
  const days = Number(values.days);
  const seedNumber = Number(values.seed);
  if (!Number.isInteger(tickets) || tickets < 1 || tickets > 10_000_000) return fail(`--tickets must be a whole number from 1 to 10000000\n${USAGE}`);
  if (!(days > 0 && days <= 3650)) return fail(`--days must be a number of days from 1 to 3650\n${USAGE}`);
  if (!Number.isInteger(seedNumber)) return fail(`--seed must be a whole number\n${USAGE}`);
  const policy = loadPolicy(process.env.SUPPORT_DESK_POLICY ?? 'default');
  const started = Date.now();
  const written = await seedTickets(pool, policy, {
    tickets,
    days,
    seed: seedNumber,
    onProgress: (n) => process.stdout.write(`\r${n} of ${tickets} tickets`),
  });
  console.log(`\rseeded ${written} tickets over ${days} days in ${((Date.now() - started) / 1000).toFixed(1)} s (ids seed-…; rows and events only, no workflows)`);
  return 0;
}

function fail(message: string): number {
  console.error(message);
  return 2;
}

async function main(): Promise<number> {
  const [group, ...args] = process.argv.slice(2);
  if (group !== 'keys' && group !== 'seed') return fail(USAGE);
  const pool = new Pool({ connectionString: databaseUrl(), max: group === 'seed' ? 8 : 1, connectionTimeoutMillis: 5_000 });
  try {
    await migrate(pool);
    return group === 'seed' ? await seed(pool, args) : await keys(pool, args);
  } catch (err) {
    if (err instanceof KeyError) return fail(err.message);
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED') return fail('cannot reach PostgreSQL: start the desk (`npm start`) or set DATABASE_URL');
    throw err;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
