import { UsageError } from '../errors.ts';
import { type EncryptionSettings, openStoreFromUrl } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { cliEnv } from './environment.ts';

interface LocationValues {
  's3-endpoint'?: string | undefined;
  region?: string | undefined;
  'key-file'?: string | undefined;
  'kms-key-id'?: string | undefined;
}

/**
 * `--path` as a store: `s3://bucket/prefix` or a local folder; `--s3-endpoint` for S3-compatible servers;
 * `--key-file` or `--kms-key-id` for an encrypted location (what storage.encryption says in a config).
 */
export function storeFromArgs(values: LocationValues, path: string): ObjectStore {
  const endpoint = values['s3-endpoint'] ?? cliEnv('KAFKA_BACKUP_S3_ENDPOINT');
  const region = values.region;
  const encryption = encryptionFromArgs(values);
  return openStoreFromUrl(path, {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(encryption ? { encryption } : {}),
  });
}

export function encryptionFromArgs(values: LocationValues): EncryptionSettings | undefined {
  const keyFile = values['key-file'];
  const kmsKeyId = values['kms-key-id'];
  if (keyFile !== undefined && kmsKeyId !== undefined)
    throw new UsageError(
      'Give --key-file or --kms-key-id, not both: a location is encrypted with one kind of key',
    );
  if (keyFile === '' || kmsKeyId === '') throw new UsageError('--key-file and --kms-key-id need a value');
  if (keyFile !== undefined) return { key_file: keyFile };
  if (kmsKeyId !== undefined) return { kms_key_id: kmsKeyId };
  return undefined;
}
