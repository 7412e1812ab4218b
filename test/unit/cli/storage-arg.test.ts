import { describe, expect, it } from 'vitest';
import { encryptionFromArgs, storeFromArgs } from '../../../lib/cli/storage-arg.ts';
import { UsageError } from '../../../lib/errors.ts';
import { EncryptingStore } from '../../../lib/storage/encryption/encrypting-store.ts';
import { PlaintextStore } from '../../../lib/storage/encryption/plaintext-store.ts';

describe('--key-file / --kms-key-id', () => {
  it('make the --path location an encrypted one, with one kind of key', () => {
    expect(encryptionFromArgs({})).toBeUndefined();
    expect(encryptionFromArgs({ 'key-file': 'backup.key' })).toEqual({ key_file: 'backup.key' });
    expect(encryptionFromArgs({ 'kms-key-id': 'alias/kb' })).toEqual({ kms_key_id: 'alias/kb' });
    expect(() => encryptionFromArgs({ 'key-file': 'k', 'kms-key-id': 'alias/kb' })).toThrow(UsageError);
    expect(() => encryptionFromArgs({ 'key-file': '' })).toThrow(UsageError);
    expect(storeFromArgs({ 'key-file': 'backup.key' }, '/tmp/kb')).toBeInstanceOf(EncryptingStore);
    expect(storeFromArgs({}, '/tmp/kb')).toBeInstanceOf(PlaintextStore);
  });
});
