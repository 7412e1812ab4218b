export {
  type BackupDrillOptions,
  type BackupDrillResult,
  cliPrincipal,
  runBackupDrill,
} from './backup-drill.ts';
export { syntheticDrillEvidence } from './drill-evidence.ts';
export { renderDrillMarkdown } from './render.ts';
export { type DrillOptions, type DrillReport, runDrill } from './run-drill.ts';
export { deleteScratchTopics, scratchPrefixOf } from './scratch-namespace.ts';
