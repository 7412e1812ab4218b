import { describe, expect, it } from 'vitest';
import { joinRangeGaps, tileRanges } from '../../../lib/backup/range-tiling.ts';
import type { RangeProgress } from '../../../lib/format/plan.ts';

const span = { topic: 'orders', partition: 3, from: 100, to: 1_000 };

/** A range's progress; finished unless `next` says where it stands. */
function range(from: number, to: number, next = to, gaps: RangeProgress['gaps'] = []): RangeProgress {
  return {
    topic: 'orders',
    partition: 3,
    from,
    to,
    next_offset: next,
    segments: [
      {
        key: `segments/orders/3/${from}`,
        first_offset: from,
        last_offset: Math.max(from, next - 1),
        records: 1,
        size: 1,
        uncompressed_size: 1,
        sha256: 'x',
        min_timestamp: 0,
        max_timestamp: 0,
      },
    ],
    gaps,
    updated_at: '2026-12-02T00:00:00.000Z',
  };
}
const bounds = (rs: RangeProgress[]) => rs.map((r) => [r.from, r.to]);
const gap = (start: number, end: number) => ({
  start_offset: start,
  end_offset: end,
  reason: 'retention' as const,
  detected_at: `t${start}`,
});

describe('tiling the ranges of a partition (finalize)', () => {
  it('puts ranges stored in any order together in offset order', () => {
    const tiled = tileRanges('b-1', span, [range(700, 1_000), range(100, 400), range(400, 700)]);
    expect(bounds(tiled)).toEqual([
      [100, 400],
      [400, 700],
      [700, 1_000],
    ]);
  });

  it('takes one whole range as the tiling, and needs none for a partition with nothing to read', () => {
    expect(bounds(tileRanges('b-1', span, [range(100, 1_000)]))).toEqual([[100, 1_000]]);
    expect(tileRanges('b-1', { ...span, from: 1_000 }, [])).toEqual([]);
    // An empty range is no coverage, and harmless.
    expect(bounds(tileRanges('b-1', span, [range(100, 100, 100), range(100, 1_000)]))).toEqual([
      [100, 1_000],
    ]);
  });

  it('names a missing range: the offsets no range holds', () => {
    expect(() => tileRanges('b-1', span, [range(100, 400), range(700, 1_000)])).toThrow(
      'backup b-1 is not finished: no range of orders/3 holds offsets [400, 700) (planned [100, 1000))',
    );
    expect(() => tileRanges('b-1', span, [range(100, 400), range(400, 700)])).toThrow(
      'no range of orders/3 holds offsets [700, 1000)',
    );
    expect(() => tileRanges('b-1', span, [range(400, 1_000)])).toThrow(
      'no range of orders/3 holds offsets [100, 400)',
    );
    expect(() => tileRanges('b-1', span, [])).toThrow('no range of orders/3 holds offsets [100, 1000)');
  });

  it('names a range that is not finished, with where it stands', () => {
    expect(() => tileRanges('b-1', span, [range(100, 400), range(400, 700, 650), range(700, 1_000)])).toThrow(
      'backup b-1 is not finished: orders/3 is at offset 650 of 700 (its range [400, 700) of [100, 1000))',
    );
    // A whole-partition range reads as before ranges existed.
    expect(() => tileRanges('b-1', span, [range(100, 1_000, 120)])).toThrow(
      'backup b-1 is not finished: orders/3 is at offset 120 of 1000',
    );
  });

  it('names ranges that overlap', () => {
    expect(() => tileRanges('b-1', span, [range(100, 400), range(350, 1_000)])).toThrow(
      'backup b-1: the ranges of orders/3 overlap: [350, 1000) holds offset 400, where [100, 400) ended; ranges of a partition must tile [100, 1000)',
    );
  });

  it('refuses a range outside the planned offsets', () => {
    expect(() => tileRanges('b-1', span, [range(0, 400), range(400, 1_000)])).toThrow(
      "the progress of orders/3 range [0, 400) lies outside orders/3's planned offsets [100, 1000)",
    );
    expect(() => tileRanges('b-1', span, [range(100, 1_200)])).toThrow('range [100, 1200) lies outside');
  });

  it('finds the complete chain among the ranges of two differently cut runs (a resumed backup)', () => {
    // The first run cut the partition in three and finished two pieces; the resumed run read it whole.
    const first = [range(100, 400), range(400, 700, 500), range(700, 1_000)];
    expect(bounds(tileRanges('b-1', span, [...first, range(100, 1_000)]))).toEqual([[100, 1_000]]);
    // The resumed run cut it in two and finished both: a chain through pieces of both cuts.
    const second = [range(100, 550, 120), range(550, 700)];
    expect(bounds(tileRanges('b-1', span, [...first, ...second, range(400, 550)]))).toEqual([
      [100, 400],
      [400, 550],
      [550, 700],
      [700, 1_000],
    ]);
    // A longer range that dead-ends is given up for a shorter one that goes on.
    expect(bounds(tileRanges('b-1', span, [range(100, 600), range(100, 300), range(300, 1_000)]))).toEqual([
      [100, 300],
      [300, 1_000],
    ]);
  });
});

describe('joining the retention gaps of tiling ranges', () => {
  it('joins a gap ending at a range boundary with the next range’s gap starting there, keeping others apart', () => {
    const ranges = [
      range(100, 400, 400, [gap(100, 150), gap(300, 400)]),
      range(400, 700, 700, [gap(400, 450)]),
      range(700, 1_000, 1_000, [gap(800, 900)]),
    ];
    expect(joinRangeGaps(ranges)).toEqual([gap(100, 150), gap(300, 450), gap(800, 900)]);
    expect(joinRangeGaps([range(100, 1_000)])).toEqual([]);
  });
});
