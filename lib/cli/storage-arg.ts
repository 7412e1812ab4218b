import type { EncryptionSettings } from '../storage/index.ts';
import { openStoreFromUrl } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { UsageError } from './args.ts';

/**
 * `--path` as a store: `s3://bucket/prefix` or a local folder; `--s3-endpoint` for S3-compatible servers;
 * `--key-file` or `--kms-key-id` for an encrypted location (what storage.encryption says in a config).
 */
export function storeFromArgs(values: Record<string, unknown>, path: string): ObjectStore {
  const endpoint = (values['s3-endpoint'] as string | undefined) ?? process.env['KAFKA_BACKUP_S3_ENDPOINT'];
  const region = values['region'] as string | undefined;
  const encryption = encryptionFromArgs(values);
  return openStoreFromUrl(path, {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(encryption ? { encryption } : {}),
  });
}

export function encryptionFromArgs(values: Record<string, unknown>): EncryptionSettings | undefined {
  const keyFile = values['key-file'] as string | undefined;
  const kmsKeyId = values['kms-key-id'] as string | undefined;
  if (keyFile !== undefined && kmsKeyId !== undefined)
    throw new UsageError(
      'give --key-file or --kms-key-id, not both: a location is encrypted with one kind of key',
    );
  if (keyFile === '' || kmsKeyId === '') throw new UsageError('--key-file and --kms-key-id need a value');
  if (keyFile !== undefined) return { key_file: keyFile };
  if (kmsKeyId !== undefined) return { kms_key_id: kmsKeyId };
  return undefined;
}
