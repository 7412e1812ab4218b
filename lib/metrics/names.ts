/**
 * The metric catalogue: every metric this tool emits, in one place. Prometheus exposition and CloudWatch EMF use
 * the same names so a dashboard reads alike in both worlds, and deploy/monitoring's rules and dashboard are
 * checked against this list by test/unit/metrics.
 *
 * There is no histogram: a backup or restore process runs one operation, so a histogram would hold a single
 * observation per process and its buckets would say nothing a gauge of "the last one" does not. Durations are
 * last-value gauges; CloudWatch computes percentiles over the EMF samples anyway.
 */

export type MetricKind = 'counter' | 'gauge';

/** CloudWatch units (the strings Powertools' `MetricUnit` uses too). Prometheus carries units in the name. */
export type MetricUnit = 'Count' | 'Bytes' | 'Seconds' | 'None';

export type LabelName = 'source_cluster_id' | 'target_cluster_id' | 'outcome' | 'backup_id';

export type Outcome = 'success' | 'failure';

export interface LabelDef {
  /** The EMF property name: CloudWatch convention is PascalCase. */
  emfName: string;
  /**
   * Whether EMF makes it a CloudWatch dimension. Every distinct dimension combination is a billed custom metric,
   * so per-backup ids stay plain properties (searchable in Logs Insights, free as dimensions are not).
   */
  dimension: boolean;
}

export const LABELS: Readonly<Record<LabelName, LabelDef>> = {
  source_cluster_id: { emfName: 'SourceClusterId', dimension: true },
  target_cluster_id: { emfName: 'TargetClusterId', dimension: true },
  outcome: { emfName: 'Outcome', dimension: true },
  backup_id: { emfName: 'BackupId', dimension: false },
};

export interface MetricDef {
  name: string;
  help: string;
  kind: MetricKind;
  labelNames: readonly LabelName[];
  unit: MetricUnit;
}

/**
 * Cluster ids are bounded (one per cluster), so they label everything. `backup_id` is unbounded: each backup adds
 * a series. It is kept only on the two outcome counters, where alerts name the failed backup
 * ({{ $labels.backup_id }}); gauges never carry it so that their series stay continuous across backups (the lag
 * alert and the size trend need one line per cluster, not one dot per backup). Prometheus sees one new series per
 * backup, which goes stale once its process stops exporting it; a long-running process caps how many backup ids it
 * keeps (PrometheusMetricsOptions.maxBackupIds).
 */
export const METRICS = {
  backupsTotal: {
    name: 'kafka_backup_backups_total',
    help: 'Backups finished, by outcome.',
    kind: 'counter',
    labelNames: ['outcome', 'source_cluster_id', 'backup_id'],
    unit: 'Count',
  },
  lastSuccessfulBackupTimestamp: {
    name: 'kafka_backup_last_successful_backup_timestamp',
    help: 'Completion time of the last successful backup, in seconds since the Unix epoch.',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'None',
  },
  backupSizeBytes: {
    name: 'kafka_backup_backup_size_bytes',
    help: 'Stored bytes of the last successful backup, including segments reused from earlier backups.',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'Bytes',
  },
  backupRecords: {
    name: 'kafka_backup_backup_records',
    help: 'Records in the last successful backup.',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'Count',
  },
  backupDurationSeconds: {
    name: 'kafka_backup_backup_duration_seconds',
    help: 'Wall-clock duration of the last successful backup, in seconds.',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'Seconds',
  },
  recordsTotal: {
    name: 'kafka_backup_records_total',
    help: 'Records read from the source and stored, counted as they are stored.',
    kind: 'counter',
    labelNames: ['source_cluster_id'],
    unit: 'Count',
  },
  drReady: {
    name: 'kafka_backup_dr_ready',
    help: '1 when the DR side holds a recent complete backup of the source cluster, else 0.',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'None',
  },
  restoresTotal: {
    name: 'kafka_backup_restores_total',
    help: 'Restores finished, by outcome.',
    kind: 'counter',
    labelNames: ['outcome', 'target_cluster_id', 'backup_id'],
    unit: 'Count',
  },
  restoreRecordsTotal: {
    name: 'kafka_backup_restore_records_total',
    help: 'Records written to the target cluster by restores, counted as they are written.',
    kind: 'counter',
    labelNames: ['target_cluster_id'],
    unit: 'Count',
  },
  restoreConsumerGroupsResetTotal: {
    name: 'kafka_backup_restore_consumer_groups_reset_total',
    help: 'Consumer groups whose offsets a restore reset on the target cluster.',
    kind: 'counter',
    labelNames: ['target_cluster_id'],
    unit: 'Count',
  },
  restoreDurationSeconds: {
    name: 'kafka_backup_restore_duration_seconds',
    help: 'Wall-clock duration of the last successful restore, in seconds (the measured recovery time).',
    kind: 'gauge',
    labelNames: ['target_cluster_id'],
    unit: 'Seconds',
  },
  drillPassed: {
    name: 'kafka_backup_drill_passed',
    help: '1 when the last DR drill passed (restored, every check held), else 0 (failed, or ended before its evidence).',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'None',
  },
  drillRpoSeconds: {
    name: 'kafka_backup_drill_rpo_seconds',
    help: 'Recovery point measured by the last DR drill: age of the newest complete backup in the DR location, in seconds.',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'Seconds',
  },
  drillRtoSeconds: {
    name: 'kafka_backup_drill_rto_seconds',
    help: "Recovery time measured by the last DR drill: the whole backup restored at the drill's measured rate, in seconds.",
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'Seconds',
  },
  daysSinceDrillPassed: {
    name: 'kafka_backup_days_since_drill_passed',
    help: 'Days since the newest DR drill whose signed evidence says it passed (the DR-readiness check reads it).',
    kind: 'gauge',
    labelNames: ['source_cluster_id'],
    unit: 'None',
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

export const METRIC_NAMES: readonly string[] = Object.values(METRICS).map((m) => m.name);

/**
 * Metrics the shipped alert rules read but this tool does not emit. `aws_s3_replication_latency_seconds` comes from
 * an exporter of the S3 `ReplicationLatency` CloudWatch metric (e.g. YACE); its name depends on that exporter.
 */
export const EXTERNAL_METRIC_NAMES: readonly string[] = ['aws_s3_replication_latency_seconds'];

/** Label value for a cluster id not known yet when an operation fails (e.g. before connecting). */
export const UNKNOWN_CLUSTER = 'unknown';
