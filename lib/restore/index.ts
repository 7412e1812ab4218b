export type { RestoreContext } from './context.ts';
export { mapCommittedOffset, OffsetRunBuilder } from './offset-mapping.ts';
export { OriginHeader, originHeaders } from './origin-headers.ts';
export {
  loadPartitionState,
  type PartitionWork,
  planRestore,
  type RestorePlan,
  type TopicAction,
} from './plan-restore.ts';
export type { PartitionReport, RestoreReport } from './report.ts';
export { loadRestoredOffsets } from './restored-offsets.ts';
export { type RunRestoreOptions, runRestore } from './run-restore.ts';
