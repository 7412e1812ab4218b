import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, IgnoreMode, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FARGATE_TASK, LAMBDA_STEP, LAMBDA_WORKER } from '../../plan/runners.ts';
import {
  BackupLayout,
  LOCATION_FOLDERS,
  RestoreLayout,
  SYNTHETIC_DRILL_FOLDER,
} from '../../storage/layout.ts';
import { STEP_ENV, type StepName, WORKFLOW_STEP_NAMES, type WorkflowStepName } from '../../workflow/names.ts';
import type { WorkflowFunctionsProps } from './props.ts';

export type { WorkflowFunctionsProps };

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The container the Fargate task runs: the CLI, whose `step` subcommand runs one workflow step. */
export const CONTAINER_NAME = 'kafka-backup';

/** The x86_64 Linux binary of @node-rs/crc32, which the functions (X86_64) load. */
const CRC32_BINARY_PACKAGE = '@node-rs/crc32-linux-x64-gnu';

/**
 * How each step function is bundled: by the local esbuild (no Docker), ESM for Node 24, everything inlined but
 * @node-rs/crc32 (the CRC-32C of every Kafka batch, on the CPU's CRC instruction), a native module shipped next to
 * the bundle as npm installed it: its loader and its x86_64 glibc binary.
 */
export const STEP_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  platform: 'node',
  mainFields: ['module', 'main'],
  sourceMap: true,
  // CommonJS dependencies (the AWS SDK's, yaml's) call require(): give the ESM bundle one.
  banner:
    "import { createRequire as __kbCreateRequire } from 'node:module'; const require = __kbCreateRequire(import.meta.url);",
  // Bundle our own AWS SDK (checksum settings, versions) instead of the runtime's; only @node-rs/crc32 stays a
  // package (a .node file cannot be inlined).
  externalModules: ['@node-rs/crc32'],
  // The Kafka client's LZ4/Snappy codecs are WebAssembly read from a file next to the package, which a bundle does
  // not ship; the package's `bundled` entry carries the same module inline.
  esbuildArgs: { '--alias:@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
  forceDockerBundling: false,
  // @node-rs/crc32 next to the bundle, copied from the project's install: `nodeModules: [...]` would run an npm
  // install on every synth. npm installs the binary of the machine's own platform only: synthesized elsewhere than
  // on x86_64 Linux, the functions get none and compute the CRC in JavaScript (same values, about ten times the
  // CPU), which the synth says.
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) => [
      `mkdir -p "${outputDir}/node_modules/@node-rs/crc32"`,
      `cp "${inputDir}/node_modules/@node-rs/crc32/package.json" "${inputDir}/node_modules/@node-rs/crc32/index.js" "${inputDir}/node_modules/@node-rs/crc32/LICENSE" "${outputDir}/node_modules/@node-rs/crc32/"`,
      `if [ -d "${inputDir}/node_modules/${CRC32_BINARY_PACKAGE}" ]; then mkdir -p "${outputDir}/node_modules/${CRC32_BINARY_PACKAGE}" && cp "${inputDir}/node_modules/${CRC32_BINARY_PACKAGE}/package.json" "${inputDir}/node_modules/${CRC32_BINARY_PACKAGE}"/*.node "${outputDir}/node_modules/${CRC32_BINARY_PACKAGE}/"; else echo "warning: ${CRC32_BINARY_PACKAGE} is not installed here (not x86_64 Linux): the functions compute CRC-32C in JavaScript" >&2; fi`,
    ],
  },
};

/** Steps that read or write Kafka data in bulk: they get the worker memory and the full timeout. */
const WORKER_STEPS: ReadonlySet<StepName> = new Set([
  'backup-partition',
  'restore-partition',
  'validate-backup',
]);

/**
 * What each step may write and delete in the bucket, as key patterns (a backup location is `<prefix>/`, the
 * patterns start with `*` to match any prefix). Every step reads and lists. Nobody gets s3:DeleteObjectVersion:
 * in the versioned bucket a delete only adds a delete marker, the data version stays (until the lifecycle's
 * noncurrent expiry, or Object Lock's retention).
 *
 *   backups/<id>/...   plan, progress, workflow/config.json, manifest        backup-plan, -partition, -finalize
 *   segments/...       record data                                          backup-partition (and finalize)
 *   lease.json         one backup at a time per location (put if absent)    the backup steps
 *   restores/<id>/...  restore plan, partition states, report, lease        the restore steps
 *   evidence/<id>/...  a drill's signed evidence report                     drill-run
 *
 * Deletes: only backup-finalize deletes data (its run state and, by retention, old backups and unreferenced
 * segments). A lease is released (and an expired one taken over) by deleting the lease object: the steps that
 * take or release a lease may delete lease objects, and nothing else. The drill steps delete no data: drill-run only
 * releases its scratch restore's lease (its restore state stays, with its evidence, as the record of what it did),
 * and a synthetic drill removes its test backup from its own `_drills/` sub-location (SYNTHETIC_DRILL_S3_ACCESS).
 */
export interface StepS3Access {
  readonly put: readonly string[];
  readonly delete: readonly string[];
}
// From the table of keys (lib/storage/layout.ts): `*` before a key pattern matches any location prefix.
const BACKUP_LEASE = `*${BackupLayout.lease}`;
const BACKUP_WRITES = [`*${LOCATION_FOLDERS.backups}*`, `*${LOCATION_FOLDERS.segments}*`, BACKUP_LEASE];
const RESTORE_WRITES = [`*${LOCATION_FOLDERS.restores}*`];
const RESTORE_LEASE = `*${RestoreLayout.lease('*')}`;
const READ_ONLY: StepS3Access = { put: [], delete: [] };
export const STEP_S3_ACCESS: Readonly<Record<StepName, StepS3Access>> = {
  'backup-plan': { put: BACKUP_WRITES, delete: [BACKUP_LEASE] },
  'backup-partition': { put: BACKUP_WRITES, delete: [] },
  // The one step that deletes data (retention, run state): the whole location's objects. Narrower patterns
  // (*backups/*, *segments/*) say little more (the location prefix comes from the input) and could not be proven:
  // moto, which enforces the roles in the deployed-artifact tests, checks a multi-object delete against the
  // bucket's objects as a whole, not key by key as S3 does.
  'backup-finalize': { put: BACKUP_WRITES, delete: ['*'] },
  'backup-failed': { put: [], delete: [BACKUP_LEASE] },
  'find-backup': READ_ONLY,
  'validate-backup': READ_ONLY,
  'check-cluster': READ_ONLY,
  'restore-prepare': { put: RESTORE_WRITES, delete: [RESTORE_LEASE] },
  'restore-partition': { put: RESTORE_WRITES, delete: [] },
  'restore-map-offsets': { put: RESTORE_WRITES, delete: [] },
  'restore-reset-groups': { put: RESTORE_WRITES, delete: [] },
  'restore-verify': { put: RESTORE_WRITES, delete: [RESTORE_LEASE] },
  'restore-failed': { put: [], delete: [RESTORE_LEASE] },
  // Its scratch restore takes the restore's lease like any restore and releases it by deleting it: that object only.
  'drill-run': { put: [`*${LOCATION_FOLDERS.evidence}*`, ...RESTORE_WRITES], delete: [RESTORE_LEASE] },
  'drill-cleanup': READ_ONLY,
};
/**
 * What a synthetic drill adds to drill-run's access (only in a region whose drill is synthetic): it backs up a test
 * topic into the `_drills/` sub-location of the DR location and removes that backup again, and writes and deletes
 * nothing else. Keys at the bucket's root location, or under any prefix.
 */
export const SYNTHETIC_DRILL_S3_ACCESS: StepS3Access = {
  put: [`${SYNTHETIC_DRILL_FOLDER}/*`, `*/${SYNTHETIC_DRILL_FOLDER}/*`],
  delete: [`${SYNTHETIC_DRILL_FOLDER}/*`, `*/${SYNTHETIC_DRILL_FOLDER}/*`],
};
/** The Fargate task runs the two partition workers. */
const TASK_S3_ACCESS: StepS3Access = { put: [...BACKUP_WRITES, ...RESTORE_WRITES], delete: [] };

/** The access of a step in a restore-only stack: it reads backups and writes restore state only. */
function restoreOnlyAccess(access: StepS3Access): StepS3Access {
  const restoreSide = (p: string) => p.startsWith('*restores/');
  return { put: access.put.filter(restoreSide), delete: access.delete.filter(restoreSide) };
}

export function grantS3(grantee: iam.IGrantable, bucket: s3.IBucket, access: StepS3Access): void {
  bucket.grantRead(grantee);
  const principal = grantee.grantPrincipal;
  if (access.put.length > 0) {
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: access.put.map((p) => bucket.arnForObjects(p)),
      }),
    );
    bucket.encryptionKey?.grantEncrypt(grantee);
  }
  if (access.delete.length > 0) {
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:DeleteObject'],
        resources: access.delete.map((p) => bucket.arnForObjects(p)),
      }),
    );
  }
}

/** The props of the functions of one stack's steps (WorkflowFunctions, the drill's DrillFunctions). */
export type StepFunctionsProps = Pick<
  WorkflowFunctionsProps,
  | 'bucket'
  | 'vpc'
  | 'vpcSubnets'
  | 'securityGroups'
  | 'kafkaSecret'
  | 'lambdaTimeout'
  | 'fargateThresholds'
  | 'memorySize'
  | 'access'
  | 'clientSideEncryption'
>;

/**
 * The environment every step runs with, Lambda or Fargate: its time budget, the lease TTL, the Fargate thresholds,
 * the Kafka secret's ARN, and what an execution input may name (lib/workflow/policy.ts), checked by every step
 * before the Kafka secret is merged into a config or a store is opened.
 */
export function stepEnvironment(scope: Construct, props: StepFunctionsProps): Record<string, string> {
  const lambdaTimeout = props.lambdaTimeout ?? Duration.minutes(15);
  const timeoutMs = lambdaTimeout.toMilliseconds();
  // Stop a fifth before the timeout (between 5 s and 60 s): time to store the open segment and return.
  const marginMs = Math.min(60_000, Math.max(5_000, Math.floor(timeoutMs / 5)));
  const leaseTtlMs = Math.max(30 * 60_000, 2 * timeoutMs);
  return {
    [STEP_ENV.deadlineMarginMs]: String(marginMs),
    [STEP_ENV.leaseTtlMs]: String(leaseTtlMs),
    [STEP_ENV.fargateMinOffsets]: String(props.fargateThresholds?.backupOffsets ?? 20_000_000),
    [STEP_ENV.fargateMinBytes]: String(props.fargateThresholds?.restoreBytes ?? 8 * 1024 ** 3),
    POWERTOOLS_SERVICE_NAME: 'kafka-backup',
    POWERTOOLS_PARAMETERS_MAX_AGE: '300',
    NODE_OPTIONS: '--enable-source-maps',
    ...(props.kafkaSecret ? { [STEP_ENV.kafkaSecret]: props.kafkaSecret.secretArn } : {}),
    [STEP_ENV.workflowPolicy]: Stack.of(scope).toJsonString({
      ...(props.access?.kafkaClusters ? { kafka_clusters: props.access.kafkaClusters } : {}),
      buckets: [
        {
          bucket: props.bucket.bucketName,
          ...(props.bucket.env.region ? { region: props.bucket.env.region } : {}),
        },
      ],
      storage_endpoints: props.access?.storageEndpoints ?? [],
      ...(props.clientSideEncryption ? { encryption: props.clientSideEncryption.policy } : {}),
    }),
    ...(props.access?.configVariables && Object.keys(props.access.configVariables).length > 0
      ? { [STEP_ENV.configVariables]: JSON.stringify(props.access.configVariables) }
      : {}),
  };
}

/**
 * The Lambda function of one step (functions/<step>.ts through the one entry functions/index.ts: one bundle, built
 * once, for every step function of the deployment), in the Kafka VPC, with the Kafka secret readable.
 */
export function stepFunction(
  scope: Construct,
  step: StepName,
  props: StepFunctionsProps & {
    environment: Record<string, string>;
    logKey: kms.IKey;
    memorySize: number;
    vpcSubnets: ec2.SubnetSelection;
  },
): NodejsFunction {
  const fn = new NodejsFunction(scope, pascal(step), {
    entry: join(REPO_ROOT, 'functions', 'index.ts'),
    handler: camel(step),
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    // The @node-rs/crc32 binary shipped is the x86_64 glibc one.
    architecture: lambda.Architecture.X86_64,
    memorySize: props.memorySize,
    timeout: props.lambdaTimeout ?? Duration.minutes(15),
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: props.securityGroups,
    tracing: lambda.Tracing.ACTIVE,
    loggingFormat: lambda.LoggingFormat.JSON,
    logGroup: new logs.LogGroup(scope, `${pascal(step)}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      encryptionKey: props.logKey,
    }),
    environment: { ...props.environment, POWERTOOLS_METRICS_NAMESPACE: 'KafkaBackup' },
    bundling: STEP_BUNDLING,
  });
  props.kafkaSecret?.grantRead(fn);
  return fn;
}

/** What a state machine's Task states need of the functions they invoke. */
export interface StepFunctionSet<N extends StepName = StepName> {
  readonly lambdaTimeout: Duration;
  fn(step: N): lambda.IFunction;
}

/**
 * One Lambda function per workflow step (functions/<step>.ts, bundled by the local esbuild), and the Fargate task
 * definition that runs the same steps through the CLI for work items too large for Lambda. Shared by the
 * workflows of one stack through `WorkflowProps.functions`. The drill's steps are the drill construct's.
 */
export class WorkflowFunctions extends Construct implements StepFunctionSet<WorkflowStepName> {
  readonly functions: Readonly<Record<WorkflowStepName, lambda.IFunction>>;
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly lambdaTimeout: Duration;
  /** How long one Fargate work item may run. */
  readonly fargateTimeout: Duration;
  readonly fargateThresholds: { backupOffsets: number; restoreBytes: number };
  /** Encrypts the log groups of the functions, the task, and (unless given their own) the state machines. */
  readonly logKey: kms.IKey;

  constructor(scope: Construct, id: string, props: WorkflowFunctionsProps) {
    super(scope, id);
    this.lambdaTimeout = props.lambdaTimeout ?? Duration.minutes(15);
    this.fargateTimeout = props.fargateTimeout ?? Duration.hours(24);
    this.vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    this.securityGroups = props.securityGroups;
    this.fargateThresholds = {
      backupOffsets: props.fargateThresholds?.backupOffsets ?? 20_000_000,
      restoreBytes: props.fargateThresholds?.restoreBytes ?? 8 * 1024 ** 3,
    };
    const environment = stepEnvironment(this, props);
    this.logKey = props.logKey ?? logKeyFor(this, 'LogKey');

    const functions: Partial<Record<WorkflowStepName, lambda.IFunction>> = {};
    for (const step of WORKFLOW_STEP_NAMES) {
      const fn = stepFunction(this, step, {
        ...props,
        environment,
        logKey: this.logKey,
        memorySize: WORKER_STEPS.has(step)
          ? (props.memorySize ?? LAMBDA_WORKER.memory_mb)
          : LAMBDA_STEP.memory_mb,
        lambdaTimeout: this.lambdaTimeout,
        vpcSubnets: this.vpcSubnets,
      });
      const access = props.restoreOnly ? restoreOnlyAccess(STEP_S3_ACCESS[step]) : STEP_S3_ACCESS[step];
      grantS3(fn, props.bucket, access);
      // What a step puts it encrypts (leases aside, which need no key); every step reads and decrypts.
      props.clientSideEncryption?.grant(fn, access.put.length > 0);
      functions[step] = fn;
    }
    this.functions = functions as Record<WorkflowStepName, lambda.IFunction>;

    this.cluster =
      props.cluster ??
      new ecs.Cluster(this, 'Cluster', {
        vpc: props.vpc,
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
      });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: FARGATE_TASK.cpu_units,
      memoryLimitMiB: FARGATE_TASK.memory_mib,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.container = this.taskDefinition.addContainer('Container', {
      containerName: CONTAINER_NAME,
      image:
        props.containerImage ??
        ecs.ContainerImage.fromAsset(REPO_ROOT, {
          file: 'deploy/container/Dockerfile',
          platform: Platform.LINUX_AMD64,
          ignoreMode: IgnoreMode.DOCKER,
          // Only what the image needs: keeps the asset hash (and synth) independent of node_modules and tests.
          exclude: [
            '**',
            '!package.json',
            '!package-lock.json',
            '!bin/**',
            '!lib/**',
            '!deploy/container/**',
          ],
        }),
      // The CLI; the state machine appends `step <name>` and passes the event in KAFKA_BACKUP_STEP_EVENT.
      entryPoint: ['node', 'bin/kafka-backup.ts'],
      command: ['--help'],
      environment,
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'kafka-backup',
        logGroup: new logs.LogGroup(this, 'TaskLogs', {
          retention: logs.RetentionDays.ONE_MONTH,
          encryptionKey: this.logKey,
        }),
      }),
    });
    const taskAccess = props.restoreOnly ? restoreOnlyAccess(TASK_S3_ACCESS) : TASK_S3_ACCESS;
    grantS3(this.taskDefinition.taskRole, props.bucket, taskAccess);
    props.clientSideEncryption?.grant(this.taskDefinition.taskRole, taskAccess.put.length > 0);
    props.kafkaSecret?.grantRead(this.taskDefinition.taskRole);
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    );
  }

  fn(step: WorkflowStepName): lambda.IFunction {
    return this.functions[step];
  }
}

/**
 * A KMS key for CloudWatch Logs log groups (and the alarm topic), rotated yearly. Its policy lets the region's
 * CloudWatch Logs service use it for log groups of this account, and SNS and CloudWatch alarms publish with it.
 */
export function logKeyFor(scope: Construct, id: string): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, id, {
    description: 'kafka-backup: log groups and alarm topic',
    enableKeyRotation: true,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      // CloudWatch alarms publish to the encrypted alarm topic as this service (AWS documents no condition here).
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }),
  );
  return key;
}

function camel(step: string): string {
  const p = pascal(step);
  return p[0]!.toLowerCase() + p.slice(1);
}

function pascal(step: string): string {
  return step
    .split('-')
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('');
}
