// Every Temporal payload the desk writes is encrypted with AES-256-GCM, so the Temporal server, its
// database and its UI never hold a requester's words in the clear. Node code for clients and workers:
// a codec runs outside the workflow sandbox, and nothing in workflows/ imports this file.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ConfigError } from './env';

export const ENCRYPTION_KEYS_VARIABLE = 'SUPPORT_DESK_ENCRYPTION_KEYS';
/** The `encoding` metadata of an encrypted payload; any other payload was written without the codec. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with, so a rotated-out key can still be found. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** How to make a key, for error messages. */
export const NEW_KEY_COMMAND = `node -e "console.log('k1:'+require('crypto').randomBytes(32).toString('base64'))"`;

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A key as a KeyObject: logged or serialised by mistake, it shows no key material. */
export interface EncryptionKey {
  readonly id: string;
  readonly key: KeyObject;
}

/** The first key encrypts; every key decrypts (a rotation deploys `k2:...,k1:...`). */
export type EncryptionKeys = readonly [EncryptionKey, ...EncryptionKey[]];

/**
 * Reads SUPPORT_DESK_ENCRYPTION_KEYS: comma-separated `<keyId>:<base64 of 32 bytes>`. Errors name the
 * entry by its position and never repeat any of it, not even its id: an entry written the wrong way
 * round has its key where the id should be.
 */
export function parseEncryptionKeys(value: string | undefined): EncryptionKeys {
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(
      `${ENCRYPTION_KEYS_VARIABLE} is not set: every Temporal payload is encrypted and needs a key, ` +
        `given as <keyId>:<base64 of 32 bytes> (comma-separated, the first encrypts). Make one with: ${NEW_KEY_COMMAND}`,
    );
  }
  const entries = value.split(',');
  const keys: EncryptionKey[] = [];
  entries.forEach((entry, index) => {
    const where = `${ENCRYPTION_KEYS_VARIABLE} entry ${index + 1} of ${entries.length}`;
    if (entry.trim() === '') throw new ConfigError(`${where} is empty: remove the extra comma`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new ConfigError(`${where} has no ':': write it as <keyId>:<base64 of 32 bytes>`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) {
      throw new ConfigError(`${where}: the key id before ':' must be 1 to 64 characters of A-Z a-z 0-9 _ . -`);
    }
    const same = keys.findIndex((k) => k.id === id);
    if (same >= 0) throw new ConfigError(`${where} has the key id of entry ${same + 1}: give every key its own id`);
    const bytes = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
    if (!bytes) throw new ConfigError(`${where}: the key after ':' is not base64. Make one with: ${NEW_KEY_COMMAND}`);
    if (bytes.length !== KEY_BYTES) {
      throw new ConfigError(`${where}: the key is ${bytes.length} bytes, AES-256 needs ${KEY_BYTES}. Make one with: ${NEW_KEY_COMMAND}`);
    }
    keys.push({ id, key: createSecretKey(bytes) });
    bytes.fill(0);
  });
  return [keys[0]!, ...keys.slice(1)]; // at least one: the value was not empty
}

export function encryptionKeysFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionKeys {
  return parseEncryptionKeys(env[ENCRYPTION_KEYS_VARIABLE]);
}

/** A fresh entry for SUPPORT_DESK_ENCRYPTION_KEYS. */
export function newEncryptionKey(id: string): string {
  if (!KEY_ID.test(id)) throw new Error(`key id "${id}" must be 1 to 64 characters of A-Z a-z 0-9 _ . -`);
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** What may be logged about the keys: their ids. */
export function describeEncryptionKeys(keys: EncryptionKeys): { activeKey: string; decryptKeys: string[] } {
  return { activeKey: keys[0].id, decryptKeys: keys.map((k) => k.id) };
}

/**
 * Encrypts the whole payload (its metadata included: the encoding says what the data is) into
 * iv ‖ ciphertext ‖ tag under the active key. A payload written before the codec passes through decode
 * unchanged, so histories from then still replay.
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly active: EncryptionKey;
  private readonly byId: ReadonlyMap<string, KeyObject>;

  constructor(keys: EncryptionKeys) {
    if (keys.length === 0) throw new Error('AesGcmCodec needs at least one key');
    this.active = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.key, iv, { authTagLength: TAG_BYTES });
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(this.active.id),
      },
      data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!keyIdBytes) throw new Error(`an encrypted payload has no ${KEY_ID_METADATA} metadata, so no key can read it`);
    const keyId = Buffer.from(keyIdBytes).toString();
    const key = this.byId.get(keyId);
    if (!key) {
      throw new Error(
        `a payload is encrypted with key "${keyId}", which this process does not have: ` +
          `add it to ${ENCRYPTION_KEYS_VARIABLE} (after the active key) to read it`,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`payload failed authentication with key ${keyId}`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`payload failed authentication with key ${keyId}`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** Where the failure converter is, for workers, clients and bundleWorkflowCode (it runs in the sandbox too). */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter of every client and worker: payloads through the codec, and failures with their
 * message and stack trace moved into an (encrypted) payload. The failure converter is given by path,
 * which both Worker.create and new Client load; a workflow bundle must be built with the same path.
 */
export function deskDataConverter(keys: EncryptionKeys): DataConverter {
  return { payloadCodecs: [new AesGcmCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
