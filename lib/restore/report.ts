import type { GroupResetResult } from '../offsets/index.ts';

export interface PartitionReport {
  target_partition: number;
  sources: string[];
  /** Records of these sources in the backup (before any time window). */
  backup_records: number;
  /** Records the restore selected (inside the time window) and that now sit on the target. */
  expected: number;
  restored: number;
  /** Of those, written by this run (the rest by an interrupted earlier run). */
  written_now: number;
  base_offset: number;
  end_offset: number;
  ok: boolean;
}

export interface RestoreReport {
  restore_id: string;
  backup_id: string;
  target_cluster_id: string;
  dry_run: boolean;
  started_at: string;
  completed_at: string;
  duration_ms: number;
  window: { start_time: number | null; end_time: number | null };
  topics: {
    source_topic: string;
    target_topic: string;
    action: 'create' | 'existing';
    partitions: PartitionReport[];
  }[];
  consumer_groups: GroupResetResult[];
  /** Why no group was moved when the restore was to move them, e.g. none in the backup and none named. */
  consumer_groups_note?: string;
  warnings: string[];
  ok: boolean;
}
