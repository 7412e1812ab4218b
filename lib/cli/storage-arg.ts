import { openStoreFromUrl } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { cliEnv } from './environment.ts';

/** `--path` as a store: `s3://bucket/prefix` or a local folder; `--s3-endpoint` for S3-compatible servers. */
export function storeFromArgs(
  values: { 's3-endpoint'?: string | undefined; region?: string | undefined },
  path: string,
): ObjectStore {
  const endpoint = values['s3-endpoint'] ?? cliEnv('KAFKA_BACKUP_S3_ENDPOINT');
  const region = values.region;
  return openStoreFromUrl(path, { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) });
}
