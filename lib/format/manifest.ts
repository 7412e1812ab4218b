import { z } from 'zod';

/**
 * Bumped on any change a reader of an older version would misread. 2: segments hold Kafka's own record batches
 * (segment format 2); a format-2 manifest may also name format-1 segments of earlier backups it reuses.
 */
export const FORMAT_VERSION = 2;
/** Every version this reader understands. */
export const FormatVersion = z.union([z.literal(1), z.literal(2)], {
  error: (issue) =>
    `format_version ${JSON.stringify(issue.input)} is not one this kafka-backup reads (1 or 2): written by a newer version?`,
});
export type FormatVersion = z.infer<typeof FormatVersion>;

export const SegmentRef = z.object({
  /** Object key relative to the backup location, e.g. `segments/orders/0/00000000000000000000-….kbseg.zst`. */
  key: z.string(),
  /** First and last record offsets inside the segment (inclusive). */
  first_offset: z.number().int().nonnegative(),
  last_offset: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  /** Bytes of the stored (compressed) object. */
  size: z.number().int().nonnegative(),
  uncompressed_size: z.number().int().nonnegative(),
  /** Hex SHA-256 of the stored object's bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  min_timestamp: z.number().int(),
  max_timestamp: z.number().int(),
});
export type SegmentRef = z.infer<typeof SegmentRef>;

export const Gap = z.object({
  start_offset: z.number().int().nonnegative(),
  /** Exclusive. */
  end_offset: z.number().int().nonnegative(),
  /** `retention`: the source deleted these offsets before they were read. */
  reason: z.enum(['retention']),
  detected_at: z.string(),
});
export type Gap = z.infer<typeof Gap>;

export const PartitionManifest = z.object({
  partition: z.number().int().nonnegative(),
  /** The source's log-start offset when the cut was taken: restore begins here. */
  start_offset: z.number().int().nonnegative(),
  /** The cut (exclusive): last stable offset under read_committed, high watermark otherwise. */
  end_offset: z.number().int().nonnegative(),
  /** Records stored with offsets in [start_offset, end_offset). */
  records: z.number().int().nonnegative(),
  /** Segments holding those records, in offset order; they may also hold records below start_offset. */
  segments: z.array(SegmentRef),
  gaps: z.array(Gap),
});
export type PartitionManifest = z.infer<typeof PartitionManifest>;

/**
 * Set on a topic that was deleted and created again under the same name since the earlier backup: nothing
 * of the earlier backup was reused for it, it was backed up in full. Optional (absent in older manifests, and
 * for topics that were not re-created); informational, a reader needs nothing from it to restore.
 */
export const RecreatedSince = z.object({
  /** The earlier backup whose topic of this name was another topic. */
  backup_id: z.string(),
  /** That topic's id as the earlier backup recorded it (null when its broker reported none). */
  topic_id: z.string().nullable(),
  /**
   * What told them apart: `topic_id` (the ids differ), `partition_count` (fewer partitions than before),
   * `records` (records at the same offsets differ).
   */
  detected_by: z.enum(['topic_id', 'partition_count', 'records']),
  /** The same in words, e.g. which partition and offset differed. */
  detail: z.string(),
});
export type RecreatedSince = z.infer<typeof RecreatedSince>;

export const TopicManifest = z.object({
  name: z.string(),
  /** The topic id the broker reported at backup time; null in manifests written before topic ids were recorded (the kafkajs client spoke Metadata v6). */
  topic_id: z.string().nullable(),
  recreated_since: RecreatedSince.optional(),
  partition_count: z.number().int().positive(),
  replication_factor: z.number().int().positive(),
  /** Configs set on the topic itself (not broker defaults). */
  configs: z.record(z.string(), z.string()),
  partitions: z.array(PartitionManifest),
});
export type TopicManifest = z.infer<typeof TopicManifest>;

export const GroupOffsets = z.object({
  group_id: z.string(),
  /** Committed offsets at the cut: the next record the group would read. */
  offsets: z.array(
    z.object({
      topic: z.string(),
      partition: z.number().int().nonnegative(),
      offset: z.number().int().nonnegative(),
      metadata: z.string().nullable(),
    }),
  ),
});
export type GroupOffsets = z.infer<typeof GroupOffsets>;

export const Manifest = z.object({
  format_version: FormatVersion,
  backup_id: z.string(),
  tool_version: z.string(),
  /** `backup.source_cluster_id` from the config, or the Kafka cluster id when unset. */
  source_cluster_id: z.string(),
  kafka_cluster_id: z.string(),
  started_at: z.string(),
  completed_at: z.string(),
  isolation_level: z.enum(['read_committed', 'read_uncommitted']),
  compression: z.object({ codec: z.literal('zstd'), level: z.number().int() }),
  /** The earlier backup whose segments this one reuses, if any. */
  based_on: z.string().nullable(),
  include_offset_headers: z.boolean(),
  topics: z.array(TopicManifest),
  consumer_groups: z.array(GroupOffsets),
  /**
   * Cluster metadata captured with the backup (backup.metadata): schemas, ACLs, quotas, SCRAM users, in the
   * object `key` (relative to the location). Absent when none was asked for, and in older manifests.
   */
  metadata: z
    .object({
      key: z.string(),
      parts: z.array(z.enum(['schemas', 'acls', 'quotas', 'users'])),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .optional(),
  stats: z.object({
    records: z.number().int().nonnegative(),
    stored_bytes: z.number().int().nonnegative(),
    uploaded_bytes: z.number().int().nonnegative(),
    segments_uploaded: z.number().int().nonnegative(),
    segments_reused: z.number().int().nonnegative(),
    duration_ms: z.number().int().nonnegative(),
  }),
});
export type Manifest = z.infer<typeof Manifest>;

/** Where things live inside a backup location: the one table of keys, lib/storage/layout.ts. */
export { BackupLayout as Layout } from '../storage/layout.ts';
