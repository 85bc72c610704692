// How the worker, the API and the scripts reach Temporal: the address and namespace, and for a real
// cluster TLS (a private CA, a server name override), mTLS (a client certificate and key) or a
// Temporal Cloud API key. Read from the environment only; the key and the API key are never logged.
//
//   TEMPORAL_ADDRESS          host:port of the frontend (127.0.0.1:7233)
//   TEMPORAL_NAMESPACE        (default)
//   TEMPORAL_TLS              true: TLS with the system's roots; false: never TLS (set by the others)
//   TEMPORAL_TLS_CA           the CA that signed the server's certificate (PEM, or a path to it)
//   TEMPORAL_TLS_CERT         the client certificate, for mTLS (PEM, or a path); needs TEMPORAL_TLS_KEY
//   TEMPORAL_TLS_KEY          its private key (PEM, or a path)
//   TEMPORAL_TLS_SERVER_NAME  the name the server's certificate carries, when it is not the address's host
//   TEMPORAL_API_KEY          a Temporal Cloud API key (turns TLS on)
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { ConfigError } from './config-error';

export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** undefined: plain gRPC (a dev server, a cluster on a private network). */
  tls?: TLSConfig;
  apiKey?: string;
}

/** What the connection uses, for logs and error messages: never a key's value. */
export function describeTemporalConnection(settings: TemporalConnectionSettings): Record<string, string> {
  const tls = settings.tls;
  const mode = !tls ? 'plain' : tls.clientCertPair ? 'mTLS' : 'TLS';
  return {
    address: settings.address,
    namespace: settings.namespace,
    tls: mode,
    ...(tls?.serverRootCACertificate ? { ca: 'TEMPORAL_TLS_CA' } : tls ? { ca: 'system roots' } : {}),
    ...(tls?.serverNameOverride ? { serverName: tls.serverNameOverride } : {}),
    ...(settings.apiKey ? { apiKey: 'TEMPORAL_API_KEY (set)' } : {}),
  };
}

export function temporalConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalConnectionSettings {
  const address = env.TEMPORAL_ADDRESS?.trim() || '127.0.0.1:7233';
  const namespace = env.TEMPORAL_NAMESPACE?.trim() || 'default';
  if (!/^[^\s/]+:\d{1,5}$/.test(address)) {
    throw new ConfigError(`TEMPORAL_ADDRESS="${address}" is not host:port (e.g. 127.0.0.1:7233 or my-ns.a1b2c.tmprl.cloud:7233)`);
  }
  const switchedOn = flag(env, 'TEMPORAL_TLS');
  const ca = pem(env, 'TEMPORAL_TLS_CA', 'CERTIFICATE');
  const cert = pem(env, 'TEMPORAL_TLS_CERT', 'CERTIFICATE');
  const key = pem(env, 'TEMPORAL_TLS_KEY', 'PRIVATE KEY');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim() || undefined;
  const apiKey = env.TEMPORAL_API_KEY?.trim() || undefined;
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(
      cert
        ? 'TEMPORAL_TLS_CERT is set without TEMPORAL_TLS_KEY: mTLS needs the client certificate and its private key'
        : 'TEMPORAL_TLS_KEY is set without TEMPORAL_TLS_CERT: mTLS needs the client certificate and its private key',
    );
  }
  const wantsTls = Boolean(ca || cert || serverName || apiKey);
  if (switchedOn === false) {
    if (wantsTls) {
      throw new ConfigError(
        'TEMPORAL_TLS=false, but TEMPORAL_TLS_CA/CERT/KEY/SERVER_NAME or TEMPORAL_API_KEY is set: ' +
          'they need TLS; unset TEMPORAL_TLS or those variables',
      );
    }
    return { address, namespace };
  }
  if (!wantsTls && !switchedOn) return { address, namespace };
  const tls: TLSConfig = {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(cert && key ? { clientCertPair: { crt: cert, key } } : {}),
  };
  return { address, namespace, tls, ...(apiKey ? { apiKey } : {}) };
}

/** Options for `Connection.connect` (the API, scripts) and `NativeConnection.connect` (the worker). */
export function connectionOptions(settings: TemporalConnectionSettings): {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
} {
  return {
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  };
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name}="${env[name]}" is not true or false`);
}

/** A PEM block given inline or as a path to a file holding it. */
function pem(env: NodeJS.ProcessEnv, name: string, label: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let text = raw;
  if (!raw.startsWith('-----BEGIN')) {
    try {
      text = readFileSync(raw, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      // A key's variable may hold the key itself, mangled (base64, quoted): never repeat its value.
      const which = label === 'PRIVATE KEY' ? 'the file it names' : `the file "${raw}"`;
      throw new ConfigError(`${name}: cannot read ${which} (${reason}); give the PEM text or a readable path`);
    }
  }
  // "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY".
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) {
    throw new ConfigError(`${name} holds no PEM ${label.toLowerCase()} (a block starting "-----BEGIN ${label}-----")`);
  }
  return Buffer.from(text);
}

// ---------------------------------------------------------------------------------------------
// Is the namespace there, with the desk's search attributes?

export class TemporalSetupError extends Error {}

/** The parts of a client or a native connection the checks use. */
export interface TemporalServices {
  workflowService: { describeNamespace(req: { namespace: string }): Promise<unknown> };
  operatorService: {
    listSearchAttributes(req: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
  };
}

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;

/**
 * Throws a TemporalSetupError saying what to run when the namespace does not exist or lacks a custom
 * search attribute the desk writes; other failures (unreachable, refused credentials) pass through.
 * Returns a warning when the server does not let this identity list search attributes (some clouds).
 */
export async function checkTemporalNamespace(
  services: TemporalServices,
  settings: TemporalConnectionSettings,
): Promise<{ warning?: string }> {
  const { namespace, address } = settings;
  try {
    await services.workflowService.describeNamespace({ namespace });
  } catch (error) {
    if (grpcCode(error) === GRPC_NOT_FOUND) {
      throw new TemporalSetupError(
        `the namespace "${namespace}" does not exist on ${address}. Create it with ` +
          `\`temporal operator namespace create --namespace ${namespace} --address ${address}\` ` +
          `(on Temporal Cloud, in the Cloud UI or with tcld), or set TEMPORAL_NAMESPACE to one that exists`,
      );
    }
    throw error;
  }
  let registered: Record<string, unknown>;
  try {
    registered = (await services.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (error) {
    const code = grpcCode(error);
    if (code === GRPC_PERMISSION_DENIED || code === GRPC_UNIMPLEMENTED) {
      return { warning: `could not list the search attributes of "${namespace}" (${errorText(error)}); make sure ${SEARCH_ATTRIBUTES.map((a) => a.name).join(', ')} are registered` };
    }
    throw error;
  }
  const missing = SEARCH_ATTRIBUTES.filter((a) => !(a.name in registered));
  if (missing.length > 0) {
    const commands = missing
      .map((a) => `  temporal operator search-attribute create --namespace ${namespace} --name ${a.name} --type ${a.type}`)
      .join('\n');
    throw new TemporalSetupError(
      `the namespace "${namespace}" lacks the desk's search attributes ${missing.map((a) => a.name).join(', ')}. ` +
        `Register them (with the same TEMPORAL_* connection settings) and start again:\n${commands}`,
    );
  }
  return {};
}

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
