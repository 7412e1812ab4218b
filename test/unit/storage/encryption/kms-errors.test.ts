import { describe, expect, it } from 'vitest';
import { ConfigError, ExitCode, exitCodeFor, StorageAccessError } from '../../../../lib/errors.ts';
import {
  EncryptionKeyAccessDeniedError,
  EncryptionKeyNotFoundError,
  TamperedObjectError,
  WrongEncryptionKeyError,
} from '../../../../lib/storage/encryption/errors.ts';
import { mapKmsError, parseKmsKeyId } from '../../../../lib/storage/encryption/kms.ts';

const KEY = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const AT = { keyId: KEY, operation: 'Decrypt', where: 's3://b/p/backups/x/manifest.json' };
const sdk = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`the ${name} message with request details`), {
    name,
    ...(status ? { $metadata: { httpStatusCode: status } } : {}),
    ...extra,
  });

describe('KMS errors', () => {
  it('become the errors of the table, naming the key, the operation and the object', () => {
    const cases: [Error, new (...a: never[]) => Error, ExitCode][] = [
      [sdk('NotFoundException', 400), EncryptionKeyNotFoundError, ExitCode.access],
      [sdk('DisabledException', 400), EncryptionKeyNotFoundError, ExitCode.access],
      [sdk('KMSInvalidStateException', 400), EncryptionKeyNotFoundError, ExitCode.access],
      [sdk('AccessDeniedException', 400), EncryptionKeyAccessDeniedError, ExitCode.access],
      [sdk('SyntaxError', 403), EncryptionKeyAccessDeniedError, ExitCode.access],
      [sdk('CredentialsProviderError'), EncryptionKeyAccessDeniedError, ExitCode.access],
      [sdk('IncorrectKeyException', 400), WrongEncryptionKeyError, ExitCode.access],
      [sdk('InvalidCiphertextException', 400), TamperedObjectError, ExitCode.verificationFailed],
      [sdk('InvalidKeyUsageException', 400), ConfigError, ExitCode.usage],
      [sdk('Error', undefined, { code: 'ECONNREFUSED' }), StorageAccessError, ExitCode.access],
      [sdk('TimeoutError'), StorageAccessError, ExitCode.access],
      [sdk('Error', undefined, { message: 'Region is missing' }), StorageAccessError, ExitCode.access],
    ];
    for (const [error, kind, code] of cases) {
      const mapped = mapKmsError(error, AT) as Error;
      expect(mapped, error.name).toBeInstanceOf(kind);
      expect(exitCodeFor(mapped), error.name).toBe(code);
      expect(mapped.message, error.name).toContain(AT.where);
      if (!(mapped instanceof TamperedObjectError)) expect(mapped.message, error.name).toContain(KEY);
      // Built from codes: never the SDK's message, which may carry request details.
      expect(mapped.message, error.name).not.toContain('request details');
    }
    expect((mapKmsError(sdk('SyntaxError', 403), AT) as Error).message).toContain('(HTTP 403)');
  });

  it('passes on what it does not know (throttling after the SDK retries, a bug)', () => {
    const throttled = sdk('ThrottlingException', 400);
    expect(mapKmsError(throttled, AT)).toBe(throttled);
  });

  it('reads key ids: ARNs give the region, key ids (multi-Region replicas share one) and aliases', () => {
    expect(parseKmsKeyId(KEY)).toEqual({ region: 'us-east-1', key: '1234abcd-12ab-34cd-56ef-1234567890ab' });
    expect(parseKmsKeyId('arn:aws:kms:eu-west-1:111111111111:key/mrk-0123')).toEqual({
      region: 'eu-west-1',
      key: 'mrk-0123',
    });
    expect(parseKmsKeyId('arn:aws:kms:eu-west-1:111111111111:alias/kb')).toEqual({
      region: 'eu-west-1',
      alias: 'kb',
    });
    expect(parseKmsKeyId('alias/kb')).toEqual({ alias: 'kb' });
    expect(parseKmsKeyId('1234abcd-12ab-34cd-56ef-1234567890ab')).toEqual({
      key: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });
});
