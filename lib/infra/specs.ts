import { z } from 'zod';
import {
  BackupConfig,
  type BackupConfigInput,
  CONSUMER_GROUP_STRATEGIES,
  RestoreConfig,
  type RestoreConfigInput,
  SASL_MECHANISMS,
  SECURITY_PROTOCOLS,
} from '../config/schema.ts';
import { formatPath } from '../config/yaml-locations.ts';
import { configErrorMap } from '../config/zod-messages.ts';
import { CronError, toEventBridgeCron } from './cron.ts';

/*
 * The kafka-backup operator's `KafkaBackup` and `KafkaRestore` specs (apiVersion kafka.oso.sh/v1alpha1), field for
 * field and with the same camelCase names, so that a manifest of the multi-cluster DR guide translates line by line
 * into CDK props or into deploy/deployment.example.json. Each spec becomes the engine's config (lib/config, the
 * snake_case YAML of `kafka-backup backup|restore --config`), validated with the engine's own schema at synth time.
 */

const NonEmpty = z.string().min(1);

/**
 * A Kubernetes Secret in the operator; a Secrets Manager secret (name or ARN) here, referenced, never created. Its
 * JSON is merged into the config's `security` section by the workflow at every step:
 * `{"sasl_username": "backup-service", "sasl_password": "...", "ssl_ca_pem": "-----BEGIN CERTIFICATE-----..."}`
 * (`ssl_ca_pem` optional: a private CA, written to a file for `ssl_ca_location`).
 */
export const SaslSecretSpec = z.strictObject({
  name: NonEmpty,
  mechanism: z.enum(SASL_MECHANISMS),
});
export type SaslSecretSpec = z.infer<typeof SaslSecretSpec>;

/**
 * The CA that signed the brokers' certificates. The workflows read one secret per cluster: with saslSecret, the CA
 * goes into that secret as `ssl_ca_pem`; without (securityProtocol SSL), this secret is read, as `{"ssl_ca_pem": ...}`.
 */
export const TlsSecretSpec = z.strictObject({
  name: NonEmpty,
});
export type TlsSecretSpec = z.infer<typeof TlsSecretSpec>;

export const KafkaClusterSpec = z
  .strictObject({
    bootstrapServers: z.array(NonEmpty).min(1),
    securityProtocol: z.enum(SECURITY_PROTOCOLS).default('PLAINTEXT'),
    saslSecret: SaslSecretSpec.optional(),
    tlsSecret: TlsSecretSpec.optional(),
  })
  .superRefine((cluster, ctx) => {
    const sasl = cluster.securityProtocol === 'SASL_SSL' || cluster.securityProtocol === 'SASL_PLAINTEXT';
    if (sasl && cluster.saslSecret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['saslSecret'],
        message: `required when securityProtocol is ${cluster.securityProtocol}`,
      });
    }
    if (!sasl && cluster.saslSecret !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['saslSecret'],
        message: `only used with securityProtocol SASL_SSL or SASL_PLAINTEXT, not ${cluster.securityProtocol}`,
      });
    }
    const tls = cluster.securityProtocol === 'SSL' || cluster.securityProtocol === 'SASL_SSL';
    if (!tls && cluster.tlsSecret !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tlsSecret'],
        message: `only used with securityProtocol SSL or SASL_SSL, not ${cluster.securityProtocol}`,
      });
    }
  });
export type KafkaClusterSpec = z.input<typeof KafkaClusterSpec>;

const StorageType = z.literal('s3', { error: 'must be s3: the AWS deployment stores backups in S3' });
const S3Location = {
  bucket: NonEmpty,
  region: NonEmpty,
  prefix: z.string().default(''),
};

export const StorageSpec = z.strictObject({ storageType: StorageType, s3: z.strictObject(S3Location) });
export type StorageSpec = z.input<typeof StorageSpec>;

/** Where a KafkaBackup writes: the location, and the S3 storage class of its segments. */
export const BackupStorageSpec = z.strictObject({
  storageType: StorageType,
  s3: z.strictObject({
    ...S3Location,
    /**
     * Not in the operator's spec: the engine's storage.storage_class, the S3 storage class of the segments
     * (STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR; GLACIER and DEEP_ARCHIVE are refused,
     * a restore could not read them without a retrieval). Manifests and every other small object stay STANDARD.
     * S3 replication keeps each object's class in the DR buckets.
     * @default the bucket's default class, STANDARD
     */
    storageClass: NonEmpty.optional(),
  }),
});
export type BackupStorageSpec = z.input<typeof BackupStorageSpec>;

const CronSchedule = NonEmpty.superRefine((schedule, ctx) => {
  try {
    toEventBridgeCron(schedule);
  } catch (error) {
    if (!(error instanceof CronError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
});

/** IANA time zone of the schedule; the operator (a Kubernetes CronJob) runs in UTC. */
const TimeZoneName = NonEmpty.refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as UTC or Europe/Berlin');

export const KafkaBackupSpec = z.strictObject({
  /** 5-field cron, as in the operator (`0 * * * *`); translated to EventBridge's 6-field form. */
  schedule: CronSchedule,
  /** Not in the operator's spec: the time zone `schedule` is read in. */
  timeZone: TimeZoneName.default('UTC'),
  kafkaCluster: KafkaClusterSpec,
  topics: z.array(NonEmpty).min(1),
  excludeTopics: z.array(NonEmpty).default([]),
  storage: BackupStorageSpec,
  compression: z.literal('zstd').default('zstd'),
  compressionLevel: z.int().min(1).max(22).default(3),
  includeOffsetHeaders: z.boolean().default(true),
  sourceClusterId: NonEmpty.optional(),
  retention: z.strictObject({ backups: z.int().positive() }).optional(),
});
export type KafkaBackupSpec = z.input<typeof KafkaBackupSpec>;
export type ParsedKafkaBackupSpec = z.output<typeof KafkaBackupSpec>;

/** The operator's camelCase strategy names; the engine's kebab-case ones are accepted too. */
const OFFSET_STRATEGIES = {
  headerBased: 'header-based',
  timestamp: 'timestamp',
  earliest: 'earliest',
  latest: 'latest',
} as const satisfies Record<string, (typeof CONSUMER_GROUP_STRATEGIES)[number]>;

export const KafkaRestoreSpec = z.strictObject({
  /** A backup id, or `latest`. */
  backupId: NonEmpty,
  targetCluster: KafkaClusterSpec,
  storage: StorageSpec,
  offsetReset: z
    .strictObject({
      strategy: z.enum([
        ...new Set([
          ...(Object.keys(OFFSET_STRATEGIES) as (keyof typeof OFFSET_STRATEGIES)[]),
          ...CONSUMER_GROUP_STRATEGIES.filter((s) => s !== 'explicit'),
        ]),
      ]),
      /** The source cluster id whose offsets the restored groups resume from (the backup's source_cluster_id). */
      sourceCluster: NonEmpty.optional(),
      consumerGroups: z.array(NonEmpty).min(1),
    })
    .optional(),
  /** Not in the operator's spec (restores there are run by hand): a 5-field cron to rerun this restore. */
  schedule: CronSchedule.optional(),
  timeZone: TimeZoneName.default('UTC'),
});
export type KafkaRestoreSpec = z.input<typeof KafkaRestoreSpec>;
export type ParsedKafkaRestoreSpec = z.output<typeof KafkaRestoreSpec>;

/**
 * Secrets never enter the config: it travels in schedule and execution inputs, which are not secret. The
 * workflow merges the JSON of the Kafka secret (saslSecret, e.g. `{"sasl_username": "...", "sasl_password": "..."}`)
 * into the config's `security` section at every step. The config is validated here with sample values merged the
 * same way.
 */
export interface ConfigOptions {
  /** Appended to `<name>-` to make each run's backup id; the engine substitutes `${TIMESTAMP}` at run time. */
  backupIdSuffix?: string;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: the engine substitutes ${TIMESTAMP} at run time
const DEFAULT_BACKUP_ID_SUFFIX = '${TIMESTAMP}';

/** Stand-ins for what the run-time merge and substitution produce, to validate at synth time. */
const SAMPLE_SECRET = { sasl_username: 'sample-user', sasl_password: 'sample-password' };
const SAMPLE_VARIABLES: Readonly<Record<string, string>> = { TIMESTAMP: '20241201-120000' };

export class SpecError extends Error {
  override name = 'SpecError';
}

/** Parses a spec, throwing one SpecError that names every wrong field as `<where>.<field>: <problem>`. */
export function parseSpec<S extends z.ZodType>(schema: S, spec: unknown, where: string): z.output<S> {
  const result = schema.safeParse(spec, { error: configErrorMap });
  if (result.success) return result.data;
  throw new SpecError(issuesText(result.error.issues, where));
}

function issuesText(issues: readonly z.core.$ZodIssue[], where: string): string {
  const lines = issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${where}.${formatPath([...issue.path, key])}: unknown field`);
    }
    const path = issue.path.length === 0 ? where : `${where}.${formatPath(issue.path)}`;
    return [`${path}: ${issue.message}`];
  });
  return [...new Set(lines)].join('\n');
}

function securityOf(cluster: z.output<typeof KafkaClusterSpec>) {
  return {
    security_protocol: cluster.securityProtocol,
    ...(cluster.saslSecret && { sasl_mechanism: cluster.saslSecret.mechanism }),
  };
}

function storageOf(storage: z.output<typeof StorageSpec> | z.output<typeof BackupStorageSpec>) {
  return {
    backend: 's3' as const,
    bucket: storage.s3.bucket,
    region: storage.s3.region,
    prefix: storage.s3.prefix,
    ...('storageClass' in storage.s3 &&
      storage.s3.storageClass !== undefined && { storage_class: storage.s3.storageClass }),
  };
}

/**
 * The engine's backup config for a KafkaBackup spec: what `primary-backup.yaml` says, as JSON. `name` is the
 * KafkaBackup's metadata.name; backup ids are `<name>-<run timestamp>`.
 */
export function backupConfigFromSpec(
  name: string,
  spec: ParsedKafkaBackupSpec,
  options: ConfigOptions = {},
): BackupConfigInput {
  const config: BackupConfigInput = {
    mode: 'backup',
    backup_id: `${name}-${options.backupIdSuffix ?? DEFAULT_BACKUP_ID_SUFFIX}`,
    source: {
      bootstrap_servers: spec.kafkaCluster.bootstrapServers,
      security: securityOf(spec.kafkaCluster),
      topics: { include: spec.topics, exclude: spec.excludeTopics },
    },
    storage: storageOf(spec.storage),
    backup: {
      compression: spec.compression,
      compression_level: spec.compressionLevel,
      include_offset_headers: spec.includeOffsetHeaders,
      ...(spec.sourceClusterId !== undefined && { source_cluster_id: spec.sourceClusterId }),
    },
    ...(spec.retention && { retention: { backups: spec.retention.backups } }),
  };
  validateEngineConfig(
    BackupConfig,
    withSamples(config, 'source'),
    `KafkaBackup ${name}`,
    BACKUP_FIELD_NAMES,
  );
  return config;
}

/** The engine's restore config for a KafkaRestore spec: what `dr-restore.yaml` says, as JSON. */
export function restoreConfigFromSpec(name: string, spec: ParsedKafkaRestoreSpec): RestoreConfigInput {
  const reset = spec.offsetReset;
  const strategy =
    reset === undefined
      ? undefined
      : reset.strategy in OFFSET_STRATEGIES
        ? OFFSET_STRATEGIES[reset.strategy as keyof typeof OFFSET_STRATEGIES]
        : (reset.strategy as (typeof CONSUMER_GROUP_STRATEGIES)[number]);
  const config: RestoreConfigInput = {
    mode: 'restore',
    backup_id: spec.backupId,
    target: {
      bootstrap_servers: spec.targetCluster.bootstrapServers,
      security: securityOf(spec.targetCluster),
    },
    storage: storageOf(spec.storage),
    restore:
      reset === undefined
        ? {}
        : {
            // Header-based resets map offsets through the original-offset headers (dr-restore.yaml sets both).
            include_original_offset_header: strategy === 'header-based',
            consumer_group_strategy: strategy,
            reset_consumer_offsets: true,
            consumer_groups: reset.consumerGroups,
          },
  };
  validateEngineConfig(
    RestoreConfig,
    withSamples(config, 'target'),
    `KafkaRestore ${name}`,
    RESTORE_FIELD_NAMES,
  );
  return config;
}

/** Engine config paths -> the spec field they come from, to name the field the user wrote. */
const BACKUP_FIELD_NAMES: Readonly<Record<string, string>> = {
  backup_id: 'metadata.name',
  'source.bootstrap_servers': 'kafkaCluster.bootstrapServers',
  'source.security': 'kafkaCluster',
  'source.topics.include': 'topics',
  'source.topics.exclude': 'excludeTopics',
  'storage.bucket': 'storage.s3.bucket',
  'storage.region': 'storage.s3.region',
  'storage.prefix': 'storage.s3.prefix',
  'storage.storage_class': 'storage.s3.storageClass',
  'backup.compression': 'compression',
  'backup.compression_level': 'compressionLevel',
  'backup.include_offset_headers': 'includeOffsetHeaders',
  'backup.source_cluster_id': 'sourceClusterId',
  'retention.backups': 'retention.backups',
};

const RESTORE_FIELD_NAMES: Readonly<Record<string, string>> = {
  backup_id: 'backupId',
  'target.bootstrap_servers': 'targetCluster.bootstrapServers',
  'target.security': 'targetCluster',
  'storage.bucket': 'storage.s3.bucket',
  'storage.region': 'storage.s3.region',
  'storage.prefix': 'storage.s3.prefix',
  'restore.consumer_groups': 'offsetReset.consumerGroups',
  'restore.consumer_group_strategy': 'offsetReset.strategy',
};

function validateEngineConfig(
  schema: z.ZodType,
  config: unknown,
  where: string,
  fieldNames: Readonly<Record<string, string>>,
): void {
  const result = schema.safeParse(config, { error: configErrorMap });
  if (result.success) return;
  const lines = result.error.issues.map((issue) => {
    const enginePath = formatPath(issue.path);
    const dotted = issue.path.filter((p) => typeof p === 'string').join('.');
    const specField = Object.entries(fieldNames)
      .filter(([prefix]) => dotted === prefix || dotted.startsWith(`${prefix}.`))
      .sort((a, b) => b[0].length - a[0].length)[0]?.[1];
    return `${where}: ${specField ?? enginePath}: ${issue.message} (engine config ${enginePath})`;
  });
  throw new SpecError([...new Set(lines)].join('\n'));
}

/** The config as a run sees it: the secret merged into the Kafka security section, `${VAR}`s substituted. */
function withSamples(config: BackupConfigInput | RestoreConfigInput, section: 'source' | 'target'): unknown {
  const copy = substituteSamples(config) as Record<string, Record<string, unknown>>;
  const connection = copy[section]!;
  const security = (connection['security'] ?? {}) as Record<string, unknown>;
  const mechanism = security['sasl_mechanism'];
  if (mechanism !== undefined && mechanism !== 'AWS_MSK_IAM')
    connection['security'] = { ...security, ...SAMPLE_SECRET };
  return copy;
}

function substituteSamples(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
      (ref, name: string) => SAMPLE_VARIABLES[name] ?? ref,
    );
  }
  if (Array.isArray(value)) return value.map(substituteSamples);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteSamples(v)]));
  }
  return value;
}
