// Configuration of the worker and the API, from the environment only (secrets included), checked at start.
import type { Policy } from '../domain/policy';
import { ConfigError } from './config-error';
import { loadPolicy } from './policy-schema';
import { temporalConnectionFromEnv, type TemporalConnectionSettings } from './temporal-connection';

export { ConfigError };

export const TASK_QUEUE_DEFAULT = 'support-desk';

export interface DeskConfig {
  /** Address, namespace and credentials (config/temporal-connection.ts). */
  temporal: TemporalConnectionSettings;
  taskQueue: string;
  databaseUrl: string;
  port: number;
  policy: Policy;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): DeskConfig {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    throw new ConfigError('DATABASE_URL is not set: point it at PostgreSQL (npm start sets it for you)');
  }
  const port = portFromEnv('PORT', env) ?? 3000;
  return {
    temporal: temporalConnectionFromEnv(env),
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
    databaseUrl,
    port,
    policy: loadPolicy(env.SUPPORT_DESK_POLICY ?? 'default'),
  };
}

/** The TCP port a variable names, undefined when it is unset or empty, a ConfigError when it is no port. */
export function portFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port <= 0 || port > 65535) throw new ConfigError(`${name}="${raw}" is not a TCP port number (1-65535)`);
  return port;
}
