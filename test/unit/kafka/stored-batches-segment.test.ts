// (Here for the batch codec it needs to make batches.) Format-2 segments: Kafka's own batches behind an index entry, compressed by node:zlib's zstd.
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../../../lib/errors.ts';
import { readSegment, readSegmentItems } from '../../../lib/format/segment-reader.ts';
import { type ScannedBatch, SegmentWriter } from '../../../lib/format/segment-writer.ts';
import { crc32c } from '../../../lib/kafka/protocol/crc32c.ts';
import {
  type CodecName,
  decodeBatch,
  encodeBatch,
  readBatchHeader,
  recordsRegion,
  scanBatch,
} from '../../../lib/kafka/protocol/record-batch.ts';

const KEY = 'segments/t/0/x.kbseg.zst';

function batch(base: number, n: number, codec: CodecName): ScannedBatch {
  const bytes = encodeBatch(
    Array.from({ length: n }, (_, i) => ({
      key: i % 3 === 0 ? null : Buffer.from(`k${base + i}`),
      value: Buffer.from(`{"order":${base + i},"note":"${'x'.repeat(i * 7)}"}`),
      timestamp: 1_700_000_000_000 + base + i - (i === 1 ? 900 : 0),
      headers: [
        { key: 'h', value: Buffer.from('1') },
        { key: 'h', value: null },
      ],
    })),
    { producerId: 5n, producerEpoch: 0, baseSequence: base, codec },
  );
  bytes.writeBigInt64BE(BigInt(base), 0);
  bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
  const header = readBatchHeader(bytes, 0)!;
  return { header, bytes, scan: scanBatch(header, recordsRegion(header, bytes)) };
}

async function* chunks(body: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

describe('format-2 segments', () => {
  const batches = [batch(0, 10, 'none'), batch(10, 5, 'zstd'), batch(15, 1, 'lz4'), batch(16, 40, 'gzip')];

  it('store each batch byte for byte with its index entry, and summarise them', async () => {
    const w = new SegmentWriter({ level: 3 });
    for (const b of batches) await w.add(b);
    const seg = await w.finish();
    expect(seg).toMatchObject({ records: 56, first_offset: 0, last_offset: 55 });
    expect(seg.min_timestamp).toBe(Math.min(...batches.map((b) => b.scan.minTimestamp)));
    expect(seg.max_timestamp).toBe(Math.max(...batches.map((b) => b.scan.maxTimestamp)));
    const items = [];
    // A batch's bytes are valid until the next item is read: kept, they are copied.
    for await (const item of readSegmentItems(
      chunks(seg.body, 333),
      { key: KEY, ...seg },
      { verifyBatches: true },
    ))
      items.push(item.kind === 'batch' ? Buffer.from(item.batch.bytes) : null);
    expect(items).toEqual(batches.map((b) => b.bytes));
    const records = [];
    for await (const r of readSegment(chunks(seg.body, 4096), seg)) records.push(r);
    expect(records).toEqual(batches.flatMap((b) => decodeBatch(b.header, b.bytes).records));
  });

  it('detect a batch changed inside an intact zstd stream (CRC), when asked to verify batches', async () => {
    const damaged = batch(0, 10, 'none');
    damaged.bytes[damaged.bytes.length - 2]! ^= 0x20;
    const w = new SegmentWriter({ level: 1 });
    await w.add(damaged);
    const seg = await w.finish();
    const read = async () => {
      for await (const _ of readSegmentItems(chunks(seg.body, 100), { key: KEY }, { verifyBatches: true }));
    };
    await expect(read()).rejects.toThrow(CorruptDataError);
    await expect(read()).rejects.toThrow(/CRC/);
  });

  // The feed starts small and doubles up to 1 MiB: batches of every size around its steps must come back whole,
  // and a segment of one small batch must not hold zstd's 256 KiB output buffer while it waits to be stored.
  it('store batches of every size across the growing feed byte for byte; a tiny segment holds only its bytes', async () => {
    const sizes = [1, 60, 130, 5, 250, 300, 2, 420, 600, 3, 700];
    let base = 0;
    const many = sizes.map((n) => {
      const b = batch(base, n, 'none');
      base += n;
      return b;
    });
    expect(Math.max(...many.map((b) => b.bytes.length))).toBeGreaterThan(1024 * 1024);
    const w = new SegmentWriter({ level: 1 });
    for (const b of many) await w.add(b);
    const seg = await w.finish();
    const items = [];
    for await (const item of readSegmentItems(
      chunks(seg.body, 65_536),
      { key: KEY, ...seg },
      { verifyBatches: true },
    ))
      items.push(item.kind === 'batch' ? Buffer.from(item.batch.bytes) : null);
    // Buffer.equals: a deep equality over megabytes element by element takes many seconds.
    expect(items.map((x, i) => x?.equals(many[i]!.bytes))).toEqual(many.map(() => true));

    const tiny = new SegmentWriter({ level: 3 });
    await tiny.add(batch(0, 1, 'none'));
    const small = await tiny.finish();
    expect(small.chunks).toHaveLength(1);
    // Its own bytes (or a share of Node's small-buffer pool), not a slice of zstd's 256 KiB output buffer.
    expect(small.chunks[0]!.buffer.byteLength).toBeLessThanOrEqual(64 * 1024);
  });

  it('refuse batches out of offset order and empty segments', async () => {
    const w = new SegmentWriter({ level: 1 });
    await w.add(batches[1]!);
    await expect(w.add(batches[0]!)).rejects.toThrow(/does not follow/);
    await expect(new SegmentWriter({ level: 1 }).finish()).rejects.toThrow(/empty/);
  });
});
