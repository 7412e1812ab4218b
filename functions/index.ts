// Every step's Lambda handler, for one bundle shared by all the functions (each names its export as handler,
// e.g. index.backupPlan): esbuild runs once per deployment, not once per function.
// The handlers themselves are in functions/<step>.ts.

export { handler as backupFailed } from './backup-failed.ts';
export { handler as backupFinalize } from './backup-finalize.ts';
export { handler as backupPartition } from './backup-partition.ts';
export { handler as backupPlan } from './backup-plan.ts';
export { handler as checkCluster } from './check-cluster.ts';
export { handler as drillCleanup } from './drill-cleanup.ts';
export { handler as drillRun } from './drill-run.ts';
export { handler as findBackup } from './find-backup.ts';
export { handler as restoreFailed } from './restore-failed.ts';
export { handler as restoreMapOffsets } from './restore-map-offsets.ts';
export { handler as restorePartition } from './restore-partition.ts';
export { handler as restorePrepare } from './restore-prepare.ts';
export { handler as restoreResetGroups } from './restore-reset-groups.ts';
export { handler as restoreVerify } from './restore-verify.ts';
export { handler as validateBackup } from './validate-backup.ts';
