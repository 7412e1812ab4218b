export {
  EMF_NAMESPACE,
  type EmfDirective,
  type EmfDocument,
  EmfMetrics,
  type EmfMetricsOptions,
  emfDocuments,
} from './emf.ts';
export {
  backupSucceededFromManifest,
  DEFAULT_DR_MAX_AGE_SECONDS,
  type DrReadyOptions,
  drReadyFromManifest,
} from './from-manifest.ts';
export { recordRestoreOutcome } from './from-report.ts';
export { type MetricsServer, type ServeOptions, serveRegistry } from './http-server.ts';
export {
  EXTERNAL_METRIC_NAMES,
  LABELS,
  type LabelDef,
  type LabelName,
  METRIC_NAMES,
  METRICS,
  type MetricDef,
  type MetricKey,
  type MetricKind,
  type MetricUnit,
  type Outcome,
  UNKNOWN_CLUSTER,
} from './names.ts';
export { type Observation, ObservationRecorder, type ObservationRecorderOptions } from './observations.ts';
export { PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus.ts';
export type {
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
export { noopMetrics } from './recorder.ts';
