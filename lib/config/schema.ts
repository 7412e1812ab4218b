import { z } from 'zod';
import {
  ARCHIVE_STORAGE_CLASSES,
  isSegmentStorageClass,
  READABLE_STORAGE_CLASSES,
  type SegmentStorageClass,
} from '../storage/storage-class.ts';
import { TimePoint } from './time-point.ts';

// Field names are snake_case exactly as in the YAML files, in the parsed types too: one name per setting
// everywhere (docs, files, logs, code).

/** Accepts `sasl_ssl` for `SASL_SSL`: Kafka's own clients read these case-insensitively. */
function upperCase<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (typeof value === 'string' ? value.toUpperCase() : value), schema);
}

const NonEmptyString = z.string().min(1);

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:[\]/,]+):(\d{1,5})$/;
const HostPort = z.string().refine(
  (server) => {
    const port = Number(HOST_PORT.exec(server)?.[1] ?? 0);
    return port >= 1 && port <= 65535;
  },
  { error: 'must be host:port, e.g. kafka-0.example.com:9092' },
);

/** A YAML list, or one comma-separated string as Kafka's `bootstrap.servers` is usually written. */
const BootstrapServers = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((server) => server.trim())
          .filter((server) => server !== '')
      : value,
  z.array(HostPort).min(1, 'must list at least one host:port'),
);

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'AWS_MSK_IAM'] as const;

const SASL_FIELDS = ['sasl_mechanism', 'sasl_username', 'sasl_password'] as const;
const TLS_FIELDS = [
  'ssl_ca_location',
  'ssl_certificate_location',
  'ssl_key_location',
  'ssl_key_password',
  'ssl_verify_hostname',
] as const;

const SecurityFields = z.strictObject({
  security_protocol: upperCase(z.enum(SECURITY_PROTOCOLS)).default('PLAINTEXT'),
  sasl_mechanism: upperCase(z.enum(SASL_MECHANISMS)).optional(),
  sasl_username: NonEmptyString.optional(),
  sasl_password: NonEmptyString.optional(),
  ssl_ca_location: NonEmptyString.optional(),
  ssl_certificate_location: NonEmptyString.optional(),
  ssl_key_location: NonEmptyString.optional(),
  ssl_key_password: NonEmptyString.optional(),
  // Optional until checked, so that setting it without TLS is caught; defaults to true afterwards.
  ssl_verify_hostname: z.boolean().optional(),
  aws_region: NonEmptyString.optional(),
});

export const KafkaSecurity = SecurityFields.superRefine((security, ctx) => {
  const protocol = security.security_protocol;
  const mechanism = security.sasl_mechanism;
  const problem = (field: keyof typeof security, message: string) =>
    ctx.addIssue({ code: 'custom', path: [field], message });

  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    if (mechanism === undefined) {
      problem(
        'sasl_mechanism',
        `required when security_protocol is ${protocol}: one of ${SASL_MECHANISMS.join(', ')}`,
      );
    }
  } else {
    for (const field of SASL_FIELDS) {
      if (security[field] !== undefined) {
        problem(field, `only used with security_protocol SASL_PLAINTEXT or SASL_SSL, not ${protocol}`);
      }
    }
  }
  if (protocol !== 'SSL' && protocol !== 'SASL_SSL') {
    for (const field of TLS_FIELDS) {
      if (security[field] !== undefined)
        problem(field, `only used with security_protocol SSL or SASL_SSL, not ${protocol}`);
    }
  }

  if (mechanism === 'PLAIN' || mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512') {
    for (const field of ['sasl_username', 'sasl_password'] as const) {
      if (security[field] === undefined) problem(field, `required for sasl_mechanism ${mechanism}`);
    }
  }
  if (mechanism === 'AWS_MSK_IAM') {
    if (protocol !== 'SASL_SSL') {
      problem(
        'security_protocol',
        'must be SASL_SSL for sasl_mechanism AWS_MSK_IAM (MSK accepts IAM only over TLS)',
      );
    }
    for (const field of ['sasl_username', 'sasl_password'] as const) {
      if (security[field] !== undefined)
        problem(field, 'not used with AWS_MSK_IAM, which signs with AWS credentials');
    }
  } else if (security.aws_region !== undefined) {
    problem('aws_region', 'only used with sasl_mechanism AWS_MSK_IAM');
  }

  const hasCertificate = security.ssl_certificate_location !== undefined;
  const hasKey = security.ssl_key_location !== undefined;
  if (hasCertificate && !hasKey) {
    problem(
      'ssl_certificate_location',
      'needs ssl_key_location too: a client certificate is useless without its key',
    );
  }
  if (hasKey && !hasCertificate) {
    problem(
      'ssl_key_location',
      'needs ssl_certificate_location too: a client key is useless without its certificate',
    );
  }
  if (security.ssl_key_password !== undefined && !hasKey) {
    problem('ssl_key_password', 'only used with ssl_key_location');
  }
}).transform((security) => {
  // Only where TLS is used: a parsed config then parses again unchanged (the drills and workflow steps re-parse).
  const tls = security.security_protocol === 'SSL' || security.security_protocol === 'SASL_SSL';
  return tls ? { ...security, ssl_verify_hostname: security.ssl_verify_hostname ?? true } : security;
});
export type KafkaSecurity = z.infer<typeof KafkaSecurity>;

const connectionShape = {
  bootstrap_servers: BootstrapServers,
  client_id: NonEmptyString.optional(),
  connection_timeout_ms: z.int().positive().optional(),
  request_timeout_ms: z.int().positive().optional(),
  security: KafkaSecurity.prefault({}),
};

export const KafkaConnection = z.strictObject(connectionShape);
export type KafkaConnection = z.infer<typeof KafkaConnection>;

/** A topic name, or a glob over topic names with `*` and `?`. */
const TopicPattern = z
  .string()
  .regex(
    /^[A-Za-z0-9._*?-]+$/,
    'must be a topic name or glob: letters, digits, ".", "_", "-" and wildcards * ?',
  );
const TopicName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a topic name: 1 to 249 letters, digits, ".", "_" or "-"');

export const BackupTopicSelection = z.strictObject({
  include: z.array(TopicPattern).min(1, 'must list at least one topic or glob'),
  exclude: z.array(TopicPattern).default([]),
});
export type BackupTopicSelection = z.infer<typeof BackupTopicSelection>;

export const BackupSource = z.strictObject({ ...connectionShape, topics: BackupTopicSelection });
export type BackupSource = z.infer<typeof BackupSource>;

const KMS_KEY_ID =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|(mrk-)?[0-9a-fA-F-]{32,36})$/;
const KmsKeyId = z
  .string()
  .regex(KMS_KEY_ID, 'must be a KMS key ARN, key id, alias name (alias/...) or alias ARN');

/**
 * Client-side encryption of every object but the leases (lib/storage/encryption): a data key per object from AWS
 * KMS (`kms_key_id`) or wrapped with a local key (`key_file`, 32 random bytes in base64). Exactly one of the two.
 */
export const StorageEncryptionConfig = z
  .strictObject({
    /** Generates each object's data key (GenerateDataKey), and decrypts (Decrypt). */
    kms_key_id: KmsKeyId.optional(),
    /** Keys (usually of other regions) each data key is also wrapped with, so that any of them can read. */
    additional_kms_key_ids: z.array(KmsKeyId).max(15).optional(),
    /** Region of a kms_key_id that is no ARN; default storage.region (S3), else AWS_REGION. */
    region: NonEmptyString.optional(),
    /** A KMS-compatible endpoint (a VPC endpoint); default AWS_ENDPOINT_URL_KMS, else AWS KMS. */
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    /** A file with the key, 32 random bytes in base64: `openssl rand -base64 32`. Relative to the working directory. */
    key_file: NonEmptyString.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.kms_key_id === undefined && e.key_file === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'needs kms_key_id (an AWS KMS key) or key_file (a local key file)',
      });
    if (e.kms_key_id !== undefined && e.key_file !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['key_file'],
        message: 'give kms_key_id or key_file, not both: each object is encrypted with one kind of key',
      });
    if (e.key_file !== undefined)
      for (const field of ['additional_kms_key_ids', 'region', 'endpoint'] as const)
        if (e[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'only used with kms_key_id' });
  });
export type StorageEncryptionConfig = z.infer<typeof StorageEncryptionConfig>;

/**
 * The S3 storage class segments are written in (manifests and every other small object stay STANDARD): one S3
 * serves at once, so that a restore never waits on a retrieval. GLACIER and DEEP_ARCHIVE are refused with why.
 */
export const SegmentStorageClassConfig = upperCase(
  z
    .string()
    .superRefine((value, ctx) => {
      if (isSegmentStorageClass(value)) return;
      const archive = (ARCHIVE_STORAGE_CLASSES as readonly string[]).includes(value);
      ctx.addIssue({
        code: 'custom',
        message: archive
          ? `${value} is not readable without a retrieval (RestoreObject, minutes to hours): a restore would have to wait for every segment. Use GLACIER_IR (millisecond reads) or one of ${READABLE_STORAGE_CLASSES.join(', ')}`
          : `must be one of ${READABLE_STORAGE_CLASSES.join(', ')}`,
      });
    })
    .transform((value) => value as SegmentStorageClass),
);

export const FilesystemStorageConfig = z.strictObject({
  backend: z.literal('filesystem'),
  path: NonEmptyString,
  encryption: StorageEncryptionConfig.optional(),
  // Refused rather than ignored: a config that asks for cheaper storage and silently gets none is a surprise.
  storage_class: z
    .never({ error: 'only used with backend s3: a folder has no storage classes (remove storage_class)' })
    .optional(),
});
export type FilesystemStorageConfig = z.infer<typeof FilesystemStorageConfig>;

export const S3StorageConfig = z.strictObject({
  backend: z.literal('s3'),
  bucket: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'must be a bucket name only (3 to 63 of a-z 0-9 . -), without s3:// or a path; put the path in prefix',
    ),
  region: NonEmptyString.optional(),
  prefix: z
    .string()
    .default('')
    .transform((prefix) => prefix.replace(/^\/+|\/+$/g, '')),
  endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  force_path_style: z.boolean().optional(),
  /**
   * Write every object under S3 Object Lock for `days` (the bucket needs Object Lock enabled): no one can delete
   * or overwrite-destroy a version before then (GOVERNANCE: unless allowed to bypass it; COMPLIANCE: no one).
   * Retention keeps backups whose objects are still locked.
   */
  object_lock: z
    .strictObject({
      mode: z.enum(['GOVERNANCE', 'COMPLIANCE']).default('GOVERNANCE'),
      days: z.int().positive().max(36_500),
    })
    .optional(),
  encryption: StorageEncryptionConfig.optional(),
  /**
   * S3 storage class of the segments (default STANDARD, or the bucket's default): e.g. STANDARD_IA or GLACIER_IR
   * for backups kept for months. Manifests, plans, progress, leases and restore state stay STANDARD.
   */
  storage_class: SegmentStorageClassConfig.optional(),
});
export type S3StorageConfig = z.infer<typeof S3StorageConfig>;

export const StorageConfig = z.preprocess(
  // `storage: { path: ... }` alone means a local directory.
  (value) =>
    isPlainObject(value) && value['backend'] === undefined && value['path'] !== undefined
      ? { ...value, backend: 'filesystem' }
      : value,
  z.discriminatedUnion('backend', [FilesystemStorageConfig, S3StorageConfig]),
);
export type StorageConfig = z.infer<typeof StorageConfig>;

const BackupIdChars = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1 to 200 characters, each a letter, digit, ".", "_" or "-"')
  // It names a storage folder: "." and ".." would climb out of it.
  .refine((id) => !/^\.+$/.test(id), 'must not be only dots');

const MaxConcurrentPartitions = z.int().min(1).max(64).default(4);

export const MetricsConfig = z.strictObject({
  prometheus_port: z.int().min(0).max(65535).optional(),
  keep_serving: z.boolean().optional(),
});
export type MetricsConfig = z.infer<typeof MetricsConfig>;

export const RetentionConfig = z.strictObject({ backups: z.int().positive() });
export type RetentionConfig = z.infer<typeof RetentionConfig>;

/** What a backup captures beside the records and topic configs, and what a restore applies (lib/metadata). */
export const METADATA_PARTS = ['schemas', 'acls', 'quotas', 'users'] as const;
export type MetadataPart = (typeof METADATA_PARTS)[number];

const MetadataParts = z
  .array(z.enum(METADATA_PARTS, { error: `must be one of ${METADATA_PARTS.join(', ')}` }))
  .default([])
  .refine((parts) => new Set(parts).size === parts.length, 'lists a part twice');

/** A Schema Registry speaking Confluent's REST API (Confluent, Karapace, Redpanda, Apicurio's /apis/ccompat/v7). */
export const SchemaRegistryConfig = z
  .strictObject({
    /** Base URL, e.g. https://registry.example.com:8081 or http://apicurio:8080/apis/ccompat/v7. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    basic_auth: z.strictObject({ username: NonEmptyString, password: NonEmptyString }).optional(),
    bearer: z.strictObject({ token: NonEmptyString }).optional(),
    /** PEM file of the CA that signed the registry's certificate (https only). */
    ssl_ca_location: NonEmptyString.optional(),
    request_timeout_ms: z.int().positive().default(30_000),
  })
  .superRefine((r, ctx) => {
    if (r.basic_auth !== undefined && r.bearer !== undefined)
      ctx.addIssue({ code: 'custom', path: ['bearer'], message: 'give basic_auth or bearer, not both' });
    if (r.ssl_ca_location !== undefined && !r.url.startsWith('https:'))
      ctx.addIssue({ code: 'custom', path: ['ssl_ca_location'], message: 'only used with an https:// url' });
  });
export type SchemaRegistryConfig = z.infer<typeof SchemaRegistryConfig>;

export const BackupOptions = z.strictObject({
  compression: z
    .literal('zstd', { error: 'must be zstd, the only compression this tool writes' })
    .default('zstd'),
  compression_level: z.int().min(1).max(22).default(3),
  checkpoint_interval_secs: z.number().positive().default(30),
  include_offset_headers: z.boolean().default(true),
  source_cluster_id: NonEmptyString.optional(),
  isolation_level: z.enum(['read_committed', 'read_uncommitted']).default('read_committed'),
  // 32 MiB in production; tests go down to 1 KiB to get many segments out of little data.
  segment_max_bytes: z
    .int()
    .min(1024)
    .max(2 ** 31 - 1)
    .default(32 * 1024 * 1024),
  max_concurrent_partitions: MaxConcurrentPartitions,
  /** Globs over group ids; omitted = every group with committed offsets on the backed-up topics. */
  consumer_groups: z.array(NonEmptyString).optional(),
  /** Cluster metadata captured with the backup (topic configs always are). */
  metadata: MetadataParts,
});
export type BackupOptions = z.infer<typeof BackupOptions>;

export const BackupConfig = z
  .strictObject({
    mode: z.literal('backup'),
    backup_id: BackupIdChars.refine(
      (id) => id !== 'latest',
      '"latest" is reserved: restore reads it as "the newest backup"',
    ),
    source: BackupSource,
    storage: StorageConfig,
    backup: BackupOptions.prefault({}),
    retention: RetentionConfig.optional(),
    metrics: MetricsConfig.optional(),
    /** The source's Schema Registry: needed when backup.metadata lists schemas. */
    schema_registry: SchemaRegistryConfig.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.backup.metadata.includes('schemas') && c.schema_registry === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'metadata'],
        message: 'lists schemas: add a schema_registry section (url and credentials of the source registry)',
      });
  });
export type BackupConfig = z.infer<typeof BackupConfig>;
export type BackupConfigInput = z.input<typeof BackupConfig>;

export const CONSUMER_GROUP_STRATEGIES = [
  'header-based',
  'timestamp',
  'earliest',
  'latest',
  'explicit',
] as const;

/** group -> topic -> partition (as a string, as YAML map keys are) -> offset. */
const ExplicitOffsets = z.record(
  NonEmptyString,
  z.record(
    TopicName,
    z.record(z.string().regex(/^\d+$/, 'must be a partition number'), z.int().nonnegative()),
  ),
);

export const RestoreTopicSelection = z.strictObject({
  include: z.array(TopicPattern).min(1, 'must list at least one topic or glob').default(['*']),
  exclude: z.array(TopicPattern).default([]),
});
export type RestoreTopicSelection = z.infer<typeof RestoreTopicSelection>;

export const RestoreOptions = z
  .strictObject({
    include_original_offset_header: z.boolean().default(false),
    consumer_group_strategy: z.enum(CONSUMER_GROUP_STRATEGIES).default('header-based'),
    reset_consumer_offsets: z.boolean().default(false),
    consumer_groups: z.array(NonEmptyString).default([]),
    reset_timestamp: TimePoint.optional(),
    explicit_offsets: ExplicitOffsets.optional(),
    topics: RestoreTopicSelection.prefault({}),
    /** source topic -> target topic. */
    topic_mapping: z.record(TopicName, TopicName).default({}),
    start_time: TimePoint.optional(),
    end_time: TimePoint.optional(),
    create_topics: z.boolean().default(true),
    replication_factor: z.int().positive().optional(),
    on_existing_data: z.enum(['fail', 'append', 'resume']).default('fail'),
    dry_run: z.boolean().default(false),
    max_concurrent_partitions: MaxConcurrentPartitions,
    active_group_policy: z.enum(['fail', 'skip']).default('fail'),
    /**
     * Compression of the batches sent to the target: `source` keeps each batch's own codec (what its producer
     * chose; none for backups of format 1), or one codec for every batch.
     */
    compression: z.enum(['source', 'none', 'gzip', 'snappy', 'lz4', 'zstd']).default('source'),
    /** Backed-up cluster metadata to apply (`kafka-backup restore-metadata`, the failover workflow's step). */
    metadata: MetadataParts,
    /**
     * Rewrite the schema id in record keys and values written in Confluent's wire format (magic byte 0, 4-byte id)
     * where the target registry gave a schema another id than the source's.
     */
    rewrite_schema_ids: z.boolean().default(false),
    /** Principal renames for ACLs, user quotas and SCRAM users, e.g. `User:orders-primary: User:orders-dr`. */
    principal_mapping: z
      .record(
        z.string().regex(/^[A-Za-z]+:.+$/, 'must be TYPE:NAME, e.g. User:orders-app'),
        z.string().regex(/^[A-Za-z]+:.+$/, 'must be TYPE:NAME, e.g. User:orders-app'),
      )
      .default({}),
    /**
     * Passwords of SCRAM users to create (the backup holds names and mechanisms, never secrets): give them as
     * `${VAR}` from the environment. A backed-up user without an entry here is reported and not created.
     */
    scram_users: z
      .array(
        z.strictObject({
          name: NonEmptyString,
          password: NonEmptyString,
          iterations: z.int().min(4096).max(16384).optional(),
        }),
      )
      .default([]),
  })
  .superRefine((restore, ctx) => {
    if (
      restore.start_time !== undefined &&
      restore.end_time !== undefined &&
      restore.start_time > restore.end_time
    ) {
      ctx.addIssue({ code: 'custom', path: ['end_time'], message: 'must not be before start_time' });
    }
    const strategy = restore.consumer_group_strategy;
    if (
      strategy === 'timestamp' &&
      restore.reset_timestamp === undefined &&
      restore.start_time === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['reset_timestamp'],
        message:
          'required when consumer_group_strategy is timestamp (or set start_time, which it then defaults to)',
      });
    }
    if (strategy === 'explicit' && restore.explicit_offsets === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['explicit_offsets'],
        message: 'required when consumer_group_strategy is explicit',
      });
    }
  })
  .transform((restore) => ({
    ...restore,
    reset_timestamp:
      restore.reset_timestamp ??
      (restore.consumer_group_strategy === 'timestamp' ? restore.start_time : undefined),
  }));
export type RestoreOptions = z.infer<typeof RestoreOptions>;

export const RestoreConfig = z
  .strictObject({
    mode: z.literal('restore'),
    /** A backup id, or `latest` for the newest backup in storage. */
    backup_id: BackupIdChars,
    target: KafkaConnection,
    storage: StorageConfig,
    restore: RestoreOptions.prefault({}),
    metrics: MetricsConfig.optional(),
    /** The target's Schema Registry: needed when restore.metadata lists schemas or rewrite_schema_ids is on. */
    schema_registry: SchemaRegistryConfig.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.schema_registry !== undefined) return;
    if (c.restore.metadata.includes('schemas'))
      ctx.addIssue({
        code: 'custom',
        path: ['restore', 'metadata'],
        message: 'lists schemas: add a schema_registry section (url and credentials of the target registry)',
      });
    if (c.restore.rewrite_schema_ids)
      ctx.addIssue({
        code: 'custom',
        path: ['restore', 'rewrite_schema_ids'],
        message: 'needs a schema_registry section (the target registry, where the new ids are looked up)',
      });
  });
export type RestoreConfig = z.infer<typeof RestoreConfig>;
export type RestoreConfigInput = z.input<typeof RestoreConfig>;

export const Config = z.discriminatedUnion('mode', [BackupConfig, RestoreConfig]);
export type Config = z.infer<typeof Config>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
