// Sealed text: a personal item's words as PostgreSQL keeps them, AES-256-GCM under the desk's
// encryption keys, so whoever reads the tables (a DBA, a backup) holds only ciphertext. Node code for
// the worker's activities and the API; nothing in workflows/ or domain/ imports it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ENCRYPTION_KEYS_VARIABLE, type EncryptionKeys } from '../config/encryption';

/** Every sealed value starts with this; anything else was written plain (a public item, or before sealing). */
export const SEALED_PREFIX = 'sealed:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `sealed:v1:<keyId>:<base64url(iv ‖ ciphertext ‖ tag)>`, under the active (first) key and a fresh IV. */
export function seal(text: string, keys: EncryptionKeys): string {
  const { id, key } = keys[0];
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  const data = Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${SEALED_PREFIX}${id}:${data.toString('base64url')}`;
}

/**
 * The text of a sealed value, under whichever listed key sealed it; a value that is not sealed passes
 * through unchanged. Errors name the key id, never key material.
 */
export function unseal(value: string, keys: EncryptionKeys): string {
  if (!value.startsWith(SEALED_PREFIX)) return value;
  const rest = value.slice(SEALED_PREFIX.length);
  const colon = rest.indexOf(':');
  const keyId = (colon < 0 ? rest : rest.slice(0, colon)).slice(0, 64);
  const key = keys.find((k) => k.id === keyId)?.key;
  if (!key) {
    throw new Error(
      `a sealed value is sealed with key "${keyId}", which this process does not have: ` +
        `add it to ${ENCRYPTION_KEYS_VARIABLE} (after the active key) to read it`,
    );
  }
  const data = Buffer.from(rest.slice(colon + 1), 'base64url');
  if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`a sealed value failed authentication with key ${keyId}`);
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`a sealed value failed authentication with key ${keyId}`);
  }
}

/**
 * How a writer stores an item's text: sealed when the item is personal (private tickets and
 * incidents, every security report); a public ticket's stays plain, as it is not personal data. A
 * plain text that would read as sealed is sealed too, so reading never mistakes it for a sealed one.
 */
export function sealIf(personal: boolean, text: string, keys: EncryptionKeys | undefined): string {
  if (!personal && !text.startsWith(SEALED_PREFIX)) return text;
  if (!keys) throw new Error(`personal text cannot be stored without ${ENCRYPTION_KEYS_VARIABLE}: nothing to seal it with`);
  return seal(text, keys);
}

/** `unseal` for a nullable column, by a reader that may have no keys (it then reads plain values only). */
export function unsealed<T extends string | null>(value: T, keys: EncryptionKeys | undefined): T {
  if (value === null || !value.startsWith(SEALED_PREFIX)) return value;
  if (!keys) throw new Error(`a sealed value cannot be read without ${ENCRYPTION_KEYS_VARIABLE}`);
  return unseal(value, keys) as T;
}
