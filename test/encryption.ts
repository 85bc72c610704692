// The tests' encryption keys, in one place. They are test fixtures, committed on purpose: the recorded
// histories in test/histories are encrypted with test-1 and must stay readable. They protect nothing;
// never use them outside tests.
import { deskDataConverter, parseEncryptionKeys, type EncryptionKeys } from '../config/encryption';

/** SUPPORT_DESK_ENCRYPTION_KEYS as every test process, worker and client has it. */
export const TEST_ENCRYPTION_KEYS = 'test-1:e4FWDfSfz5hHlmnkv/CWm8NpCKT339v8ysUnpfd2RFk=';
/** After a rotation: test-2 encrypts, test-1 still decrypts what it wrote. */
export const ROTATED_TEST_ENCRYPTION_KEYS = 'test-2:hpmkIeON4iVaoQb6iTSgcsoxR7rxag871QcL7YwoQKU=,' + TEST_ENCRYPTION_KEYS;

export const testKeys: EncryptionKeys = parseEncryptionKeys(TEST_ENCRYPTION_KEYS);
export const rotatedTestKeys: EncryptionKeys = parseEncryptionKeys(ROTATED_TEST_ENCRYPTION_KEYS);
/** test-2 alone: what a process that lost test-1 would have. */
export const onlySecondTestKey: EncryptionKeys = [rotatedTestKeys[0]];

/** The data converter of the tests' clients and workers. */
export const testDataConverter = deskDataConverter(testKeys);
