// One outgoing v2 record batch for the restore, built from stored batches (as backed up from the broker) and/or
// single records. A lone stored batch whose codec is the one to send goes out as it is, only its producer
// fields, offsets and CRC rewritten: nothing is decoded, decompressed or copied. Several stored batches are
// joined into one larger batch (a produce request takes one batch per partition, and large batches cost the
// broker far less than many small ones): each record's offset and timestamp deltas are rewritten, its key,
// value and headers copied as bytes. Single records (format-1 segments, a batch cut by a time window or a
// resume point, added origin headers) are encoded as in record-batch.ts.

import { crc32c, crc32cAfterChange } from './crc32c.ts';
import {
  BATCH_HEADER_BYTES,
  Codec,
  type CodecName,
  compress,
  type OutgoingRecord,
  type RecordBatchHeader,
  recordsRegion,
  sizeOfBytes,
  sizeOfVarint,
  sizeOfVarlong,
} from './record-batch.ts';

const LENGTH_OFFSET = 8;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LOG_OVERHEAD = 12;
/** Space kept for rewritten varints per record: a timestamp delta may grow to 10 bytes, an offset delta to 5. */
const REWRITE_SLACK = 16;

/** A whole v2 batch as the broker returned it at backup time (CRC valid), with its parsed header. */
export interface StoredBatch {
  header: RecordBatchHeader;
  bytes: Buffer;
}

/** `source`: each batch in the codec its producer chose (joined batches share one codec). */
export type OutputCodec = CodecName | 'source';

export interface ProducerFields {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

/**
 * Whether a stored batch can be sent again without looking at its records: not a control batch, CreateTime,
 * no delete horizon in its base timestamp (attribute bit 6), and offsets without holes (a compacted batch
 * would make the broker count sequence numbers and offsets over its holes).
 */
export function resendable(h: RecordBatchHeader): boolean {
  return (
    !h.control &&
    h.timestampType === 0 &&
    (h.attributes & 0x40) === 0 &&
    h.recordCount === h.lastOffsetDelta + 1
  );
}

/**
 * The records region starts after room for the batch header: an uncompressed batch is sealed in place, with no
 * copy of its records (a restore's batches are about 1 MiB each).
 */
const RECORDS_START = BATCH_HEADER_BYTES;

export class OutgoingBatch {
  #buf: Buffer;
  #end = RECORDS_START;
  #count = 0;
  #baseTimestamp = 0;
  #maxTimestamp = Number.NEGATIVE_INFINITY;
  /** The one stored batch added so far, kept as it is until a second part arrives. */
  #pending: StoredBatch | undefined;
  /** Codec of the stored batches joined (for `source`), once any is. */
  #sourceCodec: CodecName | undefined;
  #estimate = 0;

  /**
   * `capacity`: the bytes the batch is expected to reach (a restore's batch size): allocated at once, rather than
   * grown by doubling with a copy at each step.
   */
  constructor(capacity = 0) {
    this.#buf = Buffer.allocUnsafe(RECORDS_START + capacity);
  }

  get records(): number {
    return this.#count + (this.#pending?.header.recordCount ?? 0);
  }

  /** Bytes the batch will take at most before compression: what a size limit is checked against. */
  get size(): number {
    return BATCH_HEADER_BYTES + this.#estimate;
  }

  /** The codec of the stored batches in it (undefined when it holds none). */
  get sourceCodec(): CodecName | undefined {
    return this.#sourceCodec;
  }

  /** Adds a resendable stored batch (see `resendable`). */
  addStored(batch: StoredBatch): void {
    const h = batch.header;
    this.#sourceCodec ??= h.codec;
    this.#estimate += h.codec === 'none' ? batch.bytes.length - BATCH_HEADER_BYTES : batch.bytes.length;
    if (this.records === 0 && this.#end === RECORDS_START) {
      // Kept as it is for now (a lone batch goes out without a rewrite), so copied: the caller's bytes may be a
      // view of a buffer it reuses.
      this.#pending = { header: h, bytes: Buffer.from(batch.bytes) };
      this.#baseTimestamp = h.baseTimestamp;
      this.#maxTimestamp = h.maxTimestamp;
      return;
    }
    this.#materialize();
    this.#append(h, recordsRegion(h, batch.bytes));
  }

  addRecord(r: OutgoingRecord): void {
    this.#materialize();
    if (this.#count === 0) this.#baseTimestamp = r.timestamp;
    if (r.timestamp > this.#maxTimestamp) this.#maxTimestamp = r.timestamp;
    const keys = r.headers.map((h) => Buffer.from(h.key, 'utf8'));
    const timestampDelta = r.timestamp - this.#baseTimestamp;
    let body =
      1 +
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(this.#count) +
      sizeOfBytes(r.key) +
      sizeOfBytes(r.value) +
      sizeOfVarint(r.headers.length);
    for (let h = 0; h < keys.length; h++) body += sizeOfBytes(keys[h]!) + sizeOfBytes(r.headers[h]!.value);
    this.#reserve(5 + body);
    const w = new ByteWriter(this.#buf, this.#end);
    w.varint(body);
    w.byte(0);
    w.varlong(timestampDelta);
    w.varint(this.#count);
    w.bytes(r.key);
    w.bytes(r.value);
    w.varint(r.headers.length);
    for (let h = 0; h < keys.length; h++) {
      w.bytes(keys[h]!);
      w.bytes(r.headers[h]!.value);
    }
    this.#end = w.pos;
    this.#estimate += 5 + body;
    this.#count++;
  }

  /**
   * The batch to send: base offset 0 (the broker assigns offsets), CreateTime, not transactional, with the
   * given producer fields, compressed with `codec` (`source`: the stored batches' own codec, none for records).
   */
  finish(codec: OutputCodec, producer: ProducerFields): Buffer {
    const pending = this.#pending;
    const want: CodecName = codec === 'source' ? (this.#sourceCodec ?? 'none') : codec;
    if (pending && pending.header.codec === want) return restamp(pending, producer);
    this.#materialize();
    if (this.#count === 0) throw new Error('OutgoingBatch.finish: no records');
    let out: Buffer;
    if (want === 'none') {
      out = this.#buf.subarray(0, this.#end);
    } else {
      const payload = compress(want, this.#buf.subarray(RECORDS_START, this.#end));
      out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + payload.length);
      payload.copy(out, BATCH_HEADER_BYTES);
    }
    out.writeBigInt64BE(0n, 0);
    out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
    out.writeInt32BE(-1, 12); // partition leader epoch: set by the broker
    out.writeInt8(2, 16);
    out.writeInt16BE(Codec[want], ATTRIBUTES_OFFSET);
    out.writeInt32BE(this.#count - 1, 23);
    out.writeBigInt64BE(BigInt(this.#baseTimestamp), 27);
    out.writeBigInt64BE(BigInt(this.#maxTimestamp), 35);
    out.writeBigInt64BE(producer.producerId, 43);
    out.writeInt16BE(producer.producerEpoch, 51);
    out.writeInt32BE(producer.baseSequence, 53);
    out.writeInt32BE(this.#count, 57);
    out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    return out;
  }

  /** Turns the pending stored batch into rewritten records in the buffer, so more can follow it. */
  #materialize(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#append(p.header, recordsRegion(p.header, p.bytes));
  }

  /** Copies the records of one stored batch, each with offset delta and timestamp delta rewritten. */
  #append(h: RecordBatchHeader, region: Buffer): void {
    if (this.#count === 0) this.#baseTimestamp = h.baseTimestamp;
    if (h.maxTimestamp > this.#maxTimestamp) this.#maxTimestamp = h.maxTimestamp;
    this.#reserve(region.length + h.recordCount * REWRITE_SLACK);
    const buf = this.#buf;
    const shift = h.baseTimestamp - this.#baseTimestamp;
    let pos = 0;
    let out = this.#end;
    for (let i = 0; i < h.recordCount; i++) {
      // length VARINT | attributes INT8 | timestamp_delta VARLONG | offset_delta VARINT | the rest as it is
      let v = 0;
      let shiftBits = 0;
      let b: number;
      do {
        b = region[pos++]!;
        v |= (b & 0x7f) << shiftBits;
        shiftBits += 7;
      } while (b & 0x80);
      const length = (v >>> 1) ^ -(v & 1);
      const bodyStart = pos;
      const attributes = region[pos++]!;
      let mul = 1;
      let zz = 0;
      do {
        b = region[pos++]!;
        zz += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80);
      const timestampDelta = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      do b = region[pos++]!;
      while (b & 0x80); // the old offset delta
      const tailStart = pos;
      const tailEnd = bodyStart + length;
      const newTimestampDelta = timestampDelta + shift;
      const newBody =
        1 + sizeOfVarlong(newTimestampDelta) + sizeOfVarint(this.#count) + (tailEnd - tailStart);
      out = writeVarint(buf, out, newBody);
      buf[out++] = attributes;
      out = writeVarlong(buf, out, newTimestampDelta);
      out = writeVarint(buf, out, this.#count);
      out += region.copy(buf, out, tailStart, tailEnd);
      pos = tailEnd;
      this.#count++;
    }
    this.#end = out;
  }

  #reserve(extra: number): void {
    const needed = this.#end + extra;
    if (needed <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buf.length * 2, 64 * 1024));
    this.#buf.copy(grown, 0, 0, this.#end);
    this.#buf = grown;
  }
}

/**
 * A stored batch made ours: base offset 0, leader epoch -1, only the codec kept of its attributes, our producer
 * id, epoch and sequence. The CRC is derived from the stored one and the changed header bytes alone, without
 * reading the records: a batch damaged since its CRC was checked keeps a wrong CRC, which the broker refuses.
 */
export function restamp(batch: StoredBatch, producer: ProducerFields): Buffer {
  const out = Buffer.from(batch.bytes);
  out.writeBigInt64BE(0n, 0);
  out.writeInt32BE(-1, 12);
  out.writeInt16BE(Codec[batch.header.codec], ATTRIBUTES_OFFSET);
  out.writeBigInt64BE(producer.producerId, 43);
  out.writeInt16BE(producer.producerEpoch, 51);
  out.writeInt32BE(producer.baseSequence, 53);
  const crc = crc32cAfterChange(
    batch.bytes.readUInt32BE(CRC_OFFSET),
    batch.bytes.subarray(ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES),
    out.subarray(ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES),
    out.length - BATCH_HEADER_BYTES,
  );
  out.writeUInt32BE(crc, CRC_OFFSET);
  return out;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeVarlong(buf: Buffer, pos: number, n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

class ByteWriter {
  pos: number;
  readonly buf: Buffer;
  constructor(buf: Buffer, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }
  varint(n: number): void {
    this.pos = writeVarint(this.buf, this.pos, n);
  }
  varlong(n: number): void {
    this.pos = writeVarlong(this.buf, this.pos, n);
  }
  bytes(b: Buffer | null): void {
    if (b === null) {
      this.varint(-1);
      return;
    }
    this.varint(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }
}
