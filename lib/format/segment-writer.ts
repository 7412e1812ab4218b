import { createHash } from 'node:crypto';
import { constants, createZstdCompress, type ZstdCompress, type ZstdOptions } from 'node:zlib';
import type { BatchScan, StoredBatch } from '../kafka/index.ts';
import { BATCH_ENTRY_BYTES, SEGMENT_MAGIC_V2, type SegmentSummary } from './segment.ts';

/**
 * Input gathered before each write into zstd: large enough that the calls into the thread pool stay few, small
 * enough that little is held besides the compressed output.
 */
const FEED_BYTES = 1024 * 1024;
/**
 * The first feed of a segment, doubled at each flush up to FEED_BYTES: most segments of a large estate are a few
 * hundred bytes (one per small partition), and a megabyte each would be garbage for nothing.
 */
const FIRST_FEED_BYTES = 64 * 1024;
/** zstd's output below this is copied out of its 256 KiB output buffer, which the segment would otherwise hold. */
const SMALL_OUTPUT_BYTES = 64 * 1024;

export interface FinishedSegment extends SegmentSummary {
  /** The object to store (one zstd frame) as the pieces zstd produced, in order. */
  chunks: Buffer[];
  /** The same bytes in one Buffer (concatenated on first use). */
  readonly body: Buffer;
}

/** A fetched batch ready to be stored: its CRC checked, its records scanned. */
export interface ScannedBatch extends StoredBatch {
  scan: BatchScan;
}

/**
 * Builds one format-2 segment object: the record batches as the broker returned them, each behind an index
 * entry (first and last record offset, smallest timestamp), compressed as they arrive by node:zlib's zstd on the
 * libuv thread pool, so several partitions compress on several cores while the JavaScript thread fetches.
 * Memory holds the compressed output plus about one feed of input. Offsets must strictly increase.
 */
export class SegmentWriter {
  readonly #zstd: ZstdCompress;
  readonly #chunks: Buffer[] = [];
  readonly #hash = createHash('sha256');
  readonly #ended: Promise<void>;
  #feed: Buffer = Buffer.allocUnsafe(FIRST_FEED_BYTES);
  #feedEnd = 0;
  #records = 0;
  #uncompressedBytes = 0;
  #compressedBytes = 0;
  #firstOffset: number | undefined;
  #lastOffset: number | undefined;
  #minTimestamp = Number.POSITIVE_INFINITY;
  #maxTimestamp = Number.NEGATIVE_INFINITY;
  #finished = false;
  #error: Error | undefined;

  constructor(options: { level: number }) {
    this.#zstd = createZstdCompress({
      // Output in pieces of 256 KiB rather than zlib's 16 KiB: fewer thread-pool round trips and chunks to store.
      chunkSize: 256 * 1024,
      // Input queued for the thread pool before `add` waits: lets fetching run ahead of compression. (A stream
      // option the zlib classes pass on to their Transform, missing from @types/node's ZstdOptions.)
      ...({ writableHighWaterMark: 4 * 1024 * 1024 } as ZstdOptions),
      params: {
        [constants.ZSTD_c_compressionLevel]: options.level,
        // zstd's own XXH64 of the content: corruption shows up at decompression, even without the manifest.
        [constants.ZSTD_c_checksumFlag]: 1,
      },
    });
    this.#zstd.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#hash.update(chunk);
      this.#compressedBytes += chunk.length;
    });
    this.#ended = new Promise((resolve, reject) => {
      this.#zstd.once('end', resolve);
      this.#zstd.once('error', (e) => {
        this.#error = e;
        reject(e);
      });
    });
    this.#ended.catch(() => undefined);
    this.#append(SEGMENT_MAGIC_V2);
  }

  get records(): number {
    return this.#records;
  }
  /** Decompressed size so far, magic included. */
  get uncompressedBytes(): number {
    return this.#uncompressedBytes;
  }
  /**
   * Compressed bytes produced so far plus the input still queued for zstd at its full size: what a size bound is
   * checked against. Compression runs behind `add`, so the output alone would lag by megabytes; counted this way
   * the bound is exceeded by no more than what zstd holds inside (about one block).
   */
  get compressedBytes(): number {
    return this.#compressedBytes + this.#zstd.writableLength + this.#feedEnd;
  }
  get firstOffset(): number | undefined {
    return this.#firstOffset;
  }
  get lastOffset(): number | undefined {
    return this.#lastOffset;
  }

  /** Adds one batch (with at least one record); resolves when zstd can take more (backpressure). */
  async add(batch: ScannedBatch): Promise<void> {
    if (this.#finished) throw new Error('SegmentWriter.add after finish');
    if (this.#error) throw this.#error;
    const { scan, header } = batch;
    if (header.recordCount === 0) throw new RangeError(`batch at ${header.baseOffset} holds no record`);
    if (this.#lastOffset !== undefined && scan.firstOffset <= this.#lastOffset) {
      throw new RangeError(`offset ${scan.firstOffset} does not follow ${this.#lastOffset}`);
    }
    const entry = Buffer.allocUnsafe(BATCH_ENTRY_BYTES);
    entry.writeBigInt64BE(BigInt(scan.firstOffset), 0);
    entry.writeBigInt64BE(BigInt(scan.lastOffset), 8);
    entry.writeBigInt64BE(BigInt(scan.minTimestamp), 16);
    this.#append(entry);
    this.#append(batch.bytes);
    this.#records += header.recordCount;
    this.#firstOffset ??= scan.firstOffset;
    this.#lastOffset = scan.lastOffset;
    if (scan.minTimestamp < this.#minTimestamp) this.#minTimestamp = scan.minTimestamp;
    if (scan.maxTimestamp > this.#maxTimestamp) this.#maxTimestamp = scan.maxTimestamp;
    if (this.#feedEnd >= this.#feed.length) this.#flushFeed();
    if (this.#zstd.writableNeedDrain) {
      await new Promise<void>((resolve, reject) => {
        this.#zstd.once('drain', resolve);
        this.#ended.catch(reject);
      });
    }
  }

  /** Ends the zstd frame and hands over the object. An empty segment is a caller bug: nothing to store. */
  async finish(): Promise<FinishedSegment> {
    if (this.#finished) throw new Error('SegmentWriter.finish called twice');
    if (this.#records === 0) throw new Error('SegmentWriter.finish on an empty segment');
    this.#finished = true;
    this.#flushFeed();
    this.#zstd.end();
    await this.#ended;
    const size = this.#compressedBytes;
    const chunks = this.#chunks.splice(0);
    if (size < SMALL_OUTPUT_BYTES && chunks.length > 0)
      chunks.splice(0, chunks.length, Buffer.concat(chunks, size));
    let body: Buffer | undefined;
    return {
      chunks,
      get body() {
        body ??= Buffer.concat(chunks, size);
        return body;
      },
      sha256: this.#hash.digest('hex'),
      records: this.#records,
      uncompressed_size: this.#uncompressedBytes,
      size,
      first_offset: this.#firstOffset!,
      last_offset: this.#lastOffset!,
      min_timestamp: this.#minTimestamp,
      max_timestamp: this.#maxTimestamp,
    };
  }

  /** Drops the stream without an object (the run failed before the segment was finished). */
  abort(): void {
    this.#finished = true;
    this.#zstd.destroy();
  }

  #append(bytes: Buffer): void {
    this.#uncompressedBytes += bytes.length;
    if (this.#feedEnd + bytes.length > this.#feed.length) {
      this.#flushFeed();
      // A batch larger than the (next) feed goes to zstd as it is (a copy: the caller's buffer may be reused).
      if (bytes.length >= this.#feed.length) {
        this.#zstd.write(Buffer.from(bytes));
        return;
      }
    }
    this.#feedEnd += bytes.copy(this.#feed, this.#feedEnd);
  }

  /** Hands the gathered input to zstd. */
  #flushFeed(): void {
    if (this.#feedEnd === 0) return;
    const feed = this.#feed.subarray(0, this.#feedEnd);
    // The next feed is allocated only if a batch comes (none after finish), twice as large up to FEED_BYTES.
    const next = Math.min(FEED_BYTES, this.#feed.length * 2);
    this.#feed = this.#finished ? Buffer.alloc(0) : Buffer.allocUnsafe(next);
    this.#feedEnd = 0;
    this.#zstd.write(feed);
  }
}
