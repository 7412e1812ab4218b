import { type LabelName, METRICS, type MetricDef, UNKNOWN_CLUSTER } from './names.ts';
import type {
  BackupFailed,
  BackupStarted,
  BackupSucceeded,
  DaysSinceDrillPassed,
  DrillFinished,
  DrReady,
  MetricsRecorder,
  RecordsBackedUp,
  RecordsRestored,
  RestoreFailed,
  RestoreStarted,
  RestoreSucceeded,
} from './recorder.ts';

/**
 * One metric change: a counter delta or a gauge's new value. Every recorder event becomes a list of these, once,
 * here; each backend only applies them. A new backend (Powertools Metrics, OpenTelemetry) is a subclass of
 * ObservationRecorder with one method, and cannot drift from the others in what an event means.
 */
export interface Observation {
  metric: MetricDef;
  value: number;
  labels: Partial<Record<LabelName, string>>;
}

export interface ObservationRecorderOptions {
  /** Told about a metric that could not be recorded; recording never throws into the caller. */
  onError?: (error: unknown) => void;
}

export abstract class ObservationRecorder implements MetricsRecorder {
  readonly #onError: (error: unknown) => void;

  constructor(opts: ObservationRecorderOptions = {}) {
    this.#onError = opts.onError ?? (() => {});
  }

  /** Apply one event's observations together (EMF writes them as one document). */
  protected abstract record(batch: readonly Observation[]): void;

  backupStarted(e: BackupStarted): void {
    const cluster = { source_cluster_id: e.sourceClusterId };
    this.#apply([
      {
        metric: METRICS.backupsTotal,
        value: 0,
        labels: { ...cluster, outcome: 'success', backup_id: e.backupId },
      },
      {
        metric: METRICS.backupsTotal,
        value: 0,
        labels: { ...cluster, outcome: 'failure', backup_id: e.backupId },
      },
      { metric: METRICS.recordsTotal, value: 0, labels: cluster },
    ]);
  }

  recordsBackedUp(e: RecordsBackedUp): void {
    this.#apply([
      { metric: METRICS.recordsTotal, value: e.records, labels: { source_cluster_id: e.sourceClusterId } },
    ]);
  }

  backupSucceeded(e: BackupSucceeded): void {
    const cluster = { source_cluster_id: e.sourceClusterId };
    this.#apply([
      {
        metric: METRICS.backupsTotal,
        value: 1,
        labels: { ...cluster, outcome: 'success', backup_id: e.backupId },
      },
      {
        metric: METRICS.lastSuccessfulBackupTimestamp,
        value: e.completedAt.getTime() / 1000,
        labels: cluster,
      },
      { metric: METRICS.backupSizeBytes, value: e.storedBytes, labels: cluster },
      { metric: METRICS.backupRecords, value: e.records, labels: cluster },
      { metric: METRICS.backupDurationSeconds, value: e.durationMs / 1000, labels: cluster },
    ]);
  }

  backupFailed(e: BackupFailed): void {
    const labels = {
      source_cluster_id: e.sourceClusterId ?? UNKNOWN_CLUSTER,
      outcome: 'failure',
      backup_id: e.backupId,
    };
    this.#apply([{ metric: METRICS.backupsTotal, value: 1, labels }]);
  }

  restoreStarted(e: RestoreStarted): void {
    const cluster = { target_cluster_id: e.targetClusterId };
    this.#apply([
      {
        metric: METRICS.restoresTotal,
        value: 0,
        labels: { ...cluster, outcome: 'success', backup_id: e.backupId },
      },
      {
        metric: METRICS.restoresTotal,
        value: 0,
        labels: { ...cluster, outcome: 'failure', backup_id: e.backupId },
      },
      { metric: METRICS.restoreRecordsTotal, value: 0, labels: cluster },
      { metric: METRICS.restoreConsumerGroupsResetTotal, value: 0, labels: cluster },
    ]);
  }

  recordsRestored(e: RecordsRestored): void {
    const labels = { target_cluster_id: e.targetClusterId };
    this.#apply([{ metric: METRICS.restoreRecordsTotal, value: e.records, labels }]);
  }

  restoreSucceeded(e: RestoreSucceeded): void {
    const cluster = { target_cluster_id: e.targetClusterId };
    this.#apply([
      {
        metric: METRICS.restoresTotal,
        value: 1,
        labels: { ...cluster, outcome: 'success', backup_id: e.backupId },
      },
      { metric: METRICS.restoreConsumerGroupsResetTotal, value: e.groupsReset, labels: cluster },
      { metric: METRICS.restoreDurationSeconds, value: e.durationMs / 1000, labels: cluster },
    ]);
  }

  restoreFailed(e: RestoreFailed): void {
    const labels = {
      target_cluster_id: e.targetClusterId ?? UNKNOWN_CLUSTER,
      outcome: 'failure',
      backup_id: e.backupId,
    };
    this.#apply([{ metric: METRICS.restoresTotal, value: 1, labels }]);
  }

  drReady(e: DrReady): void {
    const labels = { source_cluster_id: e.sourceClusterId };
    this.#apply([{ metric: METRICS.drReady, value: e.ready ? 1 : 0, labels }]);
  }

  drillFinished(e: DrillFinished): void {
    const labels = { source_cluster_id: e.sourceClusterId };
    this.#apply([
      { metric: METRICS.drillPassed, value: e.passed ? 1 : 0, labels },
      // Unknown measures are left out rather than sent as 0: a 0 s RPO would read as perfect.
      ...(e.rpoSeconds === null ? [] : [{ metric: METRICS.drillRpoSeconds, value: e.rpoSeconds, labels }]),
      ...(e.rtoSeconds === null ? [] : [{ metric: METRICS.drillRtoSeconds, value: e.rtoSeconds, labels }]),
    ]);
  }

  daysSinceDrillPassed(e: DaysSinceDrillPassed): void {
    const labels = { source_cluster_id: e.sourceClusterId };
    this.#apply([{ metric: METRICS.daysSinceDrillPassed, value: e.days, labels }]);
  }

  #apply(batch: Observation[]): void {
    try {
      for (const o of batch) {
        // A NaN or negative delta would corrupt a counter for the life of the process: refuse it here, once.
        if (!Number.isFinite(o.value) || (o.metric.kind === 'counter' && o.value < 0)) {
          throw new RangeError(`metric ${o.metric.name}: invalid value ${o.value}`);
        }
      }
      this.record(batch);
    } catch (e) {
      try {
        this.#onError(e);
      } catch {
        // An error handler that throws must not reach the backup either.
      }
    }
  }
}
