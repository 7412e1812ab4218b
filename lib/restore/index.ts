export { mapCommittedOffset, OffsetRunBuilder } from '../offsets/index.ts';
export type { RestoreContext } from './context.ts';
export { findRestorableBackup, type RestorableBackup } from './find-backup.ts';
export { OriginHeader, originHeaders } from './origin-headers.ts';
export {
  loadPartitionState,
  type PartitionWork,
  planRestore,
  type RestoreIdentity,
  type RestorePlan,
  type TopicAction,
} from './plan-restore.ts';
export {
  type AbridgedRestoreReport,
  abridgeReport,
  failedGroupsFirst,
  type PartitionReport,
  type ReportAbridgement,
  type RestoreReport,
} from './report.ts';
export {
  acquireRestoreLease,
  DEFAULT_RESTORE_LEASE_TTL_MS,
  type RestoreLeaseOptions,
  restoreLeaseOf,
} from './restore-lease.ts';
export { loadRestoredOffsets } from './restored-offsets.ts';
export {
  applyGroupReset,
  loadWorkOutcomes,
  type PreparedRestore,
  planGroupReset,
  prepareRestore,
  type RestoreJob,
  type RestoreWorkItemResult,
  type RunRestoreOptions,
  restoreBatchBytes,
  restoreJobOf,
  restoreWorkItem,
  restoreWorkItems,
  runRestore,
  verifyRestore,
  type WorkOutcome,
} from './run-restore.ts';
