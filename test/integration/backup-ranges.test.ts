// Partitions split into offset ranges, read by separate workflow step invocations at the same time: the backup
// and its restore are the same as those of the unsplit partitions, record for record and offset for offset.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupPartitions,
  finalizeBackup,
  loadPlan,
  loadRangeProgress,
  planBackup,
} from '../../lib/backup/index.ts';
import { loadBackupConfig } from '../../lib/config/index.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import { Layout, type Manifest } from '../../lib/format/manifest.ts';
import { RestoreLayout, RestorePartitionState } from '../../lib/format/restore-state.ts';
import { validateBackup } from '../../lib/format/validate-backup.ts';
import { type BackupRecord, KafkaCluster, readPartitions } from '../../lib/kafka/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { noopMetrics } from '../../lib/metrics/index.ts';
import type { RestoreReport } from '../../lib/restore/index.ts';
import { FilesystemStore, S3Store } from '../../lib/storage/index.ts';
import { WorkflowLayout } from '../../lib/storage/layout.ts';
import { BackupItem } from '../../lib/workflow/events.ts';
import { runStep, type StepRuntime } from '../../lib/workflow/index.ts';
import { loadMapItems } from '../../lib/workflow/map-storage.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import {
  buf,
  createTopic,
  drSettings,
  primarySettings,
  produce,
  produceTransaction,
} from '../support/kafka-fixtures.ts';

const BUCKET = 'kafka-backup-test';
const storage = (prefix: string) => ({
  backend: 's3' as const,
  bucket: BUCKET,
  region: 'us-east-1',
  prefix,
  endpoint: ground().s3Endpoint,
});
const storeOf = (prefix: string) =>
  new S3Store({ bucket: BUCKET, prefix, region: 'us-east-1', endpoint: ground().s3Endpoint });

/** Plain topic: batches of 200 records of 3 KiB, so that a range is several fetches (2 MiB each). */
const PLAIN_BATCHES = 10;
const PLAIN_BATCH = 200;
const CODECS = ['none', 'zstd', 'lz4', 'gzip', 'snappy'] as const;

/** Workers stop deadlineMarginMs before the runner's end: 1 ms past it, each invocation stops after one fetch. */
const MARGIN_MS = 30_000;
const rt = (remainingMs?: number): StepRuntime => ({
  logger: silentLogger,
  metrics: noopMetrics,
  deadlineMarginMs: MARGIN_MS,
  secret: async () => undefined,
  env: {},
  ...(remainingMs !== undefined ? { remainingMs: () => remainingMs } : {}),
});

interface Planned {
  backup_id: string;
  config_ref: unknown;
  lease: unknown;
}

/** The plan step's items, from where it stored them (the Distributed Map's ItemReader reads them there). */
const itemsOf = (prefix: string, plan: Planned) =>
  loadMapItems(storeOf(prefix), WorkflowLayout.backupItems(plan.backup_id), BackupItem);
interface StepResult {
  done: boolean;
  ranges: number;
  ranges_done: number;
  offsets_left: number;
  records_now: number;
}

/** Every record of [0, end) of partition 0 as a consumer sees it (read_committed unless told). */
async function readAll(
  cluster: KafkaCluster,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
): Promise<BackupRecord[]> {
  const end = (await cluster.partitionOffsets(topic, isolation))[0]!.end;
  const out: BackupRecord[] = [];
  await readPartitions(cluster, [{ topic, partition: 0, from: 0, to: end }], {
    isolation,
    concurrency: 1,
    onBatch: async (b) => {
      out.push(...b.records);
    },
  });
  return out;
}

/** A record as restored: everything but its offset. */
const content = (r: BackupRecord) => ({
  key: r.key?.toString('base64') ?? null,
  value: r.value?.toString('base64') ?? null,
  headers: r.headers.map((h) => [h.key, h.value?.toString('base64') ?? null]),
  timestamp: r.timestamp,
});

/** Cuts each whole-partition item of the plan step into ranges at the topic's cut points: one item per range. */
function splitItems(items: BackupItem[], cuts: Map<string, number[]>): BackupItem[] {
  // The plan may pack the small partitions into one item: each of its whole-partition ranges is cut.
  return items.flatMap((item) =>
    item.ranges.flatMap((whole) => {
      const at = [whole.from, ...(cuts.get(whole.topic) ?? []), whole.to];
      return at.slice(1).map((to, i) => ({
        ranges: [{ ...whole, from: at[i]!, to }],
        offsets: to - at[i]!,
        bytes: 0,
        runner: 'lambda' as const,
      }));
    }),
  );
}

/** Runs one item as the state machine does: invocation after invocation until it reports done. */
async function runItem(plan: Planned, item: BackupItem, remainingMs?: number): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (let i = 0; i < 1_000; i++) {
    const r = (await runStep(
      'backup-partition',
      { config_ref: plan.config_ref, lease: plan.lease, item },
      rt(remainingMs),
    )) as StepResult;
    results.push(r);
    if (r.done) return results;
  }
  throw new Error('the item did not finish in 1000 invocations');
}

describe('backup of partitions split into offset ranges', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  let plain = '';
  let tx = '';
  let compacted = '';
  /** Where each topic's partition 0 is cut into three ranges (two cut points, inside batches or holes). */
  const cuts = new Map<string, number[]>();
  const dir = tempDir();
  const backupConfig = (id: string, prefix: string) => ({
    mode: 'backup',
    backup_id: id,
    source: { bootstrap_servers: [ground().primary], topics: { include: [plain, tx, compacted] } },
    storage: storage(prefix),
    backup: { compression_level: 1, segment_max_bytes: 256 * 1024, checkpoint_interval_secs: 1 },
  });

  beforeAll(async () => {
    await primary.describeCluster();
    await dr.describeCluster();

    // Plain: batches of every codec, with headers (a duplicate key, a null value); cut inside batches.
    plain = await createTopic(primary, { prefix: 'ranges-plain' });
    for (let b = 0; b < PLAIN_BATCHES; b++) {
      await produce(
        primary,
        plain,
        Array.from({ length: PLAIN_BATCH }, (_, i) => ({
          key: i % 7 === 0 ? null : buf(`k${b}-${i}`),
          value: randomBytes(3 * 1024),
          headers:
            i % 3 === 0
              ? [
                  { key: 'h', value: buf(`${i}`) },
                  { key: 'h', value: null },
                ]
              : [],
        })),
        { compression: CODECS[b % CODECS.length] },
      );
    }
    cuts.set(plain, [250, 1_777]);

    // Transactional: committed and aborted transactions among plain records; cut inside a committed
    // transaction and inside an aborted one (the range after it starts in the middle of the aborted data).
    tx = await createTopic(primary, { prefix: 'ranges-tx' });
    const endOf = async () => (await primary.partitionOffsets(tx))[0]!.end;
    const msgs = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({ key: buf(`${tag}${i}`), value: buf(`${tag}-${i}`) }));
    await produce(primary, tx, msgs(50, 'a'));
    const committedAt = await endOf();
    await produceTransaction(primary, tx, msgs(30, 'c'), 'commit');
    const abortedAt = await endOf();
    await produceTransaction(primary, tx, msgs(40, 'x'), 'abort');
    await produceTransaction(primary, tx, msgs(20, 'd'), 'commit');
    await produce(primary, tx, msgs(30, 'e'));
    cuts.set(tx, [committedAt + 15, abortedAt + 20]);

    // Compacted: superseded keys leave holes between the records that survive; cut in a hole and at a record
    // in the middle of a batch.
    compacted = await createTopic(primary, {
      prefix: 'ranges-compacted',
      configs: {
        'cleanup.policy': 'compact',
        'segment.ms': '100',
        'min.cleanable.dirty.ratio': '0.01',
        'delete.retention.ms': '100',
      },
    });
    for (let round = 0; round < 6; round++) {
      await produce(
        primary,
        compacted,
        Array.from({ length: 20 }, (_, i) => ({
          key: buf(i % 2 === 0 ? `u${round}-${i}` : `k${i % 5}`),
          value: buf(`r${round}-${i}`),
        })),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    await produce(primary, compacted, [{ key: buf('last'), value: buf('tail') }]);
    // The cleaner runs every second here (log.cleaner.backoff.ms): wait until it has removed records and the
    // log stays the same (the active segment, the last record's, is never cleaned, so it stays so).
    const end = (await primary.partitionOffsets(compacted))[0]!.end;
    let survivors: number[] = [];
    for (let stable = 0, i = 0; stable < 3 && i < 60; i++) {
      const now = (await readAll(primary, compacted)).map((r) => r.offset);
      stable = now.length < end && now.length === survivors.length ? stable + 1 : 0;
      survivors = now;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(survivors.length, 'the log cleaner compacted the topic').toBeLessThan(end);
    const hole = survivors.find((o, i) => survivors[i + 1] !== undefined && survivors[i + 1]! > o + 1)! + 1;
    const mid = survivors.find((o, i) => i > 0 && survivors[i - 1] === o - 1 && Math.abs(o - hole) > 2)!;
    expect(survivors).not.toContain(hole);
    cuts.set(
      compacted,
      [hole, mid].sort((a, b) => a - b),
    );
  }, 120_000);

  afterAll(async () => {
    await primary.close();
    await dr.close();
  });

  it('three ranges of each partition, read by separate step invocations at once, restore byte-exact with the offset mapping of an unsplit backup', async () => {
    // The unsplit backup: the CLI, every partition one range.
    const wholePrefix = uniqueName('ranges-whole');
    const cli = await runCli([
      'backup',
      '--config',
      writeConfig(dir, 'whole.yaml', JSON.stringify(backupConfig('whole-1', wholePrefix))),
      '--format',
      'json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);

    // The split backup: the workflow's steps, each range an item of its own, all at once, every invocation
    // stopping after one fetch (a continuation) as a Lambda worker at its time budget does.
    const splitPrefix = uniqueName('ranges-split');
    const plan = (await runStep(
      'backup-plan',
      { config: backupConfig('split-1', splitPrefix), schedule: 'test', options: {} },
      rt(),
    )) as Planned;
    // Three small partitions: packed into items, each partition one whole range.
    const planned = await itemsOf(splitPrefix, plan);
    expect(planned.flatMap((i) => i.ranges).map((r) => r.from)).toEqual([0, 0, 0]);
    const items = splitItems(planned, cuts);
    expect(items).toHaveLength(9);
    const runs = await Promise.all(items.map((item) => runItem(plan, item, MARGIN_MS + 1)));
    // The big plain ranges took several invocations, each one further, without reading anything twice.
    const plainMiddle =
      runs[items.findIndex((i) => i.ranges[0]!.topic === plain && i.ranges[0]!.from === 250)]!;
    expect(plainMiddle.length).toBeGreaterThan(1);
    for (let i = 1; i < plainMiddle.length; i++)
      expect(plainMiddle[i]!.offsets_left).toBeLessThan(plainMiddle[i - 1]!.offsets_left);
    expect(plainMiddle.reduce((n, r) => n + r.records_now, 0)).toBe(1_777 - 250);
    const finalized = (await runStep(
      'backup-finalize',
      { config_ref: plan.config_ref, lease: plan.lease },
      rt(),
    )) as { backup_id: string; stats: Manifest['stats'] };
    expect(finalized.backup_id).toBe('split-1');

    const whole = await loadManifest(storeOf(wholePrefix), 'whole-1');
    const split = await loadManifest(storeOf(splitPrefix), 'split-1');
    expect(finalized.stats.records).toBe(whole.stats.records);
    for (const topic of [plain, tx, compacted]) {
      const w = whole.topics.find((t) => t.name === topic)!.partitions[0]!;
      const s = split.topics.find((t) => t.name === topic)!.partitions[0]!;
      expect([s.start_offset, s.end_offset, s.records, s.gaps], topic).toEqual([
        w.start_offset,
        w.end_offset,
        w.records,
        w.gaps,
      ]);
      // Segments of the partition, in offset order, at least one per range, none across a cut.
      expect(s.segments.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < s.segments.length; i++)
        expect(s.segments[i]!.first_offset).toBeGreaterThan(s.segments[i - 1]!.last_offset);
      for (const cut of cuts.get(topic)!)
        expect(
          s.segments.some((g) => g.first_offset < cut && g.last_offset >= cut),
          `${topic} at ${cut}`,
        ).toBe(false);
      expect(s.segments.every((g) => g.key.startsWith(`segments/${topic}/0/`))).toBe(true);
    }
    // The run state is gone; the split backup validates deeply.
    const splitStore = storeOf(splitPrefix);
    expect(await splitStore.list(Layout.backupPrefix('split-1'))).toEqual([
      Layout.manifest('split-1'),
      `backups/split-1/workflow/config.json`,
      // The Map's items stay with the config: what the run was asked to read.
      `backups/split-1/workflow/items.json`,
    ]);
    const report = await validateBackup(splitStore, 'split-1', { deep: true });
    expect(report.problems).toEqual([]);
    expect(report.records_checked).toBeGreaterThanOrEqual(split.stats.records);

    // Both restored, each into topics of its own: the same records at the same offsets, the same mapping.
    const restoreOf = async (id: string, prefix: string) => {
      const targets = new Map([plain, tx, compacted].map((t) => [t, uniqueName(`${id}-restored`)]));
      const r = await runCli([
        'restore',
        '--config',
        writeConfig(
          dir,
          `${id}-restore.yaml`,
          JSON.stringify({
            mode: 'restore',
            backup_id: id,
            target: { bootstrap_servers: [ground().dr] },
            storage: storage(prefix),
            restore: { topic_mapping: Object.fromEntries(targets) },
          }),
        ),
        '--format',
        'json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const restoreId = (JSON.parse(r.stdout) as RestoreReport).restore_id;
      const out = new Map<string, { records: BackupRecord[]; runs: unknown }>();
      for (const [source, target] of targets) {
        const state = RestorePartitionState.parse(
          JSON.parse((await storeOf(prefix).get(RestoreLayout.partition(restoreId, target, 0))).toString()),
        );
        out.set(source, {
          records: await readAll(dr, target, 'read_uncommitted'),
          runs: state.mappings.map((m) => [m.source_topic, m.source_partition, m.runs, m.records]),
        });
      }
      return out;
    };
    const fromWhole = await restoreOf('whole-1', wholePrefix);
    const fromSplit = await restoreOf('split-1', splitPrefix);
    for (const topic of [plain, tx, compacted]) {
      const w = fromWhole.get(topic)!;
      const s = fromSplit.get(topic)!;
      const source = await readAll(primary, topic);
      expect(s.records.length, topic).toBe(source.length);
      expect(s.records.map((r) => r.offset)).toEqual(w.records.map((r) => r.offset));
      expect(s.records.map(content)).toEqual(w.records.map(content));
      expect(s.records.map(content)).toEqual(source.map(content));
      expect(s.runs, topic).toEqual(w.runs);
    }
    // The transactional topic: no aborted record, every committed one; the compacted one: its holes kept as
    // offset-mapping runs (one per run of contiguous source offsets).
    expect(fromSplit.get(tx)!.records.some((r) => r.value?.toString().startsWith('x-'))).toBe(false);
    expect(fromSplit.get(tx)!.records).toHaveLength(130);
    expect(
      (fromSplit.get(compacted)!.runs as [string, number, unknown[], number][])[0]![2].length,
    ).toBeGreaterThan(1);
  });

  it('a missing range fails finalize naming its offsets; an interrupted range resumes without a duplicate', async () => {
    const prefix = uniqueName('ranges-missing');
    const id = 'missing-1';
    const plan = (await runStep(
      'backup-plan',
      { config: backupConfig(id, prefix), schedule: 'test', options: {} },
      rt(),
    )) as Planned;
    const items = splitItems(await itemsOf(prefix, plan), cuts);
    const [c1, c2] = cuts.get(plain)! as [number, number];
    const isMissing = (i: BackupItem) => i.ranges[0]!.topic === plain && i.ranges[0]!.from === c1;
    await Promise.all(items.filter((i) => !isMissing(i)).map((item) => runItem(plan, item)));
    const finalize = () =>
      runStep('backup-finalize', { config_ref: plan.config_ref, lease: plan.lease }, rt());
    await expect(finalize()).rejects.toThrow(
      `backup ${id} is not finished: no range of ${plain}/0 holds offsets [${c1}, ${c2}) (planned [0, ${PLAIN_BATCHES * PLAIN_BATCH}))`,
    );
    const store = storeOf(prefix);
    expect(await store.head(Layout.manifest(id))).toBeUndefined();

    // The missing range, interrupted part-way (the process dies: what it had not stored is lost).
    const config = loadBackupConfig(
      writeConfig(dir, 'missing.yaml', JSON.stringify(backupConfig(id, prefix))),
    );
    const source = new KafkaCluster(config.source, 'source');
    const ctx = { config, store, source, logger: silentLogger };
    const stored = await loadPlan(ctx, id);
    const range = items.find(isMissing)!.ranges[0]!;
    const crash = new AbortController();
    try {
      await expect(
        backupPartitions(ctx, stored!, [range], {
          signal: crash.signal,
          onProgress: (e) => {
            if (e.next_offset >= c1 + 700) crash.abort(new Error('killed'));
          },
        }),
      ).rejects.toThrow('killed');
      const before = await loadRangeProgress(ctx, stored!, range);
      expect(before.next_offset).toBeGreaterThan(c1);
      expect(before.next_offset).toBeLessThan(c2);
      await expect(finalize()).rejects.toThrow(
        `backup ${id} is not finished: ${plain}/0 is at offset ${before.next_offset} of ${c2} (its range [${c1}, ${c2}) of [0, ${PLAIN_BATCHES * PLAIN_BATCH}))`,
      );

      // Run again (as a step, as the workflow would): it goes on from the stored progress.
      const resumed = await runItem(plan, items.find(isMissing)!);
      expect(resumed.reduce((n, r) => n + r.records_now, 0)).toBe(c2 - before.next_offset);
      const after = await loadRangeProgress(ctx, stored!, range);
      expect(after.segments.slice(0, before.segments.length)).toEqual(before.segments);
      expect(
        after.segments.slice(before.segments.length).every((s) => s.first_offset >= before.next_offset),
      ).toBe(true);
    } finally {
      await source.close();
    }
    await finalize();
    const manifest = await loadManifest(store, id);
    const p = manifest.topics.find((t) => t.name === plain)!.partitions[0]!;
    expect(p.records).toBe(PLAIN_BATCHES * PLAIN_BATCH);
    expect((await validateBackup(store, id, { deep: true })).problems).toEqual([]);

    // A manifest that lost a range's segments (edited, or written by a faulty tool) fails deep validation.
    const lost = structuredClone(manifest);
    const lp = lost.topics.find((t) => t.name === plain)!.partitions[0]!;
    lp.segments = lp.segments.filter((s) => s.last_offset < c1 || s.first_offset >= c2);
    await store.put(Layout.manifest('lost-1'), JSON.stringify({ ...lost, backup_id: 'lost-1' }));
    const report = await validateBackup(store, 'lost-1', { deep: true });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        object: `manifest topics.${plain}.partitions.0`,
        problem: `segments hold ${PLAIN_BATCHES * PLAIN_BATCH - (c2 - c1)} records in [0, ${PLAIN_BATCHES * PLAIN_BATCH}), manifest says ${PLAIN_BATCHES * PLAIN_BATCH}`,
      },
    ]);
  });

  it('one call given several ranges of a partition reads them one after another, into the same backup', async () => {
    const path = `${tempDir()}/store`;
    const config = loadBackupConfig(
      writeConfig(
        dir,
        'one-call.yaml',
        JSON.stringify({
          ...backupConfig('one-call-1', 'unused'),
          storage: { backend: 'filesystem', path },
        }),
      ),
    );
    const source = new KafkaCluster(config.source, 'source');
    try {
      const ctx = { config, store: new FilesystemStore(path), source, logger: silentLogger };
      const { plan } = await planBackup(ctx);
      const ranges = splitItems(
        plan.topics.map((t) => ({
          ranges: [{ topic: t.name, partition: 0, from: 0, to: t.partitions[0]!.end_offset }],
          offsets: 0,
          bytes: 0,
          runner: 'lambda' as const,
        })),
        cuts,
      ).map((i) => i.ranges[0]!);
      const results = await backupPartitions(ctx, plan, ranges);
      expect(results.map((r) => [r.topic, r.from, r.to, r.done])).toEqual(
        ranges.map((r) => [r.topic, r.from, r.to, true]),
      );
      const { manifest } = await finalizeBackup(ctx, plan);
      const plainRecords = manifest.topics.find((t) => t.name === plain)!.partitions[0]!.records;
      expect(plainRecords).toBe(PLAIN_BATCHES * PLAIN_BATCH);
      expect(results.filter((r) => r.topic === plain).reduce((n, r) => n + r.records, 0)).toBe(plainRecords);
      expect((await validateBackup(ctx.store, 'one-call-1', { deep: true })).problems).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it('records deleted by retention before a range was read, or while it was read, are gaps: joined across a cut as one worker would record them', async () => {
    // Five batches of 200 records of 4 KiB: a fetch (2 MiB) holds two of them.
    const topic = await createTopic(primary, { prefix: 'ranges-retention' });
    for (let b = 0; b < 5; b++)
      await produce(
        primary,
        topic,
        Array.from({ length: 200 }, (_, i) => ({ key: buf(`${b}-${i}`), value: randomBytes(4 * 1024) })),
      );
    const path = `${tempDir()}/store`;
    const config = loadBackupConfig(
      writeConfig(
        dir,
        'retention.yaml',
        JSON.stringify({
          mode: 'backup',
          backup_id: 'retention-1',
          source: { bootstrap_servers: [ground().primary], topics: { include: [topic] } },
          storage: { backend: 'filesystem', path },
          backup: { compression_level: 1, segment_max_bytes: 1024 },
        }),
      ),
    );
    const store = new HookedStore(path);
    const source = new KafkaCluster(config.source, 'source');
    const deleteBefore = (offset: number) => () =>
      primary.deleteRecordsBefore(topic, [{ partition: 0, offset }]);
    try {
      const ctx = { config, store, source, logger: silentLogger };
      const { plan } = await planBackup(ctx);
      const at = (from: number, to: number) => ({ topic, partition: 0, from, to });
      const gapsOf = async (from: number, to: number) =>
        (await loadRangeProgress(ctx, plan, at(from, to))).gaps.map((g) => [g.start_offset, g.end_offset]);
      // Before any range is read, retention removes [0, 100): the first range starts with a gap.
      await deleteBefore(100)();
      expect(await backupPartitions(ctx, plan, [at(0, 150)])).toMatchObject([{ done: true, records: 50 }]);
      expect(await gapsOf(0, 150)).toEqual([[0, 100]]);
      // While a range is read (at its first stored segment; its first fetch read up to 400), retention removes
      // what it was to read next: reading goes on at the new log start, the offsets between are a gap.
      store.beforeNextSegment = deleteBefore(420);
      expect(await backupPartitions(ctx, plan, [at(150, 450)])).toMatchObject([{ done: true, records: 280 }]);
      expect(await gapsOf(150, 450)).toEqual([[400, 420]]);
      // The same past the range's end (its first fetch read up to 800): the rest of the range is a gap, and the
      // next range, read afterwards, starts with one.
      store.beforeNextSegment = deleteBefore(950);
      expect(await backupPartitions(ctx, plan, [at(450, 900)])).toMatchObject([{ done: true, records: 350 }]);
      expect(await gapsOf(450, 900)).toEqual([[800, 900]]);
      expect(await backupPartitions(ctx, plan, [at(900, 1_000)])).toMatchObject([
        { done: true, records: 50 },
      ]);
      expect(store.beforeNextSegment).toBeUndefined();
      const { manifest } = await finalizeBackup(ctx, plan);
      const p = manifest.topics[0]!.partitions[0]!;
      expect(p.gaps.map((g) => [g.start_offset, g.end_offset, g.reason])).toEqual([
        [0, 100, 'retention'],
        [400, 420, 'retention'],
        [800, 950, 'retention'],
      ]);
      expect(p.records).toBe(730);
      expect((await validateBackup(store, 'retention-1', { deep: true })).problems).toEqual([]);
    } finally {
      await source.close();
    }
  });
});

/** A folder store that runs a hook (once) before it stores the next segment: something happening mid-backup. */
class HookedStore extends FilesystemStore {
  beforeNextSegment: (() => Promise<unknown>) | undefined;

  override async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<{ size: number }> {
    const hook = this.beforeNextSegment;
    if (hook && key.startsWith(Layout.segmentsPrefix)) {
      this.beforeNextSegment = undefined;
      await hook();
    }
    return super.putStream(key, body);
  }
}
