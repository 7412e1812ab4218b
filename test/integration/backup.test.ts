import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLease } from '../../lib/backup/index.ts';
import { readBackupPartition } from '../../lib/format/backup-reader.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import type { BackupRecord } from '../../lib/format/record.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import { openStoreFromUrl } from '../../lib/storage/index.ts';
import { CLI, runCli, spawnCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce, produceTransaction } from '../support/kafka-fixtures.ts';

function fsBackupConfig(opts: {
  id: string;
  path: string;
  topics: string[];
  extra?: string;
  retention?: number;
}): string {
  return `mode: backup
backup_id: "${opts.id}"
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: [${opts.topics.map((t) => `"${t}"`).join(', ')}]
storage:
  backend: filesystem
  path: ${opts.path}
backup:
  compression: zstd
  compression_level: 3
${opts.extra ?? ''}
${opts.retention ? `retention:\n  backups: ${opts.retention}\n` : ''}`;
}

async function readBack(path: string, backupId: string, topic: string): Promise<Map<number, BackupRecord[]>> {
  const store = new FilesystemStore(path);
  const m = await loadManifest(store, backupId);
  const t = m.topics.find((x) => x.name === topic)!;
  const out = new Map<number, BackupRecord[]>();
  for (const p of t.partitions) {
    const records: BackupRecord[] = [];
    for await (const r of readBackupPartition(store, p)) records.push(r);
    out.set(p.partition, records);
  }
  return out;
}

describe('backup', () => {
  const cluster = new KafkaCluster(primarySettings(), 'source');
  beforeAll(() => cluster.describeCluster());
  afterAll(() => cluster.close());

  it('runs the seed primary-backup.yaml over SASL_SSL/SCRAM-SHA-256 into S3, and `list | jq` names it', async () => {
    const selected = ['orders', 'payments', 'inventory', 'customers', 'events-clicks', 'events-views'];
    const existing = await cluster.listTopics();
    for (const name of [...selected, '_schemas', 'not-selected']) {
      if (!existing.includes(name)) await createTopic(cluster, { name, partitions: 2 });
      await produce(cluster, name, [{ key: buf('k'), value: buf(`${name} record`) }]);
    }
    const prefix = `${uniqueName('seed')}/us-west-2/hourly`;
    const seed = readFileSync(
      join(import.meta.dirname, '..', 'fixtures', 'config', 'primary-backup.yaml'),
      'utf8',
    );
    // Only broker addresses, bucket location, CA file and credentials change; every other line is the seed's.
    const text = seed
      .replace(/kafka-\d\.us-west-2\.example\.com:9092/g, ground().primarySaslSsl)
      .replace('/certs/ca.crt', ground().caPemPath)
      .replace('prefix: us-west-2/hourly', `prefix: ${prefix}`);
    const dir = tempDir();
    const config = writeConfig(dir, 'primary-backup.yaml', text);
    process.env['KAFKA_PASSWORD'] = 'backup-secret';
    process.env['AWS_ENDPOINT_URL_S3'] = ground().s3WestEndpoint;
    const run = await runCli(['backup', '--config', config, '--format', 'json']);
    expect(run.stderr).not.toContain('backup-secret');
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { backup_id: string };
    expect(summary.backup_id).toMatch(/^primary-\d{8}-\d{6}$/);

    const newest = execFileSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${CLI}" list --path "s3://kafka-backups-primary/${prefix}" --region us-west-2 --format json | jq -r '.backups[-1].backup_id'`,
      ],
      {
        encoding: 'utf8',
        env: process.env,
      },
    ).trim();
    expect(newest).toBe(summary.backup_id);

    const m = await loadManifest(
      openStoreFromUrl(`s3://kafka-backups-primary/${prefix}`, { region: 'us-west-2' }),
      newest,
    );
    expect(m.topics.map((t) => t.name).sort()).toEqual([...selected].sort());
    expect(m.source_cluster_id).toBe('prod-us-west-2');
    expect(m.compression).toEqual({ codec: 'zstd', level: 3 });
    expect(JSON.stringify(m)).not.toContain('backup-secret');
    const validate = await runCli([
      'validate',
      '--path',
      `s3://kafka-backups-primary/${prefix}`,
      '--region',
      'us-west-2',
      '--backup-id',
      newest,
      '--deep',
    ]);
    expect(validate.code, validate.stdout).toBe(0);
  });

  it('stores topic configs, partition layout and consumer-group offsets at the cut', async () => {
    const topic = await createTopic(cluster, {
      prefix: 'meta',
      partitions: 3,
      configs: { 'cleanup.policy': 'compact', 'max.message.bytes': '2000000' },
    });
    await produce(
      cluster,
      topic,
      Array.from({ length: 30 }, (_, i) => ({
        key: buf(`k${i % 7}`),
        value: buf(`v${i}`),
        partition: i % 3,
      })),
    );
    const group = uniqueName('group');
    await cluster.setCommittedOffsets(group, topic, [
      { partition: 0, offset: 4 },
      { partition: 2, offset: 9 },
    ]);
    const dir = tempDir();
    const cfg = writeConfig(
      dir,
      'b.yaml',
      fsBackupConfig({ id: 'meta-1', path: join(dir, 'store'), topics: [topic] }),
    );
    const run = await runCli(['backup', '--config', cfg]);
    expect(run.code, run.stderr).toBe(0);
    const m = await loadManifest(new FilesystemStore(join(dir, 'store')), 'meta-1');
    const t = m.topics[0]!;
    expect(t).toMatchObject({
      name: topic,
      partition_count: 3,
      replication_factor: 1,
      configs: { 'cleanup.policy': 'compact', 'max.message.bytes': '2000000' },
    });
    expect(t.partitions.map((p) => [p.start_offset, p.end_offset, p.records])).toEqual([
      [0, 10, 10],
      [0, 10, 10],
      [0, 10, 10],
    ]);
    const g = m.consumer_groups.find((x) => x.group_id === group)!;
    expect(g.offsets.map((o) => [o.topic, o.partition, o.offset])).toEqual([
      [topic, 0, 4],
      [topic, 2, 9],
    ]);
  });

  it('keeps every byte: null keys, tombstones, empty values, ordered duplicate and null headers; skips aborted transactions', async () => {
    const topic = await createTopic(cluster, { prefix: 'bytes' });
    const bin = Buffer.from([0, 1, 2, 253, 254, 255]);
    await produce(cluster, topic, [
      { key: null, value: buf('no key') },
      { key: buf('gone'), value: null },
      { key: buf(''), value: buf('') },
      {
        key: bin,
        value: bin,
        headers: [
          { key: 'h', value: bin },
          { key: 'x', value: null },
          { key: 'h', value: buf('second') },
        ],
      },
    ]);
    await produceTransaction(cluster, topic, [{ key: buf('t'), value: buf('aborted') }], 'abort');
    await produceTransaction(cluster, topic, [{ key: buf('t'), value: buf('committed') }], 'commit');
    const dir = tempDir();
    const cfg = writeConfig(
      dir,
      'b.yaml',
      fsBackupConfig({ id: 'bytes-1', path: join(dir, 'store'), topics: [topic] }),
    );
    expect((await runCli(['backup', '--config', cfg])).code).toBe(0);
    const records = (await readBack(join(dir, 'store'), 'bytes-1', topic)).get(0)!;
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 6]);
    expect(records[0]!.key).toBeNull();
    expect(records[1]!.value).toBeNull();
    expect(records[2]!.key).toEqual(Buffer.alloc(0));
    expect(records[2]!.value).toEqual(Buffer.alloc(0));
    expect(records[3]!.value).toEqual(bin);
    expect(records[3]!.headers).toEqual([
      { key: 'h', value: bin },
      { key: 'x', value: null },
      { key: 'h', value: buf('second') },
    ]);
    expect(records[4]!.value).toEqual(buf('committed'));
  });

  it('uploads only new records the second time; retention drops the first backup and the second stays complete', async () => {
    const topic = await createTopic(cluster, { prefix: 'incr', partitions: 3 });
    const value = (i: number) => buf(`record-${i}-${'x'.repeat(200)}`);
    await produce(
      cluster,
      topic,
      Array.from({ length: 300 }, (_, i) => ({ key: buf(`k${i}`), value: value(i), partition: i % 3 })),
    );
    const dir = tempDir();
    const path = join(dir, 'store');
    const cfg1 = writeConfig(
      dir,
      'b1.yaml',
      fsBackupConfig({ id: 'incr-1', path, topics: [topic], retention: 1 }),
    );
    expect((await runCli(['backup', '--config', cfg1])).code).toBe(0);
    const m1 = await loadManifest(new FilesystemStore(path), 'incr-1');
    await produce(
      cluster,
      topic,
      Array.from({ length: 90 }, (_, i) => ({
        key: buf(`k${300 + i}`),
        value: value(300 + i),
        partition: i % 3,
      })),
    );
    const cfg2 = writeConfig(
      dir,
      'b2.yaml',
      fsBackupConfig({ id: 'incr-2', path, topics: [topic], retention: 1 }),
    );
    const run2 = await runCli(['backup', '--config', cfg2, '--format', 'json']);
    expect(run2.code, run2.stderr).toBe(0);
    const m2 = await loadManifest(new FilesystemStore(path), 'incr-2');
    expect(m2.based_on).toBe('incr-1');
    expect(m2.stats.segments_reused).toBe(m1.stats.segments_uploaded);
    expect(m2.stats.records).toBe(390);
    expect(m2.stats.uploaded_bytes).toBeLessThan(m1.stats.uploaded_bytes);
    // Only the 90 new records were read and uploaded.
    expect(
      m2.topics[0]!.partitions.map((p) =>
        p.segments
          .filter((s) => !m1.topics[0]!.partitions[p.partition]!.segments.some((o) => o.key === s.key))
          .reduce((n, s) => n + s.records, 0),
      ),
    ).toEqual([30, 30, 30]);

    const list = JSON.parse((await runCli(['list', '--path', path, '--format', 'json'])).stdout) as {
      backups: { backup_id: string }[];
    };
    expect(list.backups.map((b) => b.backup_id)).toEqual(['incr-2']);
    expect((await runCli(['validate', '--path', path, '--backup-id', 'incr-2', '--deep'])).code).toBe(0);
    const back = await readBack(path, 'incr-2', topic);
    const values = [...back.values()]
      .flat()
      .map((r) => r.value!.toString())
      .sort();
    expect(values).toEqual(Array.from({ length: 390 }, (_, i) => value(i).toString()).sort());
  });

  it('records a retention race as a gap and completes', async () => {
    const topic = await createTopic(cluster, { prefix: 'race' });
    await produce(
      cluster,
      topic,
      Array.from({ length: 50 }, (_, i) => ({ key: null, value: buf(`v${i}`) })),
    );
    const dir = tempDir();
    const path = join(dir, 'store');
    const { loadBackupConfig } = await import('../../lib/config/index.ts');
    const { planBackup, backupPartitions, wholePartitionRanges, finalizeBackup } = await import(
      '../../lib/backup/index.ts'
    );
    const config = loadBackupConfig(
      writeConfig(dir, 'b.yaml', fsBackupConfig({ id: 'race-1', path, topics: [topic] })),
    );
    const ctx = {
      config,
      store: new FilesystemStore(path),
      source: cluster,
      logger: (await import('../../lib/log.ts')).silentLogger,
    };
    const { plan } = await planBackup(ctx);
    // Retention deletes the oldest 20 records after the cut was taken, before they are read.
    await cluster.deleteRecordsBefore(topic, [{ partition: 0, offset: 20 }]);
    await backupPartitions(ctx, plan, wholePartitionRanges(plan));
    const { manifest } = await finalizeBackup(ctx, plan);
    const p = manifest.topics[0]!.partitions[0]!;
    expect(p.gaps).toMatchObject([{ start_offset: 0, end_offset: 20, reason: 'retention' }]);
    expect(p.records).toBe(30);
    const back = await readBack(path, 'race-1', topic);
    expect(back.get(0)!.map((r) => r.offset)).toEqual(Array.from({ length: 30 }, (_, i) => 20 + i));
  });

  it('refuses a second backup while another holds the location', async () => {
    const topic = await createTopic(cluster, { prefix: 'lease' });
    const dir = tempDir();
    const path = join(dir, 'store');
    const lease = await acquireLease(new FilesystemStore(path), { backupId: 'other-run', ttlMs: 60_000 });
    const cfg = writeConfig(dir, 'b.yaml', fsBackupConfig({ id: 'lease-1', path, topics: [topic] }));
    const run = await runCli(['backup', '--config', cfg]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/Another backup \(other-run, .*\) is running in .*store/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    await lease.release();
    expect((await runCli(['backup', '--config', cfg])).code).toBe(0);
  });

  it('reports a missing topic and a wrong password clearly, without a stack trace', async () => {
    const dir = tempDir();
    const missing = writeConfig(
      dir,
      'm.yaml',
      fsBackupConfig({ id: 'x', path: join(dir, 's'), topics: ['no-such-topic-here'] }),
    );
    const r1 = await runCli(['backup', '--config', missing]);
    expect(r1.code).toBe(3);
    expect(r1.stderr).toContain('no-such-topic-here');
    expect(r1.stderr).not.toMatch(/\n\s+at /);

    const wrong = writeConfig(
      dir,
      'w.yaml',
      `mode: backup
backup_id: x
source:
  bootstrap_servers: ["${ground().primarySaslSsl}"]
  security:
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: backup-service
    sasl_password: not-the-password
    ssl_ca_location: ${ground().caPemPath}
  topics:
    include: [orders]
storage:
  path: ${join(dir, 's')}
`,
    );
    const r2 = await runCli(['backup', '--config', wrong]);
    expect(r2.code).toBe(3);
    expect(r2.stderr).toMatch(/Authentication failed .* "backup-service" with SCRAM-SHA-512/);
    expect(r2.stderr).toContain('sasl_password');
    expect(r2.stderr).not.toContain('not-the-password');
  });

  // A process, not an in-process call: what a person at a terminal or a Fargate task sees. No broker listens on
  // the port: the error comes after the retry policy's 10 s for a cluster that never answered, and the process
  // ends right after it, not when the last socket or timer of the client lets go.
  it('an unreachable cluster ends the process with exit 3 and a clear message, within seconds of the error', async () => {
    const dir = tempDir();
    const cfg = writeConfig(
      dir,
      'u.yaml',
      `mode: backup\nbackup_id: x\nsource:\n  bootstrap_servers: ["127.0.0.1:9"]\n  topics:\n    include: [orders]\nstorage:\n  path: ${join(dir, 's')}\n`,
    );
    const started = Date.now();
    const run = await spawnCli(['backup', '--config', cfg]).exited;
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/Cannot reach Kafka at 127\.0\.0\.1:9/);
    expect(run.stderr).toMatch(/hint: Check source\.bootstrap_servers/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // A hang check, not a speed check: 10 s of retries plus process start and exit, far below a hang.
    expect(Date.now() - started).toBeLessThan(25_000);
  });
});
