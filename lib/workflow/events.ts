import { z } from 'zod';
import { InvalidEventError } from '../errors.ts';
import { ConfigRef } from './config.ts';
import { MapRunResults } from './map-storage.ts';

/** What each step is handed by the state machine (and by `kafka-backup step <name> --event`). */

const RawConfig = z.record(z.string(), z.unknown());
const Options = z
  .object({
    /** Backup items with more offsets to read go to Fargate. */
    fargate_min_offsets: z.number().int().positive().optional(),
    /** Restore items with more stored bytes go to Fargate. */
    fargate_min_bytes: z.number().int().positive().optional(),
    /** Only backups of this source cluster (failover). */
    source_cluster_id: z.string().min(1).optional(),
  })
  .prefault({});

/** A workflow's lease (of the backup location, or of a restore): taken by the first step, renewed by the others. */
export const Lease = z.object({ owner: z.string().min(1), ttl_ms: z.number().int().positive() });

/** One offset range of one partition: read [from, to). Ranges of one partition never overlap; together they tile
 *  the partition's planned [read_from, end_offset). */
export const BackupRange = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
});
export type BackupRange = z.infer<typeof BackupRange>;

export const BackupItem = z.object({
  /** What this invocation reads: many small partitions, or one range of a large one. */
  ranges: z.array(BackupRange).min(1),
  /** Sum of (to - from) over ranges. */
  offsets: z.number().int().nonnegative(),
  /** Estimated bytes to read (offsets x bytes per offset). */
  bytes: z.number().int().nonnegative(),
  runner: z.enum(['lambda', 'fargate']),
});
export type BackupItem = z.infer<typeof BackupItem>;

export const PartitionWork = z.object({
  target_topic: z.string(),
  target_partition: z.number().int().nonnegative(),
  sources: z.array(z.object({ topic: z.string(), partition: z.number().int().nonnegative() })),
  backup_records: z.number().int().nonnegative(),
  base_offset: z.number().int().nonnegative(),
  mode: z.enum(['new', 'resume', 'done']),
});

/** Target partitions restored by one Map iteration, each written by it alone (lib/plan packRestoreItems). */
export const RestoreItem = z.object({
  works: z.array(PartitionWork).min(1),
  /** Stored bytes of the item's segments (the estimate that picks the runner). */
  bytes: z.number().int().nonnegative(),
  runner: z.enum(['lambda', 'fargate']),
});
export type RestoreItem = z.infer<typeof RestoreItem>;

const Window = z.object({ start_time: z.number().nullable(), end_time: z.number().nullable() });

/** A prepared restore without its work list (that travels as the Map's items, in the location: map-storage.ts). */
export const RestoreJobHeader = z.object({
  restore_id: z.string(),
  backup_id: z.string(),
  target_cluster_id: z.string(),
  started_at: z.string(),
  dry_run: z.boolean(),
  window: Window,
  topics: z.array(
    z.object({ source_topic: z.string(), target_topic: z.string(), action: z.enum(['create', 'existing']) }),
  ),
  warnings: z.array(z.string()),
  /** The restore's lease (restores/<id>/lease.json), taken by restore-prepare; none in a dry run. */
  lease: Lease.optional(),
});
export type RestoreJobHeader = z.infer<typeof RestoreJobHeader>;

/** What each RestorePartitions iteration returns (its PartitionRestored state): read back from its results. */
export const Written = z.array(
  z.object({
    target_topic: z.string(),
    target_partition: z.number().int().nonnegative(),
    written: z.number().int().nonnegative(),
  }),
);

/** The RestorePartitions Map's results: per item, what each of its partitions wrote (none for a Fargate item). */
export const RestoredItems = z.array(z.object({ written: Written }));

export const GroupResetPlan = z.object({
  group_id: z.string(),
  state: z.string(),
  members: z.number().int().nonnegative(),
  moves: z.array(
    z.object({
      topic: z.string(),
      partition: z.number().int().nonnegative(),
      current: z.number().int().nullable(),
      target: z.number().int().nonnegative(),
      source_offset: z.number().int().nullable(),
    }),
  ),
  problem: z.string().nullable(),
});
export const GroupResetResult = GroupResetPlan.extend({
  status: z.enum(['reset', 'skipped', 'failed', 'unchanged']),
});

/**
 * What the drill workflow runs (its input `drill`, the deployment file's `dr[].drill` as the stack writes it): a
 * restore config naming the DR cluster (target, where the scratch topics go) and the DR location (storage), and
 * for a synthetic drill a backup config naming the source cluster.
 */
export const DrillInput = z.object({
  kind: z.enum(['backup', 'synthetic']).default('backup'),
  /** The scratch namespace's base; the state machine appends the execution's name (see scratch_prefix). */
  namespace: z.string().min(1).default('kafka-backup-drill'),
  config: RawConfig,
  source_config: RawConfig.optional(),
  /** Topics of the backup to restore (globs); default every topic. */
  topics: z
    .object({ include: z.array(z.string().min(1)).min(1), exclude: z.array(z.string()).default([]) })
    .optional(),
  /** The source cluster the drill proves DR for: its backups are restored, its metrics labelled. */
  source_cluster_id: z.string().min(1).optional(),
  synthetic: z
    .object({
      records: z.number().int().positive().default(10_000),
      record_size: z.number().int().positive().default(1_000),
      partitions: z.number().int().positive().default(3),
    })
    .prefault({}),
  /** Older than this, the newest backup does not make DR ready (kafka_backup_dr_ready): the readiness check's. */
  max_backup_age_seconds: z.number().int().positive().default(7_200),
});
export type DrillInput = z.infer<typeof DrillInput>;

const DrillExecution = z.object({ id: z.string().min(1), name: z.string().min(1) });

/** Whatever the state held when a step failed (Catch ResultPath $.error keeps the rest). */
const FailedState = z.object({ state: z.record(z.string(), z.unknown()) });

export const StepEvents = {
  'backup-plan': z.object({ config: RawConfig, schedule: z.string().default('manual'), options: Options }),
  'backup-partition': z.object({
    config_ref: ConfigRef,
    lease: Lease,
    item: BackupItem,
  }),
  'backup-finalize': z.object({ config_ref: ConfigRef, lease: Lease }),
  'backup-failed': FailedState,
  'find-backup': z.object({ config: RawConfig, options: Options }),
  'validate-backup': z.object({
    config: RawConfig,
    backup_id: z.string().min(1),
    validate: z.enum(['deep', 'shallow']).default('deep'),
  }),
  'check-cluster': z.object({ config: RawConfig }),
  'restore-prepare': z.object({
    config: RawConfig,
    backup_id: z.string().min(1).optional(),
    restore_defaults: z.record(z.string(), z.unknown()).default({}),
    restore_overrides: z.record(z.string(), z.unknown()).default({}),
    options: Options,
  }),
  'restore-partition': z.object({
    config_ref: ConfigRef,
    job: RestoreJobHeader,
    item: RestoreItem,
    /** The previous invocation's output: what each partition wrote so far, and the partitions not yet done. */
    progress: z
      .object({ done: z.boolean(), written: Written.default([]), next: z.array(PartitionWork).optional() })
      .default({ done: false, written: [] }),
  }),
  'restore-map-offsets': z.object({
    config_ref: ConfigRef,
    job: RestoreJobHeader,
    /** The RestorePartitions Map's output: its ResultWriter manifest (the items are in the restore's folder). */
    results: MapRunResults,
    reset_offsets: z.boolean().default(true),
  }),
  /** The plans are MapOffsets', in the restore's folder (WorkflowLayout.restoreOffsetPlans). */
  'restore-reset-groups': z.object({
    config_ref: ConfigRef,
    job: RestoreJobHeader,
  }),
  'restore-verify': z.object({
    config_ref: ConfigRef,
    job: RestoreJobHeader,
    results: MapRunResults,
    /** Whether groups were to be moved (MapOffsets' reset_offsets): an empty `groups` is then reported as such. */
    reset_offsets: z.boolean().default(true),
  }),
  'restore-failed': FailedState,
  'drill-run': z.object({
    drill: DrillInput,
    /** `<namespace>-<execution name>.` as the state machine made it (scratchPrefixOf makes it a topic prefix). */
    scratch_prefix: z.string().min(1),
    execution: DrillExecution,
    trigger: z
      .object({ via: z.enum(['schedule', 'workflow']).default('workflow'), principal: z.string().optional() })
      .prefault({}),
  }),
  'drill-cleanup': z.object({
    drill: DrillInput,
    scratch_prefix: z.string().min(1),
    execution: DrillExecution,
    /** What RunDrill failed with (its Catch). */
    error: z.record(z.string(), z.unknown()).optional(),
  }),
} as const;

export type StepEvent<N extends keyof typeof StepEvents> = z.infer<(typeof StepEvents)[N]>;

export function parseEvent<N extends keyof typeof StepEvents>(step: N, event: unknown): StepEvent<N> {
  const r = (StepEvents[step] as z.ZodType).safeParse(event);
  if (r.success) return r.data as StepEvent<N>;
  const issues = r.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`)
    .join('; ');
  throw new InvalidEventError(`step ${step}: the event does not fit: ${issues}`, {
    hint: 'The state machine and the functions come from different versions, or the event was written by hand wrongly.',
  });
}
