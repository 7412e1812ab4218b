import { z } from 'zod';
import { FormatVersion, Gap, GroupOffsets, RecreatedSince, SegmentRef } from './manifest.ts';

/** A partition as planned: its cut, and what an earlier backup already stored. */
export const PlannedPartition = z.object({
  partition: z.number().int().nonnegative(),
  start_offset: z.number().int().nonnegative(),
  end_offset: z.number().int().nonnegative(),
  /** Segments of the earlier backup this one reuses (records at or after start_offset). */
  reused_segments: z.array(SegmentRef),
  /** Records of the reused segments with start_offset <= offset. */
  reused_records: z.number().int().nonnegative(),
  /** Gaps the earlier backup recorded at or after start_offset. */
  reused_gaps: z.array(Gap),
  /** Where reading starts: after the reused segments, or start_offset. */
  read_from: z.number().int().nonnegative(),
});
export type PlannedPartition = z.infer<typeof PlannedPartition>;

export const BackupPlan = z.object({
  format_version: FormatVersion,
  backup_id: z.string(),
  started_at: z.string(),
  source_cluster_id: z.string(),
  kafka_cluster_id: z.string(),
  isolation_level: z.enum(['read_committed', 'read_uncommitted']),
  compression: z.object({ codec: z.literal('zstd'), level: z.number().int() }),
  include_offset_headers: z.boolean(),
  based_on: z.string().nullable(),
  topics: z.array(
    z.object({
      name: z.string(),
      topic_id: z.string().nullable(),
      /** The topic was re-created since the earlier backup: its partitions are planned afresh. */
      recreated_since: RecreatedSince.optional(),
      partition_count: z.number().int().positive(),
      replication_factor: z.number().int().positive(),
      configs: z.record(z.string(), z.string()),
      partitions: z.array(PlannedPartition),
    }),
  ),
  consumer_groups: z.array(GroupOffsets),
});
export type BackupPlan = z.infer<typeof BackupPlan>;

/** Durable progress of one partition (or of one offset range of it): never ahead of the segments it lists. */
export const PartitionProgress = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  /** Everything below this offset is stored (or recorded as a gap). */
  next_offset: z.number().int().nonnegative(),
  segments: z.array(SegmentRef),
  gaps: z.array(Gap),
  updated_at: z.string(),
});
export type PartitionProgress = z.infer<typeof PartitionProgress>;

/**
 * Durable progress of one offset range [from, to) of a partition, read by one worker (a whole partition is one
 * range). Several ranges of a partition may be read at once by different workers; finalize puts them together.
 */
export const RangeProgress = PartitionProgress.extend({
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
});
export type RangeProgress = z.infer<typeof RangeProgress>;
