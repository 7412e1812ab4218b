import { createHash } from 'node:crypto';
import binding from 'zstd-napi/binding.js';
import type { BackupRecord } from './record.ts';
import { RecordEncoder } from './record-codec.ts';
import { SEGMENT_MAGIC_V1, type SegmentSummary } from './segment.ts';

/** Encoded bytes gathered before each call into zstd: its preferred input size, so calls stay few. */
const FEED_BYTES = binding.cStreamInSize();

export interface FinishedSegmentV1 extends SegmentSummary {
  /**
   * The object to store (one zstd frame) as the pieces zstd produced, in order: storing them as a stream does not
   * copy the whole segment once more at the moment memory holds the most.
   */
  chunks: Buffer[];
  /** The same bytes in one Buffer (concatenated on first use). */
  readonly body: Buffer;
}

/**
 * Builds one format-1 segment object (records in our own encoding, record-codec.ts): what kafka-backup wrote
 * before format 2. Kept so that tests make real format-1 segments and backups, which restores and validations
 * must go on reading (incremental backups mix both). Offsets must strictly increase.
 */
export class SegmentWriterV1 {
  readonly #cctx = new binding.CCtx();
  readonly #encoder = new RecordEncoder(FEED_BYTES * 2);
  readonly #out = Buffer.allocUnsafe(binding.cStreamOutSize());
  readonly #chunks: Buffer[] = [];
  readonly #hash = createHash('sha256');
  #records = 0;
  #uncompressedBytes = 0;
  #compressedBytes = 0;
  #firstOffset: number | undefined;
  #lastOffset: number | undefined;
  #minTimestamp = Number.POSITIVE_INFINITY;
  #maxTimestamp = Number.NEGATIVE_INFINITY;
  #finished = false;

  constructor(options: { level: number }) {
    this.#cctx.setParameter(binding.CParameter.compressionLevel, options.level);
    // zstd's own XXH64 of the content: corruption shows up at decompression, even without the manifest.
    this.#cctx.setParameter(binding.CParameter.checksumFlag, 1);
    this.#encoder.appendBytes(SEGMENT_MAGIC_V1);
    this.#uncompressedBytes = SEGMENT_MAGIC_V1.length;
  }

  get records(): number {
    return this.#records;
  }
  /** Decompressed size so far, magic included. */
  get uncompressedBytes(): number {
    return this.#uncompressedBytes;
  }
  /**
   * Compressed bytes produced so far. Lags the input by what zstd and this writer buffer (a few hundred KiB),
   * so a size bound checked against it is approximate by that much.
   */
  get compressedBytes(): number {
    return this.#compressedBytes;
  }
  get firstOffset(): number | undefined {
    return this.#firstOffset;
  }
  get lastOffset(): number | undefined {
    return this.#lastOffset;
  }
  get minTimestamp(): number | undefined {
    return this.#records > 0 ? this.#minTimestamp : undefined;
  }
  get maxTimestamp(): number | undefined {
    return this.#records > 0 ? this.#maxTimestamp : undefined;
  }

  add(record: BackupRecord): void {
    if (this.#finished) throw new Error('SegmentWriter.add after finish');
    if (this.#lastOffset !== undefined && record.offset <= this.#lastOffset) {
      throw new RangeError(`offset ${record.offset} does not follow ${this.#lastOffset}`);
    }
    this.#uncompressedBytes += this.#encoder.append(record);
    this.#records++;
    this.#firstOffset ??= record.offset;
    this.#lastOffset = record.offset;
    if (record.timestamp < this.#minTimestamp) this.#minTimestamp = record.timestamp;
    if (record.timestamp > this.#maxTimestamp) this.#maxTimestamp = record.timestamp;
    if (this.#encoder.length >= FEED_BYTES) this.#feed(binding.EndDirective.continue);
  }

  /** Ends the zstd frame and hands over the object. An empty segment is a caller bug: nothing to store. */
  finish(): FinishedSegmentV1 {
    if (this.#finished) throw new Error('SegmentWriter.finish called twice');
    if (this.#records === 0) throw new Error('SegmentWriter.finish on an empty segment');
    this.#feed(binding.EndDirective.end);
    this.#finished = true;
    const chunks = this.#chunks.splice(0);
    const size = this.#compressedBytes;
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

  #feed(directive: binding.EndDirective): void {
    let src: Buffer = this.#encoder.view();
    const ending = directive === binding.EndDirective.end;
    for (;;) {
      const [remaining, produced, consumed] = this.#cctx.compressStream2(this.#out, src, directive);
      if (produced > 0) {
        const chunk = Buffer.from(this.#out.subarray(0, produced));
        this.#chunks.push(chunk);
        this.#hash.update(chunk);
        this.#compressedBytes += produced;
      }
      src = src.subarray(consumed);
      // Ending: loop until zstd reports nothing left to flush; continuing: until it took all the input.
      if (src.length === 0 && (!ending || remaining === 0)) break;
    }
    this.#encoder.clear();
  }
}
