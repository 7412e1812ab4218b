// Kafka's v2 record batch (magic 2), decoded and encoded byte for byte. Our own code rather than the client's:
// its encoder takes headers as a Map (duplicate keys and their order lost, no null values) and its decoder
// checks no CRC. Codecs are the client's public ones (gzip, snappy in both framings, lz4 frames, zstd).
//
// RecordBatch =>
//   base_offset INT64 | batch_length INT32 (bytes after this field) | partition_leader_epoch INT32 | magic INT8 (2)
//   crc UINT32 (CRC-32C of everything from attributes to the end)
//   attributes INT16: bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), 3 timestamp type (1 = log
//     append time), 4 transactional, 5 control, 6 delete horizon set (base_timestamp is then the horizon)
//   last_offset_delta INT32 | base_timestamp INT64 | max_timestamp INT64
//   producer_id INT64 | producer_epoch INT16 | base_sequence INT32
//   records_count INT32 | records (compressed as one block when the codec is not none)
// Record =>
//   length VARINT | attributes INT8 (unused) | timestamp_delta VARLONG | offset_delta VARINT
//   key_length VARINT (-1 = null) key | value_length VARINT (-1 = null) value
//   headers_count VARINT [header_key_length VARINT header_key (UTF-8) header_value_length VARINT (-1 = null) value]
// Control record (in a control batch): key = version INT16, type INT16 (0 abort, 1 commit).
import { compressionsAlgorithms, compressionsAlgorithmsByBitmask } from '@platformatic/kafka';
import type { BackupRecord, RecordHeader } from '../record.ts';
import { crc32c } from './crc32c.ts';

export const BATCH_HEADER_BYTES = 61;
const LENGTH_OFFSET = 8;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
/** Bytes before batch_length's count starts: base_offset and batch_length itself. */
const LOG_OVERHEAD = 12;

export const Codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof Codec;
const CODEC_NAMES: Record<number, CodecName> = { 0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

export interface RecordBatchHeader {
  baseOffset: number;
  /** Whole batch size in bytes, base_offset included. */
  size: number;
  partitionLeaderEpoch: number;
  attributes: number;
  codec: CodecName;
  timestampType: 0 | 1;
  transactional: boolean;
  control: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface DecodedBatch extends RecordBatchHeader {
  /** For a control batch: abort (0) or commit (1). */
  controlType?: number;
  records: BackupRecord[];
}

/** A stored or fetched batch that fails its checks: names what is wrong. */
export class RecordBatchError extends Error {
  override name = 'RecordBatchError';
}

export function lastOffset(h: RecordBatchHeader): number {
  return h.baseOffset + h.lastOffsetDelta;
}

/**
 * The batch header at `pos`, or undefined when fewer bytes than the whole batch remain: a fetch response ends
 * with a partial batch when the size limit cut it, which the next fetch returns whole.
 */
export function readBatchHeader(buf: Buffer, pos: number): RecordBatchHeader | undefined {
  if (buf.length - pos < BATCH_HEADER_BYTES) return undefined;
  const size = buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD;
  if (buf.length - pos < size) return undefined;
  const magic = buf.readInt8(pos + 16);
  if (magic !== 2) {
    throw new RecordBatchError(
      `record batch at offset ${buf.readBigInt64BE(pos)} has magic ${magic}: only v2 batches (Kafka >= 0.11) are supported`,
    );
  }
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const codec = CODEC_NAMES[attributes & 0x07];
  if (!codec) throw new RecordBatchError(`record batch uses unknown compression codec ${attributes & 0x07}`);
  return {
    baseOffset: Number(buf.readBigInt64BE(pos)),
    size,
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    attributes,
    codec,
    timestampType: attributes & 0x08 ? 1 : 0,
    transactional: (attributes & 0x10) !== 0,
    control: (attributes & 0x20) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + 23),
    baseTimestamp: Number(buf.readBigInt64BE(pos + 27)),
    maxTimestamp: Number(buf.readBigInt64BE(pos + 35)),
    producerId: buf.readBigInt64BE(pos + 43),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    recordCount: buf.readInt32BE(pos + 57),
  };
}

/** Every whole batch in `buf` (a fetch response's records), in order; a trailing partial batch is left out. */
export function* batchesIn(buf: Buffer): Generator<{ header: RecordBatchHeader; bytes: Buffer }> {
  let pos = 0;
  for (;;) {
    const header = readBatchHeader(buf, pos);
    if (!header) return;
    yield { header, bytes: buf.subarray(pos, pos + header.size) };
    pos += header.size;
  }
}

export function verifyCrc(header: RecordBatchHeader, bytes: Buffer): void {
  const stored = bytes.readUInt32BE(CRC_OFFSET);
  const actual = crc32c(bytes.subarray(ATTRIBUTES_OFFSET));
  if (stored !== actual) {
    throw new RecordBatchError(
      `record batch at offset ${header.baseOffset} fails its CRC-32C (stored ${stored}, computed ${actual})`,
    );
  }
}

/** The records of a batch as bytes: the part after the header, decompressed when the batch is compressed. */
export function recordsRegion(header: RecordBatchHeader, bytes: Buffer): Buffer {
  const body = bytes.subarray(BATCH_HEADER_BYTES);
  if (header.codec === 'none') return body;
  return decompress(header.codec, body, header.baseOffset);
}

export function decompress(codec: CodecName, body: Buffer, baseOffset: number): Buffer {
  const algorithm = compressionsAlgorithmsByBitmask[Codec[codec]];
  if (!algorithm?.available)
    throw new RecordBatchError(`no ${codec} codec available for the batch at ${baseOffset}`);
  try {
    return algorithm.decompressSync(body);
  } catch (e) {
    throw new RecordBatchError(`record batch at offset ${baseOffset}: ${codec}: ${(e as Error).message}`);
  }
}

export function compress(codec: CodecName, raw: Buffer): Buffer {
  return codec === 'none' ? raw : compressionsAlgorithms[codec].compressSync(raw);
}

/** What a pass over a batch's records tells without making record objects. */
export interface BatchScan {
  /** Offsets of the first and last record present (compaction may have removed the batch's first or last). */
  firstOffset: number;
  lastOffset: number;
  /** Smallest and largest record timestamp (LogAppendTime: the batch's max_timestamp for every record). */
  minTimestamp: number;
  maxTimestamp: number;
  /** Offsets base_offset + 0, 1, ... n - 1 without holes: the batch can be appended again as it is. */
  dense: boolean;
}

/**
 * Walks the records of one batch (`region` from recordsRegion): each record's length, offset delta and
 * timestamp delta, checking that the records fill the region exactly, their offsets strictly increase within
 * the batch's range and their count is the header's. Throws RecordBatchError otherwise. No record is copied.
 */
export function scanBatch(header: RecordBatchHeader, region: Buffer): BatchScan {
  const r = new ByteReader(region);
  let minDelta = Number.POSITIVE_INFINITY;
  let maxDelta = Number.NEGATIVE_INFINITY;
  let firstDelta = -1;
  let prevDelta = -1;
  for (let i = 0; i < header.recordCount; i++) {
    const length = r.varint();
    const end = r.pos + length;
    if (length < 0 || end > region.length)
      throw new RecordBatchError(
        `record batch at offset ${header.baseOffset}: record ${i} runs past the batch`,
      );
    r.pos += 1; // attributes
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    if (offsetDelta <= prevDelta || offsetDelta > header.lastOffsetDelta) {
      throw new RecordBatchError(
        `record batch at offset ${header.baseOffset}: record ${i} has offset delta ${offsetDelta} (previous ${prevDelta}, last ${header.lastOffsetDelta})`,
      );
    }
    if (i === 0) firstDelta = offsetDelta;
    prevDelta = offsetDelta;
    if (timestampDelta < minDelta) minDelta = timestampDelta;
    if (timestampDelta > maxDelta) maxDelta = timestampDelta;
    r.pos = end;
  }
  if (r.pos !== region.length) {
    throw new RecordBatchError(
      `record batch at offset ${header.baseOffset}: ${region.length - r.pos} bytes left after its ${header.recordCount} records`,
    );
  }
  const logAppendTime = header.timestampType === 1;
  return {
    firstOffset: header.baseOffset + firstDelta,
    lastOffset: header.baseOffset + prevDelta,
    minTimestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + minDelta,
    maxTimestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + maxDelta,
    dense: firstDelta === 0 && prevDelta === header.recordCount - 1 && header.lastOffsetDelta === prevDelta,
  };
}

/** Decodes one whole batch (from `batchesIn`), CRC checked. */
export function decodeBatch(header: RecordBatchHeader, bytes: Buffer): DecodedBatch {
  verifyCrc(header, bytes);
  return decodeRecords(header, recordsRegion(header, bytes));
}

/** The records of a batch whose CRC was checked already (`region` from recordsRegion). */
export function decodeRecords(header: RecordBatchHeader, body: Buffer): DecodedBatch {
  const records: BackupRecord[] = new Array(header.recordCount);
  const r = new ByteReader(body);
  const logAppendTime = header.timestampType === 1;
  for (let i = 0; i < header.recordCount; i++) {
    r.varint(); // length
    r.pos += 1; // attributes
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = r.bytes();
    const value = r.bytes();
    const headerCount = r.varint();
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const k = r.bytes();
      headers[h] = { key: k ? k.toString('utf8') : '', value: r.bytes() };
    }
    records[i] = {
      offset: header.baseOffset + offsetDelta,
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      timestampType: header.timestampType,
      key,
      value,
      headers,
    };
  }
  if (r.pos !== body.length) {
    throw new RecordBatchError(
      `record batch at offset ${header.baseOffset}: ${body.length - r.pos} bytes left after its ${header.recordCount} records`,
    );
  }
  const out: DecodedBatch = { ...header, records };
  if (header.control && records[0]?.key && records[0].key.length >= 4)
    out.controlType = records[0].key.readInt16BE(2);
  return out;
}

class ByteReader {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  varint(): number {
    let shift = 0;
    let result = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new RecordBatchError('record truncated inside a varint');
      const b = this.buf[this.pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new RecordBatchError('varint longer than 5 bytes');
    }
    return (result >>> 1) ^ -(result & 1);
  }

  /** Zigzag varlong as a Number: timestamp deltas stay far below 2^53. */
  varlong(): number {
    let mul = 1;
    let result = 0;
    for (let i = 0; ; i++) {
      if (this.pos >= this.buf.length) throw new RecordBatchError('record truncated inside a varlong');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (i >= 9) throw new RecordBatchError('varlong longer than 10 bytes');
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  bytes(): Buffer | null {
    const n = this.varint();
    if (n < 0) return null;
    if (this.pos + n > this.buf.length)
      throw new RecordBatchError('record truncated inside a key, value or header');
    // A copy: a view would pin the whole fetch response (MBs) for as long as one record is kept.
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}

export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** Epoch ms, written as CreateTime. */
  timestamp: number;
  headers: RecordHeader[];
}

export interface EncodeOptions {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  codec?: CodecName;
}

export function sizeOfVarint(n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  let size = 1;
  while (v >= 0x80) {
    size++;
    v >>>= 7;
  }
  return size;
}

export function sizeOfVarlong(n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (v >= 128) {
    size++;
    v = Math.floor(v / 128);
  }
  return size;
}

export function sizeOfBytes(b: Buffer | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

class ByteWriter {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  varint(n: number): void {
    let v = ((n << 1) ^ (n >> 31)) >>> 0;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }
  varlong(n: number): void {
    let v = n >= 0 ? n * 2 : -n * 2 - 1;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  bytes(b: Buffer | null): void {
    if (b === null) {
      this.varint(-1);
      return;
    }
    this.varint(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
}

/**
 * Re-encodes part of a fetched batch (the records kept when a read range starts or ends inside it) as an
 * uncompressed batch with the same base offset, offsets, timestamps, timestamp type, attributes and producer
 * fields: what is stored when a batch cannot be stored whole.
 */
export function encodeBatchPart(header: RecordBatchHeader, records: BackupRecord[]): Buffer {
  const logAppendTime = header.timestampType === 1;
  const out = encodeRecordsAs(
    records.map((r) => ({
      key: r.key,
      value: r.value,
      timestamp: logAppendTime ? header.baseTimestamp : r.timestamp,
      headers: r.headers,
      offsetDelta: r.offset - header.baseOffset,
    })),
    header.baseTimestamp,
    {
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
    },
  );
  const last = records.at(-1)!;
  out.writeBigInt64BE(BigInt(header.baseOffset), 0);
  out.writeInt32BE(header.partitionLeaderEpoch, 12);
  // Codec none; the timestamp type, transactional and control bits as they were.
  out.writeInt16BE(header.attributes & 0x38, ATTRIBUTES_OFFSET);
  out.writeInt32BE(last.offset - header.baseOffset, 23);
  out.writeBigInt64BE(BigInt(header.baseTimestamp), 27);
  out.writeBigInt64BE(
    BigInt(logAppendTime ? header.maxTimestamp : Math.max(...records.map((r) => r.timestamp))),
    35,
  );
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}

/**
 * Encodes `records` as one v2 batch with base offset 0 (the broker assigns offsets), CreateTime timestamps, and
 * headers in the given order (duplicate keys and null values kept).
 */
export function encodeBatch(records: OutgoingRecord[], opts: EncodeOptions): Buffer {
  if (records.length === 0) throw new Error('encodeBatch: no records');
  return encodeRecordsAs(
    records.map((r, i) => ({ ...r, offsetDelta: i })),
    records[0]!.timestamp,
    opts,
  );
}

function encodeRecordsAs(
  records: (OutgoingRecord & { offsetDelta: number })[],
  baseTimestamp: number,
  opts: EncodeOptions,
): Buffer {
  if (records.length === 0) throw new Error('encodeBatch: no records');
  let maxTimestamp = baseTimestamp;
  const headerKeys: Buffer[][] = [];
  const bodies: number[] = [];
  let recordsSize = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    const keys = r.headers.map((h) => Buffer.from(h.key, 'utf8'));
    headerKeys.push(keys);
    let body =
      1 +
      sizeOfVarlong(r.timestamp - baseTimestamp) +
      sizeOfVarint(r.offsetDelta) +
      sizeOfBytes(r.key) +
      sizeOfBytes(r.value) +
      sizeOfVarint(r.headers.length);
    for (let h = 0; h < keys.length; h++) body += sizeOfBytes(keys[h]!) + sizeOfBytes(r.headers[h]!.value);
    bodies.push(body);
    recordsSize += sizeOfVarint(body) + body;
  }
  const raw = Buffer.allocUnsafe(recordsSize);
  const w = new ByteWriter(raw);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    w.varint(bodies[i]!);
    w.buf[w.pos++] = 0;
    w.varlong(r.timestamp - baseTimestamp);
    w.varint(r.offsetDelta);
    w.bytes(r.key);
    w.bytes(r.value);
    w.varint(r.headers.length);
    const keys = headerKeys[i]!;
    for (let h = 0; h < keys.length; h++) {
      w.bytes(keys[h]!);
      w.bytes(r.headers[h]!.value);
    }
  }
  const codec = opts.codec ?? 'none';
  const payload = codec === 'none' ? raw : compressionsAlgorithms[codec].compressSync(raw);
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + payload.length);
  out.writeBigInt64BE(0n, 0);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  out.writeInt32BE(-1, 12); // partition leader epoch: set by the broker
  out.writeInt8(2, 16);
  out.writeInt16BE(Codec[codec], ATTRIBUTES_OFFSET);
  out.writeInt32BE(records.at(-1)!.offsetDelta, 23);
  out.writeBigInt64BE(BigInt(baseTimestamp), 27);
  out.writeBigInt64BE(BigInt(maxTimestamp), 35);
  out.writeBigInt64BE(opts.producerId, 43);
  out.writeInt16BE(opts.producerEpoch, 51);
  out.writeInt32BE(opts.baseSequence, 53);
  out.writeInt32BE(records.length, 57);
  payload.copy(out, BATCH_HEADER_BYTES);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}
