// Sealed text without a database: what it writes, what it reads back, rotation, and what it refuses
// (naming the key id, never key material).
import fc from 'fast-check';
import { ROTATED_TEST_ENCRYPTION_KEYS, onlySecondTestKey, rotatedTestKeys, testKeys } from '../test/encryption';
import { SEALED_PREFIX, seal, sealIf, unseal, unsealed } from './sealed';

/** The base64 of both test keys, which no sealed value or message may contain. */
const KEY_MATERIAL = ROTATED_TEST_ENCRYPTION_KEYS.split(',').map((entry) => entry.slice(entry.indexOf(':') + 1));

function errorOf(read: () => unknown): Error {
  try {
    read();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

test('a sealed value names its key and holds none of the text', () => {
  const value = seal('Quentin Quirk, payslip', testKeys);
  expect(value).toMatch(/^sealed:v1:test-1:[A-Za-z0-9_-]+$/);
  expect(value).not.toContain('Quentin');
  expect(unseal(value, testKeys)).toBe('Quentin Quirk, payslip');
});

test('the same text seals differently every time (a fresh IV)', () => {
  expect(seal('same', testKeys)).not.toBe(seal('same', testKeys));
});

test('any text reads back as it was sealed', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      const value = seal(text, testKeys);
      expect(value.startsWith(SEALED_PREFIX)).toBe(true);
      expect(unseal(value, testKeys)).toBe(text);
    }),
  );
});

test('a value that is not sealed passes through unchanged (rows written before sealing)', () => {
  fc.assert(
    fc.property(
      fc.string().filter((s) => !s.startsWith(SEALED_PREFIX)),
      (text) => expect(unseal(text, testKeys)).toBe(text),
    ),
  );
  expect(unsealed(null, testKeys)).toBeNull();
  expect(unsealed('plain', undefined)).toBe('plain');
});

test('after a rotation the new key seals and the old one still reads what it sealed', () => {
  const before = seal('sealed under test-1', testKeys);
  const after = seal('sealed under test-2', rotatedTestKeys);
  expect(after).toMatch(/^sealed:v1:test-2:/);
  expect(unseal(before, rotatedTestKeys)).toBe('sealed under test-1');
  expect(unseal(after, rotatedTestKeys)).toBe('sealed under test-2');
});

test('a value sealed with a key this process lacks is refused, naming the key id only', () => {
  const error = errorOf(() => unseal(seal('secret', testKeys), onlySecondTestKey));
  expect(error.message).toMatch(/key "test-1", which this process does not have.*SUPPORT_DESK_ENCRYPTION_KEYS/);
  for (const material of KEY_MATERIAL) expect(error.message).not.toContain(material);
});

test('a tampered or truncated value fails authentication, naming the key id only', () => {
  const value = seal('secret', testKeys);
  const body = value.slice('sealed:v1:test-1:'.length);
  const flipped = `${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
  for (const bad of [`sealed:v1:test-1:${flipped}`, value.slice(0, -4), 'sealed:v1:test-1:AAAA', 'sealed:v1:test-1']) {
    const error = errorOf(() => unseal(bad, testKeys));
    expect(error.message).toBe('a sealed value failed authentication with key test-1');
  }
});

test('a personal item is sealed, a public one stays plain unless its text would read as sealed', () => {
  expect(sealIf(false, 'VPN drops', testKeys)).toBe('VPN drops');
  expect(unseal(sealIf(true, 'VPN drops', testKeys), testKeys)).toBe('VPN drops');
  const lookalike = `${SEALED_PREFIX}test-1:not-really`;
  expect(sealIf(false, lookalike, testKeys)).not.toBe(lookalike);
  expect(unseal(sealIf(false, lookalike, testKeys), testKeys)).toBe(lookalike);
  expect(() => sealIf(true, 'secret', undefined)).toThrow(/cannot be stored without SUPPORT_DESK_ENCRYPTION_KEYS/);
  expect(sealIf(false, 'public', undefined)).toBe('public');
});
