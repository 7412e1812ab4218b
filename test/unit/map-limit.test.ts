import { describe, expect, it } from 'vitest';
import { allSettledOrThrow, mapLimit } from '../../lib/map-limit.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and returns results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      most = Math.max(most, ++inFlight);
      await tick(n);
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });

  it('after a failure starts no further call, and rejects only once the calls in flight have ended', async () => {
    const ended: number[] = [];
    const started: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 3, async (i) => {
      started.push(i);
      if (i === 1) throw new Error('boom');
      await tick(i === 0 ? 30 : 1);
      ended.push(i);
    });
    await expect(run).rejects.toThrow('boom');
    // 0 was in flight when 1 failed: it ended before the rejection. 2 had started too; nothing after it.
    expect(ended).toContain(0);
    expect(started).not.toContain(4);
    expect(started).not.toContain(5);
  });
});

describe('allSettledOrThrow', () => {
  it('rejects with the first failure after every promise has settled', async () => {
    let slowDone = false;
    const slow = tick(20).then(() => {
      slowDone = true;
    });
    await expect(allSettledOrThrow([Promise.reject(new Error('first')), slow])).rejects.toThrow('first');
    expect(slowDone).toBe(true);
  });
});
