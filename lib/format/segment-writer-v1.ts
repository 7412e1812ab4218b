import { createHash } from 'node:crypto';
import { constants, zstdCompressSync } from 'node:zlib';
import type { BackupRecord } from './record.ts';
import { RecordEncoder } from './record-codec.ts';
import { SEGMENT_MAGIC_V1, type SegmentSummary } from './segment.ts';

/** Encoded bytes gathered before they are moved out of the encoder. */
const FEED_BYTES = 128 * 1024;

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
  readonly #level: number;
  readonly #encoder = new RecordEncoder(FEED_BYTES * 2);
  /** The encoded segment so far: compressed as one frame when it is finished (a test-only writer). */
  readonly #plain: Buffer[] = [];
  #records = 0;
  #uncompressedBytes = 0;
  #firstOffset: number | undefined;
  #lastOffset: number | undefined;
  #minTimestamp = Number.POSITIVE_INFINITY;
  #maxTimestamp = Number.NEGATIVE_INFINITY;
  #finished = false;
  #size: number | undefined;

  constructor(options: { level: number }) {
    this.#level = options.level;
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
   * The encoded bytes so far: compression happens at `finish`, so a size bound checked against this counts
   * uncompressed bytes (segments come out smaller than the bound). After `finish`, the object's size.
   */
  get compressedBytes(): number {
    return this.#size ?? this.#uncompressedBytes;
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
    if (this.#encoder.length >= FEED_BYTES) this.#feed();
  }

  /** Ends the zstd frame and hands over the object. An empty segment is a caller bug: nothing to store. */
  finish(): FinishedSegmentV1 {
    if (this.#finished) throw new Error('SegmentWriter.finish called twice');
    if (this.#records === 0) throw new Error('SegmentWriter.finish on an empty segment');
    this.#feed();
    this.#finished = true;
    const body = zstdCompressSync(Buffer.concat(this.#plain.splice(0)), {
      params: {
        [constants.ZSTD_c_compressionLevel]: this.#level,
        // zstd's own XXH64 of the content: corruption shows up at decompression, even without the manifest.
        [constants.ZSTD_c_checksumFlag]: 1,
      },
    });
    const size = body.length;
    this.#size = size;
    return {
      chunks: [body],
      body,
      sha256: createHash('sha256').update(body).digest('hex'),
      records: this.#records,
      uncompressed_size: this.#uncompressedBytes,
      size,
      first_offset: this.#firstOffset!,
      last_offset: this.#lastOffset!,
      min_timestamp: this.#minTimestamp,
      max_timestamp: this.#maxTimestamp,
    };
  }

  #feed(): void {
    if (this.#encoder.length > 0) this.#plain.push(Buffer.from(this.#encoder.view()));
    this.#encoder.clear();
  }
}
