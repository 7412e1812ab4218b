import type { EvidenceReport } from '../evidence/index.ts';
import { backupHeaders, loadManifest } from '../format/catalog.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { TOOL_VERSION } from '../version.ts';
import { backupBytes, cliPrincipal } from './backup-drill.ts';
import type { DrillReport } from './run-drill.ts';

const RESTORE_STEP = 'restore to the DR cluster and move the consumer group';
const REPLICATION_STEP = 'wait for the backup in the DR location (replication)';

/**
 * The evidence of a synthetic drill (a test topic made for it): its checks, and RPO/RTO against the production
 * backups in the DR location — the newest one's age (what a failover now would restore), the drill's own
 * replication wait, its restore rate and that rate projected onto the newest production backup.
 */
export async function syntheticDrillEvidence(
  report: DrillReport,
  o: {
    /** The DR location's production backups (not the drill's `_drills` sub-location). */
    productionStore: ObjectStore;
    triggeredBy?: EvidenceReport['triggered_by'];
  },
): Promise<EvidenceReport> {
  const started = new Date(report.started_at);
  const newestHeader = (await backupHeaders(o.productionStore)).at(-1);
  const newest = newestHeader ? await loadManifest(o.productionStore, newestHeader.backup_id) : undefined;
  const restoreStep = report.steps.find((s) => s.name === RESTORE_STEP);
  const replication = report.steps.find((s) => s.name === REPLICATION_STEP);
  const restoreSeconds = (restoreStep?.duration_ms ?? 0) / 1000;
  const restoredRecords = report.partitions.reduce((n, p) => n + p.restored, 0);
  const restoredBytes = restoredRecords * report.record_size;
  const rate = restoreStep?.ok && restoreSeconds > 0 ? restoredBytes / restoreSeconds : null;
  const full = newest ? backupBytes(newest) : 0;
  const counts = report.partitions.every((p) => p.restored === p.produced && p.backed_up === p.produced);
  return {
    format_version: 1,
    id: report.backup_id,
    kind: 'synthetic',
    ok: report.ok,
    started_at: report.started_at,
    finished_at: new Date(started.getTime() + report.duration_ms).toISOString(),
    triggered_by: o.triggeredBy ?? { via: 'cli', principal: cliPrincipal() },
    versions: { kafka_backup: TOOL_VERSION, node: process.version },
    restored: {
      backup_id: report.backup_id,
      location: o.productionStore.location,
      topics: [
        {
          source_topic: report.topic,
          target_topic: report.topic,
          partitions: report.partitions.length,
          records: restoredRecords,
          bytes: restoredBytes,
        },
      ],
      records: restoredRecords,
      bytes: restoredBytes,
    },
    checks: [
      {
        name: 'counts: produced, backed up and restored',
        ok: report.partitions.length > 0 && counts,
        detail: `${report.partitions.length} partitions, ${restoredRecords} of ${report.records} records restored`,
      },
      {
        name: 'SHA-256 of keys and values',
        ok: report.partitions.length > 0 && report.partitions.every((p) => p.digest_match),
        detail: report.partitions
          .map((p) => `${p.partition}:${p.digest_match ? 'match' : 'DIFFERS'}`)
          .join(' '),
      },
      {
        name: 'consumer group resumes at its committed offset',
        ok: report.partitions.length > 0 && report.partitions.every((p) => p.ok),
        detail: `${report.consumer_group}: ${report.partitions.map((p) => `${p.partition}@${p.committed_source_offset}->${p.resumed_at_source_offset ?? '-'}`).join(' ')}`,
      },
    ],
    rpo: {
      backup_age_seconds: newest
        ? Math.max(0, (started.getTime() - Date.parse(newest.completed_at)) / 1000)
        : null,
      replication_delay_seconds: replication?.ok ? replication.duration_ms / 1000 : replication ? null : 0,
    },
    rto: {
      restore_seconds: restoreSeconds,
      restored_bytes: restoredBytes,
      bytes_per_second: rate,
      full_backup_bytes: full,
      projected_full_restore_seconds: rate && full > 0 ? full / rate : null,
    },
    steps: report.steps,
  };
}
