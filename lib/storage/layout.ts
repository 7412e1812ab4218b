/**
 * Every key kafka-backup writes in a backup location, relative to the location's root: the table "Locations and
 * keys" of docs/format.md, template for template (test/unit/storage/layout.test.ts holds the two together). The
 * key functions below fill these templates; lib/format (Layout, RestoreLayout) and lib/workflow (WorkflowLayout)
 * name their keys through them, and the IAM key patterns of lib/infra start from the same top-level folders.
 */
export const KEY_TEMPLATES = {
  manifest: 'backups/<backup_id>/manifest.json',
  metadata: 'backups/<backup_id>/metadata.json',
  plan: 'backups/<backup_id>/plan.json',
  rangeProgress: 'backups/<backup_id>/progress/<topic>/<partition>/<from>-<to>.json',
  segment: 'segments/<topic>/<partition>/<first>-<last>-<unique>.kbseg.zst',
  lease: 'lease.json',
  backupWorkflowConfig: 'backups/<backup_id>/workflow/config.json',
  backupWorkflowItems: 'backups/<backup_id>/workflow/items.json',
  backupWorkflowResults: 'backups/<backup_id>/workflow/results/<map_run_id>/manifest.json',
  restorePlan: 'restores/<restore_id>/plan.json',
  restorePartition: 'restores/<restore_id>/partitions/<topic>/<partition>.json',
  restoreReport: 'restores/<restore_id>/report.json',
  restoreLease: 'restores/<restore_id>/lease.json',
  restoreWorkflowConfig: 'restores/<restore_id>/workflow/config.json',
  restoreWorkflowItems: 'restores/<restore_id>/workflow/items.json',
  restoreWorkflowOffsetPlans: 'restores/<restore_id>/workflow/offset-plans.json',
  restoreWorkflowGroupResults: 'restores/<restore_id>/workflow/group-results.json',
  restoreWorkflowResults: 'restores/<restore_id>/workflow/results/<map_run_id>/manifest.json',
  evidenceReport: 'evidence/<evidence_id>/report.json',
  evidenceMarkdown: 'evidence/<evidence_id>/report.md',
  evidenceSignature: 'evidence/<evidence_id>/signature.json',
} as const;
export type KeyName = keyof typeof KEY_TEMPLATES;

/** The top-level folders of a location (and the lease at its root). */
export const LOCATION_FOLDERS = {
  backups: 'backups/',
  segments: 'segments/',
  restores: 'restores/',
  evidence: 'evidence/',
} as const;

/** The synthetic drill's own sub-location of a location (`<location>/_drills/`): its backups never mix with yours. */
export const SYNTHETIC_DRILL_FOLDER = '_drills';

/** Offsets in segment keys: 20 zero-padded digits, so that keys sort in offset order. */
function pad(n: number): string {
  return String(n).padStart(20, '0');
}

/** Backups: manifests, run state, segments and the location's lease. */
export const BackupLayout = {
  backupsPrefix: LOCATION_FOLDERS.backups,
  backupPrefix: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/`,
  manifest: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/manifest.json`,
  /** Cluster metadata beside the records (backup.metadata): schemas, ACLs, quotas, SCRAM user names. */
  metadata: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/metadata.json`,
  /** The cut and everything decided before reading; written once when a backup starts. */
  plan: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/plan.json`,
  /**
   * One per offset range [from, to) of a partition that a worker reads (a whole partition is one range), rewritten
   * after each stored segment: what a resumed run continues from. Offsets padded as in segment keys.
   */
  rangeProgress: (backupId: string, topic: string, partition: number, from: number, to: number) =>
    `${LOCATION_FOLDERS.backups}${backupId}/progress/${topic}/${partition}/${pad(from)}-${pad(to)}.json`,
  progressPrefix: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/progress/`,
  segmentsPrefix: LOCATION_FOLDERS.segments,
  segment: (topic: string, partition: number, firstOffset: number, lastOffset: number, unique: string) =>
    `${LOCATION_FOLDERS.segments}${topic}/${partition}/${pad(firstOffset)}-${pad(lastOffset)}-${unique}.kbseg.zst`,
  /** One backup at a time per location. */
  lease: 'lease.json',
} as const;

/**
 * Restores keep their state next to the backup they restore (not on local disk): so an interrupted restore
 * resumes, and a later offset reset finds the offset mapping, from any machine.
 */
export const RestoreLayout = {
  prefix: LOCATION_FOLDERS.restores,
  plan: (restoreId: string) => `${LOCATION_FOLDERS.restores}${restoreId}/plan.json`,
  partition: (restoreId: string, topic: string, partition: number) =>
    `${LOCATION_FOLDERS.restores}${restoreId}/partitions/${topic}/${partition}.json`,
  report: (restoreId: string) => `${LOCATION_FOLDERS.restores}${restoreId}/report.json`,
  /** One run of a restore at a time: held while it writes (see lib/restore/restore-lease.ts). */
  lease: (restoreId: string) => `${LOCATION_FOLDERS.restores}${restoreId}/lease.json`,
} as const;

/**
 * Where a workflow run keeps its config, and its Distributed Map's items (what ItemReader reads) and results (where
 * ResultWriter writes: a folder per Map Run, `<map_run_id>/manifest.json` naming the result files beside it): next
 * to the backup, or next to the restore's state.
 */
export const WorkflowLayout = {
  backupConfig: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/workflow/config.json`,
  backupItems: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/workflow/items.json`,
  backupResultsPrefix: (backupId: string) => `${LOCATION_FOLDERS.backups}${backupId}/workflow/results/`,
  backupResults: (backupId: string, mapRunId: string) =>
    `${LOCATION_FOLDERS.backups}${backupId}/workflow/results/${mapRunId}/manifest.json`,
  restoreConfig: (restoreId: string) => `${LOCATION_FOLDERS.restores}${restoreId}/workflow/config.json`,
  restoreItems: (restoreId: string) => `${LOCATION_FOLDERS.restores}${restoreId}/workflow/items.json`,
  restoreResultsPrefix: (restoreId: string) => `${LOCATION_FOLDERS.restores}${restoreId}/workflow/results/`,
  restoreResults: (restoreId: string, mapRunId: string) =>
    `${LOCATION_FOLDERS.restores}${restoreId}/workflow/results/${mapRunId}/manifest.json`,
  /**
   * MapOffsets' plans (where each group resumes: a move per group and partition) and ResetConsumerGroups'
   * results: kept here, not in the execution state, which 10,000 partitions' moves do not fit.
   */
  restoreOffsetPlans: (restoreId: string) =>
    `${LOCATION_FOLDERS.restores}${restoreId}/workflow/offset-plans.json`,
  restoreGroupResults: (restoreId: string) =>
    `${LOCATION_FOLDERS.restores}${restoreId}/workflow/group-results.json`,
} as const;

/** DR-drill evidence (lib/evidence): one folder per drill, never overwritten. */
export const EvidenceKeys = {
  prefix: LOCATION_FOLDERS.evidence,
  folder: (id: string) => `${LOCATION_FOLDERS.evidence}${id}/`,
  report: (id: string) => `${LOCATION_FOLDERS.evidence}${id}/report.json`,
  markdown: (id: string) => `${LOCATION_FOLDERS.evidence}${id}/report.md`,
  signature: (id: string) => `${LOCATION_FOLDERS.evidence}${id}/signature.json`,
} as const;
