/**
 * The binary form of one BackupRecord inside a segment (big-endian, see docs/format.md):
 *
 *   u32 length of the rest | i64 offset | i64 timestamp | u8 timestamp type
 *   | i32 key length (-1 = null) + bytes | i32 value length (-1 = null) + bytes
 *   | i32 header count, each: i32 key byte length + UTF-8 key, i32 value length (-1 = null) + bytes
 *
 * The leading length lets a streaming reader tell a whole record from one split across chunks.
 */
import { CorruptDataError } from '../errors.ts';
import type { BackupRecord, RecordHeader, TimestampType } from './record.ts';

/** The u32 that precedes every record body. */
export const LENGTH_PREFIX_BYTES = 4;
/** offset + timestamp + type + key length + value length + header count. */
const FIXED_BODY_BYTES = 8 + 8 + 1 + 4 + 4 + 4;
const MAX_U32 = 0xffff_ffff;
const TWO_32 = 0x1_0000_0000;
/** Grown scratch space above this is released on `clear`, so one huge record does not pin memory. */
const KEEP_CAPACITY = 1024 * 1024;

/**
 * Appends encoded records to one growable buffer, so the hot path allocates only when a record outgrows it.
 */
export class RecordEncoder {
  #buf: Buffer;
  #end = 0;
  readonly #initialCapacity: number;

  constructor(initialCapacity = 64 * 1024) {
    this.#initialCapacity = initialCapacity;
    this.#buf = Buffer.allocUnsafe(initialCapacity);
  }

  /** Bytes encoded since the last `clear`. */
  get length(): number {
    return this.#end;
  }

  /** The bytes encoded since the last `clear`: a view, valid only until the next `append*` or `clear`. */
  view(): Buffer {
    return this.#buf.subarray(0, this.#end);
  }

  clear(): void {
    this.#end = 0;
    if (this.#buf.length > KEEP_CAPACITY) this.#buf = Buffer.allocUnsafe(this.#initialCapacity);
  }

  appendBytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Encodes one record after the previous ones; returns its encoded size including the length prefix. */
  append(record: BackupRecord): number {
    checkRecord(record);
    this.#reserve(upperBound(record));
    const buf = this.#buf;
    const start = this.#end;
    let p = start + LENGTH_PREFIX_BYTES;
    p = writeInt64(buf, p, record.offset);
    p = writeInt64(buf, p, record.timestamp);
    p = buf.writeUInt8(record.timestampType, p);
    p = writeNullableBytes(buf, p, record.key);
    p = writeNullableBytes(buf, p, record.value);
    p = buf.writeInt32BE(record.headers.length, p);
    for (const h of record.headers) {
      // Written in place, then its length backfilled: saves a Buffer.byteLength pass over the key.
      const keyBytes = buf.write(h.key, p + 4, 'utf8');
      buf.writeInt32BE(keyBytes, p);
      p += 4 + keyBytes;
      p = writeNullableBytes(buf, p, h.value);
    }
    const rest = p - start - LENGTH_PREFIX_BYTES;
    if (rest > MAX_U32) throw new RangeError(`record at offset ${record.offset} is larger than 4 GiB`);
    buf.writeUInt32BE(rest, start);
    this.#end = p;
    return p - start;
  }

  #reserve(extra: number): void {
    const needed = this.#end + extra;
    if (needed <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buf.length * 2));
    this.#buf.copy(grown, 0, 0, this.#end);
    this.#buf = grown;
  }
}

/** One record as a fresh Buffer; for tests and one-offs (the segment writer reuses a RecordEncoder). */
export function encodeRecord(record: BackupRecord): Buffer {
  const encoder = new RecordEncoder(upperBound(record));
  encoder.append(record);
  return Buffer.from(encoder.view());
}

export interface DecodedRecord {
  record: BackupRecord;
  /** Position just after this record: where the next one starts. */
  next: number;
}

/**
 * Decodes the record starting at `pos`, reading no further than `end`. Returns undefined when the bytes up
 * to `end` hold only part of it (the rest is in a later chunk). Throws CorruptDataError when the bytes cannot
 * be a record. Key, value and header values are copies: the caller may reuse `buf`.
 */
export function decodeRecord(buf: Buffer, pos = 0, end = buf.length): DecodedRecord | undefined {
  if (end - pos < LENGTH_PREFIX_BYTES) return undefined;
  const rest = buf.readUInt32BE(pos);
  if (rest < FIXED_BODY_BYTES)
    throw malformed(pos, `length ${rest} is below the minimum ${FIXED_BODY_BYTES}`);
  const recordEnd = pos + LENGTH_PREFIX_BYTES + rest;
  if (recordEnd > end) return undefined;

  const r = new Reader(buf, pos + LENGTH_PREFIX_BYTES, recordEnd, pos);
  const offset = r.int64('offset');
  const timestamp = r.int64('timestamp');
  const type = r.uint8();
  if (type !== 0 && type !== 1) throw malformed(pos, `timestamp type ${type} is neither 0 nor 1`);
  const key = r.nullableBytes('key');
  const value = r.nullableBytes('value');
  const count = r.int32('header count');
  if (count < 0) throw malformed(pos, `header count ${count} is negative`);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < count; i++) {
    const headerKey = r.string(`header ${i} key`);
    headers.push({ key: headerKey, value: r.nullableBytes(`header ${i} value`) });
  }
  if (r.pos !== recordEnd) throw malformed(pos, `${recordEnd - r.pos} bytes left over after the last field`);
  return {
    record: { offset, timestamp, timestampType: type as TimestampType, key, value, headers },
    next: recordEnd,
  };
}

/** Bounds-checked cursor over one record body: a short field means corruption, not "wait for more". */
class Reader {
  pos: number;
  readonly #buf: Buffer;
  readonly #end: number;
  readonly #recordStart: number;

  constructor(buf: Buffer, pos: number, end: number, recordStart: number) {
    this.#buf = buf;
    this.pos = pos;
    this.#end = end;
    this.#recordStart = recordStart;
  }

  uint8(): number {
    this.#need(1, 'timestamp type');
    return this.#buf.readUInt8(this.pos++);
  }

  int32(field: string): number {
    this.#need(4, field);
    const v = this.#buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(field: string): number {
    this.#need(8, field);
    const v = this.#buf.readInt32BE(this.pos) * TWO_32 + this.#buf.readUInt32BE(this.pos + 4);
    if (!Number.isSafeInteger(v)) throw malformed(this.#recordStart, `${field} ${v} is not a safe integer`);
    this.pos += 8;
    return v;
  }

  nullableBytes(field: string): Buffer | null {
    const len = this.int32(`${field} length`);
    if (len === -1) return null;
    if (len < 0) throw malformed(this.#recordStart, `${field} length ${len} is negative`);
    this.#need(len, field);
    const bytes = Buffer.from(this.#buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return bytes;
  }

  string(field: string): string {
    const len = this.int32(`${field} length`);
    if (len < 0) throw malformed(this.#recordStart, `${field} length ${len} is negative`);
    this.#need(len, field);
    const s = this.#buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  #need(n: number, field: string): void {
    if (this.pos + n > this.#end) throw malformed(this.#recordStart, `${field} runs past the record's end`);
  }
}

function malformed(pos: number, what: string): CorruptDataError {
  return new CorruptDataError(`malformed record at uncompressed byte ${pos}: ${what}`);
}

function checkRecord(r: BackupRecord): void {
  if (!Number.isSafeInteger(r.offset) || r.offset < 0) throw new RangeError(`bad record offset ${r.offset}`);
  if (!Number.isSafeInteger(r.timestamp)) throw new RangeError(`bad timestamp ${r.timestamp} at ${r.offset}`);
  if (r.timestampType !== 0 && r.timestampType !== 1) {
    throw new RangeError(`bad timestamp type ${r.timestampType} at offset ${r.offset}`);
  }
}

/** Never less than the encoded size; header keys count 3 bytes per UTF-16 unit, UTF-8's worst case. */
function upperBound(r: BackupRecord): number {
  let n = LENGTH_PREFIX_BYTES + FIXED_BODY_BYTES + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += 8 + h.key.length * 3 + (h.value?.length ?? 0);
  return n;
}

function writeInt64(buf: Buffer, p: number, v: number): number {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, p);
  buf.writeUInt32BE(v - hi * TWO_32, p + 4);
  return p + 8;
}

function writeNullableBytes(buf: Buffer, p: number, bytes: Buffer | null): number {
  if (bytes === null) return buf.writeInt32BE(-1, p);
  p = buf.writeInt32BE(bytes.length, p);
  buf.set(bytes, p);
  return p + bytes.length;
}
