import { randomBytes } from 'node:crypto';
import { Layout, type SegmentRef } from '../format/manifest.ts';
import type { RangeProgress } from '../format/plan.ts';
import type { SegmentSummary } from '../format/segment.ts';
import { SegmentWriter } from '../format/segment-writer.ts';
import { SegmentWriterV1 } from '../format/segment-writer-v1.ts';
import { decodeRecords, type FetchedBatch, type ReadBatch, recordsRegion } from '../kafka/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { SegmentStorageClass } from '../storage/storage-class.ts';

export interface SinkOptions {
  store: ObjectStore;
  backupId: string;
  compressionLevel: number;
  segmentMaxBytes: number;
  /** A segment open longer than this is stored even if small: bounds the work a crash can lose. */
  checkpointIntervalMs: number;
  /** Current log-start offset of the partition, for telling a retention gap from a compaction gap. */
  logStart: () => Promise<number>;
  onSegment?: (ref: SegmentRef) => void;
  now?: () => number;
  /**
   * Segment format to write: 2 (Kafka's batches, the default) or 1 (our record encoding, as versions before
   * format 2 wrote). 1 exists for tests of backups that mix both.
   */
  segmentFormat?: 1 | 2;
  /** storage.storage_class: segments only; progress stays STANDARD (tiny, rewritten after every segment). */
  storageClass?: SegmentStorageClass | undefined;
}

/** An open segment of either format. */
interface OpenSegment {
  readonly records: number;
  readonly compressedBytes: number;
  add(batch: FetchedBatch): Promise<void>;
  finish(): Promise<SegmentSummary & { chunks: Buffer[] }>;
  abort(): void;
}

function openSegment(format: 1 | 2, level: number): OpenSegment {
  if (format === 2) return new SegmentWriter({ level });
  const w = new SegmentWriterV1({ level });
  return {
    get records() {
      return w.records;
    },
    get compressedBytes() {
      return w.compressedBytes;
    },
    async add(batch) {
      for (const r of batchRecordsOf(batch)) w.add(r);
    },
    async finish() {
      return w.finish();
    },
    abort() {},
  };
}

/**
 * Turns the batches of one offset range of a partition into stored segments and durable progress (the range's
 * own progress object, so that other ranges of the partition can be read at the same time elsewhere). Progress
 * is written only after the segments it lists are stored, so a resumed run never skips a record.
 */
export class PartitionSink {
  readonly progress: RangeProgress;
  readonly #opts: SinkOptions;
  #writer: OpenSegment | undefined;
  #openedAt = 0;
  #lastProgressWrite = 0;
  /** Offset after the last record handed to the open writer (or the last batch covered). */
  #covered: number;

  constructor(progress: RangeProgress, opts: SinkOptions) {
    this.progress = progress;
    this.#opts = opts;
    this.#covered = progress.next_offset;
  }

  get done(): boolean {
    return this.progress.next_offset >= this.progress.to;
  }

  #now(): number {
    return this.#opts.now ? this.#opts.now() : Date.now();
  }

  async accept(batch: ReadBatch): Promise<void> {
    // Offsets skipped before the first record kept (or by the whole delivery, when it kept none): retention, or
    // an ordinary hole (compaction, transaction markers, aborted batches); the log start tells them apart.
    const firstKept = batch.batches[0]?.scan.firstOffset ?? batch.nextOffset;
    if (firstKept > batch.fetchedFrom) await this.#checkRetentionGap(batch.fetchedFrom, firstKept);
    for (const b of batch.batches) {
      if (!this.#writer) {
        this.#writer = openSegment(this.#opts.segmentFormat ?? 2, this.#opts.compressionLevel);
        this.#openedAt = this.#now();
      }
      await this.#writer.add(b);
      this.#covered = b.scan.lastOffset + 1;
      if (this.#writer.compressedBytes >= this.#opts.segmentMaxBytes) await this.flush(this.#covered);
    }
    this.#covered = Math.max(this.#covered, batch.nextOffset);
    const stale =
      this.#writer !== undefined && this.#now() - this.#openedAt >= this.#opts.checkpointIntervalMs;
    const progressStale = this.#now() - this.#lastProgressWrite >= this.#opts.checkpointIntervalMs;
    if (batch.nextOffset >= this.progress.to || stale || (progressStale && !this.#writer)) {
      await this.flush(this.#covered);
    }
  }

  /** Stores the open segment (if any) and records progress up to `nextOffset`. */
  async flush(nextOffset: number = this.#covered): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    if (writer && writer.records > 0) {
      const seg = await writer.finish();
      const key = Layout.segment(
        this.progress.topic,
        this.progress.partition,
        seg.first_offset,
        seg.last_offset,
        randomBytes(4).toString('hex'),
      );
      await this.#opts.store.putStream(key, inOrder(seg.chunks), { storageClass: this.#opts.storageClass });
      const ref: SegmentRef = {
        key,
        first_offset: seg.first_offset,
        last_offset: seg.last_offset,
        records: seg.records,
        size: seg.size,
        uncompressed_size: seg.uncompressed_size,
        sha256: seg.sha256,
        min_timestamp: seg.min_timestamp,
        max_timestamp: seg.max_timestamp,
      };
      this.progress.segments.push(ref);
      this.#opts.onSegment?.(ref);
    }
    if (nextOffset > this.progress.next_offset || (writer && writer.records > 0)) {
      this.progress.next_offset = Math.max(this.progress.next_offset, nextOffset);
      await this.saveProgress();
    }
  }

  async saveProgress(): Promise<void> {
    this.progress.updated_at = new Date(this.#now()).toISOString();
    this.#lastProgressWrite = this.#now();
    await this.#opts.store.put(
      Layout.rangeProgress(
        this.#opts.backupId,
        this.progress.topic,
        this.progress.partition,
        this.progress.from,
        this.progress.to,
      ),
      JSON.stringify(this.progress),
    );
  }

  /** Records a gap when the source deleted offsets [from, …) before they were read (a retention race). */
  async #checkRetentionGap(from: number, firstRead: number): Promise<void> {
    const logStart = await this.#opts.logStart();
    if (logStart <= from) return; // an ordinary gap: compaction or transaction markers
    this.addGap(from, Math.min(logStart, firstRead));
  }

  addGap(start: number, end: number): void {
    const last = this.progress.gaps.at(-1);
    if (last && last.end_offset >= start) {
      last.end_offset = Math.max(last.end_offset, end);
      return;
    }
    this.progress.gaps.push({
      start_offset: start,
      end_offset: end,
      reason: 'retention',
      detected_at: new Date(this.#now()).toISOString(),
    });
  }
}

/** The chunks as a stream, for ObjectStore.putStream. */
async function* inOrder(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

function batchRecordsOf(batch: FetchedBatch) {
  return decodeRecords(batch.header, recordsRegion(batch.header, batch.bytes)).records;
}
