/**
 * What the engine, the CLI and the Lambda handlers call to report metrics, whatever the backend: Prometheus in a
 * process that is scraped, CloudWatch EMF in Lambda, nothing in tests. Implementations never throw into the
 * caller: a metrics problem must not fail a backup.
 *
 * Record counters (`kafka_backup_records_total`, `kafka_backup_restore_records_total`) move only through the live
 * methods (`recordsBackedUp`, `recordsRestored`), never through the completion events. A backup resumed in another
 * process, or split across serverless tasks, then counts each record once, by whoever read it.
 */
export interface MetricsRecorder {
  /** A backup begins in this process. Creates its series at zero so the first failure is an increase. */
  backupStarted(e: BackupStarted): void;
  /** Records stored since the last call (a delta, not a running total). */
  recordsBackedUp(e: RecordsBackedUp): void;
  backupSucceeded(e: BackupSucceeded): void;
  backupFailed(e: BackupFailed): void;
  restoreStarted(e: RestoreStarted): void;
  /** Records written to the target since the last call (a delta). */
  recordsRestored(e: RecordsRestored): void;
  restoreSucceeded(e: RestoreSucceeded): void;
  restoreFailed(e: RestoreFailed): void;
  /** Whether the DR side holds a recent complete backup of the source cluster (see drReadyFromManifest). */
  drReady(e: DrReady): void;
  /** A DR drill ended: its verdict and what it measured (lib/drill, the drill workflow). */
  drillFinished(e: DrillFinished): void;
  /** Days since the newest passing drill, from its signed evidence (the DR-readiness check). */
  daysSinceDrillPassed(e: DaysSinceDrillPassed): void;
}

export interface BackupStarted {
  backupId: string;
  sourceClusterId: string;
}

export interface RecordsBackedUp {
  sourceClusterId: string;
  records: number;
}

export interface BackupSucceeded {
  backupId: string;
  sourceClusterId: string;
  /** Records in the backup (manifest `stats.records`). */
  records: number;
  /** Manifest `stats.stored_bytes`. */
  storedBytes: number;
  durationMs: number;
  completedAt: Date;
}

export interface BackupFailed {
  backupId: string;
  /** Omit when the failure came before the cluster id was known; the series is then labelled "unknown". */
  sourceClusterId?: string;
}

export interface RestoreStarted {
  /** The resolved backup id where known, else as configured (e.g. "latest"). */
  backupId: string;
  targetClusterId: string;
}

export interface RecordsRestored {
  targetClusterId: string;
  records: number;
}

export interface RestoreSucceeded {
  backupId: string;
  targetClusterId: string;
  /** Consumer groups whose offsets were reset (status "reset"). */
  groupsReset: number;
  durationMs: number;
}

export interface RestoreFailed {
  backupId: string;
  targetClusterId?: string;
}

export interface DrReady {
  sourceClusterId: string;
  ready: boolean;
}

export interface DrillFinished {
  sourceClusterId: string;
  passed: boolean;
  /** The newest complete backup's age in the DR location at drill time; null when none was found. */
  rpoSeconds: number | null;
  /** The whole backup restored at the drill's measured rate; null when the drill restored nothing. */
  rtoSeconds: number | null;
}

export interface DaysSinceDrillPassed {
  sourceClusterId: string;
  days: number;
}

export const noopMetrics: MetricsRecorder = {
  backupStarted() {},
  recordsBackedUp() {},
  backupSucceeded() {},
  backupFailed() {},
  restoreStarted() {},
  recordsRestored() {},
  restoreSucceeded() {},
  restoreFailed() {},
  drReady() {},
  drillFinished() {},
  daysSinceDrillPassed() {},
};
