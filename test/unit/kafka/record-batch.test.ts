import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../lib/kafka/protocol/crc32c.ts';
import {
  batchesIn,
  Codec,
  decodeBatch,
  encodeBatch,
  type OutgoingRecord,
  RecordBatchError,
  readBatchHeader,
} from '../../../lib/kafka/protocol/record-batch.ts';

const records: OutgoingRecord[] = [
  {
    key: Buffer.from('k1'),
    value: Buffer.from('v1'),
    timestamp: 1_700_000_000_000,
    headers: [
      { key: 'a', value: Buffer.from('1') },
      { key: 'b', value: null },
      { key: 'a', value: Buffer.from('3') },
    ],
  },
  { key: null, value: null, timestamp: 1_699_999_999_000, headers: [] },
  {
    key: Buffer.alloc(0),
    value: Buffer.alloc(0),
    timestamp: 1_700_000_000_500,
    headers: [{ key: '', value: Buffer.alloc(0) }],
  },
  {
    key: Buffer.from([0, 255, 1]),
    value: Buffer.alloc(70_000, 7),
    timestamp: 1_700_000_123_456,
    headers: [{ key: 'ü-🔑', value: Buffer.from([0]) }],
  },
];

describe('record batch v2', () => {
  it('CRC-32C matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  for (const codec of Object.keys(Codec) as (keyof typeof Codec)[]) {
    it(`round-trips keys, values, timestamps and headers in order with ${codec}`, () => {
      const bytes = encodeBatch(records, { producerId: 42n, producerEpoch: 3, baseSequence: 17, codec });
      const [only, ...rest] = [...batchesIn(bytes)];
      expect(rest).toEqual([]);
      expect(only!.header).toMatchObject({
        baseOffset: 0,
        size: bytes.length,
        codec,
        producerId: 42n,
        producerEpoch: 3,
        baseSequence: 17,
        recordCount: 4,
        lastOffsetDelta: 3,
        timestampType: 0,
        transactional: false,
        control: false,
        baseTimestamp: records[0]!.timestamp,
        maxTimestamp: 1_700_000_123_456,
      });
      const decoded = decodeBatch(only!.header, only!.bytes);
      expect(decoded.records).toEqual(records.map((r, i) => ({ offset: i, timestampType: 0, ...r })));
    });
  }

  it('leaves a trailing partial batch out (a fetch cut by its size limit)', () => {
    const a = encodeBatch(records.slice(0, 2), { producerId: -1n, producerEpoch: -1, baseSequence: -1 });
    const b = encodeBatch(records.slice(2), { producerId: -1n, producerEpoch: -1, baseSequence: -1 });
    const cut = Buffer.concat([a, b.subarray(0, b.length - 1)]);
    expect([...batchesIn(cut)].map((x) => x.header.recordCount)).toEqual([2]);
    expect(readBatchHeader(b.subarray(0, 30), 0)).toBeUndefined();
  });

  it('refuses a batch whose bytes changed, naming its offset', () => {
    const bytes = encodeBatch(records, {
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      codec: 'zstd',
    });
    bytes[bytes.length - 5]! ^= 0x40;
    const [only] = [...batchesIn(bytes)];
    expect(() => decodeBatch(only!.header, only!.bytes)).toThrow(RecordBatchError);
    expect(() => decodeBatch(only!.header, only!.bytes)).toThrow(/offset 0 fails its CRC-32C/);
  });

  it('refuses magic 0/1 message sets with a message naming the version', () => {
    const bytes = encodeBatch(records.slice(0, 1), { producerId: -1n, producerEpoch: -1, baseSequence: -1 });
    bytes.writeInt8(1, 16);
    expect(() => readBatchHeader(bytes, 0)).toThrow(/magic 1: only v2 batches/);
  });

  it('takes log-append-time batches at the broker time, and reads control markers', () => {
    const bytes = encodeBatch(records.slice(0, 2), { producerId: 5n, producerEpoch: 0, baseSequence: 0 });
    // As the broker rewrites it: timestamp type 1, max timestamp = append time, CRC recomputed.
    bytes.writeInt16BE(0x08, 21);
    bytes.writeBigInt64BE(1_800_000_000_000n, 35);
    bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
    const [b] = [...batchesIn(bytes)];
    expect(decodeBatch(b!.header, b!.bytes).records.map((r) => [r.timestamp, r.timestampType])).toEqual([
      [1_800_000_000_000, 1],
      [1_800_000_000_000, 1],
    ]);

    const marker = encodeBatch(
      [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]), timestamp: 1, headers: [] }],
      { producerId: 9n, producerEpoch: 0, baseSequence: -1 },
    );
    marker.writeInt16BE(0x30, 21); // transactional + control
    marker.writeUInt32BE(crc32c(marker.subarray(21)), 17);
    const [m] = [...batchesIn(marker)];
    const decoded = decodeBatch(m!.header, m!.bytes);
    expect(decoded).toMatchObject({ control: true, transactional: true, controlType: 0 });
  });
});
