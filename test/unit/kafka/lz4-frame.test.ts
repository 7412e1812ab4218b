import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lz4FrameCompress, lz4FrameDecompress } from '../../../lib/kafka/lz4-frame.ts';

const require = createRequire(import.meta.url);
const lz4js = require('lz4js') as { decompress(b: Uint8Array): Uint8Array | number[] };

describe('LZ4 frames for Kafka', () => {
  it('writes a frame with the block-independence flag Kafka requires, and 64 KiB blocks', () => {
    const frame = lz4FrameCompress(Buffer.from('hello '.repeat(100)));
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    expect(frame[4]! & 0x20).toBe(0x20); // FLG: block independence
    expect(frame[5]).toBe(0x40); // BD: 64 KiB blocks
  });

  it('round-trips compressible, incompressible, empty and multi-block data', () => {
    const random = Buffer.alloc(300_000);
    let x = 12345;
    for (let i = 0; i < random.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      random[i] = x & 0xff;
    }
    for (const data of [Buffer.alloc(0), Buffer.from('a'), Buffer.from('kafka '.repeat(50_000)), random]) {
      const frame = lz4FrameCompress(data);
      expect(lz4FrameDecompress(frame).equals(data)).toBe(true);
      // An independent decoder agrees.
      expect(Buffer.from(lz4js.decompress(frame)).equals(data)).toBe(true);
    }
  });

  it('compresses repetitive data', () => {
    const data = Buffer.from('0123456789'.repeat(20_000));
    expect(lz4FrameCompress(data).length).toBeLessThan(data.length / 10);
  });
});
