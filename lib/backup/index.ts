export {
  type BackupProgressEvent,
  type BackupRange,
  backupPartitions,
  loadRangeProgress,
  plannedPartition,
  type RangeResult,
  wholePartitionRanges,
} from './backup-partitions.ts';
export type { BackupContext } from './context.ts';
export { finalizeBackup } from './finalize-backup.ts';
export { acquireLease, keepLeaseAlive, type Lease, type LeaseOptions, leaseOf } from './lease.ts';
export { loadPlan, planBackup } from './plan-backup.ts';
export { joinRangeGaps, tileRanges } from './range-tiling.ts';
export { applyRetention } from './retention.ts';
export { assertAllDone, type RunBackupResult, runBackup } from './run-backup.ts';
