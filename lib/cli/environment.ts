/**
 * Every environment variable kafka-backup reads (the CLI, the engine under it, the Lambda functions and the CDK
 * app), with what it does: the README's "Environment variables" table lists the same names, and a unit test checks
 * both against the names the code reads. The CLI reads its own through `cliEnv`, so they are read in one place;
 * the engine's (lib/dr, lib/storage, lib/kafka, lib/workflow) are the AWS SDK's conventions and the workflow
 * steps' settings, which their stacks set.
 */
export const ENVIRONMENT = {
  KAFKA_BACKUP_LOG_LEVEL: {
    description: 'Log level of the CLI: debug, info, warn or error. Default info.',
  },
  KAFKA_BACKUP_EVIDENCE_KEY: {
    description:
      'The Ed25519 private key file (kafka-backup evidence keygen) a drill signs its evidence with when --evidence-key is not given; the drill-run step reads it too.',
  },
  KAFKA_BACKUP_EVIDENCE_KMS_KEY_ID: {
    description:
      "In the drill-run step: the KMS asymmetric key (ARN) it signs the evidence with; the DR stack sets its evidence key's.",
  },
  KAFKA_BACKUP_S3_ENDPOINT: {
    description: 'S3-compatible endpoint for --path s3://... when --s3-endpoint is not given.',
  },
  KAFKA_BACKUP_METRICS_HOST: {
    description:
      'Address the Prometheus endpoint listens on when --metrics-host is not given. Default 127.0.0.1.',
  },
  KAFKA_BACKUP_FAILOVER_STATE_MACHINE: {
    description: "The failover state machine's ARN (the DR stack's FailoverStateMachineArn output) for dr.",
  },
  KAFKA_BACKUP_FAILBACK_STATE_MACHINE: {
    description: "The failback state machine's ARN (the DR stack's FailbackStateMachineArn output) for dr.",
  },
  KAFKA_BACKUP_STEP_EVENT: {
    description:
      'The event of kafka-backup step when --event is not given (how the Fargate task gets its event).',
  },
  KAFKA_BACKUP_CONFIG_VARS: {
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config syntax ${VAR}, printed as is
      "In a workflow step: a JSON object, the only values ${VAR} resolves from (the deployment's workflows.configVariables).",
  },
  KAFKA_BACKUP_WORKFLOW_POLICY: {
    description:
      'In a workflow step: JSON naming the Kafka clusters, buckets and storage endpoints an execution input may use; checked when set.',
  },
  KAFKA_SECRET_ARN: {
    description:
      "In a workflow step: the Secrets Manager secret whose JSON is merged into the config's security section.",
  },
  STEP_DEADLINE_MARGIN_MS: {
    description:
      'In a Lambda step: how long before its timeout a worker stores what it read and returns a continuation.',
  },
  BACKUP_LEASE_TTL_MS: {
    description: "In a workflow step: how long a workflow's lease lasts without renewal.",
  },
  FARGATE_MIN_BACKUP_OFFSETS: {
    description: 'In a workflow step: backup work items with more offsets to read than this run on Fargate.',
  },
  FARGATE_MIN_RESTORE_BYTES: {
    description: 'In a workflow step: restore work items with more stored bytes than this run on Fargate.',
  },
  TIMESTAMP: {
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config syntax ${VAR}, printed as is
      "The value of ${TIMESTAMP} in configs (yyyyMMdd-HHmmss); set it to resume an interrupted backup whose id has one. Default: the run's UTC start.",
  },
  AWS_REGION: {
    description:
      'Region of S3 without --region or storage.region, of MSK IAM without aws_region, of dr without an ARN.',
  },
  AWS_DEFAULT_REGION: { description: 'Read when AWS_REGION is not set.' },
  AWS_ENDPOINT_URL_S3: {
    description: 'S3-compatible endpoint when neither --s3-endpoint nor storage.endpoint is given.',
  },
  AWS_ENDPOINT_URL: { description: 'Endpoint of every AWS API when no service-specific one is set.' },
  AWS_ENDPOINT_URL_SFN: { description: 'Step Functions endpoint for dr when --endpoint is not given.' },
  AWS_ENDPOINT_URL_KMS: {
    description:
      'KMS endpoint for client-side encryption (when storage.encryption.endpoint is not given) and evidence signing.',
  },
  AWS_PROFILE: {
    description:
      'AWS credentials and region come from the default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, ....',
  },
  CI: { description: 'When set, no progress line is drawn even on a terminal.' },
  TERM: { description: 'TERM=dumb: no progress line (a terminal that cannot redraw one).' },
  KAFKA_BACKUP_DEPLOYMENT: {
    description: 'The deployment file of the CDK app (bin/cdk-app.ts) when -c deployment=PATH is not given.',
  },
  CDK_OUTDIR: {
    description: 'Set by the CDK CLI when it runs the CDK app: the app then writes its assembly there.',
  },
  POWERTOOLS_SERVICE_NAME: { description: 'In a Lambda function: the service name of its logs and traces.' },
  POWERTOOLS_PARAMETERS_MAX_AGE: { description: 'In a Lambda step: seconds the Kafka secret is cached.' },
  DR_READINESS_TARGETS: {
    description: 'In the DR-readiness function: the backup locations it checks (JSON), set by its construct.',
  },
  DR_READINESS_MAX_AGE_SECONDS: {
    description: 'In the DR-readiness function: how old the newest backup may be for DR to be ready.',
  },
  DR_READINESS_DRILL_EVIDENCE: {
    description:
      "In the DR-readiness function: where the region's drill writes its evidence and the key that signs it (JSON), set by its construct.",
  },
} as const satisfies Record<string, { description: string }>;
export type EnvName = keyof typeof ENVIRONMENT;

/** The CLI's one way to read the environment: only names of the table above. */
export function cliEnv(name: EnvName): string | undefined {
  const v = process.env[name];
  return v === '' ? undefined : v;
}
