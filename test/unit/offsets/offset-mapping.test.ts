import { describe, expect, it } from 'vitest';
import { mapCommittedOffset, OffsetRunBuilder } from '../../../lib/offsets/offset-mapping.ts';

describe('OffsetRunBuilder', () => {
  it('folds consecutive source offsets into runs and starts a new run at each gap', () => {
    const b = new OffsetRunBuilder();
    // Source offsets with gaps (compaction at 3-4, a transaction marker at 8), restored contiguously from 100.
    for (const [i, src] of [0, 1, 2, 5, 6, 7, 9].entries()) b.add(src, 100 + i);
    expect(b.runs).toEqual([
      [0, 100, 3],
      [5, 103, 3],
      [9, 106, 1],
    ]);
    expect(b.records).toBe(7);
  });
});

describe('mapCommittedOffset', () => {
  const runs: [number, number, number][] = [
    [0, 100, 3],
    [5, 103, 3],
    [9, 106, 1],
  ];
  const end = 107;

  it('maps an offset that was restored to its own target offset', () => {
    expect(mapCommittedOffset(runs, 0, end)).toBe(100);
    expect(mapCommittedOffset(runs, 2, end)).toBe(102);
    expect(mapCommittedOffset(runs, 6, end)).toBe(104);
    expect(mapCommittedOffset(runs, 9, end)).toBe(106);
  });

  it('maps an offset inside a gap to the next restored record', () => {
    expect(mapCommittedOffset(runs, 3, end)).toBe(103);
    expect(mapCommittedOffset(runs, 4, end)).toBe(103);
    expect(mapCommittedOffset(runs, 8, end)).toBe(106);
  });

  it('maps an offset past every restored record to the end', () => {
    expect(mapCommittedOffset(runs, 10, end)).toBe(107);
    expect(mapCommittedOffset(runs, 1_000_000, end)).toBe(107);
    expect(mapCommittedOffset([], 5, 42)).toBe(42);
  });

  it('maps an offset before the first restored record (deleted by retention) to the first one', () => {
    expect(mapCommittedOffset([[50, 0, 10]], 3, 10)).toBe(0);
  });

  it('agrees with a linear scan on many runs', () => {
    const b = new OffsetRunBuilder();
    let src = 0;
    const sources: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      src += 1 + ((i * 7919) % 5 === 0 ? 3 : 0);
      sources.push(src);
      b.add(src, i);
    }
    for (let k = 0; k < src + 3; k += 13) {
      const first = sources.findIndex((s) => s >= k);
      expect(mapCommittedOffset(b.runs, k, 2_000)).toBe(first === -1 ? 2_000 : first);
    }
  });
});
