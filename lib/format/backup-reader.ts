import type { ObjectStore } from '../storage/object-store.ts';
import type { PartitionManifest, SegmentRef } from './manifest.ts';
import type { BackupRecord } from './record.ts';
import { batchRecords, readSegmentItems, type SegmentBatch } from './segment-reader.ts';

export interface PartitionReadWindow {
  /** Only records with offset >= this (defaults to the partition's start_offset). */
  fromOffset?: number;
  /** Only records with timestamp in [startTime, endTime] (epoch ms), for point-in-time restores. */
  startTime?: number;
  endTime?: number;
}

/**
 * What a restore sends, in offset order: whole stored batches where every record of one is wanted, single
 * records elsewhere (format-1 segments, and a batch that the window, the start offset or the cut goes through,
 * decoded). `codec` is the compression the records were produced with (none for format 1).
 */
export type PartitionItem =
  | { kind: 'batch'; batch: SegmentBatch }
  | { kind: 'record'; record: BackupRecord; codec: SegmentBatch['header']['codec'] };

/**
 * The content of one backed-up partition in offset order: the records of its segments with
 * start_offset <= offset < end_offset, each once, checksums verified as segments stream in.
 * Segments wholly outside the window are not downloaded; batches wholly outside it are not decoded.
 */
export async function* readBackupPartitionItems(
  store: ObjectStore,
  p: PartitionManifest,
  window: PartitionReadWindow = {},
): AsyncGenerator<PartitionItem> {
  const from = Math.max(p.start_offset, window.fromOffset ?? 0);
  const { startTime, endTime } = window;
  const inWindow = (t: number) =>
    (startTime === undefined || t >= startTime) && (endTime === undefined || t <= endTime);
  let next = from;
  for (const s of segmentsToRead(p, window)) {
    if (s.last_offset < next) continue;
    for await (const item of readSegmentItems(store.getStream(s.key), { ...s })) {
      if (item.kind === 'record') {
        const r = item.record;
        if (r.offset < next || r.offset >= p.end_offset) continue;
        next = r.offset + 1;
        if (inWindow(r.timestamp)) yield { kind: 'record', record: r, codec: 'none' };
        continue;
      }
      const b = item.batch;
      if (b.lastOffset < next || b.firstOffset >= p.end_offset) continue;
      const maxTimestamp = b.header.maxTimestamp;
      if (startTime !== undefined && maxTimestamp < startTime) {
        next = b.lastOffset + 1;
        continue;
      }
      if (endTime !== undefined && b.minTimestamp > endTime) {
        next = b.lastOffset + 1;
        continue;
      }
      if (
        b.firstOffset >= next &&
        b.lastOffset < p.end_offset &&
        inWindow(b.minTimestamp) &&
        inWindow(maxTimestamp)
      ) {
        next = b.lastOffset + 1;
        yield { kind: 'batch', batch: b };
        continue;
      }
      for (const r of batchRecords(b, s.key)) {
        if (r.offset < next || r.offset >= p.end_offset) continue;
        next = r.offset + 1;
        if (inWindow(r.timestamp)) yield { kind: 'record', record: r, codec: b.header.codec };
      }
    }
  }
}

/**
 * The segments a read of `p` in `window` downloads: those holding offsets in [from, end_offset) with records in
 * the time window. What a restore checks is readable (not archived) before it writes anything.
 */
export function segmentsToRead(p: PartitionManifest, window: PartitionReadWindow = {}): SegmentRef[] {
  const from = Math.max(p.start_offset, window.fromOffset ?? 0);
  const { startTime, endTime } = window;
  return p.segments.filter(
    (s) =>
      s.last_offset >= from &&
      s.first_offset < p.end_offset &&
      (startTime === undefined || s.max_timestamp >= startTime) &&
      (endTime === undefined || s.min_timestamp <= endTime),
  );
}

/** The records of one backed-up partition in offset order (stored batches decoded). */
export async function* readBackupPartition(
  store: ObjectStore,
  p: PartitionManifest,
  window: PartitionReadWindow = {},
): AsyncGenerator<BackupRecord> {
  for await (const item of readBackupPartitionItems(store, p, window)) {
    if (item.kind === 'record') yield item.record;
    else yield* batchRecords(item.batch);
  }
}
