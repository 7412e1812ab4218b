import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  RestoreObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../lib/errors.ts';
import type { BackupRecord } from '../../lib/format/record.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { S3Store } from '../../lib/storage/index.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, drSettings, primarySettings, produce } from '../support/kafka-fixtures.ts';
import { type MotoServer, startMotoServer } from '../support/moto-server.ts';
import { contentOf, readTopic } from '../support/topic-content.ts';

/**
 * storage.storage_class end to end through the CLI, against moto's S3, which keeps each object's class (HeadObject
 * and ListObjectsV2 report it, multipart uploads included) and refuses a GetObject of a GLACIER or DEEP_ARCHIVE
 * object with InvalidObjectState until RestoreObject (which moto completes at once). The ground's versitygw
 * (posix backend) takes the class header and keeps no class: everything reads back as STANDARD, and a backup with
 * a class works there unchanged.
 */

const BUCKET = 'kafka-backup-classes';
const REGION = 'us-east-1';

describe('storage.storage_class', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  const topic = uniqueName('class-orders');
  let moto: MotoServer;
  let s3: S3Client;
  let source: Map<number, BackupRecord[]>;

  beforeAll(async () => {
    moto = await startMotoServer();
    s3 = new S3Client({
      endpoint: moto.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // Versioned: the plan, progress and lease objects a backup deletes at its end keep their versions, with class.
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await createTopic(primary, { name: topic, partitions: 2 });
    // Partition 0 gets ~9 MiB of random values (they do not compress): its segment is a multipart upload of two
    // 8 MiB parts, whose class is set by CreateMultipartUpload.
    await produce(
      primary,
      topic,
      Array.from({ length: 60 }, (_, i) => ({
        key: buf(`customer-${i}`),
        value:
          i % 2 === 0 && i < 20 ? randomBytes(900_000) : Buffer.concat([buf(`order ${i} `), randomBytes(40)]),
        headers: [{ key: 'trace', value: buf(`t${i}`) }],
        partition: i < 20 ? 0 : 1,
      })),
    );
    source = await readTopic(primary, topic);
  }, 180_000);
  afterAll(async () => {
    await primary.close();
    await dr.close();
    s3?.destroy();
    await moto?.stop();
  });

  const storage = (prefix: string, endpoint: string, bucket = BUCKET, extra = '') => `storage:
  backend: s3
  bucket: ${bucket}
  region: ${REGION}
  prefix: ${prefix}
  endpoint: ${endpoint}
${extra}`;
  const backupYaml = (id: string, storageYaml: string) => `mode: backup
backup_id: ${id}
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: [${topic}]
${storageYaml}`;
  const restoreYaml = (id: string, storageYaml: string, target: string) => `mode: restore
backup_id: ${id}
target:
  bootstrap_servers: ["${ground().dr}"]
${storageYaml}restore:
  topic_mapping: { "${topic}": "${target}" }
`;

  /** Every object under `prefix` with its class as ListObjectsV2 reports it, checked against HeadObject. */
  async function classesUnder(prefix: string): Promise<Map<string, string>> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/` }));
    const out = new Map<string, string>();
    for (const o of listed.Contents ?? []) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: o.Key! }));
      const headClass = head.StorageClass ?? 'STANDARD';
      expect(o.StorageClass, o.Key).toBe(headClass);
      out.set(o.Key!.slice(prefix.length + 1), headClass);
    }
    return out;
  }

  describe('a backup with STANDARD_IA, in moto', () => {
    const dir = tempDir();
    const prefix = uniqueName('ia');
    const id = 'class-ia-1';
    const at = () => [
      '--path',
      `s3://${BUCKET}/${prefix}`,
      '--s3-endpoint',
      moto.endpoint,
      '--region',
      REGION,
    ];

    beforeAll(async () => {
      const b = await runCli([
        'backup',
        '--config',
        writeConfig(
          dir,
          'b.yaml',
          backupYaml(id, storage(prefix, moto.endpoint, BUCKET, '  storage_class: standard_ia')),
        ),
      ]);
      expect(b.code, b.stderr).toBe(0);
    }, 180_000);

    it('writes the segments in STANDARD_IA (the multipart one too), every other object in STANDARD', async () => {
      const classes = await classesUnder(prefix);
      const segments = [...classes].filter(([k]) => k.startsWith('segments/'));
      expect(segments.length).toBeGreaterThanOrEqual(2);
      expect(segments.every(([, c]) => c === 'STANDARD_IA')).toBe(true);
      const big = await s3.send(
        new HeadObjectCommand({
          Bucket: BUCKET,
          Key: `${prefix}/${segments.find(([k]) => k.includes(`/${topic}/0/`))![0]}`,
        }),
      );
      expect(big.ContentLength).toBeGreaterThan(8 * 1024 * 1024);
      // Every version ever written, also of what the backup deleted at its end (plan, progress, lease).
      const written = new Map<string, Set<string>>();
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: `${prefix}/` }));
      for (const v of versions.Versions ?? []) {
        const key = v.Key!.slice(prefix.length + 1);
        written.set(key, (written.get(key) ?? new Set()).add(v.StorageClass ?? 'STANDARD'));
      }
      const control = [...written].filter(([k]) => !k.startsWith('segments/'));
      expect(control.map(([k]) => k).sort()).toEqual(
        expect.arrayContaining([
          'lease.json',
          `backups/${id}/manifest.json`,
          `backups/${id}/plan.json`,
          // One progress object per range read: here each partition is one range.
          expect.stringMatching(new RegExp(`^backups/${id}/progress/${topic}/0/\\d{20}-\\d{20}\\.json$`)),
          expect.stringMatching(new RegExp(`^backups/${id}/progress/${topic}/1/\\d{20}-\\d{20}\\.json$`)),
        ]),
      );
      expect(Object.fromEntries(control.map(([k, c]) => [k, [...c]]))).toEqual(
        Object.fromEntries(control.map(([k]) => [k, ['STANDARD']])),
      );
    });

    it('restores byte-exactly; validate --deep and describe read it', async () => {
      const target = uniqueName('class-ia-restored');
      const r = await runCli([
        'restore',
        '--config',
        writeConfig(dir, 'r.yaml', restoreYaml(id, storage(prefix, moto.endpoint), target)),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(contentOf(await readTopic(dr, target))).toEqual(contentOf(source));
      const v = await runCli(['validate', ...at(), '--backup-id', id, '--deep']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const d = await runCli(['describe', ...at(), '--backup-id', id]);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toContain(topic);
    });
  });

  describe('a backup whose segments a lifecycle rule moved to GLACIER, in moto', () => {
    const dir = tempDir();
    const prefix = uniqueName('glacier');
    const id = 'class-glacier-1';
    let segmentKeys: string[];

    beforeAll(async () => {
      const b = await runCli([
        'backup',
        '--config',
        writeConfig(
          dir,
          'b.yaml',
          backupYaml(id, storage(prefix, moto.endpoint, BUCKET, '  storage_class: GLACIER_IR')),
        ),
      ]);
      expect(b.code, b.stderr).toBe(0);
      // What a lifecycle transition does: the same object, now in GLACIER (all but one segment; the first in
      // DEEP_ARCHIVE), the manifest left in STANDARD.
      segmentKeys = [...(await classesUnder(prefix)).keys()].filter((k) => k.startsWith('segments/'));
      for (const [i, key] of segmentKeys.entries()) {
        const Key = `${prefix}/${key}`;
        await s3.send(
          new CopyObjectCommand({
            Bucket: BUCKET,
            Key,
            CopySource: `${BUCKET}/${Key}`,
            StorageClass: i === 0 ? 'DEEP_ARCHIVE' : 'GLACIER',
            MetadataDirective: 'COPY',
          }),
        );
      }
    }, 180_000);

    it('moto refuses a read of the archived segment itself (the store says ObjectArchivedError, naming it)', async () => {
      const store = new S3Store({ bucket: BUCKET, prefix, region: REGION, endpoint: moto.endpoint });
      const e = await store.get(segmentKeys[0]!).catch((x: unknown) => x);
      store.destroy();
      expect((e as Error).name).toBe('ObjectArchivedError');
      expect((e as Error).message).toBe(
        `s3://${BUCKET}/${prefix}/${segmentKeys[0]} is in DEEP_ARCHIVE: S3 serves it only once it has been retrieved`,
      );
    });

    it('a restore fails before writing anything, naming how many segments, their classes and the retrieval', async () => {
      const target = uniqueName('class-glacier-restored');
      const r = await runCli([
        'restore',
        '--config',
        writeConfig(dir, 'r.yaml', restoreYaml(id, storage(prefix, moto.endpoint), target)),
      ]);
      expect(r.code, r.stderr).toBe(ERRORS.ObjectArchivedError.exitCode);
      const n = segmentKeys.length;
      expect(r.stderr).toContain(
        `${n} of the ${n} segments this restore of backup ${id} reads need a retrieval from an archive storage class before S3 serves them (1 in DEEP_ARCHIVE, ${n - 1} in GLACIER): s3://${BUCKET}/${prefix}/${segmentKeys[0]}`,
      );
      expect(r.stderr).toContain('Nothing was written to the target.');
      expect(r.stderr).toContain(
        `aws s3api restore-object --bucket ${BUCKET} --key ${prefix}/${segmentKeys[0]}`,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // Nothing on the target, no restore state beside the backup (the restore's lease came and went).
      expect(await dr.listTopics()).not.toContain(target);
      const state = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/restores/` }),
      );
      expect((state.Contents ?? []).map((o) => o.Key).filter((k) => !k!.endsWith('/lease.json'))).toEqual([]);
    });

    it('validate --deep reports each archived segment as a problem naming its class', async () => {
      const v = await runCli([
        'validate',
        '--path',
        `s3://${BUCKET}/${prefix}`,
        '--s3-endpoint',
        moto.endpoint,
        '--region',
        REGION,
        '--backup-id',
        id,
        '--deep',
        '--format',
        'json',
      ]);
      expect(v.code).toBe(5);
      const report = JSON.parse(v.stdout);
      expect(report.problems.map((p: { object: string }) => p.object).sort()).toEqual(
        [...segmentKeys].sort(),
      );
      expect(report.problems[0].problem).toMatch(
        /is in (GLACIER|DEEP_ARCHIVE): S3 serves it only once it has been retrieved/,
      );
    });

    it('once retrieved (RestoreObject), the same restore runs and restores byte-exactly', async () => {
      for (const key of segmentKeys)
        await s3.send(
          new RestoreObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${key}`, RestoreRequest: { Days: 1 } }),
        );
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${segmentKeys[0]}` }),
      );
      expect(head.StorageClass).toBe('DEEP_ARCHIVE');
      expect(head.Restore).toMatch(/ongoing-request="false"/);
      const target = uniqueName('class-retrieved-restored');
      const r = await runCli([
        'restore',
        '--config',
        writeConfig(dir, 'r2.yaml', restoreYaml(id, storage(prefix, moto.endpoint), target)),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(contentOf(await readTopic(dr, target))).toEqual(contentOf(source));
    });
  });

  it('versitygw takes a backup with STANDARD_IA, keeps no class (reads back STANDARD), and restores it', async () => {
    const dir = tempDir();
    const prefix = uniqueName('class-versitygw');
    const id = 'class-vgw-1';
    const at = (name: string) => storage(prefix, ground().s3Endpoint, 'kafka-backup-test', name);
    const b = await runCli([
      'backup',
      '--config',
      writeConfig(dir, 'b.yaml', backupYaml(id, at('  storage_class: STANDARD_IA'))),
    ]);
    expect(b.code, b.stderr).toBe(0);
    const store = new S3Store({
      bucket: 'kafka-backup-test',
      prefix,
      region: REGION,
      endpoint: ground().s3Endpoint,
    });
    const segments = (await store.list('segments/')).filter((k) => k.includes(topic));
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(await store.storageState(segments[0]!)).toEqual({
      storageClass: 'STANDARD',
      needsRetrieval: false,
      retrievalInProgress: false,
    });
    store.destroy();
    const target = uniqueName('class-vgw-restored');
    const r = await runCli([
      'restore',
      '--config',
      writeConfig(dir, 'r.yaml', restoreYaml(id, at(''), target)),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(contentOf(await readTopic(dr, target))).toEqual(contentOf(source));
  }, 180_000);
});
