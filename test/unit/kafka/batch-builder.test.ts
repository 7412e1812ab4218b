// Outgoing batches of a restore: a stored batch resent as it is (producer fields and CRC rewritten), several
// joined (offset and timestamp deltas rewritten, keys, values and headers copied), codecs changed, records added.
import { describe, expect, it } from 'vitest';
import { OutgoingBatch, resendable, restamp } from '../../../lib/kafka/protocol/batch-builder.ts';
import { crc32c } from '../../../lib/kafka/protocol/crc32c.ts';
import {
  Codec,
  type CodecName,
  decodeBatch,
  encodeBatch,
  encodeBatchPart,
  type OutgoingRecord,
  readBatchHeader,
  recordsRegion,
  scanBatch,
  verifyCrc,
} from '../../../lib/kafka/protocol/record-batch.ts';

const producer = { producerId: 7_000_000_000n, producerEpoch: 3, baseSequence: 41 };

function records(n: number, from = 0): OutgoingRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 4 === 0 ? null : Buffer.from(`key-${from + i}`),
    value:
      i % 5 === 0 ? null : i % 5 === 1 ? Buffer.alloc(0) : Buffer.from(`{"n":${from + i}}`.repeat(i % 9)),
    // Out of order within a batch, and a far past timestamp: deltas go negative.
    timestamp: 1_700_000_000_000 + (from + i) * 10 - (i % 3 === 0 ? 5_000 : 0) - (i === 2 ? 10 ** 11 : 0),
    headers:
      i % 2 === 0
        ? [
            { key: 'a', value: Buffer.from('first') },
            { key: 'ü', value: null },
            { key: 'a', value: Buffer.from([0, 255]) },
          ]
        : [],
  }));
}

/** A batch as a broker returns it: at `baseOffset`, from another producer, transactional if asked. */
function stored(rs: OutgoingRecord[], baseOffset: number, codec: CodecName = 'none', transactional = false) {
  const bytes = encodeBatch(rs, { producerId: 99n, producerEpoch: 1, baseSequence: 500, codec });
  bytes.writeBigInt64BE(BigInt(baseOffset), 0);
  bytes.writeInt32BE(12, 12);
  if (transactional) bytes.writeInt16BE(bytes.readInt16BE(21) | 0x10, 21);
  bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17); // as the broker's would be after the changes
  return { header: readBatchHeader(bytes, 0)!, bytes };
}

const content = (rs: { key: Buffer | null; value: Buffer | null; timestamp: number; headers: unknown }[]) =>
  rs.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers }));

describe('outgoing batches', () => {
  it('resends a lone stored batch as it is: only producer fields, base offset, attributes and CRC change', () => {
    for (const codec of Object.keys(Codec) as CodecName[]) {
      const rs = records(30);
      const s = stored(rs, 1000, codec, true);
      const b = new OutgoingBatch();
      b.addStored(s);
      expect(b.records).toBe(30);
      const out = b.finish('source', producer);
      const h = readBatchHeader(out, 0)!;
      verifyCrc(h, out);
      expect(h).toMatchObject({
        baseOffset: 0,
        partitionLeaderEpoch: -1,
        codec,
        transactional: false,
        producerId: producer.producerId,
        producerEpoch: 3,
        baseSequence: 41,
        recordCount: 30,
      });
      // The records' bytes are the stored ones.
      expect(out.subarray(61).equals(s.bytes.subarray(61))).toBe(true);
      expect(content(decodeBatch(h, out).records)).toEqual(content(rs));
    }
  });

  it('joins stored batches of one codec into one, records byte for byte, offsets 0..n-1', () => {
    for (const codec of ['none', 'zstd', 'lz4'] as CodecName[]) {
      const parts = [records(10, 0), records(1, 10), records(25, 11)];
      const b = new OutgoingBatch();
      let base = 5000;
      for (const p of parts) {
        b.addStored(stored(p, base, codec));
        base += p.length;
      }
      const out = b.finish('source', producer);
      const h = readBatchHeader(out, 0)!;
      verifyCrc(h, out);
      expect(h.codec).toBe(codec);
      expect(h.recordCount).toBe(36);
      expect(h.lastOffsetDelta).toBe(35);
      const decoded = decodeBatch(h, out).records;
      expect(decoded.map((r) => r.offset)).toEqual(Array.from({ length: 36 }, (_, i) => i));
      expect(content(decoded)).toEqual(content(parts.flat()));
      expect(scanBatch(h, recordsRegion(h, out)).dense).toBe(true);
    }
  });

  it('changes the codec when asked, and mixes stored batches with added records', () => {
    const b = new OutgoingBatch();
    b.addStored(stored(records(5), 10, 'gzip'));
    const extra = records(3, 100);
    for (const r of extra) b.addRecord(r);
    b.addStored(stored(records(4, 200), 300, 'gzip'));
    const out = b.finish('snappy', producer);
    const h = readBatchHeader(out, 0)!;
    verifyCrc(h, out);
    expect(h.codec).toBe('snappy');
    expect(content(decodeBatch(h, out).records)).toEqual(
      content([...records(5), ...extra, ...records(4, 200)]),
    );
  });

  it('keeps its own copy of a batch it holds back: the caller may reuse the bytes (a segment reader’s window)', () => {
    for (const [codec, capacity] of [
      ['none', 0],
      ['none', 1 << 20],
      ['gzip', 4096],
    ] as const) {
      const window = Buffer.from(stored(records(4), 0).bytes);
      const b = new OutgoingBatch(capacity);
      b.addStored({ header: readBatchHeader(window, 0)!, bytes: window });
      window.fill(0xee);
      b.addStored(stored(records(2, 50), 60));
      const out = b.finish(codec, producer);
      const h = readBatchHeader(out, 0)!;
      verifyCrc(h, out);
      expect(content(decodeBatch(h, out).records)).toEqual(content([...records(4), ...records(2, 50)]));
    }
  });

  it('a restamped batch carries a CRC only when its stored CRC was right', () => {
    const s = stored(records(3), 0);
    const ok = restamp(s, producer);
    verifyCrc(readBatchHeader(ok, 0)!, ok);
    s.bytes[s.bytes.length - 1]! ^= 1;
    const bad = restamp(s, producer);
    expect(() => verifyCrc(readBatchHeader(bad, 0)!, bad)).toThrow(/CRC/);
  });

  it('resends only batches whose records need no change', () => {
    const s = stored(records(3), 0);
    expect(resendable(s.header)).toBe(true);
    expect(resendable({ ...s.header, timestampType: 1 })).toBe(false);
    expect(resendable({ ...s.header, control: true })).toBe(false);
    expect(resendable({ ...s.header, attributes: s.header.attributes | 0x40 })).toBe(false);
    expect(resendable({ ...s.header, recordCount: 2 })).toBe(false); // a compaction hole
  });
});

describe('batch scan and parts', () => {
  it('finds first and last offsets, min and max timestamps, and holes', () => {
    const rs = records(6);
    const s = stored(rs, 100);
    const scan = scanBatch(s.header, recordsRegion(s.header, s.bytes));
    const ts = rs.map((r) => r.timestamp);
    expect(scan).toEqual({
      firstOffset: 100,
      lastOffset: 105,
      minTimestamp: Math.min(...ts),
      maxTimestamp: Math.max(...ts),
      dense: true,
    });
    // Keep records 101, 103 and 104 only, as compaction would, at their offsets.
    const decoded = decodeBatch(s.header, s.bytes).records;
    const part = encodeBatchPart(s.header, [decoded[1]!, decoded[3]!, decoded[4]!]);
    const ph = readBatchHeader(part, 0)!;
    verifyCrc(ph, part);
    const ps = scanBatch(ph, recordsRegion(ph, part));
    expect(ps).toMatchObject({ firstOffset: 101, lastOffset: 104, dense: false });
    expect(decodeBatch(ph, part).records).toEqual([decoded[1], decoded[3], decoded[4]]);
  });
});
