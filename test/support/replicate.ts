import { S3Store } from '../../lib/storage/index.ts';
import { ground } from './ground-env.ts';

/**
 * What S3 cross-region replication does for the seed's setup, done by hand: every object under `prefix` in the
 * primary region's bucket is copied into the DR region's bucket (no local server replicates across regions).
 */
export async function replicatePrimaryToDr(prefix: string): Promise<number> {
  const from = new S3Store({
    bucket: 'kafka-backups-primary',
    prefix,
    region: 'us-west-2',
    endpoint: ground().s3WestEndpoint,
  });
  const to = new S3Store({
    bucket: 'kafka-backups-dr',
    prefix,
    region: 'us-east-1',
    endpoint: ground().s3Endpoint,
  });
  const keys = await from.list('');
  for (const key of keys) await to.put(key, await from.get(key));
  from.destroy();
  to.destroy();
  return keys.length;
}
