import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configErrorMap } from '../config/zod-messages.ts';
import { CronError, toEventBridgeCron } from './cron.ts';
import { KafkaBackupSpec, KafkaRestoreSpec, SpecError } from './specs.ts';

/*
 * The deployment config: which AWS account and regions, and what each region does.
 *
 *   primary         one region; backups are taken there into its bucket, which replicates to every DR bucket.
 *   dr              one or more regions, each with a replica bucket and the failover and failback workflows.
 *   restoreTargets  optional regions with Kafka clusters that are restored into (analytics, regional copies); they
 *                   read the bucket their KafkaRestore specs name, in whichever region it is.
 *
 * Bucket names are deterministic (given here), so stacks refer to each other's buckets by name and ARN: no
 * cross-region references between stacks.
 */

const Region = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as us-west-2');
const BucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3 to 63 of a-z 0-9 . -');
const ResourceName = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be lower-case letters, digits and "-", as a Kubernetes metadata.name',
  );

/** The Kafka cluster's VPC, imported without a lookup so that synth stays offline. */
export const NetworkConfig = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-...)'),
  vpcCidr: z.cidrv4(),
  availabilityZones: z.array(z.string().min(1)).min(1),
  /** Subnets the Lambdas and Fargate tasks run in: private subnets that reach the brokers and AWS APIs. */
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id (subnet-...)')).min(1),
  /**
   * CIDRs the brokers listen in, for the security group's egress rules (default: the VPC's CIDR). Ports come
   * from the bootstrap servers of this region's specs.
   */
  kafkaCidrs: z.array(z.cidrv4()).optional(),
  /**
   * Where the functions and tasks may reach HTTPS (the AWS APIs). Default: anywhere. With VPC endpoints for S3,
   * Secrets Manager, CloudWatch Logs, X-Ray and STS, name their CIDRs and the S3 gateway prefix list: a compromised
   * function then cannot send data to a host of its own choosing.
   */
  httpsEgress: z
    .strictObject({
      cidrs: z.array(z.cidrv4()).default([]),
      prefixListIds: z
        .array(z.string().regex(/^pl-[0-9a-f]+$/, 'must be a prefix list id (pl-...)'))
        .default([]),
    })
    .optional(),
  /** Existing security groups to attach as well (e.g. one the brokers already admit). */
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]+$/, 'must be a security group id (sg-...)'))
    .default([]),
});
export type NetworkConfig = z.infer<typeof NetworkConfig>;

export const NamedBackup = z.strictObject({ name: ResourceName, spec: z.unknown() });
export const NamedRestore = z.strictObject({ name: ResourceName, spec: z.unknown() });

const BootstrapServer = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port');

/** A Kafka cluster a region's workflows may connect to (and merge the Kafka secret into a config of). */
export const KafkaClusterAccess = z.strictObject({
  bootstrapServers: z.array(BootstrapServer).min(1),
});

/**
 * What the failover, failback and restore workflows' scale hooks may touch: the execution input picks among
 * these, IAM allows nothing else. Without any, the hook states fail (HookNotAllowed).
 */
export const HooksConfig = z.strictObject({
  /** Lambda functions the hooks may invoke: ARNs, or names in this region and account. */
  lambdaFunctions: z.array(z.string().min(1)).default([]),
  /** ECS services the hooks may scale: cluster name and service name, in this region and account. */
  ecsServices: z
    .array(z.strictObject({ cluster: ResourceNameLoose(), service: ResourceNameLoose() }))
    .default([]),
});

function ResourceNameLoose() {
  return z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS cluster or service name');
}

const RegionBase = {
  region: Region,
  network: NetworkConfig,
  /** Emails subscribed to this region's alarm topic (they must confirm the subscription). */
  alarmEmails: z.array(z.email()).default([]),
  /**
   * Kafka clusters this region's workflows may use besides those of its specs (and, in a DR region, the primary's
   * for failback): a config naming other servers fails before the Kafka secret is merged into it.
   */
  kafkaClusters: z.array(KafkaClusterAccess).default([]),
  hooks: HooksConfig.prefault({}),
};

export const PrimaryRegionConfig = z.strictObject({
  ...RegionBase,
  bucketName: BucketName,
  backups: z.array(NamedBackup).min(1, 'must hold at least one KafkaBackup'),
});

/**
 * The DR drill of a DR region: a state machine on an EventBridge Scheduler schedule that proves, with signed
 * evidence in the replica bucket, that the newest complete backup restores (README "Proving DR").
 */
export const DrillConfig = z.strictObject({
  /** 5-field cron (UTC unless timeZone); day-of-week may be `MON#1` (the first Monday of the month). */
  schedule: z.string().min(1).default('0 4 * * MON#1'),
  timeZone: z.string().min(1).default('UTC'),
  /** backup: the newest complete backup restored into a scratch namespace; synthetic: a test topic made for it. */
  kind: z.enum(['backup', 'synthetic']).default('backup'),
  /**
   * The KafkaRestore of this region whose targetCluster (where the scratch topics go) and storage (the backups
   * restored, where the evidence is written) the drill uses. Default: the region's only restore.
   */
  restore: ResourceName.optional(),
  /** Scratch topics are `<namespace>-<execution name>.<topic>`; the drill deletes only those. */
  namespace: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{5,59}$/, 'must be 6 to 60 of A-Z a-z 0-9 . _ - (a Kafka topic prefix)')
    .default('kafka-backup-drill'),
  /** Topics of the backup to restore (globs); default every topic. */
  topics: z.array(z.string().min(1)).min(1).optional(),
  excludeTopics: z.array(z.string().min(1)).default([]),
  /** Whose backups it restores, and the label of its metrics. Default: the restore's offsetReset.sourceCluster. */
  sourceClusterId: z.string().min(1).optional(),
  /** Alarm when no drill has passed for this many days (its signed evidence, read by the DR-readiness check). */
  maxDaysWithoutPass: z.int().positive().max(366).default(35),
  /** kind synthetic: the KafkaBackup of the primary whose kafkaCluster the test topic is made on, and its size. */
  synthetic: z
    .strictObject({
      backup: ResourceName,
      records: z.int().positive().default(10_000),
      recordSize: z.int().positive().default(1_000),
      partitions: z.int().positive().default(3),
    })
    .optional(),
});
export type DrillConfig = z.infer<typeof DrillConfig>;

export const DrRegionConfig = z.strictObject({
  ...RegionBase,
  bucketName: BucketName,
  /** KafkaRestore specs run by this region's failover workflow (e.g. the guide's dr-restore). */
  restores: z.array(NamedRestore).default([]),
  drill: DrillConfig.optional(),
});

export const RestoreTargetConfig = z.strictObject({
  ...RegionBase,
  /** What the region is for, shown in descriptions: "analytics", "apac", ... */
  purpose: z.string().min(1),
  restores: z.array(NamedRestore).min(1, 'must hold at least one KafkaRestore'),
});

export const ReplicationConfig = z.strictObject({
  ruleId: z.string().min(1).max(255).default('KafkaBackupReplication'),
  priority: z.int().nonnegative().default(1),
  /** Default: "<primary region>/", the guide's layout (s3://kafka-backups-primary/us-west-2/hourly). */
  prefix: z.string().optional(),
  /** S3 Replication Time Control: the only value S3 accepts is 15. */
  replicationTimeMinutes: z.literal(15).default(15),
  metricsEventThresholdMinutes: z.literal(15).default(15),
  deleteMarkerReplication: z.boolean().default(false),
});

export const EncryptionConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('SSE-S3') }),
  /** One customer managed key per region (alias/<namePrefix>-backups), rotated yearly. */
  z.strictObject({ type: z.literal('SSE-KMS') }),
]);

const KmsKeyArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
    'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)',
  );

/**
 * Client-side encryption of everything the workflows store (the engine's storage.encryption with AWS KMS): each
 * object is encrypted before it leaves the function, with a data key of its own, so neither S3 nor anyone allowed
 * to read the bucket but not to use the key can read a backup. Keys: by default each region's stack creates one
 * (alias/<namePrefix>-client-side, rotated yearly, kept when the stack is deleted), and every data key is also
 * wrapped with the other regions' keys, so that a DR region reads with its own key while the primary region is
 * down. Or `kmsKeyArns` names a key per region (e.g. a multi-Region key and its replicas: then one wrap suffices).
 */
export const ClientSideEncryptionConfig = z.strictObject({
  enabled: z.boolean().default(false),
  kmsKeyArns: z.record(Region, KmsKeyArn).optional(),
});

/**
 * S3 Object Lock on the backup buckets (primary and DR): every object version is kept for `days` after it was
 * written, whoever asks for its deletion (GOVERNANCE: unless a principal with s3:BypassGovernanceRetention does;
 * COMPLIANCE: nobody, the root user included). A delete by the engine's retention only adds a delete marker; the
 * locked version goes by the noncurrent-version lifecycle once its lock has passed. Default: GOVERNANCE, days
 * covering the longest backup retention of the deployment (retention.backups x the schedule's interval).
 */
export const ObjectLockConfig = z.strictObject({
  enabled: z.boolean().default(true),
  mode: z.enum(['GOVERNANCE', 'COMPLIANCE']).default('GOVERNANCE'),
  days: z.int().positive().max(36_500).optional(),
});

export const DeploymentConfig = z
  .strictObject({
    /** The AWS account every stack deploys to (explicit env on every stack). */
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    /** Stack names and other names start with it. */
    namePrefix: ResourceName.default('kafka-backup'),
    encryption: EncryptionConfig.default({ type: 'SSE-S3' }),
    objectLock: ObjectLockConfig.prefault({}),
    clientSideEncryption: ClientSideEncryptionConfig.prefault({}),
    lifecycle: z
      .strictObject({
        noncurrentVersionExpirationDays: z.int().positive().default(30),
        abortIncompleteMultipartUploadDays: z.int().positive().default(7),
        accessLogExpirationDays: z.int().positive().default(365),
      })
      .prefault({}),
    replication: ReplicationConfig.prefault({}),
    workflows: z
      .strictObject({
        maxConcurrency: z.int().positive().optional(),
        lambdaTimeoutSeconds: z.int().min(1).max(900).optional(),
        /**
         * A prebuilt image of deploy/container/Dockerfile for the Fargate task (e.g.
         * 111111111111.dkr.ecr.us-west-2.amazonaws.com/kafka-backup:0.1.0), pulled by every region's tasks. Without
         * it `cdk deploy` builds the image with Docker and pushes it to each region's CDK bootstrap repository.
         */
        containerImage: z.string().min(1).optional(),
        /**
         * The only values `${VAR}` resolves from in a deployed step (never the functions' environment, which holds
         * the role's credentials). Names: letters, digits, _; AWS_* is reserved.
         */
        configVariables: z
          .record(
            z
              .string()
              .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name')
              .refine(
                (n) => !/^(AWS_|LAMBDA_|_)/i.test(n),
                'is reserved for the runtime (AWS_*, LAMBDA_*, _*)',
              ),
            z.string(),
          )
          .default({}),
        /** storage.endpoint values a workflow config may name (e.g. a VPC endpoint URL). Default: none. */
        storageEndpoints: z.array(z.url({ protocol: /^https?$/ })).default([]),
        /**
         * Log every execution's input and state data into the state machines' log groups (encrypted with the
         * stack's key). Default false: only execution events are logged.
         */
        logExecutionData: z.boolean().default(false),
      })
      .prefault({}),
    primary: PrimaryRegionConfig,
    dr: z.array(DrRegionConfig).min(1, 'must name at least one DR region'),
    restoreTargets: z.array(RestoreTargetConfig).default([]),
  })
  .superRefine((config, ctx) => {
    const regions = [
      { region: config.primary.region, path: ['primary', 'region'] },
      ...config.dr.map((dr, i) => ({ region: dr.region, path: ['dr', i, 'region'] })),
      ...config.restoreTargets.map((t, i) => ({ region: t.region, path: ['restoreTargets', i, 'region'] })),
    ];
    const seen = new Map<string, string>();
    for (const { region, path } of regions) {
      const first = seen.get(region);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${region} already has a stack (${first}): one role per region`,
        });
      } else {
        seen.set(region, path.join('.'));
      }
    }
    const cse = config.clientSideEncryption;
    if (cse.kmsKeyArns !== undefined) {
      const at = (region: string) => ['clientSideEncryption', 'kmsKeyArns', region];
      if (!cse.enabled)
        ctx.addIssue({
          code: 'custom',
          path: ['clientSideEncryption', 'kmsKeyArns'],
          message: 'only used with enabled: true',
        });
      for (const { region } of regions)
        if (cse.kmsKeyArns[region] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['clientSideEncryption', 'kmsKeyArns'],
            message: `needs a key for ${region}: every region reads (and writes) with its own key`,
          });
      for (const [region, arn] of Object.entries(cse.kmsKeyArns)) {
        if (!seen.has(region))
          ctx.addIssue({ code: 'custom', path: at(region), message: 'is not a region of this deployment' });
        else if (arn.split(':')[3] !== region)
          ctx.addIssue({
            code: 'custom',
            path: at(region),
            message: `is a key of ${arn.split(':')[3]}, not ${region}`,
          });
      }
    }
    const buckets = [config.primary.bucketName, ...config.dr.map((d) => d.bucketName)];
    for (const [i, dr] of config.dr.entries()) {
      if (buckets.indexOf(dr.bucketName) !== i + 1) {
        ctx.addIssue({ code: 'custom', path: ['dr', i, 'bucketName'], message: 'is used by another region' });
      }
    }
    const names = new Map<string, string>();
    const checkName = (name: string, path: (string | number)[]) => {
      const first = names.get(name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path, message: `"${name}" is already used by ${first}` });
      } else {
        names.set(name, path.join('.'));
      }
    };
    for (const [i, b] of config.primary.backups.entries())
      checkName(b.name, ['primary', 'backups', i, 'name']);
    for (const [d, dr] of config.dr.entries()) {
      for (const [i, r] of dr.restores.entries()) checkName(r.name, ['dr', d, 'restores', i, 'name']);
    }
    for (const [d, t] of config.restoreTargets.entries()) {
      for (const [i, r] of t.restores.entries())
        checkName(r.name, ['restoreTargets', d, 'restores', i, 'name']);
    }
    for (const [d, dr] of config.dr.entries()) {
      const drill = dr.drill;
      if (!drill) continue;
      try {
        toEventBridgeCron(drill.schedule);
      } catch (e) {
        if (!(e instanceof CronError)) throw e;
        ctx.addIssue({ code: 'custom', path: ['dr', d, 'drill', 'schedule'], message: e.message });
      }
      const names = dr.restores.map((r) => r.name);
      if (drill.restore === undefined && names.length !== 1)
        ctx.addIssue({
          code: 'custom',
          path: ['dr', d, 'drill', 'restore'],
          message: `required: name the restore whose target cluster and storage the drill uses (${names.length === 0 ? 'the region has no restores: add one' : `one of ${names.join(', ')}`})`,
        });
      else if (drill.restore !== undefined && !names.includes(drill.restore))
        ctx.addIssue({
          code: 'custom',
          path: ['dr', d, 'drill', 'restore'],
          message: `"${drill.restore}" is not a restore of this region${names.length ? ` (${names.join(', ')})` : ''}`,
        });
      if (drill.kind === 'synthetic') {
        const backups = config.primary.backups.map((b) => b.name);
        if (!drill.synthetic)
          ctx.addIssue({
            code: 'custom',
            path: ['dr', d, 'drill', 'synthetic'],
            message: `required for kind synthetic: { "backup": <the KafkaBackup whose cluster the test topic is made on> } (${backups.join(', ')})`,
          });
        else if (!backups.includes(drill.synthetic.backup))
          ctx.addIssue({
            code: 'custom',
            path: ['dr', d, 'drill', 'synthetic', 'backup'],
            message: `"${drill.synthetic.backup}" is not a primary backup (${backups.join(', ')})`,
          });
      } else if (drill.synthetic)
        ctx.addIssue({
          code: 'custom',
          path: ['dr', d, 'drill', 'synthetic'],
          message: 'only used with kind synthetic',
        });
    }
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfig>;
export type PrimaryRegionConfig = DeploymentConfig['primary'];
export type DrRegionConfig = DeploymentConfig['dr'][number];
export type RestoreTargetConfig = DeploymentConfig['restoreTargets'][number];

export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
}

/**
 * Validates a deployment config, specs included, and throws one DeploymentConfigError naming every wrong field
 * (`primary.backups[0].spec.kafkaCluster.saslSecret: required when ...`).
 */
export function parseDeploymentConfig(data: unknown, source = 'deployment config'): DeploymentConfig {
  const result = DeploymentConfig.safeParse(data, { error: configErrorMap });
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push(`${fieldPath([...issue.path, key])}: unknown field`);
      } else {
        problems.push(`${fieldPath(issue.path)}: ${issue.message}`);
      }
    }
    throw new DeploymentConfigError(`${source}:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  const config = result.data;
  // Specs are checked here too so that every problem in the file is reported at once.
  const check = (schema: typeof KafkaBackupSpec | typeof KafkaRestoreSpec, spec: unknown, where: string) => {
    const parsed = schema.safeParse(spec, { error: configErrorMap });
    if (parsed.success) return;
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          problems.push(`${where}.${fieldPath([...issue.path, key])}: unknown field`);
      } else {
        problems.push(`${where}${issue.path.length ? `.${fieldPath(issue.path)}` : ''}: ${issue.message}`);
      }
    }
  };
  for (const [i, b] of config.primary.backups.entries())
    check(KafkaBackupSpec, b.spec, `primary.backups[${i}].spec`);
  for (const [d, dr] of config.dr.entries()) {
    for (const [i, r] of dr.restores.entries())
      check(KafkaRestoreSpec, r.spec, `dr[${d}].restores[${i}].spec`);
  }
  for (const [d, t] of config.restoreTargets.entries()) {
    for (const [i, r] of t.restores.entries()) {
      check(KafkaRestoreSpec, r.spec, `restoreTargets[${d}].restores[${i}].spec`);
    }
  }
  if (problems.length > 0)
    throw new DeploymentConfigError(`${source}:\n  ${[...new Set(problems)].join('\n  ')}`);
  return config;
}

export function loadDeploymentConfig(path: string): DeploymentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DeploymentConfigError(
      `${path}: cannot read the deployment config (${(error as Error).message})`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DeploymentConfigError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseDeploymentConfig(data, path);
}

/**
 * How long a backup lives under its spec's retention, in days, when the schedule is hourly or daily
 * (`M * * * *`, `M H * * *`); undefined otherwise.
 */
export function retentionSpanDays(spec: unknown): number | undefined {
  const s = spec as { schedule?: unknown; retention?: { backups?: unknown } };
  const count = s.retention?.backups;
  if (typeof s.schedule !== 'string' || typeof count !== 'number') return undefined;
  const f = s.schedule.trim().split(/\s+/);
  if (f.length !== 5 || !/^\d+$/.test(f[0]!) || f[2] !== '*' || f[3] !== '*' || f[4] !== '*')
    return undefined;
  const hours = f[1] === '*' ? 1 : /^\d+$/.test(f[1]!) ? 24 : undefined;
  return hours === undefined ? undefined : Math.ceil((count * hours) / 24);
}

/** The Object Lock default retention in force (undefined: Object Lock off). */
export function objectLockDays(config: DeploymentConfig): number | undefined {
  if (!config.objectLock.enabled) return undefined;
  if (config.objectLock.days !== undefined) return config.objectLock.days;
  const spans = config.primary.backups.map((b) => retentionSpanDays(b.spec)).filter((d) => d !== undefined);
  return spans.length > 0 ? Math.max(...spans) : 7;
}

/** Every region of the deployment: primary, DR, restore targets. */
export function deploymentRegions(config: DeploymentConfig): string[] {
  return [
    config.primary.region,
    ...config.dr.map((d) => d.region),
    ...config.restoreTargets.map((t) => t.region),
  ];
}

/** The replication prefix in force: the configured one, or "<primary region>/". */
export function replicationPrefix(config: DeploymentConfig): string {
  return config.replication.prefix ?? `${config.primary.region}/`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

export { SpecError };
