import { z } from 'zod';

/**
 * A DR drill's evidence report: what an auditor (SOC 2, ISO 27001, DORA) asks for as proof that restores work —
 * what was restored, which checks ran and passed, the recovery point and recovery time measured, the versions,
 * and who or what triggered it. Stored as `report.json` (this shape) beside `report.md` (the same, rendered)
 * and `signature.json` (lib/evidence/signature.ts) under `evidence/<id>/` of the backup location.
 */
export const EVIDENCE_FORMAT_VERSION = 1;

const Check = z.strictObject({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
});

const RestoredTopic = z.strictObject({
  source_topic: z.string(),
  target_topic: z.string(),
  partitions: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});

export const EvidenceReport = z.strictObject({
  format_version: z.literal(EVIDENCE_FORMAT_VERSION),
  /** `drill-<UTC stamp>`: also the folder under `evidence/`. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
  /** synthetic: a test topic made for the drill; backup: the newest complete backup restored into a scratch namespace. */
  kind: z.enum(['synthetic', 'backup']),
  ok: z.boolean(),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime(),
  triggered_by: z.strictObject({
    /** cli: someone ran `kafka-backup drill`; schedule: the drill workflow's EventBridge schedule; workflow: started by hand. */
    via: z.enum(['cli', 'schedule', 'workflow']),
    /** The OS user and host for the CLI, the execution's principal or schedule name in AWS. */
    principal: z.string(),
    execution: z.string().optional(),
  }),
  versions: z.strictObject({
    kafka_backup: z.string(),
    node: z.string(),
    source_cluster_id: z.string().optional(),
    target_cluster_id: z.string().optional(),
  }),
  restored: z.strictObject({
    backup_id: z.string(),
    /** Where the backup was read from (bucket/prefix or folder), never credentials. */
    location: z.string(),
    /** The scratch topic prefix of a `backup` drill; none for a synthetic one. */
    namespace: z.string().optional(),
    topics: z.array(RestoredTopic),
    records: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
  }),
  checks: z.array(Check),
  /** Recovery point: how much data a failover at drill time would have lost, at most. */
  rpo: z.strictObject({
    /** Age of the newest complete backup readable in the DR location when the drill started. */
    backup_age_seconds: z.number().nonnegative().nullable(),
    /** From the backup's completion to its manifest being readable in the DR location (replication). */
    replication_delay_seconds: z.number().nonnegative().nullable(),
  }),
  /** Recovery time: how long the restore took, and what the whole backup would take at the measured rate. */
  rto: z.strictObject({
    restore_seconds: z.number().nonnegative(),
    restored_bytes: z.number().int().nonnegative(),
    bytes_per_second: z.number().nonnegative().nullable(),
    full_backup_bytes: z.number().int().nonnegative(),
    projected_full_restore_seconds: z.number().nonnegative().nullable(),
  }),
  steps: z.array(
    z.strictObject({
      name: z.string(),
      ok: z.boolean(),
      duration_ms: z.number().nonnegative(),
      detail: z.string(),
    }),
  ),
});
export type EvidenceReport = z.infer<typeof EvidenceReport>;
