// The key `npm start` encrypts with when SUPPORT_DESK_ENCRYPTION_KEYS is not set: made once, kept
// private, read again on every later start.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEncryptionKeys } from '../config/encryption';
import { localEncryptionKeys } from './dev-services';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'desk-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('the first start makes local-<yyyymmdd>:<base64 of 32 bytes>, readable by its owner only', () => {
  const file = path.join(dir, '.data', 'encryption-keys');
  const made = localEncryptionKeys(file, new Date('2026-03-09T23:30:00Z'));
  expect(made.created).toBe(true);
  expect(made.value).toMatch(/^local-20260309:[A-Za-z0-9+/]{43}=$/);
  expect(parseEncryptionKeys(made.value)[0].id).toBe('local-20260309');
  expect(readFileSync(file, 'utf8')).toBe(`${made.value}\n`);
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

it('later starts use the same key', () => {
  const file = path.join(dir, 'encryption-keys');
  const first = localEncryptionKeys(file, new Date('2026-03-09T00:00:00Z'));
  const again = localEncryptionKeys(file, new Date('2026-04-01T00:00:00Z'));
  expect(again).toEqual({ value: first.value, created: false });
});

it('a rotated list kept in the file is used as it is', () => {
  const file = path.join(dir, 'encryption-keys');
  const rotated = `k2:${Buffer.alloc(32, 2).toString('base64')},local-20260309:${Buffer.alloc(32, 1).toString('base64')}`;
  writeFileSync(file, `${rotated}\n`, { mode: 0o600 });
  expect(localEncryptionKeys(file).value).toBe(rotated);
});

it('a damaged file stops the start, naming the file and never the key', () => {
  const file = path.join(dir, 'encryption-keys');
  const damaged = `local-20260309:${Buffer.alloc(31, 9).toString('base64')}`;
  writeFileSync(file, damaged, { mode: 0o600 });
  expect(() => localEncryptionKeys(file)).toThrow(`${file} holds no usable encryption keys`);
  expect(() => localEncryptionKeys(file)).not.toThrow(damaged.split(':')[1]!);
});
