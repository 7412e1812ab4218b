import type { RestoreReport } from '../restore/report.ts';
import type { MetricsRecorder } from './recorder.ts';

/** A finished restore's outcome, as the CLI and the failover workflow both record it. */
export function recordRestoreOutcome(recorder: MetricsRecorder, report: RestoreReport): void {
  if (report.ok) {
    recorder.restoreSucceeded({
      backupId: report.backup_id,
      targetClusterId: report.target_cluster_id,
      groupsReset: report.consumer_groups.filter((g) => g.status === 'reset').length,
      durationMs: report.duration_ms,
    });
  } else {
    recorder.restoreFailed({ backupId: report.backup_id, targetClusterId: report.target_cluster_id });
  }
}
