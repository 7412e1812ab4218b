/**
 * The backup rate the bench measured: what the expected duration of a run and the default size of a work item
 * (packing.ts) are computed from. One kafka-backup process backing up the bench's 1 KB data set (1,000,000
 * records over 8 partitions) into the ground's S3 server at zstd level 3, its whole life counted (Node start,
 * plan, finalize). Measured on 2 cores shared with other test runs (load average 22 during the phase), so it
 * is a low figure: re-measure on a quiet machine (`bench/results/bench-<time>.json`, row `backup s3 z3`).
 */
export const BENCH_BACKUP_RATE = {
  /** Record bytes (keys and values, as ConsumerPerformance counts them) backed up per second: 8.6 MiB/s. */
  bytes_per_second: Math.round(8.6 * 1024 * 1024),
  measured_at: '2026-12-02',
  command: 'npm run bench -- --sets 1k',
  phase: 'backup s3 z3',
  machine: '2 cores shared with other test runs, load average 22.4 (bench-20261202-050502)',
} as const;
