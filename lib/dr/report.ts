import { z } from 'zod';
import type { RestoreReport } from '../restore/index.ts';

/**
 * The restore report a failover or failback execution ends with (`lib/restore/report.ts`, as
 * `kafka-backup three-phase-restore --format json` prints it). Checked before it is rendered: the execution
 * output of another state machine (or a newer version of this one) is shown as JSON instead of half a table.
 */
const Move = z.object({
  topic: z.string(),
  partition: z.number(),
  current: z.number().nullable(),
  target: z.number(),
  source_offset: z.number().nullable(),
});

const Group = z.object({
  group_id: z.string(),
  state: z.string(),
  members: z.number(),
  moves: z.array(Move),
  problem: z.string().nullable(),
  status: z.enum(['reset', 'skipped', 'failed', 'unchanged']),
});

const Partition = z.object({
  target_partition: z.number(),
  sources: z.array(z.string()),
  backup_records: z.number(),
  expected: z.number(),
  restored: z.number(),
  written_now: z.number(),
  base_offset: z.number(),
  end_offset: z.number(),
  ok: z.boolean(),
});

const Report = z.object({
  restore_id: z.string(),
  backup_id: z.string(),
  target_cluster_id: z.string(),
  dry_run: z.boolean(),
  started_at: z.string(),
  completed_at: z.string(),
  duration_ms: z.number(),
  window: z.object({ start_time: z.number().nullable(), end_time: z.number().nullable() }),
  topics: z.array(
    z.object({
      source_topic: z.string(),
      target_topic: z.string(),
      action: z.enum(['create', 'existing']),
      partitions: z.array(Partition),
    }),
  ),
  consumer_groups: z.array(Group),
  consumer_groups_note: z.string().optional(),
  warnings: z.array(z.string()),
  ok: z.boolean(),
});

/** The value as a RestoreReport (extra fields kept), or undefined when it is not one. */
export function asRestoreReport(value: unknown): RestoreReport | undefined {
  const r = Report.loose().safeParse(value);
  return r.success ? (value as RestoreReport) : undefined;
}

/** JSON text parsed, or undefined when it is not JSON. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
