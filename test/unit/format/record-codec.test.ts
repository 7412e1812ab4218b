import { describe, expect, it } from 'vitest';
import { CorruptDataError } from '../../../lib/errors.ts';
import { type BackupRecord, TimestampType } from '../../../lib/format/record.ts';
import { decodeRecord, encodeRecord, RecordEncoder } from '../../../lib/format/record-codec.ts';

function record(over: Partial<BackupRecord> = {}): BackupRecord {
  return {
    offset: 42,
    timestamp: 1_700_000_000_123,
    timestampType: TimestampType.CreateTime,
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: [],
    ...over,
  };
}

function roundTrip(r: BackupRecord): BackupRecord {
  const bytes = encodeRecord(r);
  const decoded = decodeRecord(bytes);
  expect(decoded?.next).toBe(bytes.length);
  return decoded!.record;
}

describe('record codec', () => {
  it('writes the documented big-endian layout', () => {
    const bytes = encodeRecord(
      record({
        offset: 2 ** 32 + 5,
        timestamp: -1,
        timestampType: TimestampType.LogAppendTime,
        key: null,
        value: Buffer.from([0xab]),
        headers: [{ key: 'h', value: null }],
      }),
    );
    const expected = Buffer.concat([
      Buffer.from('00000027', 'hex'), // length of the rest: 39
      Buffer.from('0000000100000005', 'hex'), // offset
      Buffer.from('ffffffffffffffff', 'hex'), // timestamp -1
      Buffer.from('01', 'hex'), // LogAppendTime
      Buffer.from('ffffffff', 'hex'), // null key
      Buffer.from('00000001ab', 'hex'), // value
      Buffer.from('00000001', 'hex'), // one header
      Buffer.from('0000000168', 'hex'), // key "h"
      Buffer.from('ffffffff', 'hex'), // null value
    ]);
    expect(bytes.toString('hex')).toBe(expected.toString('hex'));
  });

  it('keeps null and empty keys and values apart', () => {
    for (const key of [null, Buffer.alloc(0)]) {
      for (const value of [null, Buffer.alloc(0)]) {
        const back = roundTrip(record({ key, value }));
        expect(back.key).toEqual(key);
        expect(back.value).toEqual(value);
      }
    }
  });

  it('round-trips arbitrary binary bytes, large offsets and negative timestamps', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = record({ offset: Number.MAX_SAFE_INTEGER, timestamp: -1, key: all, value: all.reverse() });
    expect(roundTrip(r)).toEqual(r);
  });

  it('keeps duplicate header keys in order, null header values and unicode keys', () => {
    const headers = [
      { key: 'trace', value: Buffer.from('1') },
      { key: 'trace', value: Buffer.from('2') },
      { key: 'empty', value: Buffer.alloc(0) },
      { key: 'nothing', value: null },
      { key: 'clé-🔑-键', value: Buffer.from([0, 255]) },
      { key: '', value: Buffer.from('x') },
    ];
    expect(roundTrip(record({ headers })).headers).toEqual(headers);
  });

  it('round-trips a 5 MiB value', () => {
    const value = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < value.length; i += 4096) value[i] = i % 251;
    const back = roundTrip(record({ value }));
    expect(back.value!.equals(value)).toBe(true);
  });

  it('reports incomplete input at every cut point instead of guessing', () => {
    const bytes = encodeRecord(record({ headers: [{ key: 'a', value: Buffer.from('b') }] }));
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(decodeRecord(bytes.subarray(0, cut))).toBeUndefined();
    }
    expect(decodeRecord(bytes, 0, bytes.length)?.record.offset).toBe(42);
  });

  it('decodes consecutive records from one buffer at an offset and returns copies', () => {
    const encoder = new RecordEncoder(16);
    encoder.append(record({ offset: 1 }));
    encoder.append(record({ offset: 2, key: null }));
    const buf = Buffer.concat([Buffer.from('junk'), encoder.view()]);
    const first = decodeRecord(buf, 4)!;
    const second = decodeRecord(buf, first.next)!;
    expect([first.record.offset, second.record.offset]).toEqual([1, 2]);
    expect(second.next).toBe(buf.length);
    buf.fill(0);
    expect(first.record.key).toEqual(Buffer.from('k'));
  });

  it('reuses its buffer after clear and still grows for big records', () => {
    const encoder = new RecordEncoder(8);
    const big = record({ value: Buffer.alloc(100_000, 7) });
    const size = encoder.append(big);
    expect(encoder.length).toBe(size);
    encoder.clear();
    expect(encoder.length).toBe(0);
    encoder.append(record());
    expect(decodeRecord(encoder.view())?.record).toEqual(record());
  });

  it('throws CorruptDataError on bytes that cannot be a record', () => {
    const bytes = encodeRecord(record());
    const badType = Buffer.from(bytes);
    badType[4 + 16] = 9;
    expect(() => decodeRecord(badType)).toThrow(CorruptDataError);
    expect(() => decodeRecord(badType)).toThrow(/timestamp type 9/);

    const badKeyLength = Buffer.from(bytes);
    badKeyLength.writeInt32BE(1000, 4 + 17);
    expect(() => decodeRecord(badKeyLength)).toThrow(/key runs past/);

    const tooShort = Buffer.from('0000000300000000', 'hex');
    expect(() => decodeRecord(tooShort)).toThrow(/below the minimum/);
  });

  it('refuses to encode records it could not decode', () => {
    const encoder = new RecordEncoder();
    expect(() => encoder.append(record({ offset: -1 }))).toThrow(RangeError);
    expect(() => encoder.append(record({ offset: 1.5 }))).toThrow(RangeError);
    expect(() => encoder.append(record({ timestampType: 3 as TimestampType }))).toThrow(RangeError);
    expect(encoder.length).toBe(0);
  });
});
