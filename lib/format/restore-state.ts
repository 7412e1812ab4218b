import { z } from 'zod';
import { FormatVersion } from './manifest.ts';

/** Where restores keep their state: the one table of keys, lib/storage/layout.ts. */
export { RestoreLayout } from '../storage/layout.ts';

/**
 * Source offsets mapped to target offsets in runs: `[source_start, target_start, length]` means source offsets
 * source_start.. map one to one onto target_start.. for `length` records. Offset gaps in the source
 * (compaction, transaction markers) start a new run; the target offsets are contiguous.
 */
export const OffsetRun = z.tuple([
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
  z.number().int().positive(),
]);
export type OffsetRun = z.infer<typeof OffsetRun>;

export const SourcePartitionMapping = z.object({
  source_topic: z.string(),
  source_partition: z.number().int().nonnegative(),
  runs: z.array(OffsetRun),
  records: z.number().int().nonnegative(),
});
export type SourcePartitionMapping = z.infer<typeof SourcePartitionMapping>;

/** One target partition: the source partitions written into it, in order, and what is done. */
export const RestorePartitionState = z.object({
  format_version: FormatVersion,
  target_topic: z.string(),
  target_partition: z.number().int().nonnegative(),
  /** The target's end offset before this restore wrote anything: restored record k lands at base + k. */
  base_offset: z.number().int().nonnegative(),
  sources: z.array(z.object({ topic: z.string(), partition: z.number().int().nonnegative() })),
  expected_records: z.number().int().nonnegative(),
  restored_records: z.number().int().nonnegative(),
  done: z.boolean(),
  mappings: z.array(SourcePartitionMapping),
  updated_at: z.string(),
});
export type RestorePartitionState = z.infer<typeof RestorePartitionState>;

export const RestorePlanState = z.object({
  format_version: FormatVersion,
  restore_id: z.string(),
  backup_id: z.string(),
  target_cluster_id: z.string(),
  started_at: z.string(),
  /** source topic -> target topic, for every restored topic. */
  topics: z.record(z.string(), z.string()),
  window: z.object({ start_time: z.number().nullable(), end_time: z.number().nullable() }),
});
export type RestorePlanState = z.infer<typeof RestorePlanState>;
