import { describe, expect, it } from 'vitest';
import { drillPartition, drillValue, PartitionDigest } from '../../../lib/drill/drill-data.ts';

describe('drill data', () => {
  it('is a pure function of the index, of the requested size, and differs between records', () => {
    expect(drillValue(7, 1000).equals(drillValue(7, 1000))).toBe(true);
    expect(drillValue(7, 1000).length).toBe(1000);
    expect(drillValue(7, 1000).equals(drillValue(8, 1000))).toBe(false);
    expect(drillValue(7, 1000).subarray(0, 2).toString()).toBe('7:');
    expect(drillValue(123456, 3).length).toBe(3);
  });

  it('spreads records round-robin over partitions', () => {
    expect([0, 1, 2, 3, 4].map((i) => drillPartition(i, 3))).toEqual([0, 1, 2, 0, 1]);
  });

  it('digests tell null from empty and depend on order', () => {
    const d = (pairs: [Buffer | null, Buffer | null][]) => {
      const x = new PartitionDigest();
      for (const [k, v] of pairs) x.add(k, v);
      return x.digest();
    };
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    expect(d([[null, a]])).not.toBe(d([[Buffer.alloc(0), a]]));
    expect(
      d([
        [a, b],
        [b, a],
      ]),
    ).not.toBe(
      d([
        [b, a],
        [a, b],
      ]),
    );
    expect(d([[a, b]])).toBe(d([[a, b]]));
  });
});
