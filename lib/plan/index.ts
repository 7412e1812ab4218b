// Planning a backup run before it reads: work items packed by bytes, and what the run costs and takes.

export { BENCH_BACKUP_RATE } from './bench-rate.ts';
export {
  type ByteEstimate,
  type BytesPerOffsetSource,
  DEFAULT_BYTES_PER_OFFSET,
  estimateBytesPerOffset,
  historyOf,
} from './bytes-per-offset.ts';
export { type BackupEstimate, type EstimateInput, estimateBackup } from './estimate.ts';
export {
  type BackupItem,
  type BackupRange,
  DEFAULT_MAX_PARTITIONS_PER_RESTORE_ITEM,
  DEFAULT_MAX_RANGES_PER_ITEM,
  DEFAULT_RESTORE_TARGET_BYTES,
  DEFAULT_TARGET_BYTES,
  type PackingOptions,
  type PartitionToRead,
  type PartitionToRestore,
  packBackupItems,
  packRestoreItems,
  type RestoreItemOf,
  type RestorePackingOptions,
} from './packing.ts';
export {
  type PartitionEstimate,
  type PlanItemsOptions,
  type PlannedItems,
  planItemsAndEstimate,
} from './plan-items.ts';
export { PRICES, PRICES_AS_OF, pricesFor } from './prices.ts';
