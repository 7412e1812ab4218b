import { describe, expect, it } from 'vitest';
import type { Manifest, SegmentRef } from '../../../lib/format/manifest.ts';
import {
  DEFAULT_BYTES_PER_OFFSET,
  estimateBytesPerOffset,
  historyOf,
} from '../../../lib/plan/bytes-per-offset.ts';

const seg = (first: number, last: number, uncompressed: number, size: number): SegmentRef => ({
  key: `segments/x/${first}`,
  first_offset: first,
  last_offset: last,
  records: last - first + 1,
  size,
  uncompressed_size: uncompressed,
  sha256: '0'.repeat(64),
  min_timestamp: 0,
  max_timestamp: 0,
});

function manifest(id: string, partitions: Record<number, SegmentRef[]>, topic = 'orders'): Manifest {
  return {
    backup_id: id,
    topics: [
      {
        name: topic,
        partitions: Object.entries(partitions).map(([p, segments]) => ({
          partition: Number(p),
          segments,
        })),
      },
    ],
  } as unknown as Manifest;
}

describe('bytes per offset', () => {
  it('from the newest backup holding the partition: uncompressed bytes over the offsets its segments span', () => {
    const older = manifest('b1', { 0: [seg(0, 99, 100_000, 10_000)], 1: [seg(0, 9, 5_000, 1_000)] });
    const newer = manifest('b2', { 0: [seg(0, 99, 20_000, 5_000), seg(100, 199, 30_000, 5_000)], 1: [] });
    const h = historyOf([older, newer]);
    expect(h.partitions.get('orders\u00000')).toEqual({
      bytesPerOffset: 250,
      storedRatio: 0.2,
      source: 'previous_backup',
      backupId: 'b2',
    });
    // b2 has no segment of partition 1: b1's.
    expect(h.partitions.get('orders\u00001')).toMatchObject({ bytesPerOffset: 500, backupId: 'b1' });
    // The topic as a whole, in b2.
    expect(h.topics.get('orders')).toMatchObject({ bytesPerOffset: 250, backupId: 'b2' });
  });

  it('a partition without history takes its topic’s; one of an unknown topic the default when not probed', async () => {
    const h = historyOf([manifest('b1', { 0: [seg(0, 9, 2_000, 100)] })]);
    const got = await estimateBytesPerOffset(
      [
        { topic: 'orders', partition: 0, from: 10, to: 20 },
        { topic: 'orders', partition: 7, from: 0, to: 20 },
        { topic: 'fresh', partition: 0, from: 0, to: 20 },
      ],
      { history: h },
    );
    expect(got.get('orders\u00000')).toMatchObject({ bytesPerOffset: 200, source: 'previous_backup' });
    expect(got.get('orders\u00007')).toMatchObject({ bytesPerOffset: 200, source: 'previous_backup' });
    expect(got.get('fresh\u00000')).toEqual({
      bytesPerOffset: DEFAULT_BYTES_PER_OFFSET,
      storedRatio: 1,
      source: 'default',
    });
  });
});
