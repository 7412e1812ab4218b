import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESTORE_TARGET_BYTES,
  DEFAULT_TARGET_BYTES,
  type PartitionToRead,
  packBackupItems,
  packRestoreItems,
} from '../../../lib/plan/index.ts';
import { BackupItem, RestoreItem } from '../../../lib/workflow/events.ts';

const MiB = 1024 * 1024;

/** Every range of `items` per partition, in offset order. */
function rangesByPartition(items: ReturnType<typeof packBackupItems>) {
  const by = new Map<string, { from: number; to: number }[]>();
  for (const i of items)
    for (const r of i.ranges)
      by.set(`${r.topic}/${r.partition}`, [...(by.get(`${r.topic}/${r.partition}`) ?? []), r]);
  for (const list of by.values()) list.sort((a, b) => a.from - b.from);
  return by;
}

describe('packBackupItems', () => {
  it('packs 10,000 small partitions into tens of items, each partition read whole exactly once', () => {
    const partitions: PartitionToRead[] = [];
    for (let t = 0; t < 100; t++)
      for (let p = 0; p < 100; p++)
        partitions.push({
          topic: `t${String(t).padStart(3, '0')}`,
          partition: p,
          from: 10,
          to: 110,
          bytesPerOffset: 1024,
        });
    const items = packBackupItems(partitions, { fargateMinOffsets: 20_000_000 });
    expect(items.length).toBeGreaterThanOrEqual(10);
    expect(items.length).toBeLessThan(100);
    const ranges = rangesByPartition(items);
    expect(ranges.size).toBe(10_000);
    for (const list of ranges.values()) expect(list.map((r) => [r.from, r.to])).toEqual([[10, 110]]);
    expect(items.every((i) => i.runner === 'lambda')).toBe(true);
    expect(items.reduce((n, i) => n + i.offsets, 0)).toBe(10_000 * 100);
    // Each item the workflow's schema accepts.
    for (const i of items) expect(BackupItem.parse(i)).toEqual(i);
  });

  it('fills items up to the target bytes and closes them before it', () => {
    // 10 partitions of 30 MiB into 100 MiB bins: 3 per item (90 MiB), the fourth would pass the bin.
    const partitions = Array.from({ length: 10 }, (_, p) => ({
      topic: 'orders',
      partition: p,
      from: 0,
      to: 30 * 1024,
      bytesPerOffset: 1024,
    }));
    const items = packBackupItems(partitions, { fargateMinOffsets: 20_000_000, targetBytes: 100 * MiB });
    expect(items.map((i) => i.ranges.map((r) => r.partition))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
      [9],
    ]);
    expect(items.map((i) => i.bytes)).toEqual([90 * MiB, 90 * MiB, 90 * MiB, 30 * MiB]);
  });

  it('splits a partition large on its own into offset ranges that tile it, each its own item', () => {
    const big = { topic: 'logs', partition: 3, from: 1_000, to: 1_000_001, bytesPerOffset: 1000 };
    // 999,001 offsets × 1000 B = ~953 MiB into 100 MiB bins: 10 ranges.
    const items = packBackupItems(
      [big, { topic: 'logs', partition: 0, from: 0, to: 10, bytesPerOffset: 1000 }],
      {
        fargateMinOffsets: 20_000_000,
        targetBytes: 100 * MiB,
      },
    );
    const ranges = rangesByPartition(items).get('logs/3')!;
    expect(ranges).toHaveLength(10);
    expect(ranges[0]!.from).toBe(1_000);
    expect(ranges.at(-1)!.to).toBe(1_000_001);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.from).toBe(ranges[i - 1]!.to);
    for (const r of ranges) expect((r.to - r.from) * 1000).toBeLessThanOrEqual(100 * MiB);
    // The pieces are items of their own; the small partition is not packed with one.
    for (const i of items.filter((x) => x.ranges.some((r) => r.partition === 3)))
      expect(i.ranges).toHaveLength(1);
    expect(items).toHaveLength(11);
    expect(items.reduce((n, i) => n + i.offsets, 0)).toBe(999_001 + 10);
  });

  it('runs an item above fargate_min_offsets on Fargate, alone', () => {
    const items = packBackupItems(
      [
        { topic: 'a', partition: 0, from: 0, to: 9_000, bytesPerOffset: 1100 },
        { topic: 'a', partition: 1, from: 0, to: 20_000, bytesPerOffset: 10 },
        { topic: 'a', partition: 2, from: 0, to: 50, bytesPerOffset: 10 },
      ],
      { fargateMinOffsets: 15_000 },
    );
    expect(items.map((i) => [i.runner, i.ranges.map((r) => r.partition)])).toEqual([
      ['lambda', [0, 2]],
      ['fargate', [1]],
    ]);
  });

  it('leaves out partitions with nothing to read, caps the ranges per item, refuses a partition twice', () => {
    const parts = Array.from({ length: 7 }, (_, p) => ({
      topic: 't',
      partition: p,
      from: 5,
      to: p === 3 ? 5 : 6,
      bytesPerOffset: 1,
    }));
    const items = packBackupItems(parts, { fargateMinOffsets: 100, maxRangesPerItem: 2 });
    expect(items.map((i) => i.ranges.map((r) => r.partition))).toEqual([
      [0, 1],
      [2, 4],
      [5, 6],
    ]);
    expect(() => packBackupItems([parts[0]!, parts[0]!], { fargateMinOffsets: 100 })).toThrow(/given twice/);
  });

  it('is deterministic: the same items whatever order the partitions come in', () => {
    const partitions: PartitionToRead[] = [];
    for (let p = 0; p < 300; p++)
      partitions.push({
        topic: `t${p % 7}`,
        partition: p,
        from: 0,
        to: 1 + ((p * 7919) % 5000),
        bytesPerOffset: 1 + (p % 13) * 100,
      });
    const opts = { fargateMinOffsets: 4_000, targetBytes: 20 * MiB, maxRangesPerItem: 17 };
    const a = packBackupItems(partitions, opts);
    const shuffled = [...partitions].sort((x, y) => ((x.partition * 31) % 97) - ((y.partition * 31) % 97));
    expect(packBackupItems(shuffled, opts)).toEqual(a);
    expect(packBackupItems([...partitions].reverse(), opts)).toEqual(a);
    // Largest first.
    for (let i = 1; i < a.length; i++) expect(a[i]!.bytes).toBeLessThanOrEqual(a[i - 1]!.bytes);
  });

  it('sizes the default bin from the bench rate and the worker budget', () => {
    expect(DEFAULT_TARGET_BYTES).toBeGreaterThan(256 * MiB);
    expect(DEFAULT_TARGET_BYTES).toBeLessThan(64 * 1024 * MiB);
  });
});

describe('packRestoreItems', () => {
  const work = (topic: string, partition: number) => ({
    target_topic: topic,
    target_partition: partition,
    sources: [{ topic, partition }],
    backup_records: 1,
    base_offset: 0,
    mode: 'new' as const,
  });
  const GiB = 1024 ** 3;

  it('packs 10,000 small target partitions into 100 items, each partition in exactly one (its one writer)', () => {
    const partitions = [];
    for (let t = 19; t >= 0; t--)
      for (let p = 0; p < 500; p++) partitions.push({ work: work(`t${t}`, p), bytes: 200 });
    const items = packRestoreItems(partitions, { fargateMinBytes: 8 * GiB });
    expect(items).toHaveLength(100);
    const seen = items.flatMap((i) => i.works.map((w) => `${w.target_topic}/${w.target_partition}`));
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    for (const item of items) {
      expect(RestoreItem.parse(item)).toEqual(item);
      expect(item.runner).toBe('lambda');
      expect(item.bytes).toBe(item.works.length * 200);
    }
    // Neighbouring partitions of a topic stay together: every item holds one topic's consecutive partitions.
    for (const item of items) {
      expect(new Set(item.works.map((w) => w.target_topic)).size).toBe(1);
      const ps = item.works.map((w) => w.target_partition);
      expect(ps).toEqual(ps.map((_, i) => ps[0]! + i));
    }
    // The state a continuation carries stays small: the largest item's JSON.
    expect(Math.max(...items.map((i) => JSON.stringify(i).length))).toBeLessThan(32 * 1024);
  });

  it('gives a partition over the Fargate threshold a Fargate item of its own, one over the bin a Lambda item', () => {
    const items = packRestoreItems(
      [
        { work: work('a', 0), bytes: 100 },
        { work: work('a', 1), bytes: 9 * GiB },
        { work: work('a', 2), bytes: 100 },
        { work: work('a', 3), bytes: DEFAULT_RESTORE_TARGET_BYTES + 1 },
        { work: work('a', 4), bytes: DEFAULT_RESTORE_TARGET_BYTES - 150 },
      ],
      { fargateMinBytes: 8 * GiB },
    );
    expect(items.map((i) => [i.runner, i.works.map((w) => w.target_partition), i.bytes])).toEqual([
      ['fargate', [1], 9 * GiB],
      ['lambda', [3], DEFAULT_RESTORE_TARGET_BYTES + 1],
      // 0, 2 and 4 in one bin would pass it by 50 bytes: 4 starts the next.
      ['lambda', [4], DEFAULT_RESTORE_TARGET_BYTES - 150],
      ['lambda', [0, 2], 200],
    ]);
  });
});
