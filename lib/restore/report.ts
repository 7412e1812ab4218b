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

/** What abridgeReport left out of a report too large to carry whole. */
export interface ReportAbridgement {
  /** Target partitions in the whole report. */
  partitions: number;
  /** Of those, left out: every partition beyond the first few (those that did not verify come first). */
  partitions_omitted: number;
  /** Topics left out: those with no partition left in. */
  topics_omitted: number;
  /** Consumer groups left out (those not failed come last). */
  groups_omitted: number;
  /** Consumer-group offset moves left out: the groups left in keep their status and problem. */
  moves_omitted: number;
  /** Where the whole report is stored. */
  location: string;
}

export type AbridgedRestoreReport = RestoreReport & { abridged?: ReportAbridgement };

/** Consumer-group results with the failed ones first, otherwise in their order: what a short list shows. */
export function failedGroupsFirst<G extends { status: string }>(groups: readonly G[]): G[] {
  return [...groups.filter((g) => g.status === 'failed'), ...groups.filter((g) => g.status !== 'failed')];
}

/** Partitions and consumer groups an abridged report still lists: the ones that did not verify first. */
const ABRIDGED_PARTITIONS = 100;
const ABRIDGED_GROUPS = 100;

/**
 * The report as the workflow carries it in its execution state (at most 256 KiB, shared with the rest of the
 * state): whole when its JSON is at most `maxBytes`; otherwise only the first partitions and consumer groups
 * (those that did not verify first) and no offset moves, with `abridged` saying what was left out and where the
 * whole report is. `ok`, the ids, the window and the warnings are always the whole report's.
 */
export function abridgeReport(
  report: RestoreReport,
  maxBytes: number,
  location: string,
): AbridgedRestoreReport {
  if (Buffer.byteLength(JSON.stringify(report)) <= maxBytes) return report;
  const all = report.topics.flatMap((t) => t.partitions);
  const kept = new Set(
    [...all.filter((p) => !p.ok), ...all.filter((p) => p.ok)].slice(0, ABRIDGED_PARTITIONS),
  );
  const topics = report.topics
    .map((t) => ({ ...t, partitions: t.partitions.filter((p) => kept.has(p)) }))
    .filter((t) => t.partitions.length > 0);
  const groups = failedGroupsFirst(report.consumer_groups).slice(0, ABRIDGED_GROUPS);
  return {
    ...report,
    topics,
    consumer_groups: groups.map((g) => ({ ...g, moves: [] })),
    abridged: {
      partitions: all.length,
      partitions_omitted: all.length - kept.size,
      topics_omitted: report.topics.length - topics.length,
      groups_omitted: report.consumer_groups.length - groups.length,
      moves_omitted: report.consumer_groups.reduce((n, g) => n + g.moves.length, 0),
      location,
    },
  };
}
