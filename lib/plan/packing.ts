import { BENCH_BACKUP_RATE } from './bench-rate.ts';
import { LAMBDA_WORKER } from './runners.ts';

/**
 * A work item of the backup workflow: the shape of `BackupItem` in lib/workflow/events.ts (the zod schema the
 * steps parse), written out here because lib/workflow imports lib/plan and no folder may import itself round a
 * cycle; test/unit/plan/packing.test.ts parses packed items with that schema.
 */
export interface BackupRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** Exclusive. */
  to: number;
}
export interface BackupItem {
  ranges: BackupRange[];
  /** Sum of (to - from) over ranges. */
  offsets: number;
  /** Estimated bytes to read (offsets x bytes per offset). */
  bytes: number;
  runner: 'lambda' | 'fargate';
}

/** One partition of the plan with what is left to read: [from, to) = [read_from, end_offset). */
export interface PartitionToRead {
  topic: string;
  partition: number;
  /** The plan's read_from. */
  from: number;
  /** The plan's end_offset (exclusive). */
  to: number;
  /** Estimated bytes a fetch returns per offset (see bytes-per-offset.ts). */
  bytesPerOffset: number;
}

export interface PackingOptions {
  /** Bytes one item should read at most: the bin size. Default DEFAULT_TARGET_BYTES. */
  targetBytes?: number;
  /**
   * Ranges one item holds at most: each costs the worker a progress object read and written and a fetch of its
   * own, and the item travels in the state (or in S3) as JSON. Default DEFAULT_MAX_RANGES_PER_ITEM.
   */
  maxRangesPerItem?: number;
  /** An item with more offsets than this runs on Fargate (the backup-plan step's `fargate_min_offsets`). */
  fargateMinOffsets: number;
}

/**
 * The share of a worker's time budget an item is sized for: the bench's rate is a laptop's, a Lambda with 2 GiB
 * (about 1.2 vCPU) against a remote broker may read more slowly, and an item that misses its budget only takes
 * one more invocation (the worker continues where it stopped) — but a bin sized for the whole budget would take
 * two most of the time.
 */
export const TIME_BUDGET_SHARE = 0.5;

/**
 * The default bin: what one Lambda worker reads in half its time budget at the bench's backup rate, i.e.
 * rate × (timeout − stop margin) × TIME_BUDGET_SHARE. With the defaults (15 min timeout, 60 s margin) and the
 * rate of bench-rate.ts this is about BENCH_BACKUP_RATE.bytes_per_second × 420 s.
 */
export const DEFAULT_TARGET_BYTES = Math.floor(
  BENCH_BACKUP_RATE.bytes_per_second * LAMBDA_WORKER.budget_seconds * TIME_BUDGET_SHARE,
);

/** 500 ranges: 10,000 idle partitions make 20 invocations; an item of 500 ranges is about 40 KB of JSON. */
export const DEFAULT_MAX_RANGES_PER_ITEM = 500;

const key = (r: { topic: string; partition: number }) => `${r.topic}\u0000${r.partition}`;
const byRange = (a: BackupRange, b: BackupRange) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.from - b.from;

/**
 * Packs what a backup reads into work items by bytes to read, so that thousands of small partitions make tens of
 * invocations and a large partition is read by several in parallel:
 *
 * - a partition is *large* when its bytes exceed the bin or its offsets the Fargate threshold: it gets items of
 *   its own, split into ceil(bytes / bin) ranges of equal offsets that tile [from, to) — never packed with
 *   others (a small partition must not wait for a Fargate task, nor a Fargate item grow past its estimate);
 * - the small ones fill items in (topic, partition) order, next-fit: an item closes when the next partition
 *   would take it past the bin or past maxRangesPerItem (neighbouring partitions of a topic stay together);
 * - an item runs on Fargate when it has more offsets than fargateMinOffsets, on Lambda otherwise;
 * - items come largest first (then by their first range), so that the Map starts the longest work first.
 *
 * Deterministic: the same partitions in any order give the same items. Partitions with nothing to read are left
 * out (finalize takes them from the plan).
 */
export function packBackupItems(
  partitions: readonly PartitionToRead[],
  options: PackingOptions,
): BackupItem[] {
  const target = Math.max(1, options.targetBytes ?? DEFAULT_TARGET_BYTES);
  const maxRanges = Math.max(1, options.maxRangesPerItem ?? DEFAULT_MAX_RANGES_PER_ITEM);
  const runner = (offsets: number): BackupItem['runner'] =>
    offsets > options.fargateMinOffsets ? 'fargate' : 'lambda';
  const sorted = [...partitions].filter((p) => p.to > p.from).sort((a, b) => byRange({ ...a }, { ...b }));
  const seen = new Set<string>();
  for (const p of sorted) {
    if (seen.has(key(p))) throw new RangeError(`partition ${p.topic}/${p.partition} is given twice`);
    seen.add(key(p));
  }

  const items: BackupItem[] = [];
  let open: { ranges: BackupRange[]; offsets: number; bytes: number } | undefined;
  const close = () => {
    if (open) items.push({ ...open, bytes: Math.round(open.bytes), runner: runner(open.offsets) });
    open = undefined;
  };
  for (const p of sorted) {
    const offsets = p.to - p.from;
    const bytes = offsets * Math.max(0, p.bytesPerOffset);
    if (bytes > target || offsets > options.fargateMinOffsets) {
      const pieces = Math.min(offsets, Math.max(1, Math.ceil(bytes / target)));
      for (let i = 0; i < pieces; i++) {
        const from = p.from + Math.floor((i * offsets) / pieces);
        const to = p.from + Math.floor(((i + 1) * offsets) / pieces);
        const n = to - from;
        items.push({
          ranges: [{ topic: p.topic, partition: p.partition, from, to }],
          offsets: n,
          bytes: Math.round(n * Math.max(0, p.bytesPerOffset)),
          runner: runner(n),
        });
      }
      continue;
    }
    if (open && (open.bytes + bytes > target || open.ranges.length >= maxRanges)) close();
    open ??= { ranges: [], offsets: 0, bytes: 0 };
    open.ranges.push({ topic: p.topic, partition: p.partition, from: p.from, to: p.to });
    open.offsets += offsets;
    open.bytes += bytes;
  }
  close();
  return items.sort((a, b) => b.bytes - a.bytes || byRange(a.ranges[0]!, b.ranges[0]!));
}

/** A target partition a restore writes, with the stored bytes of its segments (what the restore reads). */
export interface PartitionToRestore<W> {
  work: W & { target_topic: string; target_partition: number };
  bytes: number;
}

/** A work item of the restore workflow (`RestoreItem` in lib/workflow/events.ts): target partitions, one writer each. */
export interface RestoreItemOf<W> {
  works: W[];
  bytes: number;
  runner: 'lambda' | 'fargate';
}

export interface RestorePackingOptions {
  /** Stored bytes one item should read at most. Default DEFAULT_RESTORE_TARGET_BYTES. */
  targetBytes?: number;
  /**
   * Target partitions one item holds at most: the item and its continuation (what each partition wrote, where it
   * stands) travel in the Map iteration's state. Default DEFAULT_MAX_PARTITIONS_PER_RESTORE_ITEM.
   */
  maxPartitionsPerItem?: number;
  /** A partition with more stored bytes than this runs on Fargate, alone (restore-prepare's `fargate_min_bytes`). */
  fargateMinBytes: number;
}

/** 1 GiB of stored segments: a few minutes of writing for one Lambda; more continues in another invocation. */
export const DEFAULT_RESTORE_TARGET_BYTES = 1024 ** 3;

/** 100 partitions: 10,000 small ones make 100 invocations; their continuation is about 30 KB of state. */
export const DEFAULT_MAX_PARTITIONS_PER_RESTORE_ITEM = 100;

/**
 * Packs a restore's target partitions into work items, so that thousands of small partitions make tens of
 * invocations (each reads the manifest and the config, renews the lease, connects to Kafka once) while every
 * target partition still has exactly one writer (its item's): a partition is never split. A partition larger
 * than fargateMinBytes runs on Fargate alone, one larger than the bin on Lambda alone; the rest fill items in
 * (topic, partition) order, next-fit by bytes and partition count; largest items first.
 */
export function packRestoreItems<W>(
  partitions: readonly PartitionToRestore<W>[],
  options: RestorePackingOptions,
): RestoreItemOf<W>[] {
  const target = Math.max(1, options.targetBytes ?? DEFAULT_RESTORE_TARGET_BYTES);
  const maxWorks = Math.max(1, options.maxPartitionsPerItem ?? DEFAULT_MAX_PARTITIONS_PER_RESTORE_ITEM);
  const order = (a: PartitionToRestore<W>, b: PartitionToRestore<W>) =>
    a.work.target_topic < b.work.target_topic
      ? -1
      : a.work.target_topic > b.work.target_topic
        ? 1
        : a.work.target_partition - b.work.target_partition;
  const items: (RestoreItemOf<W> & { first: PartitionToRestore<W> })[] = [];
  let open: (RestoreItemOf<W> & { first: PartitionToRestore<W> }) | undefined;
  for (const p of [...partitions].sort(order)) {
    if (p.bytes > options.fargateMinBytes || p.bytes > target) {
      items.push({
        works: [p.work],
        bytes: p.bytes,
        runner: p.bytes > options.fargateMinBytes ? 'fargate' : 'lambda',
        first: p,
      });
      continue;
    }
    if (open && (open.bytes + p.bytes > target || open.works.length >= maxWorks)) open = undefined;
    if (!open) {
      open = { works: [], bytes: 0, runner: 'lambda', first: p };
      items.push(open);
    }
    open.works.push(p.work);
    open.bytes += p.bytes;
  }
  return items
    .sort((a, b) => b.bytes - a.bytes || order(a.first, b.first))
    .map(({ first: _first, ...item }) => item);
}
