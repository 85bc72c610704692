// The payload codec and its keys, without a server: what it writes, what it refuses, and that no error
// ever carries key material.
import { inspect } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import fc from 'fast-check';
import {
  AesGcmCodec,
  ENCRYPTED_ENCODING,
  FAILURE_CONVERTER_PATH,
  KEY_ID_METADATA,
  NEW_KEY_COMMAND,
  deskDataConverter,
  encryptionKeysFromEnv,
  newEncryptionKey,
  parseEncryptionKeys,
  type EncryptionKeys,
} from './encryption';
import { ConfigError } from './env';
import { onlySecondTestKey, rotatedTestKeys, testKeys, ROTATED_TEST_ENCRYPTION_KEYS } from '../test/encryption';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString();
const keyBase64 = (entry: string) => entry.slice(entry.indexOf(':') + 1);
/** The base64 of both test keys, which no message may contain. */
const KEY_MATERIAL = ROTATED_TEST_ENCRYPTION_KEYS.split(',').map(keyBase64);

async function roundTrip(codec: AesGcmCodec, payload: Payload, reader: AesGcmCodec = codec): Promise<Payload> {
  const [encrypted] = await codec.encode([payload]);
  const [decrypted] = await reader.decode([encrypted!]);
  return decrypted!;
}

/** A payload as plain data, to compare what the codec gives back with what it was given. */
const plainly = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('hex')])),
  data: Buffer.from(p.data ?? []).toString('hex'),
});

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('SUPPORT_DESK_ENCRYPTION_KEYS', () => {
  it('lists <keyId>:<base64 of 32 bytes>; the first encrypts, every one decrypts', () => {
    const keys = parseEncryptionKeys(` ${ROTATED_TEST_ENCRYPTION_KEYS.replace(',', ' , ')} `);
    expect(keys.map((k) => k.id)).toEqual(['test-2', 'test-1']);
    expect(keys.every((k) => k.key.symmetricKeySize === 32)).toBe(true);
  });

  it('is read from the environment', () => {
    const keys = encryptionKeysFromEnv({ SUPPORT_DESK_ENCRYPTION_KEYS: ROTATED_TEST_ENCRYPTION_KEYS });
    expect(keys[0].id).toBe('test-2');
  });

  it.each([undefined, '', '  '])('missing (%p) is refused with how to make a key', (value) => {
    expect(() => parseEncryptionKeys(value)).toThrow(ConfigError);
    expect(() => parseEncryptionKeys(value)).toThrow(/SUPPORT_DESK_ENCRYPTION_KEYS is not set.*randomBytes\(32\)\.toString\('base64'\)/);
  });

  const [k2, k1] = ROTATED_TEST_ENCRYPTION_KEYS.split(',') as [string, string];
  const short = `k3:${Buffer.alloc(31, 7).toString('base64')}`;
  const long = `k3:${Buffer.alloc(33, 7).toString('base64')}`;
  it.each([
    ['a key with no id', `${k1},${keyBase64(k2)}`, /entry 2 of 2 has no ':'/],
    ['an empty id', `:${keyBase64(k1)}`, /entry 1 of 1: the key id/],
    ['an id with a space', `my key:${keyBase64(k1)}`, /entry 1 of 1: the key id before ':' must be 1 to 64 characters/],
    ['an id of 65 characters', `${'k'.repeat(65)}:${keyBase64(k1)}`, /entry 1 of 1: the key id/],
    ['a duplicate id', `${k1},test-1:${keyBase64(k2)}`, /entry 2 of 2 has the key id of entry 1/],
    ['a key that is not base64', `k1:${keyBase64(k1).replace(/.$/, '!')}`, /entry 1 of 1: the key after ':' is not base64/],
    ['a key of 31 bytes', short, /entry 1 of 1: the key is 31 bytes, AES-256 needs 32/],
    ['a key of 33 bytes', long, /entry 1 of 1: the key is 33 bytes/],
    ['a stray comma', `${k1},`, /entry 2 of 2 is empty/],
  ])('%s is refused, naming the entry', (_what, value, message) => {
    expect(() => parseEncryptionKeys(value)).toThrow(ConfigError);
    expect(() => parseEncryptionKeys(value)).toThrow(message);
  });

  it('no refusal repeats key material, whatever is malformed', () => {
    const malformed = fc.record({
      key: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
      id: fc.oneof(fc.constantFrom('k1', 'test-1', ''), fc.string()),
      shape: fc.constantFrom('id:key', 'key', 'key:id', 'id:key,id:key', 'id:key!', 'id: key ,'),
    });
    fc.assert(
      fc.property(malformed, ({ key, id, shape }) => {
        const value = shape.replace(/id/g, id).replace(/key/g, key);
        let message = '';
        try {
          parseEncryptionKeys(value);
        } catch (error) {
          message = (error as Error).message;
        }
        // Shorter strings than that turn up in the message by chance ("1", "of", "key"); so do words
        // of the command the message suggests (an id "toString" is in `.toString('base64')`).
        const said = message.replaceAll(NEW_KEY_COMMAND, '');
        if (key.length >= 8) expect(said).not.toContain(key);
        if (id.length >= 8) expect(said).not.toContain(id);
        for (const secret of KEY_MATERIAL) expect(message).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });

  it('keys do not show their bytes when logged or serialised', () => {
    for (const shown of [JSON.stringify(rotatedTestKeys), inspect(rotatedTestKeys, { depth: 5 })]) {
      for (const secret of KEY_MATERIAL) {
        expect(shown).not.toContain(secret);
        expect(shown).not.toContain(Buffer.from(secret, 'base64').toString('hex'));
      }
    }
  });

  it('a new key is a valid entry with the id asked for', () => {
    const entry = newEncryptionKey('local-20260101');
    expect(parseEncryptionKeys(entry)[0].id).toBe('local-20260101');
    expect(newEncryptionKey('k1')).not.toBe(newEncryptionKey('k1'));
  });
});

describe('AesGcmCodec', () => {
  const codec = new AesGcmCodec(testKeys);
  const ticket = defaultPayloadConverter.toPayload({ requester: 'Zephyrine Quillfeather', email: 'zq@private.example' });

  it('encrypts the whole payload under the active key and decrypts it back', async () => {
    const [encrypted] = await codec.encode([ticket]);
    expect(text(encrypted!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata![KEY_ID_METADATA])).toBe('test-1');
    expect(Object.keys(encrypted!.metadata!)).toEqual(['encoding', KEY_ID_METADATA]); // json/plain is inside
    expect(text(encrypted!.data)).not.toContain('Quillfeather');
    const [decrypted] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decrypted!)).toEqual({ requester: 'Zephyrine Quillfeather', email: 'zq@private.example' });
  });

  it('writes iv ‖ ciphertext ‖ tag with a fresh iv every time', async () => {
    const [a, b] = await codec.encode([ticket, ticket]);
    expect(Buffer.from(a!.data!).subarray(0, 12)).not.toEqual(Buffer.from(b!.data!).subarray(0, 12));
    expect(Buffer.from(a!.data!)).not.toEqual(Buffer.from(b!.data!));
    expect(a!.data!.length).toBe(b!.data!.length);
    expect(a!.data!.length - 12 - 16).toBeGreaterThan(0);
  });

  it('passes a payload written before the codec through unchanged', async () => {
    const [decoded] = await codec.decode([ticket]);
    expect(decoded).toBe(ticket);
    const empty: Payload = {};
    expect((await codec.decode([empty]))[0]).toBe(empty);
  });

  it('decode(encode(p)) is p for any metadata and data', async () => {
    const payload = fc.record({
      metadata: fc.dictionary(fc.string(), fc.uint8Array({ maxLength: 64 }), { maxKeys: 5 }),
      data: fc.uint8Array({ maxLength: 2048 }),
    });
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        expect(plainly(await roundTrip(codec, p))).toEqual(plainly(p));
      }),
      { numRuns: 300 },
    );
  });

  it('a payload from a key it does not have names the key and where to add it', async () => {
    const error = await errorOf(roundTrip(new AesGcmCodec(onlySecondTestKey), ticket, codec));
    expect(error.message).toBe(
      'a payload is encrypted with key "test-2", which this process does not have: ' +
        'add it to SUPPORT_DESK_ENCRYPTION_KEYS (after the active key) to read it',
    );
  });

  it.each([
    ['a flipped ciphertext byte', (d: Buffer) => d[20]! ^= 1],
    ['a flipped iv byte', (d: Buffer) => d[0]! ^= 1],
    ['a flipped tag byte', (d: Buffer) => d[d.length - 1]! ^= 1],
  ])('%s fails authentication', async (_what, tamper) => {
    const [encrypted] = await codec.encode([ticket]);
    const data = Buffer.from(encrypted!.data!);
    tamper(data);
    const error = await errorOf(codec.decode([{ ...encrypted, data }]));
    expect(error.message).toBe('payload failed authentication with key test-1');
  });

  it('a truncated payload, or one under another key with the same id, fails authentication', async () => {
    const [encrypted] = await codec.encode([ticket]);
    const truncated = { ...encrypted, data: encrypted!.data!.subarray(0, 20) };
    expect((await errorOf(codec.decode([truncated]))).message).toBe('payload failed authentication with key test-1');
    const impostor: EncryptionKeys = [{ id: 'test-1', key: rotatedTestKeys[0].key }];
    expect((await errorOf(roundTrip(codec, ticket, new AesGcmCodec(impostor)))).message).toBe(
      'payload failed authentication with key test-1',
    );
  });

  it('no error carries key material', async () => {
    const [encrypted] = await codec.encode([ticket]);
    const messages = [
      (await errorOf(codec.decode([{ ...encrypted, data: Buffer.alloc(40) }]))).message,
      (await errorOf(new AesGcmCodec(onlySecondTestKey).decode([encrypted!]))).message,
      (await errorOf(codec.decode([{ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: encrypted!.data }]))).message,
    ];
    for (const message of messages) {
      for (const secret of KEY_MATERIAL) {
        expect(message).not.toContain(secret);
        expect(message).not.toContain(Buffer.from(secret, 'base64').toString('hex'));
      }
    }
  });

  it('after a rotation, what the old key wrote is read and what is new is written with the new key', async () => {
    const before = new AesGcmCodec(testKeys);
    const after = new AesGcmCodec(rotatedTestKeys);
    expect(defaultPayloadConverter.fromPayload(await roundTrip(before, ticket, after))).toEqual(
      defaultPayloadConverter.fromPayload(ticket),
    );
    const [written] = await after.encode([ticket]);
    expect(text(written!.metadata![KEY_ID_METADATA])).toBe('test-2');
    // Rolling back to the old key list before every process has the new key cannot read it.
    expect((await errorOf(before.decode([written!]))).message).toContain('"test-2"');
  });
});

describe('deskDataConverter', () => {
  it('gives clients and workers the codec and the failure converter that encodes messages and stack traces', () => {
    const converter = deskDataConverter(testKeys);
    expect(converter.payloadCodecs).toHaveLength(1);
    expect(converter.payloadCodecs![0]).toBeInstanceOf(AesGcmCodec);
    expect(converter.failureConverterPath).toBe(FAILURE_CONVERTER_PATH);
    const { failureConverter } = require(FAILURE_CONVERTER_PATH);
    const failure = failureConverter.errorToFailure(new Error('Zephyrine cannot log in'), defaultPayloadConverter);
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    expect(defaultPayloadConverter.fromPayload(failure.encodedAttributes)).toMatchObject({ message: 'Zephyrine cannot log in' });
  });
});
