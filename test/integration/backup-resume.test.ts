// A backup that dies (SIGKILL) or loses its broker (restart) part-way still ends with every record once.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupProgressEvent, runBackup } from '../../lib/backup/index.ts';
import { loadBackupConfig } from '../../lib/config/index.ts';
import { readBackupPartition } from '../../lib/format/backup-reader.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import { Layout, type Manifest } from '../../lib/format/manifest.ts';
import { PartitionProgress } from '../../lib/format/plan.ts';
import { KafkaCluster, kafkajs } from '../../lib/kafka/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import type { ObjectStore } from '../../lib/storage/object-store.ts';
import { startGround, stopGround } from '../ground/ground.ts';
import { clusterPaths } from '../ground/kafka-cluster.ts';
import { readPid } from '../ground/processes.ts';
import { groundSettings } from '../ground/settings.ts';
import { runCli, spawnCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground } from '../support/ground-env.ts';
import { createTopic, primarySettings } from '../support/kafka-fixtures.ts';

const PARTITIONS = 3;

function backupConfig(opts: { id: string; path: string; topic: string; segmentMaxBytes: number }): string {
  return `mode: backup
backup_id: "${opts.id}"
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: ["${opts.topic}"]
storage:
  backend: filesystem
  path: ${opts.path}
backup:
  compression_level: 1
  segment_max_bytes: ${opts.segmentMaxBytes}
  checkpoint_interval_secs: 1
`;
}

/**
 * Fills a new topic with `perPartition` records of ~1 KiB of random (incompressible) bytes in each partition,
 * and returns what each partition holds, by offset (a fresh topic starts at offset 0; the idempotent producer
 * with one request in flight keeps the send order).
 */
async function fillTopic(cluster: KafkaCluster, prefix: string, perPartition: number) {
  const topic = await createTopic(cluster, { prefix, partitions: PARTITIONS });
  const expected = Array.from({ length: PARTITIONS }, () => [] as Buffer[]);
  const producer = await cluster.producer();
  try {
    const chunk = 1_000; // ~1 MiB per partition per request, well under message.max.bytes
    for (let from = 0; from < perPartition; from += chunk) {
      const messages = [];
      for (let p = 0; p < PARTITIONS; p++) {
        for (let i = from; i < Math.min(perPartition, from + chunk); i++) {
          const value = randomBytes(1024);
          expected[p]!.push(value);
          messages.push({ key: Buffer.from(`p${p}-${i}`), value, partition: p });
        }
      }
      await producer.send({ topic, acks: -1, compression: kafkajs.CompressionTypes.None, messages });
    }
  } finally {
    await producer.disconnect();
  }
  const offsets = await cluster.partitionOffsets(topic);
  expect(offsets.map((o) => [o.logStart, o.end])).toEqual(
    Array.from({ length: PARTITIONS }, () => [0, perPartition]),
  );
  return { topic, expected };
}

/** Reads the backup back and checks each partition holds exactly offsets 0..n-1, once each, with the values sent. */
async function expectExactCopy(store: ObjectStore, manifest: Manifest, expected: Buffer[][]): Promise<void> {
  const partitions = manifest.topics[0]!.partitions;
  expect(partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
  for (const p of partitions) {
    const want = expected[p.partition]!;
    expect([p.start_offset, p.end_offset, p.records, p.gaps.length]).toEqual([
      0,
      want.length,
      want.length,
      0,
    ]);
    const offsets: number[] = [];
    let mismatched = 0;
    for await (const r of readBackupPartition(store, p)) {
      offsets.push(r.offset);
      if (!r.value?.equals(want[r.offset] ?? Buffer.alloc(0))) mismatched++;
    }
    expect(offsets.length).toBe(want.length);
    // Every offset once, in order, nothing missing: exactly 0, 1, ..., n-1.
    expect(offsets.every((o, i) => o === i)).toBe(true);
    expect(mismatched).toBe(0);
  }
}

async function readProgress(store: FilesystemStore, backupId: string): Promise<PartitionProgress[]> {
  const out: PartitionProgress[] = [];
  for (const key of await store.list(Layout.progressPrefix(backupId))) {
    const raw = await store.getIfExists(key);
    if (raw) out.push(PartitionProgress.parse(JSON.parse(raw.toString('utf8'))));
  }
  return out.sort((a, b) => a.partition - b.partition);
}

describe('backup resume', () => {
  const cluster = new KafkaCluster(primarySettings(), 'source');
  beforeAll(() => cluster.describeCluster());
  afterAll(() => cluster.close());

  it('a backup killed with SIGKILL part-way and run again with the same backup_id stores every record exactly once, keeping what was stored', async () => {
    const perPartition = 15_000;
    const { topic, expected } = await fillTopic(cluster, 'resume', perPartition);
    const total = perPartition * PARTITIONS;
    const dir = tempDir();
    const path = join(dir, 'store');
    const id = 'resume-1';
    const cfg = writeConfig(dir, 'b.yaml', backupConfig({ id, path, topic, segmentMaxBytes: 64 * 1024 }));
    const store = new FilesystemStore(path);

    // Kill at a random point between 15% and 60% of the records stored (durably, per the progress files).
    const killAt = Math.round(total * (0.15 + Math.random() * 0.45));
    const first = spawnCli(['backup', '--config', cfg, '--format', 'json']);
    let exitedEarly = false;
    void first.exited.then(() => {
      exitedEarly = true;
    });
    let stored = 0;
    while (!exitedEarly) {
      stored = (await readProgress(store, id)).reduce((n, p) => n + p.next_offset, 0);
      if (stored >= killAt) break;
      await sleep(10);
    }
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal, `the first run ended on its own before the kill: ${killed.stderr}`).toBe('SIGKILL');

    // What the killed run left: its durable progress, and the segment objects on disk.
    const before = await readProgress(store, id);
    const storedBefore = before.reduce((n, p) => n + p.next_offset, 0);
    expect(
      storedBefore,
      `killed at ${storedBefore} of ${total} records (aimed at ${killAt})`,
    ).toBeGreaterThan(0);
    expect(storedBefore).toBeLessThan(total);
    expect(await store.head(Layout.manifest(id))).toBeUndefined();
    const segmentsBefore = before.flatMap((p) => p.segments);
    expect(segmentsBefore.length).toBeGreaterThan(1);
    const filesBefore = new Map(
      segmentsBefore.map((s) => {
        const st = statSync(join(path, s.key));
        return [s.key, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size }];
      }),
    );

    // Started again with the same config (and so the same backup_id): it resumes and completes.
    const second = await runCli(['backup', '--config', cfg, '--format', 'json']);
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout) as { backup_id: string; resumed: boolean };
    expect(summary).toMatchObject({ backup_id: id, resumed: true });

    const manifest = await loadManifest(store, id);
    await expectExactCopy(store, manifest, expected);

    // Nothing stored before the kill was read or uploaded again: every segment the killed run had recorded is
    // in the manifest unchanged (same key, checksum, and the very same file), and every segment the resumed run
    // added starts at or after where that partition's progress stood, holding exactly the records after it.
    for (const p of manifest.topics[0]!.partitions) {
      const prior = before.find((x) => x.partition === p.partition) ?? { next_offset: 0, segments: [] };
      const priorKeys = new Set(prior.segments.map((s) => s.key));
      expect(p.segments.slice(0, prior.segments.length)).toEqual(prior.segments);
      const added = p.segments.filter((s) => !priorKeys.has(s.key));
      expect(added.length + prior.segments.length).toBe(p.segments.length);
      expect(added.every((s) => s.first_offset >= prior.next_offset)).toBe(true);
      expect(added.reduce((n, s) => n + s.records, 0)).toBe(perPartition - prior.next_offset);
    }
    for (const [key, was] of filesBefore) {
      const st = statSync(join(path, key));
      expect({ ino: st.ino, mtimeMs: st.mtimeMs, size: st.size }, key).toEqual(was);
    }
    expect(manifest.stats.records).toBe(total);

    // The run state is gone, and so is any segment the killed run wrote but had not yet recorded.
    const manifestKeys = manifest.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => s.key)).sort();
    expect(await store.list(Layout.segmentsPrefix)).toEqual(manifestKeys);
    expect(await store.list(Layout.backupPrefix(id))).toEqual([Layout.manifest(id)]);
    expect(await store.head(Layout.lease)).toBeUndefined();

    const validate = await runCli(['validate', '--path', path, '--backup-id', id, '--deep']);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
  });
});
