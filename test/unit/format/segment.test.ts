import { createHash, randomBytes } from 'node:crypto';
import { zstdCompressSync as compress, zstdDecompressSync as decompress } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../../../lib/errors.ts';
import { type BackupRecord, TimestampType } from '../../../lib/format/record.ts';
import { encodeRecord } from '../../../lib/format/record-codec.ts';
import { SEGMENT_MAGIC_V1 as SEGMENT_MAGIC } from '../../../lib/format/segment.ts';
import { readSegment } from '../../../lib/format/segment-reader.ts';
import {
  type FinishedSegmentV1 as FinishedSegment,
  SegmentWriterV1 as SegmentWriter,
} from '../../../lib/format/segment-writer-v1.ts';

const KEY = 'segments/orders/3/00000000000000000100-00000000000000000399-abc.kbseg.zst';

/** Records with gaps in offsets, timestamps out of order, nulls and headers: what compaction leaves. */
function sampleRecords(n: number, firstOffset = 100): BackupRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    offset: firstOffset + i * 3,
    timestamp: 1_700_000_000_000 + ((i * 7919) % 1000) - 500,
    timestampType: i % 2 === 0 ? TimestampType.CreateTime : TimestampType.LogAppendTime,
    key: i % 5 === 0 ? null : Buffer.from(`key-${i}`),
    value:
      i % 7 === 0
        ? null
        : Buffer.from(JSON.stringify({ id: i, name: `customer ${i % 13}`, pad: 'x'.repeat(i % 50) })),
    headers:
      i % 3 === 0
        ? [
            { key: 'h', value: Buffer.from([i & 0xff]) },
            { key: 'h', value: null },
          ]
        : [],
  }));
}

function write(records: BackupRecord[], level = 3): FinishedSegment {
  const w = new SegmentWriter({ level });
  for (const r of records) w.add(r);
  return w.finish();
}

async function* chunks(body: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

async function readAll(body: AsyncIterable<Uint8Array>, expect?: Parameters<typeof readSegment>[1]) {
  const out: BackupRecord[] = [];
  for await (const r of readSegment(body, expect)) out.push(r);
  return out;
}

async function failure(body: Buffer, expectation: Parameters<typeof readSegment>[1] = { key: KEY }) {
  return readAll(chunks(body, 1000), expectation).then(
    () => {
      throw new Error('read succeeded');
    },
    (e: unknown) => e as Error,
  );
}

describe('format-1 segment writer and reader', () => {
  it('round-trips records through 7-byte chunks, checking the summary', async () => {
    const records = sampleRecords(500);
    const seg = write(records);
    const back = await readAll(chunks(seg.body, 7), { key: KEY, ...seg });
    expect(back).toEqual(records);
  });

  it('round-trips a 5 MiB value split across chunks', async () => {
    const big = randomBytes(5 * 1024 * 1024);
    const records = [
      ...sampleRecords(3, 0),
      { ...sampleRecords(1, 50)[0]!, value: big },
      ...sampleRecords(3, 60),
    ];
    const seg = write(records);
    const back = await readAll(chunks(seg.body, 4099), seg);
    expect(back.map((r) => r.offset)).toEqual(records.map((r) => r.offset));
    expect(back[3]!.value!.equals(big)).toBe(true);
  });

  it('reads a highly compressible body delivered as one chunk (output outgrows each zstd call)', async () => {
    const records = [
      { ...sampleRecords(1)[0]!, value: Buffer.alloc(5 * 1024 * 1024, 'a') },
      ...sampleRecords(5, 200),
    ];
    const seg = write(records);
    expect(seg.body.length).toBeLessThan(64 * 1024);
    const back = await readAll(chunks(seg.body, seg.body.length), seg);
    // Buffer.equals, not toEqual: a deep compare of 5 MiB element by element takes seconds.
    expect(back[0]!.value!.equals(records[0]!.value!)).toBe(true);
    expect(back.slice(1)).toEqual(records.slice(1));
  });

  it('summarises what it wrote', () => {
    const records = sampleRecords(200);
    const w = new SegmentWriter({ level: 3 });
    expect([w.records, w.firstOffset, w.minTimestamp]).toEqual([0, undefined, undefined]);
    for (const r of records) w.add(r);
    expect(w.records).toBe(200);
    expect(w.firstOffset).toBe(100);
    expect(w.lastOffset).toBe(100 + 199 * 3);
    const timestamps = records.map((r) => r.timestamp);
    expect(w.minTimestamp).toBe(Math.min(...timestamps));
    expect(w.maxTimestamp).toBe(Math.max(...timestamps));
    const encoded = records.reduce((n, r) => n + encodeRecord(r).length, SEGMENT_MAGIC.length);
    expect(w.uncompressedBytes).toBe(encoded);

    const seg = w.finish();
    expect(seg).toMatchObject({
      records: 200,
      first_offset: 100,
      last_offset: 697,
      min_timestamp: Math.min(...timestamps),
      max_timestamp: Math.max(...timestamps),
      uncompressed_size: encoded,
      size: seg.body.length,
      sha256: createHash('sha256').update(seg.body).digest('hex'),
    });
    expect(w.compressedBytes).toBe(seg.body.length);
  });

  it('stores one zstd frame whose content is the magic followed by the encoded records', () => {
    const records = sampleRecords(20);
    const plain = decompress(write(records).body);
    expect(plain.subarray(0, 8).toString('ascii')).toBe('KBSEG001');
    expect(plain.subarray(8).equals(Buffer.concat(records.map(encodeRecord)))).toBe(true);
  });

  it('reports compressed bytes while records are still being added, so callers can cut at a size', () => {
    const w = new SegmentWriter({ level: 1 });
    for (let i = 0; i < 40; i++) {
      w.add({ ...sampleRecords(1, i)[0]!, value: randomBytes(64 * 1024) });
    }
    expect(w.uncompressedBytes).toBeGreaterThan(40 * 64 * 1024);
    expect(w.compressedBytes).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('compresses compressible data smaller at a higher level', () => {
    const records = sampleRecords(3000);
    const fast = write(records, 1).body.length;
    const small = write(records, 19).body.length;
    expect(small).toBeLessThan(fast * 0.95);
  });

  it('rejects offsets that do not increase, and finishing an empty segment', () => {
    const w = new SegmentWriter({ level: 3 });
    w.add(sampleRecords(1, 10)[0]!);
    expect(() => w.add(sampleRecords(1, 10)[0]!)).toThrow(/does not follow 10/);
    expect(() => new SegmentWriter({ level: 3 }).finish()).toThrow(/empty/);
  });

  describe('detects corruption', () => {
    const records = sampleRecords(2000);
    const seg = write(records);

    it('a flipped byte anywhere, with the manifest checks', async () => {
      for (const at of [0, 5, Math.floor(seg.body.length / 2), seg.body.length - 1]) {
        const bad = Buffer.from(seg.body);
        bad[at]! ^= 0x01;
        const e = await failure(bad, { key: KEY, ...seg });
        expect(e, `flipped byte ${at}`).toBeInstanceOf(CorruptDataError);
        expect(e.message).toContain(KEY);
      }
    });

    it('a flipped byte in the middle even without a checksum to compare (zstd checks its own)', async () => {
      const bad = Buffer.from(seg.body);
      bad[Math.floor(bad.length / 2)]! ^= 0x40;
      const e = await failure(bad, { key: KEY });
      expect(e).toBeInstanceOf(CorruptDataError);
      expect(e.message).toContain(KEY);
    });

    it('a flipped byte inside incompressible data, caught by the zstd content checksum alone', async () => {
      // zstd stores random bytes as a raw block: a flip there breaks no structure, only the checksum.
      const value = randomBytes(256 * 1024);
      const raw = write([{ ...sampleRecords(1)[0]!, value }]);
      const bad = Buffer.from(raw.body);
      const at = bad.indexOf(value.subarray(1000, 1032));
      expect(at).toBeGreaterThan(0);
      bad[at]! ^= 0x01;
      const e = await failure(bad, { key: KEY });
      expect(e).toBeInstanceOf(CorruptDataError);
      expect(e.message).toContain(KEY);
    });

    it('a truncated body', async () => {
      for (const keep of [seg.body.length - 1, Math.floor(seg.body.length / 2), 3]) {
        const e = await failure(seg.body.subarray(0, keep), { key: KEY });
        expect(e, `kept ${keep} bytes`).toBeInstanceOf(CorruptDataError);
        expect(e.message).toContain(KEY);
      }
    });

    it('an empty body', async () => {
      expect((await failure(Buffer.alloc(0))).message).toMatch(/empty/);
    });

    it('a record count, offset range or checksum that differs from the manifest', async () => {
      const count = await failure(seg.body, { key: KEY, records: seg.records + 1 });
      expect(count).toBeInstanceOf(CorruptDataError);
      expect(count.message).toContain(KEY);
      expect(count.message).toMatch(/record count is 2000, expected 2001/);

      const range = await failure(seg.body, { key: KEY, first_offset: 99, last_offset: seg.last_offset });
      expect(range.message).toMatch(/first offset is 100, expected 99/);
      expect(range.message).not.toMatch(/last offset/);

      const sum = await failure(seg.body, { key: KEY, sha256: '0'.repeat(64) });
      expect(sum.message).toMatch(/sha256 is [0-9a-f]{64}, expected 0{64}/);
    });

    it('zstd data that is not a segment, and bytes that are not zstd', async () => {
      const notSegment = await failure(compress(Buffer.from('PARQUET1 and more bytes')));
      expect(notSegment).toBeInstanceOf(CorruptDataError);
      expect(notSegment.message).toMatch(/does not start with KBSEG001/);

      const notZstd = await failure(Buffer.from('{"this": "is json"}'));
      expect(notZstd).toBeInstanceOf(CorruptDataError);
      expect(notZstd.message).toContain(KEY);
      expect(notZstd.message).toMatch(/zstd/);
    });

    it('offsets that go backwards inside a well-formed stream', async () => {
      const forged = compress(
        Buffer.concat([SEGMENT_MAGIC, encodeRecord(records[1]!), encodeRecord(records[0]!)]),
      );
      const e = await failure(forged);
      expect(e.message).toMatch(/offset 100 follows 103/);

      const repeated = compress(
        Buffer.concat([SEGMENT_MAGIC, encodeRecord(records[0]!), encodeRecord(records[0]!)]),
      );
      expect((await failure(repeated)).message).toMatch(/offset 100 follows 100/);
    });

    it('a complete zstd frame whose content stops inside a record', async () => {
      const cut = compress(Buffer.concat([SEGMENT_MAGIC, encodeRecord(records[0]!).subarray(0, -3)]));
      const e = await failure(cut);
      expect(e).toBeInstanceOf(CorruptDataError);
      expect(e.message).toMatch(/ends inside a record/);
    });
  });
});
