import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation, crc32cJs } from '../../../lib/kafka/protocol/crc32c.ts';

describe('crc32c', () => {
  it('runs the native implementation: npm ci installed its binary for this machine (x86_64 Linux)', () => {
    expect(`${process.platform}-${process.arch}`).toBe('linux-x64');
    expect(crc32cImplementation).toBe('native');
  });

  it('gives the standard check value (RFC 3720 B.4: 32 bytes of zeros, of 0xff, "123456789")', () => {
    for (const f of [crc32c, crc32cJs]) {
      expect(f(Buffer.alloc(32))).toBe(0x8a9136aa);
      expect(f(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
      expect(f(Buffer.from('123456789'))).toBe(0xe3069283);
      expect(f(Buffer.alloc(0))).toBe(0);
    }
  });

  it('agrees with the JavaScript one on views at any offset and length (Buffer subarrays of pooled memory)', () => {
    const big = randomBytes(70_000);
    for (const [start, end] of [
      [0, 70_000],
      [1, 69_999],
      [21, 4_117],
      [7, 8],
      [65_535, 70_000],
    ] as const) {
      const view = big.subarray(start, end);
      expect(crc32c(view)).toBe(crc32cJs(view));
    }
  });
});
