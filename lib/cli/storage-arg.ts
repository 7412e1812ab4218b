import { openStoreFromUrl } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** `--path` as a store: `s3://bucket/prefix` or a local folder; `--s3-endpoint` for S3-compatible servers. */
export function storeFromArgs(values: Record<string, unknown>, path: string): ObjectStore {
  const endpoint = (values['s3-endpoint'] as string | undefined) ?? process.env['KAFKA_BACKUP_S3_ENDPOINT'];
  const region = values['region'] as string | undefined;
  return openStoreFromUrl(path, { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) });
}
