import type { ObjectStore } from '../storage/object-store.ts';
import type { PartitionManifest } from './manifest.ts';
import type { BackupRecord } from './record.ts';
import { readSegment } from './segment-reader.ts';

export interface PartitionReadWindow {
  /** Only records with offset >= this (defaults to the partition's start_offset). */
  fromOffset?: number;
  /** Only records with timestamp in [startTime, endTime] (epoch ms), for point-in-time restores. */
  startTime?: number;
  endTime?: number;
}

/**
 * The records of one backed-up partition in offset order: those of its segments with
 * start_offset <= offset < end_offset, each once, checksums verified as segments stream in.
 * Segments wholly outside the window are not downloaded.
 */
export async function* readBackupPartition(
  store: ObjectStore,
  p: PartitionManifest,
  window: PartitionReadWindow = {},
): AsyncGenerator<BackupRecord> {
  const from = Math.max(p.start_offset, window.fromOffset ?? 0);
  let next = from;
  for (const s of p.segments) {
    if (s.last_offset < next || s.first_offset >= p.end_offset) continue;
    if (window.startTime !== undefined && s.max_timestamp < window.startTime) continue;
    if (window.endTime !== undefined && s.min_timestamp > window.endTime) continue;
    for await (const r of readSegment(store.getStream(s.key), { ...s })) {
      if (r.offset < next || r.offset >= p.end_offset) continue;
      next = r.offset + 1;
      if (window.startTime !== undefined && r.timestamp < window.startTime) continue;
      if (window.endTime !== undefined && r.timestamp > window.endTime) continue;
      yield r;
    }
  }
}
