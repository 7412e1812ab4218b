import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';

/**
 * S3 Object Lock against the ground's versitygw, which enforces it: a delete of a locked version is refused
 * (checked first below). One bucket with Object Lock enabled, made once and reused: what it holds stays locked for
 * a day, then is an ordinary versioned bucket's data.
 */
const BUCKET = 'kafka-backup-lock-test';

describe('Object Lock (storage.object_lock)', () => {
  let s3: S3Client;
  const topic = uniqueName('lock-orders');
  const prefix = uniqueName('lock');

  beforeAll(async () => {
    s3 = new S3Client({
      endpoint: ground().s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await s3
      .send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }))
      .catch((e) => {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((e as Error).name)) throw e;
      });
    const primary = new KafkaCluster(primarySettings(), 'source');
    try {
      await createTopic(primary, { name: topic, partitions: 1 });
      await produce(primary, topic, [{ key: buf('k'), value: buf('v') }]);
    } finally {
      await primary.close();
    }
  }, 60_000);

  const config = (dir: string, id: string) =>
    writeConfig(
      dir,
      `${id}.yaml`,
      `mode: backup
backup_id: ${id}
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: [${topic}]
storage:
  backend: s3
  bucket: ${BUCKET}
  region: us-east-1
  prefix: ${prefix}
  endpoint: ${ground().s3Endpoint}
  object_lock:
    mode: GOVERNANCE
    days: 1
retention:
  backups: 1
`,
    );

  it('writes every object locked; retention keeps a locked backup; describe shows the lock; a version delete is refused', async () => {
    const dir = tempDir();
    const first = await runCli(['backup', '--config', config(dir, 'lock-1'), '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const primary = new KafkaCluster(primarySettings(), 'source');
    await produce(primary, topic, [{ key: buf('k2'), value: buf('v2') }]).finally(() => primary.close());
    const second = await runCli(['backup', '--config', config(dir, 'lock-2'), '--format', 'json']);
    expect(second.code, second.stderr).toBe(0);
    const retention = JSON.parse(second.stdout).retention;
    // retention.backups 1 would remove lock-1; it is still locked, so it is kept.
    expect(retention.deleted_backups).toEqual([]);
    expect(retention.kept_locked).toEqual(['lock-1']);

    const path = `s3://${BUCKET}/${prefix}`;
    const described = await runCli([
      'describe',
      '--path',
      path,
      '--backup-id',
      'lock-1',
      '--s3-endpoint',
      ground().s3Endpoint,
    ]);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(
      /object lock +enabled, no default retention; this backup's manifest locked until \d{4}-/,
    );
    const json = JSON.parse(
      (
        await runCli([
          'describe',
          '--path',
          path,
          '--backup-id',
          'lock-1',
          '--s3-endpoint',
          ground().s3Endpoint,
          '--format',
          'json',
        ])
      ).stdout,
    );
    expect(json.object_lock.locked_until).toMatch(/^\d{4}-/);

    // The server enforces the lock: the manifest's version cannot be deleted.
    const key = `${prefix}/backups/lock-1/manifest.json`;
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: key }));
    const version = versions.Versions?.find((v) => v.Key === key)?.VersionId;
    expect(version).toBeDefined();
    const refused = await s3
      .send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, VersionId: version }))
      .catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).name).toBe('AccessDenied');
  }, 120_000);
});
