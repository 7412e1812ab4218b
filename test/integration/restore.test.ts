import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alterClientQuotas, KafkaCluster } from '../../lib/kafka/index.ts';
import { OriginHeader, type RestoreReport } from '../../lib/restore/index.ts';
import { runCli, spawnCli, tempDir, writeConfig } from '../support/cli.ts';
import { consumeAsGroup, header } from '../support/consume.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import {
  buf,
  createTopic,
  drSettings,
  primarySettings,
  produce,
  produceTransaction,
} from '../support/kafka-fixtures.ts';
import { replicatePrimaryToDr } from '../support/replicate.ts';

const SEED_TOPICS = ['orders', 'payments', 'inventory', 'customers', 'events-clicks', 'events-views'];

function fixture(name: string): string {
  return readFileSync(join(import.meta.dirname, '..', 'fixtures', 'config', name), 'utf8');
}

function backupYaml(o: { id: string; path: string; topics: string[] }): string {
  return `mode: backup
backup_id: ${o.id}
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: [${o.topics.map((t) => `"${t}"`).join(', ')}]
storage:
  path: ${o.path}
`;
}

function restoreYaml(o: { id: string; path: string; restore: string; clientId?: string }): string {
  return `mode: restore
backup_id: ${o.id}
target:
  bootstrap_servers: ["${ground().dr}"]${o.clientId ? `\n  client_id: ${o.clientId}` : ''}
storage:
  path: ${o.path}
restore:
${o.restore
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}

describe('restore', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  beforeAll(async () => {
    await primary.describeCluster();
    await dr.describeCluster();
  });
  afterAll(async () => {
    await primary.close();
    await dr.close();
  });

  it('runs the seed dr-restore.yaml with three-phase-restore: same records, groups resume at the record they had reached', async () => {
    const existing = await primary.listTopics();
    for (const name of SEED_TOPICS)
      if (!existing.includes(name)) await createTopic(primary, { name, partitions: 2 });
    const before = new Map<string, Map<number, number>>();
    for (const t of ['orders', 'payments', 'inventory']) {
      before.set(t, new Map((await primary.partitionOffsets(t)).map((o) => [o.partition, o.end])));
    }
    const run = uniqueName('run');
    await produce(
      primary,
      'orders',
      Array.from({ length: 40 }, (_, i) => ({
        key: buf(`o${i}`),
        value: buf(`${run} order ${i}`),
        partition: i % 2,
      })),
    );
    // payments: committed and aborted transactions leave offset gaps (aborted records and markers).
    await produce(primary, 'payments', [{ key: null, value: buf(`${run} pay 0`), partition: 0 }]);
    await produceTransaction(
      primary,
      'payments',
      [{ key: null, value: buf(`${run} aborted`), partition: 0 }],
      'abort',
    );
    await produceTransaction(
      primary,
      'payments',
      [{ key: null, value: buf(`${run} pay 1`), partition: 0 }],
      'commit',
    );
    await produce(primary, 'inventory', [{ key: null, value: buf(`${run} stock`), partition: 1 }]);

    const ordersBase = before.get('orders')!;
    const paymentsBase = before.get('payments')!.get(0)!;
    const inventoryEnd = (await primary.partitionOffsets('inventory')).find((o) => o.partition === 1)!.end;
    await primary.setCommittedOffsets('order-service', 'orders', [
      { partition: 0, offset: ordersBase.get(0)! + 5 },
      { partition: 1, offset: ordersBase.get(1)! + 7 },
    ]);
    // Committed at the aborted record: the next record it may see is "pay 1".
    await primary.setCommittedOffsets('payment-processor', 'payments', [
      { partition: 0, offset: paymentsBase + 1 },
    ]);
    await primary.setCommittedOffsets('inventory-manager', 'inventory', [
      { partition: 1, offset: inventoryEnd },
    ]);

    const prefix = `${uniqueName('seed-dr')}/us-west-2/hourly`;
    const dir = tempDir();
    const backupText = fixture('primary-backup.yaml')
      .replace(/kafka-\d\.us-west-2\.example\.com:9092/g, ground().primarySaslSsl)
      .replace('/certs/ca.crt', ground().caPemPath)
      .replace('prefix: us-west-2/hourly', `prefix: ${prefix}`);
    process.env['KAFKA_PASSWORD'] = 'backup-secret';
    process.env['AWS_ENDPOINT_URL_S3'] = ground().s3WestEndpoint;
    const b = await runCli([
      'backup',
      '--config',
      writeConfig(dir, 'primary-backup.yaml', backupText),
      '--format',
      'json',
    ]);
    expect(b.code, b.stderr).toBe(0);
    const backupId = (JSON.parse(b.stdout) as { backup_id: string }).backup_id;
    expect(await replicatePrimaryToDr(prefix)).toBeGreaterThan(0);

    await dr.deleteTopics((await dr.listTopics()).filter((t) => SEED_TOPICS.includes(t)));
    await dr.deleteGroups([
      'order-service',
      'payment-processor',
      'inventory-manager',
      'notification-service',
    ]);

    const restoreText = fixture('dr-restore.yaml')
      .replace(/kafka-\d\.us-east-1\.example\.com:9092/g, ground().drSaslSsl)
      .replace('/certs/ca.crt', ground().caPemPath)
      .replace('prefix: us-west-2/hourly', `prefix: ${prefix}`);
    process.env['KAFKA_PASSWORD'] = 'restore-secret';
    process.env['BACKUP_ID'] = backupId;
    process.env['AWS_ENDPOINT_URL_S3'] = ground().s3Endpoint;
    const r = await runCli([
      'three-phase-restore',
      '--config',
      writeConfig(dir, 'dr-restore.yaml', restoreText),
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('restore-secret');
    const report = JSON.parse(r.stdout) as RestoreReport;
    expect(report.ok).toBe(true);
    expect(report.topics.map((t) => t.target_topic).sort()).toEqual([...SEED_TOPICS].sort());
    for (const t of report.topics) {
      const srcEnds = new Map((await dr.partitionOffsets(t.target_topic)).map((o) => [o.partition, o.end]));
      for (const p of t.partitions) {
        expect(p.restored, `${t.target_topic}/${p.target_partition}`).toBe(p.backup_records);
        expect(srcEnds.get(p.target_partition)).toBe(p.restored);
      }
    }
    const moved = Object.fromEntries(report.consumer_groups.map((g) => [g.group_id, g.status]));
    expect(moved).toMatchObject({
      'order-service': 'reset',
      'payment-processor': 'reset',
      'inventory-manager': 'reset',
    });

    // Real consumers on the DR cluster resume exactly where the groups were.
    const orders = await consumeAsGroup(dr, 'order-service', 'orders', { perPartition: 1, partitions: 2 });
    expect(header(orders.get(0)![0]!, OriginHeader.offset)).toBe(String(ordersBase.get(0)! + 5));
    expect(orders.get(0)![0]!.value!.toString()).toBe(`${run} order 10`);
    expect(header(orders.get(1)![0]!, OriginHeader.offset)).toBe(String(ordersBase.get(1)! + 7));
    expect(orders.get(1)![0]!.value!.toString()).toBe(`${run} order 15`);
    expect(header(orders.get(0)![0]!, OriginHeader.cluster)).toBe('prod-us-west-2');

    const payments = await consumeAsGroup(dr, 'payment-processor', 'payments', {
      perPartition: 1,
      partitions: 1,
    });
    expect(payments.get(0)![0]!.value!.toString()).toBe(`${run} pay 1`);

    const inventory = await consumeAsGroup(dr, 'inventory-manager', 'inventory', {
      perPartition: 1,
      partitions: 2,
      idleMs: 3_000,
    });
    expect(inventory.get(1)).toBeUndefined();
  });

  it('resumes on a compacted topic with offset gaps at the right record', async () => {
    const topic = await createTopic(primary, {
      prefix: 'compacted',
      configs: {
        'cleanup.policy': 'compact',
        'segment.ms': '100',
        'min.cleanable.dirty.ratio': '0.01',
        'delete.retention.ms': '100',
      },
    });
    for (let round = 0; round < 6; round++) {
      // Half the keys are written once (they survive), half every round (superseded): gaps between survivors.
      await produce(
        primary,
        topic,
        Array.from({ length: 20 }, (_, i) => ({
          key: buf(i % 2 === 0 ? `u${round}-${i}` : `k${i % 5}`),
          value: buf(`r${round}-${i}`),
        })),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    await produce(primary, topic, [{ key: buf('last'), value: buf('tail') }]);
    // Wait (bounded) for the log cleaner to remove superseded records, leaving offset gaps.
    const dir = tempDir();
    const path = join(dir, 'store');
    let manifestRecords = 0;
    let end = 0;
    for (let attempt = 0; attempt < 30; attempt++) {
      end = (await primary.partitionOffsets(topic))[0]!.end;
      const id = `compact-${attempt}`;
      const b = await runCli([
        'backup',
        '--config',
        writeConfig(dir, `${id}.yaml`, backupYaml({ id, path, topics: [topic] })),
        '--format',
        'json',
      ]);
      expect(b.code, b.stderr).toBe(0);
      manifestRecords = (JSON.parse(b.stdout) as { stats: { records: number } }).stats.records;
      if (manifestRecords < end) {
        process.env['COMPACT_BACKUP_ID'] = id;
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(manifestRecords).toBeLessThan(end);
    const backupId = process.env['COMPACT_BACKUP_ID']!;
    // Commit the group at an offset the cleaner removed: it must resume at the next record that survived.
    const { readBackupPartition } = await import('../../lib/format/backup-reader.ts');
    const { loadManifest } = await import('../../lib/format/catalog.ts');
    const { FilesystemStore } = await import('../../lib/storage/index.ts');
    const store = new FilesystemStore(path);
    const m = await loadManifest(store, backupId);
    const offsets: number[] = [];
    for await (const rec of readBackupPartition(store, m.topics[0]!.partitions[0]!)) offsets.push(rec.offset);
    const gapAt = offsets.findIndex((o, i) => i > 0 && o > offsets[i - 1]! + 1);
    expect(gapAt).toBeGreaterThan(0);
    const committed = offsets[gapAt - 1]! + 1; // removed by compaction
    const group = uniqueName('compact-group');
    // The backup recorded groups at its cut; set one and back up again so the manifest has it.
    await primary.setCommittedOffsets(group, topic, [{ partition: 0, offset: committed }]);
    const id2 = `${backupId}-g`;
    expect(
      (
        await runCli([
          'backup',
          '--config',
          writeConfig(dir, 'g.yaml', backupYaml({ id: id2, path, topics: [topic] })),
        ])
      ).code,
    ).toBe(0);
    const target = uniqueName('compacted-restored');
    const cfg = writeConfig(
      dir,
      'r.yaml',
      restoreYaml({
        id: id2,
        path,
        restore: `topic_mapping: { "${topic}": "${target}" }\nconsumer_groups: ["${group}"]\nreset_consumer_offsets: true`,
      }),
    );
    const r = await runCli(['restore', '--config', cfg, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const got = await consumeAsGroup(dr, group, target, { perPartition: 1, partitions: 1 });
    const expectedIndex = gapAt; // the first surviving record after the removed offset
    expect(got.get(0)![0]!.offset).toBe(expectedIndex);
  });

  it('restores into a renamed, missing topic with the backup partitions and configs; refuses a non-empty one', async () => {
    const topic = await createTopic(primary, {
      prefix: 'rename',
      partitions: 3,
      configs: { 'retention.ms': '86400000', 'max.message.bytes': '3000000' },
    });
    await produce(
      primary,
      topic,
      Array.from({ length: 30 }, (_, i) => ({ key: buf(`k${i}`), value: buf(`v${i}`), partition: i % 3 })),
    );
    const dir = tempDir();
    const path = join(dir, 'store');
    expect(
      (
        await runCli([
          'backup',
          '--config',
          writeConfig(dir, 'b.yaml', backupYaml({ id: 'r1', path, topics: [topic] })),
        ])
      ).code,
    ).toBe(0);
    const renamed = uniqueName('renamed');
    const cfg = writeConfig(
      dir,
      'r.yaml',
      restoreYaml({ id: 'latest', path, restore: `topic_mapping: { "${topic}": "${renamed}" }` }),
    );
    const r = await runCli(['restore', '--config', cfg, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const [d] = await dr.describeTopics([renamed]);
    expect(d).toMatchObject({
      partitionCount: 3,
      configs: { 'retention.ms': '86400000', 'max.message.bytes': '3000000' },
    });
    expect((await dr.partitionOffsets(renamed)).map((o) => o.end)).toEqual([10, 10, 10]);
    // The backup recorded include_offset_headers: true (its default); the restore left
    // include_original_offset_header unset (default false): the records come back as they were, no headers added.
    const restored = await consumeAsGroup(dr, uniqueName('no-headers'), renamed, {
      perPartition: 10,
      partitions: 3,
    });
    const records = [...restored.values()].flat();
    expect(records).toHaveLength(30);
    expect(records.flatMap((rec) => rec.headers.map((h) => h.key))).toEqual([]);

    // Running the same restore again is a no-op: it finds its own finished state.
    const again = await runCli(['restore', '--config', cfg, '--format', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(
      (JSON.parse(again.stdout) as RestoreReport).topics[0]!.partitions.map((p) => p.written_now),
    ).toEqual([0, 0, 0]);
    expect((await dr.partitionOffsets(renamed)).map((o) => o.end)).toEqual([10, 10, 10]);

    // A topic holding records this restore did not write is refused, unless the user says append.
    const busy = await createTopic(dr, { prefix: 'busy', partitions: 3 });
    await produce(dr, busy, [{ key: null, value: buf('already here'), partition: 0 }]);
    const intoBusy = (extra: string) =>
      writeConfig(
        dir,
        `busy-${extra.length}.yaml`,
        restoreYaml({ id: 'latest', path, restore: `topic_mapping: { "${topic}": "${busy}" }\n${extra}` }),
      );
    const refused = await runCli(['restore', '--config', intoBusy('')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Target topic ${busy} partition 0 already holds records`);
    expect(refused.stderr).toMatch(/hint: Set restore.on_existing_data to append/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(
      (await runCli(['restore', '--config', intoBusy('on_existing_data: append\ndry_run: true')])).code,
    ).toBe(0);
    expect((await dr.partitionOffsets(busy)).map((o) => o.end)).toEqual([1, 0, 0]);
    expect((await runCli(['restore', '--config', intoBusy('on_existing_data: append')])).code).toBe(0);
    expect((await dr.partitionOffsets(busy)).map((o) => o.end)).toEqual([11, 10, 10]);
  });

  it('restores into an existing topic with fewer partitions, folding p into p mod n, every record once', async () => {
    const topic = await createTopic(primary, { prefix: 'fold', partitions: 3 });
    await produce(
      primary,
      topic,
      Array.from({ length: 30 }, (_, i) => ({ key: buf(`k${i}`), value: buf(`v${i}`), partition: i % 3 })),
    );
    const dir = tempDir();
    const path = join(dir, 'store');
    expect(
      (
        await runCli([
          'backup',
          '--config',
          writeConfig(dir, 'b.yaml', backupYaml({ id: 'f1', path, topics: [topic] })),
        ])
      ).code,
    ).toBe(0);
    const target = await createTopic(dr, { prefix: 'fold-target', partitions: 2 });
    const cfg = writeConfig(
      dir,
      'r.yaml',
      restoreYaml({ id: 'f1', path, restore: `topic_mapping: { "${topic}": "${target}" }` }),
    );
    const r = await runCli(['restore', '--config', cfg, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RestoreReport;
    expect(report.warnings.join(' ')).toMatch(/source partition p goes to p mod 2/);
    expect(
      report.topics[0]!.partitions.map((p) => [p.target_partition, p.sources.length, p.restored]),
    ).toEqual([
      [0, 2, 20],
      [1, 1, 10],
    ]);
    const got = await consumeAsGroup(dr, uniqueName('fold-reader'), target, {
      perPartition: 100,
      partitions: 2,
      idleMs: 2_000,
    });
    const values = [...got.values()]
      .flat()
      .map((x) => x.value!.toString())
      .sort();
    expect(values).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
  });

  it('a point-in-time window restores exactly the records inside it', async () => {
    const topic = await createTopic(primary, { prefix: 'pitr' });
    const t0 = Date.now() - 60_000;
    await produce(
      primary,
      topic,
      Array.from({ length: 30 }, (_, i) => ({ key: null, value: buf(`v${i}`), timestamp: t0 + i * 1000 })),
    );
    const dir = tempDir();
    const path = join(dir, 'store');
    expect(
      (
        await runCli([
          'backup',
          '--config',
          writeConfig(dir, 'b.yaml', backupYaml({ id: 'p1', path, topics: [topic] })),
        ])
      ).code,
    ).toBe(0);
    const target = uniqueName('pitr-restored');
    const from = new Date(t0 + 10_000).toISOString();
    const cfg = writeConfig(
      dir,
      'r.yaml',
      restoreYaml({
        id: 'p1',
        path,
        restore: `topic_mapping: { "${topic}": "${target}" }\nstart_time: "${from}"\nend_time: ${t0 + 19_000}`,
      }),
    );
    const r = await runCli(['restore', '--config', cfg, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const got = await consumeAsGroup(dr, uniqueName('pitr-reader'), target, {
      perPartition: 100,
      partitions: 1,
      idleMs: 2_000,
    });
    expect(got.get(0)!.map((x) => x.value!.toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => `v${10 + i}`),
    );
  });

  it('warns when restored records are older than the target topic keeps them (retention.ms)', async () => {
    // Kept forever on the source; the target deletes by time after 7 days: the broker would drop these records
    // minutes after the restore wrote them, and every offset check would still pass.
    const topic = await createTopic(primary, { prefix: 'old', configs: { 'retention.ms': '-1' } });
    const old = Date.now() - 30 * 86_400_000;
    await produce(
      primary,
      topic,
      Array.from({ length: 5 }, (_, i) => ({ key: null, value: buf(`old${i}`), timestamp: old + i })),
    );
    const dir = tempDir();
    const path = join(dir, 'store');
    const b = await runCli([
      'backup',
      '--config',
      writeConfig(dir, 'b.yaml', backupYaml({ id: 'o1', path, topics: [topic] })),
    ]);
    expect(b.code, b.stderr).toBe(0);
    const target = await createTopic(dr, {
      prefix: 'old-restored',
      configs: { 'retention.ms': '604800000' },
    });
    const cfg = writeConfig(
      dir,
      'r.yaml',
      restoreYaml({ id: 'o1', path, restore: `topic_mapping: { "${topic}": "${target}" }\ndry_run: true` }),
    );
    const r = await runCli(['restore', '--config', cfg, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RestoreReport;
    expect(report.warnings.join(' ')).toMatch(
      new RegExp(
        `${target}: 1 segment\\(s\\) hold records older than the target's retention\\.ms \\(7\\.0 days;`,
      ),
    );
  });

  it('a restore killed mid-way and run again leaves exactly one copy of each record', async () => {
    const topic = await createTopic(primary, { prefix: 'kill', partitions: 2 });
    const n = 40_000;
    for (let i = 0; i < n; i += 5_000) {
      await produce(
        primary,
        topic,
        Array.from({ length: 5_000 }, (_, j) => ({
          key: null,
          value: buf(`v${i + j}-${'p'.repeat(300)}`),
          partition: (i + j) % 2,
        })),
      );
    }
    const dir = tempDir();
    const path = join(dir, 'store');
    expect(
      (
        await runCli([
          'backup',
          '--config',
          writeConfig(dir, 'b.yaml', backupYaml({ id: 'k1', path, topics: [topic] })),
        ])
      ).code,
    ).toBe(0);
    const target = uniqueName('kill-restored');
    // The DR broker throttles this client id (a produce quota of 200 KB/s against ~12 MB to restore), so the
    // restore is certain to be mid-way when the poll below sees its first records, however fast it writes.
    const clientId = uniqueName('kill-restore');
    const quota = [{ type: 'client-id' as const, name: clientId }];
    await alterClientQuotas(dr, [{ entity: quota, set: { producer_byte_rate: 200_000 } }]);
    const cfg = writeConfig(
      dir,
      'r.yaml',
      restoreYaml({
        id: 'k1',
        path,
        restore: `topic_mapping: { "${topic}": "${target}" }\nmax_concurrent_partitions: 1`,
        clientId,
      }),
    );
    const { child, exited } = spawnCli(['restore', '--config', cfg]);
    // Kill it once some but not all records are on the target.
    for (let i = 0; i < 600; i++) {
      const topics = await dr.listTopics();
      if (topics.includes(target)) {
        const ends = await dr.partitionOffsets(target);
        const total = ends.reduce((s, o) => s + o.end, 0);
        if (total > 2_000) break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
    const partial = (await dr.partitionOffsets(target)).reduce((s, o) => s + o.end, 0);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(n);
    await alterClientQuotas(dr, [{ entity: quota, set: {}, remove: ['producer_byte_rate'] }]);

    const again = await runCli(['restore', '--config', cfg, '--format', 'json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as RestoreReport;
    expect(report.topics[0]!.partitions.reduce((s, p) => s + p.written_now, 0)).toBe(n - partial);
    expect((await dr.partitionOffsets(target)).reduce((s, o) => s + o.end, 0)).toBe(n);
    const got = await consumeAsGroup(dr, uniqueName('kill-reader'), target, {
      perPartition: n,
      partitions: 2,
      idleMs: 3_000,
    });
    const values = [...got.values()].flat().map((x) => x.value!.toString().split('-')[0]);
    expect(new Set(values).size).toBe(n);
    expect(values.length).toBe(n);
  });

  it('offset-reset execute --strategy timestamp moves an inactive group and refuses an active one', async () => {
    const topic = await createTopic(dr, { prefix: 'reset', partitions: 1 });
    const t0 = Date.now() - 100_000;
    await produce(
      dr,
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: null, value: buf(`v${i}`), timestamp: t0 + i * 10_000 })),
    );
    const group = uniqueName('failback-group');
    await dr.setCommittedOffsets(group, topic, [{ partition: 0, offset: 0 }]);
    const args = [
      'offset-reset',
      'execute',
      '--bootstrap-servers',
      ground().dr,
      '--strategy',
      'timestamp',
      '--timestamp',
      String(t0 + 45_000),
      '--groups',
      group,
    ];
    const ok = await runCli(args);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await dr.committedOffsets(group, [topic]))[0]!.offset).toBe(5);

    // A running member, joined through the client library's own consumer (an application, as far as we know).
    const consumer = new Consumer({
      clientId: 'active-member',
      bootstrapBrokers: dr.settings.bootstrap_servers,
      groupId: group,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    const stream = await consumer.consume({ topics: [topic], autocommit: false });
    stream.on('data', () => {});
    for (let i = 0; i < 100 && (await dr.describeGroups([group]))[0]!.members === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    try {
      const refused = await runCli([...args.slice(0, 7), String(t0), '--groups', group]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`${group} has 1 running member`));
      expect(refused.stderr).toMatch(/hint: Stop their consumers/);
      // With --format json: one document, the groups and the error together.
      const json = await runCli([...args.slice(0, 7), String(t0), '--groups', group, '--format', 'json']);
      expect(json.code).toBe(2);
      const doc = JSON.parse(json.stdout) as {
        format_version: number;
        groups: { group_id: string; status: string }[];
        error: { name: string; message: string; exit_code: number };
      };
      expect(doc.format_version).toBe(1);
      expect(doc.groups.map((g) => [g.group_id, g.status])).toEqual([[group, 'failed']]);
      expect(doc.error).toMatchObject({ name: 'UserError', exit_code: 2 });
      expect(doc.error.message).toContain(`${group} has 1 running member`);
    } finally {
      await stream.close();
      await consumer.close(true);
    }
  });
});
