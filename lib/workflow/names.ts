/**
 * The workflow steps: one Lambda handler each (functions/<name>.ts), one state-machine Task each, and each runnable
 * as `kafka-backup step <name>` (the Fargate task's command). No imports: the CDK code reads this list too.
 */
export const STEP_NAMES = [
  'backup-plan',
  'backup-partition',
  'backup-finalize',
  'backup-failed',
  'find-backup',
  'validate-backup',
  'check-cluster',
  'restore-prepare',
  'restore-partition',
  'restore-map-offsets',
  'restore-reset-groups',
  'restore-verify',
  'restore-failed',
  'drill-run',
  'drill-cleanup',
] as const;

export type StepName = (typeof STEP_NAMES)[number];

/**
 * The drill workflow's steps: their functions are made by the drill construct of a DR stack (with the evidence
 * key's kms:Sign), not by every stack's WorkflowFunctions. Like every step, runnable as `kafka-backup step <name>`.
 */
export const DRILL_STEP_NAMES = ['drill-run', 'drill-cleanup'] as const satisfies readonly StepName[];
export type DrillStepName = (typeof DRILL_STEP_NAMES)[number];
/** The steps of the backup, failover and failback workflows: every stack's WorkflowFunctions. */
export type WorkflowStepName = Exclude<StepName, DrillStepName>;
export const WORKFLOW_STEP_NAMES = STEP_NAMES.filter(
  (s): s is WorkflowStepName => !(DRILL_STEP_NAMES as readonly string[]).includes(s),
);

/** Environment variables the construct sets on the functions and the Fargate task, read by the step runtime. */
export const STEP_ENV = {
  /** Secrets Manager secret (ARN or name) whose JSON is merged into the Kafka security section. */
  kafkaSecret: 'KAFKA_SECRET_ARN',
  /** A worker stops this long before its Lambda timeout to store what it read and return a continuation. */
  deadlineMarginMs: 'STEP_DEADLINE_MARGIN_MS',
  /** The event of `kafka-backup step <name>` when --event is not given (the Fargate task's container override). */
  event: 'KAFKA_BACKUP_STEP_EVENT',
  /** How long a workflow's lease (of the backup location, or of a restore) lasts without renewal. */
  leaseTtlMs: 'BACKUP_LEASE_TTL_MS',
  /** Backup work items with more offsets to read than this run on Fargate (input `options.fargate_min_offsets`). */
  fargateMinOffsets: 'FARGATE_MIN_BACKUP_OFFSETS',
  /** Restore work items with more stored bytes than this run on Fargate (input `options.fargate_min_bytes`). */
  fargateMinBytes: 'FARGATE_MIN_RESTORE_BYTES',
  /**
   * What a deployed workflow's configs may name (JSON, lib/workflow/policy.ts): the Kafka clusters, the buckets,
   * the S3 endpoints. Set by the stacks from the deployment file; when unset (local use), nothing is checked.
   */
  workflowPolicy: 'KAFKA_BACKUP_WORKFLOW_POLICY',
  /** The only values `${VAR}` resolves from in a step (JSON object NAME -> value; the deployment's configVariables). */
  configVariables: 'KAFKA_BACKUP_CONFIG_VARS',
  /** The KMS asymmetric key (ARN) the drill signs its evidence with: set by the drill construct. */
  evidenceKmsKey: 'KAFKA_BACKUP_EVIDENCE_KMS_KEY_ID',
  /**
   * Or an Ed25519 key file (`kafka-backup evidence keygen`), for a drill step run outside AWS: the variable the
   * CLI's `drill` reads too.
   */
  evidenceKeyFile: 'KAFKA_BACKUP_EVIDENCE_KEY',
} as const;
