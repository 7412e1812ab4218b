// A backup that dies (SIGKILL) or loses its broker (restart) part-way still ends with every record once.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackupProgressEvent,
  backupPartitions,
  finalizeBackup,
  planBackup,
  runBackup,
  wholePartitionRanges,
} from '../../lib/backup/index.ts';
import { loadBackupConfig } from '../../lib/config/index.ts';
import { readBackupPartition } from '../../lib/format/backup-reader.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import { Layout, type Manifest } from '../../lib/format/manifest.ts';
import { PartitionProgress } from '../../lib/format/plan.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import type { ObjectStore } from '../../lib/storage/object-store.ts';
import { clusterPaths, startKafkaCluster, stopKafkaCluster } from '../../tools/ground/kafka-cluster.ts';
import { ensureKafkaJars } from '../../tools/ground/kafka-dist.ts';
import { readPid } from '../../tools/ground/processes.ts';
import { groundSettings, tlsDir } from '../../tools/ground/settings.ts';
import { runCli, spawnCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';

const PARTITIONS = 3;

function backupConfig(opts: {
  id: string;
  path: string;
  topic: string;
  segmentMaxBytes: number;
  bootstrap?: string;
}): string {
  return `mode: backup
backup_id: "${opts.id}"
source:
  bootstrap_servers: ["${opts.bootstrap ?? ground().primary}"]
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
    await produce(cluster, topic, messages);
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

/** Segment uploads wait while the gate is held: lets a test stop a backup part-way without killing it. */
class GatedStore implements ObjectStore {
  readonly location: string;
  readonly #inner: ObjectStore;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(inner: ObjectStore) {
    this.#inner = inner;
    this.location = inner.location;
  }

  hold(): void {
    this.#gate ??= new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    if (key.startsWith(Layout.segmentsPrefix)) await this.#gate;
    return this.#inner.put(key, body);
  }
  putIfAbsent(key: string, body: Uint8Array | string) {
    return this.#inner.putIfAbsent(key, body);
  }
  // Segments are stored with putStream: this is the upload the gate must hold (holding only `put` let a fast
  // backup read every record before the broker went down).
  async putStream(key: string, body: AsyncIterable<Uint8Array>) {
    if (key.startsWith(Layout.segmentsPrefix)) await this.#gate;
    return this.#inner.putStream(key, body);
  }
  get(key: string) {
    return this.#inner.get(key);
  }
  getIfExists(key: string) {
    return this.#inner.getIfExists(key);
  }
  getStream(key: string) {
    return this.#inner.getStream(key);
  }
  head(key: string) {
    return this.#inner.head(key);
  }
  list(prefix: string) {
    return this.#inner.list(prefix);
  }
  delete(keys: string[]) {
    return this.#inner.delete(keys);
  }
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
    try {
      while (!exitedEarly) {
        const stored = (await readProgress(store, id)).reduce((n, p) => n + p.next_offset, 0);
        if (stored >= killAt) break;
        await sleep(10);
      }
    } finally {
      first.child.kill('SIGKILL');
    }
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
    // The backup's statistics count what both runs uploaded, the killed one's segments included.
    const segmentCount = manifest.topics[0]!.partitions.reduce((n, p) => n + p.segments.length, 0);
    expect(manifest.stats).toMatchObject({
      records: total,
      segments_uploaded: segmentCount,
      segments_reused: 0,
    });
    expect(manifest.stats.uploaded_bytes).toBe(manifest.stats.stored_bytes);

    // The run state is gone, and so is any segment the killed run wrote but had not yet recorded.
    const manifestKeys = manifest.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => s.key)).sort();
    expect(await store.list(Layout.segmentsPrefix)).toEqual(manifestKeys);
    expect(await store.list(Layout.backupPrefix(id))).toEqual([Layout.manifest(id)]);
    expect(await store.head(Layout.lease)).toBeUndefined();

    const validate = await runCli(['validate', '--path', path, '--backup-id', id, '--deep']);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
  });

  // A worker given hundreds of small partitions lists their progress objects (one request per 1,000) rather than
  // asking for each, and reads only those that exist: the resumed call must still continue every partition
  // stored before from its progress, and read the rest from the start.
  it('a call with many small partitions lists their progress once, reads what exists, and resumes without a duplicate', async () => {
    const partitions = 40;
    const topic = await createTopic(cluster, { prefix: 'many', partitions });
    await produce(
      cluster,
      topic,
      Array.from({ length: partitions * 3 }, (_, i) => ({
        key: buf(`k${i}`),
        value: buf(`v${i}`),
        partition: i % partitions,
      })),
    );
    const dir = tempDir();
    const path = join(dir, 'store');
    const id = 'many-1';
    const config = loadBackupConfig(
      writeConfig(dir, 'b.yaml', backupConfig({ id, path, topic, segmentMaxBytes: 64 * 1024 })),
    );
    const calls: [string, string][] = [];
    const fs = new FilesystemStore(path);
    const store = new Proxy(fs, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push([String(prop), String(args[0])]);
          return v.apply(target, args);
        };
      },
    }) as ObjectStore;
    const source = new KafkaCluster(config.source, 'source');
    try {
      const ctx = { config, store, source, logger: silentLogger };
      const { plan } = await planBackup(ctx);
      const ranges = wholePartitionRanges(plan);
      expect(ranges).toHaveLength(partitions);

      // The first call dies after a dozen partitions are stored (all 40 come in one fetch: it dies handling it).
      const finished = new Set<number>();
      await expect(
        backupPartitions(ctx, plan, ranges, {
          onProgress: (e) => {
            if (e.next_offset >= e.end_offset) finished.add(e.partition);
            if (finished.size >= 12) throw new Error('killed');
          },
        }),
      ).rejects.toThrow('killed');
      const progressPrefix = `${Layout.progressPrefix(id)}${topic}/`;
      const stored = (await fs.list(progressPrefix)).length;
      expect(stored).toBeGreaterThanOrEqual(12);
      expect(stored).toBeLessThan(partitions);

      calls.length = 0;
      const results = await backupPartitions(ctx, plan, ranges);
      const progressReads = calls.filter(
        ([op, key]) => op === 'getIfExists' && key.startsWith(progressPrefix),
      );
      expect(calls.filter(([op]) => op === 'list')).toEqual([['list', progressPrefix]]);
      expect(progressReads).toHaveLength(stored);
      expect(results.every((r) => r.done)).toBe(true);
      // What the first call stored is not read again: the second reads exactly the rest.
      expect(results.reduce((n, r) => n + r.records, 0)).toBe(partitions * 3 - 3 * stored);
      const { manifest } = await finalizeBackup(ctx, plan);
      expect(manifest.topics[0]!.partitions.map((p) => p.records)).toEqual(Array(partitions).fill(3));
      for (const p of manifest.topics[0]!.partitions) {
        const keys: string[] = [];
        for await (const r of readBackupPartition(fs, p)) keys.push(r.key!.toString());
        expect(keys, `partition ${p.partition}`).toEqual(
          [0, 1, 2].map((j) => `k${p.partition + j * partitions}`),
        );
      }
    } finally {
      await source.close();
    }
  });

  // Restarts a broker of its own (the shared ground's may have been started by another clone or session, which
  // this test could not restart). The reader retries its fetches while the broker is down and goes on where it
  // was once it is back.
  it('a restart of the source broker part-way through does not stop the backup, nor make it lose or repeat a record', async () => {
    const settings = groundSettings();
    const port = Number(process.env['RESTART_TEST_KAFKA_PORT'] ?? 19192);
    const broker = { name: 'primary' as const, port, controllerPort: port + 1 };
    const brokerDir = tempDir('kafka-backup-restart-broker-');
    const startBroker = () =>
      startKafkaCluster({
        cluster: broker,
        runDir: brokerDir,
        tlsDir: tlsDir(settings),
        lib: ensureKafkaJars(settings.cacheDir, settings.kafkaVersion, () => {}),
        version: settings.kafkaVersion,
        log: () => {},
      });
    expect((await startBroker()).alreadyRunning, `port ${port} is taken: set RESTART_TEST_KAFKA_PORT`).toBe(
      false,
    );
    const own = new KafkaCluster({ bootstrap_servers: [`127.0.0.1:${port}`] }, 'source');
    try {
      await restartScenario(
        own,
        `127.0.0.1:${port}`,
        () => stopKafkaCluster(brokerDir, 'primary'),
        startBroker,
        clusterPaths(brokerDir, 'primary').pidPath,
      );
    } finally {
      await own.close();
      await stopKafkaCluster(brokerDir, 'primary');
    }
  });
});

async function restartScenario(
  cluster: KafkaCluster,
  bootstrap: string,
  stopBroker: () => Promise<boolean>,
  startBroker: () => Promise<unknown>,
  pidPath: string,
): Promise<void> {
  // 20 MiB per partition: several fetches each (8 MiB at most per partition and fetch), so reading has to
  // go on against the restarted broker.
  const perPartition = 20_000;
  const { topic, expected } = await fillTopic(cluster, 'restart', perPartition);
  const total = perPartition * PARTITIONS;
  const dir = tempDir();
  const path = join(dir, 'store');
  const id = 'restart-1';
  const config = loadBackupConfig(
    writeConfig(dir, 'b.yaml', backupConfig({ id, path, topic, segmentMaxBytes: 256 * 1024, bootstrap })),
  );
  const store = new GatedStore(new FilesystemStore(path));
  const source = new KafkaCluster(config.source, 'source');
  const brokerPid = readPid(pidPath);
  expect(brokerPid).toBeDefined();

  // A quarter of the way in, uploads are held so that the backup is certainly mid-way when the broker stops.
  const read = new Map<number, number>();
  const readSoFar = () => [...read.values()].reduce((n, o) => n + o, 0);
  let partWay: (() => void) | undefined;
  const reachedPartWay = new Promise<void>((resolve) => {
    partWay = resolve;
  });
  const onProgress = (e: BackupProgressEvent) => {
    read.set(e.partition, e.next_offset);
    if (partWay && readSoFar() >= total / 4) {
      store.hold();
      partWay();
      partWay = undefined;
    }
  };
  const outcome = runBackup({ config, store, source, logger: silentLogger }, { onProgress }).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  try {
    const first = await Promise.race([reachedPartWay.then(() => 'part-way' as const), outcome]);
    expect(first, 'the backup ended before it was a quarter of the way').toBe('part-way');
    try {
      expect(await stopBroker()).toBe(true);
      const readAtStop = readSoFar();
      console.info(`restart: ${readAtStop} of ${total} records read when the broker went down`);
      expect(readAtStop, 'records read when the broker went down').toBeLessThan(total);
      // Reading goes on against a broker that is down, then comes back.
      store.release();
      await sleep(1_000);
    } finally {
      store.release();
      await startBroker();
    }
    expect(readPid(pidPath)).not.toBe(brokerPid);

    const done = await outcome;
    if ('error' in done) throw done.error;
    expect(done.result.resumed).toBe(false);
    await expectExactCopy(store, done.result.manifest, expected);
    const validate = await runCli(['validate', '--path', path, '--backup-id', id, '--deep']);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
  } finally {
    store.release();
    await outcome;
    await source.close();
  }
}
