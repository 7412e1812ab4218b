import { describe, expect, it } from 'vitest';
import { partsOf } from '../../../lib/storage/s3-store.ts';

const MiB = 1024 * 1024;

async function* chunks(sizes: number[]): AsyncGenerator<Uint8Array> {
  let n = 0;
  for (const size of sizes) yield Buffer.from(Array.from({ length: size }, () => n++ % 251));
}

async function collect(body: AsyncIterable<Uint8Array>, size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const part of partsOf(body, size)) out.push(part);
  return out;
}

describe('the parts of an S3 upload', () => {
  it('cuts the body into parts of the part size, the last one shorter, bytes in order', async () => {
    const sizes = [3, 10, 1, 7, 20, 4];
    const parts = await collect(chunks(sizes), 8);
    expect(parts.map((p) => p.length)).toEqual([8, 8, 8, 8, 8, 5]);
    const all = Buffer.concat(parts);
    expect([...all]).toEqual(Array.from({ length: 45 }, (_, i) => i % 251));
  });

  it('gives a body smaller than a part a buffer of its own size, not a part-sized one', async () => {
    const [part] = await collect(chunks([MiB / 2, MiB / 2]), 8 * MiB);
    expect(part!.length).toBe(MiB);
    expect(part!.buffer.byteLength).toBe(MiB);
    expect(await collect(chunks([]), 8 * MiB)).toEqual([]);
  });
});
