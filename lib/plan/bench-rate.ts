/**
 * The backup rate the bench measured: what the expected duration of a run and the default size of a work item
 * (packing.ts) are computed from. One kafka-backup process reading one data set into S3 at zstd level 3, its
 * whole life counted (Node start, plan, finalize), so the rate is conservative for a long read.
 */
export const BENCH_BACKUP_RATE = {
  /** Record bytes (keys and values, as ConsumerPerformance counts them) backed up per second. */
  bytes_per_second: 12 * 1024 * 1024,
  measured_at: '2026-12-02',
  command: 'npm run bench -- --quick --sets 1k',
  phase: 'backup s3 z3',
  machine: 'PLACEHOLDER',
} as const;
