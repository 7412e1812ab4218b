export { mapCommittedOffset, OffsetRunBuilder } from './offset-mapping.ts';
export {
  executeOffsetReset,
  type GroupResetPlan,
  type GroupResetResult,
  type OffsetMove,
  type OffsetResetRequest,
  planOffsetReset,
  type ResetStrategy,
  type RestoredOffsets,
} from './reset-offsets.ts';
