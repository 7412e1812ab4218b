import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createZstdDecompress } from 'node:zlib';
import { CorruptDataError } from '../errors.ts';
import {
  decodeRecords,
  RecordBatchError,
  type RecordBatchHeader,
  readBatchHeader,
  recordsRegion,
  type StoredBatch,
  scanBatch,
  verifyCrc,
} from '../kafka/index.ts';
import type { BackupRecord } from './record.ts';
import { decodeRecord } from './record-codec.ts';
import {
  BATCH_ENTRY_BYTES,
  SEGMENT_MAGIC_BYTES,
  SEGMENT_MAGIC_V1,
  SEGMENT_MAGIC_V2,
  type SegmentExpectation,
} from './segment.ts';

/** Compressed input gathered before each write into zstd. */
const INPUT_BYTES = 1024 * 1024;
/** Decompressed output per zstd chunk. */
const OUTPUT_BYTES = 1024 * 1024;
/** Free space kept after the undecoded bytes: about what one zstd output chunk holds. */
const WINDOW_BYTES = OUTPUT_BYTES;

/**
 * One stored batch of a format-2 segment with its index entry. `bytes` is a view into the reader's buffer, valid
 * until the next item is asked for: copy it to keep it longer.
 */
export interface SegmentBatch extends StoredBatch {
  /** Offsets of the first and last record in it. */
  firstOffset: number;
  lastOffset: number;
  minTimestamp: number;
}

/** What a segment holds, in offset order: records (format 1) or batches (format 2). */
export type SegmentItem = { kind: 'record'; record: BackupRecord } | { kind: 'batch'; batch: SegmentBatch };

export interface ReadSegmentOptions {
  /**
   * Check each batch's CRC-32C and walk its records against the index entry (validate --deep). Without it a
   * batch is checked as far as its header and index entry go; the object's SHA-256 and zstd's content checksum
   * still cover every byte once the segment has been read to its end.
   */
  verifyBatches?: boolean;
}

/**
 * Streams the content of one segment object, format 1 or 2 (told apart by the magic). Memory is bounded by the
 * largest record or batch plus the decompressor's buffers, however the body is chunked.
 *
 * Items are yielded as they decode; the checksum and counts in `expect` can only be checked once the body has
 * been read, so the generator throws CorruptDataError after the last item when they mismatch. Consume it to the
 * end before trusting what it yielded.
 */
export async function* readSegmentItems(
  body: AsyncIterable<Uint8Array>,
  expect: SegmentExpectation = {},
  opts: ReadSegmentOptions = {},
): AsyncGenerator<SegmentItem> {
  const corrupt = (what: string, cause?: unknown) =>
    new CorruptDataError(`segment ${expect.key ?? '(unnamed)'} is corrupt: ${what}`, {
      hint: 'the object changed or was damaged after it was written; restore from another backup, or from an earlier object version if the bucket is versioned',
      cause,
    });
  const hash = createHash('sha256');
  let size = 0;
  // Input handed to zstd in pieces of about 1 MiB, however small the storage's chunks (an S3 body arrives in
  // 16-64 KiB pieces): each write is a round trip to the thread pool, and those round trips, not the
  // decompression, were what a restore's JavaScript thread spent its time on.
  async function* counted(): AsyncGenerator<Uint8Array> {
    let gathered: Uint8Array[] = [];
    let gatheredBytes = 0;
    for await (const chunk of body) {
      hash.update(chunk);
      size += chunk.length;
      if (gatheredBytes === 0 && chunk.length >= INPUT_BYTES) {
        yield chunk;
        continue;
      }
      gathered.push(chunk);
      gatheredBytes += chunk.length;
      if (gatheredBytes >= INPUT_BYTES) {
        yield Buffer.concat(gathered, gatheredBytes);
        gathered = [];
        gatheredBytes = 0;
      }
    }
    if (gatheredBytes > 0) yield Buffer.concat(gathered, gatheredBytes);
  }
  const source = Readable.from(counted());
  // Output in pieces of 1 MiB rather than zlib's 16 KiB: fewer thread-pool round trips.
  const zstd = createZstdDecompress({ chunkSize: OUTPUT_BYTES });
  // Errors of the source (storage) reach the loop below through the decompressor.
  source.on('error', (e) => zstd.destroy(e));
  source.pipe(zstd);

  const pending = new Window();
  let uncompressed = 0;
  let version: 1 | 2 | undefined;
  let records = 0;
  let firstOffset: number | undefined;
  let lastOffset: number | undefined;
  const follows = (first: number, last: number) => {
    if (lastOffset !== undefined && first <= lastOffset) {
      throw corrupt(`offset ${first} follows ${lastOffset}; offsets must strictly increase`);
    }
    firstOffset ??= first;
    lastOffset = last;
  };

  try {
    for await (const out of zstd as AsyncIterable<Buffer>) {
      uncompressed += out.length;
      pending.push(out);
      if (version === undefined) {
        if (pending.length < SEGMENT_MAGIC_BYTES) continue;
        const magic = pending.buf.subarray(pending.start, pending.start + SEGMENT_MAGIC_BYTES);
        if (SEGMENT_MAGIC_V1.equals(magic)) version = 1;
        else if (SEGMENT_MAGIC_V2.equals(magic)) version = 2;
        else {
          throw corrupt(
            `does not start with ${SEGMENT_MAGIC_V1.toString('ascii')} or ${SEGMENT_MAGIC_V2.toString('ascii')} (not a segment, or a newer format)`,
          );
        }
        pending.start += SEGMENT_MAGIC_BYTES;
      }
      if (version === 1) {
        for (;;) {
          let decoded: ReturnType<typeof decodeRecord>;
          try {
            decoded = decodeRecord(pending.buf, pending.start, pending.end);
          } catch (e) {
            throw corrupt((e as Error).message, e);
          }
          if (!decoded) break;
          pending.start = decoded.next;
          follows(decoded.record.offset, decoded.record.offset);
          records++;
          yield { kind: 'record', record: decoded.record };
        }
      } else {
        for (;;) {
          const batch = nextBatch(pending, corrupt, opts);
          if (!batch) break;
          follows(batch.firstOffset, batch.lastOffset);
          records += batch.header.recordCount;
          yield { kind: 'batch', batch };
        }
      }
    }
  } catch (e) {
    if (e instanceof CorruptDataError) throw e;
    // The decompressor's own errors (bad frame, checksum, truncation) name zstd or carry a zlib code; storage
    // errors reach here unchanged.
    const code = (e as { code?: unknown }).code;
    if (
      e instanceof Error &&
      (/zstd|unexpected end/i.test(e.message) || (typeof code === 'string' && /^(Z_|ZSTD_)/.test(code)))
    ) {
      if (size === 0) throw corrupt('the object is empty', e);
      throw corrupt(`zstd: ${e.message}`, e);
    }
    throw e;
  } finally {
    source.destroy();
    zstd.destroy();
  }

  if (size === 0) throw corrupt('the object is empty');
  if (version === undefined) throw corrupt(`shorter than the ${SEGMENT_MAGIC_BYTES}-byte magic`);
  if (pending.length > 0)
    throw corrupt(`ends inside a ${version === 1 ? 'record' : 'batch'} (${pending.length} trailing bytes)`);

  const mismatches: string[] = [];
  const check = (field: string, want: string | number | undefined, got: string | number | undefined) => {
    if (want !== undefined && want !== got)
      mismatches.push(`${field} is ${got ?? 'absent'}, expected ${want}`);
  };
  check('size', expect.size, size);
  check('sha256', expect.sha256, hash.digest('hex'));
  check('uncompressed size', expect.uncompressed_size, uncompressed);
  check('record count', expect.records, records);
  check('first offset', expect.first_offset, firstOffset);
  check('last offset', expect.last_offset, lastOffset);
  if (mismatches.length > 0) throw corrupt(mismatches.join('; '));
}

/** The records of a segment of either format (format-2 batches decoded), in offset order. */
export async function* readSegment(
  body: AsyncIterable<Uint8Array>,
  expect: SegmentExpectation = {},
  opts: ReadSegmentOptions = {},
): AsyncGenerator<BackupRecord> {
  for await (const item of readSegmentItems(body, expect, opts)) {
    if (item.kind === 'record') yield item.record;
    else yield* batchRecords(item.batch, expect.key);
  }
}

/** The records of one stored batch, decoded. */
export function batchRecords(batch: SegmentBatch, key?: string): BackupRecord[] {
  try {
    return decodeRecords(batch.header, recordsRegion(batch.header, batch.bytes)).records;
  } catch (e) {
    if (!(e instanceof RecordBatchError)) throw e;
    throw new CorruptDataError(`segment ${key ?? '(unnamed)'} is corrupt: ${e.message}`, { cause: e });
  }
}

/** The next whole index entry and batch in `pending`, or undefined when it is not all there yet. */
function nextBatch(
  pending: Window,
  corrupt: (what: string, cause?: unknown) => CorruptDataError,
  opts: ReadSegmentOptions,
): SegmentBatch | undefined {
  if (pending.length < BATCH_ENTRY_BYTES + 12) return undefined;
  const at = pending.start;
  const buf = pending.buf;
  const batchLength = buf.readInt32BE(at + BATCH_ENTRY_BYTES + 8);
  if (batchLength < 49) throw corrupt(`batch at uncompressed byte ${at} has length ${batchLength}`);
  const total = BATCH_ENTRY_BYTES + 12 + batchLength;
  if (pending.length < total) return undefined;
  const firstOffset = Number(buf.readBigInt64BE(at));
  const lastOffset = Number(buf.readBigInt64BE(at + 8));
  const minTimestamp = Number(buf.readBigInt64BE(at + 16));
  // A view, not a copy: valid until the generator is resumed (the window is reused). Whoever keeps a batch past
  // that copies it (OutgoingBatch does for the one it holds back); decoded records are copies already.
  const bytes = buf.subarray(at + BATCH_ENTRY_BYTES, at + total);
  let header: RecordBatchHeader | undefined;
  try {
    header = readBatchHeader(bytes, 0);
  } catch (e) {
    throw corrupt((e as Error).message, e);
  }
  if (!header || header.size !== bytes.length) throw corrupt(`batch at uncompressed byte ${at} is cut short`);
  if (
    header.recordCount < 1 ||
    firstOffset < header.baseOffset ||
    lastOffset < firstOffset ||
    lastOffset > header.baseOffset + header.lastOffsetDelta ||
    lastOffset - firstOffset + 1 < header.recordCount
  ) {
    throw corrupt(
      `index entry (offsets ${firstOffset}-${lastOffset}) does not fit the batch at ${header.baseOffset} (${header.recordCount} records, last offset delta ${header.lastOffsetDelta})`,
    );
  }
  if (opts.verifyBatches) {
    try {
      verifyCrc(header, bytes);
      const scan = scanBatch(header, recordsRegion(header, bytes));
      if (
        scan.firstOffset !== firstOffset ||
        scan.lastOffset !== lastOffset ||
        scan.minTimestamp !== minTimestamp
      ) {
        throw corrupt(
          `index entry (offsets ${firstOffset}-${lastOffset}, min timestamp ${minTimestamp}) differs from its batch (${scan.firstOffset}-${scan.lastOffset}, ${scan.minTimestamp})`,
        );
      }
    } catch (e) {
      if (e instanceof CorruptDataError) throw e;
      throw corrupt((e as Error).message, e);
    }
  }
  pending.start += total;
  return { header, bytes, firstOffset, lastOffset, minTimestamp };
}

/** Decompressed bytes not yet decoded: [start, end) of a buffer reused across chunks. */
class Window {
  buf = Buffer.allocUnsafe(WINDOW_BYTES * 2);
  start = 0;
  end = 0;

  get length(): number {
    return this.end - this.start;
  }

  push(chunk: Buffer): void {
    if (this.buf.length - this.end < chunk.length) {
      const live = this.length;
      const needed = live + chunk.length;
      // Reallocate when too small, and also when far too big: a huge record that has passed must not pin memory.
      if (needed > this.buf.length || this.buf.length > Math.max(WINDOW_BYTES * 2, needed * 4)) {
        const next = Buffer.allocUnsafe(Math.max(WINDOW_BYTES * 2, needed * 2));
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    this.end += chunk.copy(this.buf, this.end);
  }
}
