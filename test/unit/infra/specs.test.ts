// biome-ignore-all lint/suspicious/noTemplateCurlyInString: engine configs hold ${TIMESTAMP}, substituted at run time
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BackupConfig, RestoreConfig } from '../../../lib/config/schema.ts';
import {
  DeploymentConfigError,
  loadDeploymentConfig,
  parseDeploymentConfig,
} from '../../../lib/infra/deployment-config.ts';
import {
  backupConfigFromSpec,
  KafkaBackupSpec,
  KafkaRestoreSpec,
  parseSpec,
  restoreConfigFromSpec,
  SpecError,
} from '../../../lib/infra/specs.ts';

/** Synthesized CloudFormation and engine configs: JSON of no fixed shape, walked freely in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = any;

const EXAMPLE = 'deploy/deployment.example.json';
const example = () => JSON.parse(readFileSync(EXAMPLE, 'utf8'));

/** The guide's primary-hourly-backup spec, as in primary-operator.yaml. */
const hourly = {
  schedule: '0 * * * *',
  kafkaCluster: {
    bootstrapServers: ['kafka-0.us-west-2.example.com:9092'],
    securityProtocol: 'SASL_SSL',
    saslSecret: { name: 'kafka-credentials', mechanism: 'SCRAM-SHA-256' },
    tlsSecret: { name: 'kafka-tls' },
  },
  topics: ['orders', 'payments', 'inventory', 'customers', 'events-*'],
  storage: {
    storageType: 's3',
    s3: { bucket: 'kafka-backups-primary', region: 'us-west-2', prefix: 'us-west-2/hourly' },
  },
  compression: 'zstd',
  compressionLevel: 3,
  includeOffsetHeaders: true,
  sourceClusterId: 'prod-us-west-2',
  retention: { backups: 168 },
};

describe('KafkaBackup spec -> engine backup config', () => {
  it('translates the guide spec into the fields of primary-backup.yaml', () => {
    const config = backupConfigFromSpec(
      'primary-hourly-backup',
      parseSpec(KafkaBackupSpec, hourly, 'hourly'),
    );
    expect(config).toEqual({
      mode: 'backup',
      backup_id: 'primary-hourly-backup-${TIMESTAMP}',
      source: {
        bootstrap_servers: ['kafka-0.us-west-2.example.com:9092'],
        // Username and password come from the secret, merged by the workflow at run time.
        security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' },
        topics: { include: ['orders', 'payments', 'inventory', 'customers', 'events-*'], exclude: [] },
      },
      storage: {
        backend: 's3',
        bucket: 'kafka-backups-primary',
        region: 'us-west-2',
        prefix: 'us-west-2/hourly',
      },
      backup: {
        compression: 'zstd',
        compression_level: 3,
        include_offset_headers: true,
        source_cluster_id: 'prod-us-west-2',
      },
      retention: { backups: 168 },
    });
    // With the secret merged and the timestamp substituted, the engine accepts it.
    const run = structuredClone(config) as Record<string, Json>;
    run['backup_id'] = 'primary-hourly-backup-20241201-120000';
    Object.assign(run['source'].security, { sasl_username: 'u', sasl_password: 'p' });
    expect(BackupConfig.safeParse(run).success).toBe(true);
  });

  it('fails naming the spec field', () => {
    const bad = {
      ...hourly,
      compressionLevel: 30,
      excludeTopics: ['bad topic'],
      kafkaCluster: { ...hourly.kafkaCluster, saslSecret: undefined },
    };
    expect(() => parseSpec(KafkaBackupSpec, bad, 'KafkaBackup x')).toThrow(SpecError);
    expect(() => parseSpec(KafkaBackupSpec, bad, 'KafkaBackup x')).toThrow(
      /KafkaBackup x\.compressionLevel: must be at most 22/,
    );
    expect(() => parseSpec(KafkaBackupSpec, bad, 'KafkaBackup x')).toThrow(
      /KafkaBackup x\.kafkaCluster\.saslSecret: required when securityProtocol is SASL_SSL/,
    );
    // A topic glob the engine refuses is caught by the engine's schema and named by its spec field.
    const parsed = parseSpec(KafkaBackupSpec, { ...hourly, excludeTopics: ['bad topic'] }, 'x');
    expect(() => backupConfigFromSpec('x', parsed)).toThrow(
      /KafkaBackup x: excludeTopics: .*engine config source\.topics\.exclude\[0\]/,
    );
  });

  it('takes the storage class of the segments (storage.s3.storageClass), and refuses an archive class naming the field', () => {
    const withClass = (storageClass: string) => ({
      ...hourly,
      storage: { ...hourly.storage, s3: { ...hourly.storage.s3, storageClass } },
    });
    const config = backupConfigFromSpec('b', parseSpec(KafkaBackupSpec, withClass('STANDARD_IA'), 'b'));
    expect(config.storage).toEqual({
      backend: 's3',
      bucket: 'kafka-backups-primary',
      region: 'us-west-2',
      prefix: 'us-west-2/hourly',
      storage_class: 'STANDARD_IA',
    });
    expect(() => backupConfigFromSpec('b', parseSpec(KafkaBackupSpec, withClass('GLACIER'), 'b'))).toThrow(
      /^KafkaBackup b: storage\.s3\.storageClass: GLACIER is not readable without a retrieval .*\(engine config storage\.storage_class\)$/,
    );
  });

  it('refuses unknown fields and bad schedules', () => {
    expect(() => parseSpec(KafkaBackupSpec, { ...hourly, compresion: 'zstd' }, 'b')).toThrow(
      /b\.compresion: unknown field/,
    );
    expect(() => parseSpec(KafkaBackupSpec, { ...hourly, schedule: '0 0 1 * 1' }, 'b')).toThrow(
      /b\.schedule: .*both restricted/,
    );
    expect(() => parseSpec(KafkaBackupSpec, { ...hourly, timeZone: 'Mars/Olympus' }, 'b')).toThrow(
      /b\.timeZone: must be an IANA time zone/,
    );
  });

  it('leaves out username and password for MSK IAM', () => {
    const spec = parseSpec(
      KafkaBackupSpec,
      {
        ...hourly,
        kafkaCluster: {
          bootstrapServers: ['b-1.msk:9098'],
          securityProtocol: 'SASL_SSL',
          saslSecret: { name: 'unused', mechanism: 'AWS_MSK_IAM' },
        },
      },
      'b',
    );
    expect(backupConfigFromSpec('msk', spec).source.security).toEqual({
      security_protocol: 'SASL_SSL',
      sasl_mechanism: 'AWS_MSK_IAM',
    });
  });
});

describe('KafkaRestore spec -> engine restore config', () => {
  const drRestore = {
    backupId: 'primary-20241201-120000',
    targetCluster: {
      bootstrapServers: ['kafka-0.us-east-1.example.com:9092'],
      securityProtocol: 'SASL_SSL',
      saslSecret: { name: 'kafka-credentials', mechanism: 'SCRAM-SHA-256' },
    },
    storage: {
      storageType: 's3',
      s3: { bucket: 'kafka-backups-dr', region: 'us-east-1', prefix: 'us-west-2/hourly' },
    },
    offsetReset: {
      strategy: 'headerBased',
      sourceCluster: 'prod-us-west-2',
      consumerGroups: ['order-service', 'payment-processor', 'inventory-manager'],
    },
  };

  it("refuses a storage class: a restore's storage names a location only", () => {
    const s3 = { ...drRestore.storage.s3, storageClass: 'STANDARD_IA' };
    expect(() =>
      parseSpec(KafkaRestoreSpec, { ...drRestore, storage: { ...drRestore.storage, s3 } }, 'r'),
    ).toThrow(/r\.storage\.s3\.storageClass: unknown field/);
  });

  it('translates the guide spec into the fields of dr-restore.yaml', () => {
    const config = restoreConfigFromSpec('dr-restore', parseSpec(KafkaRestoreSpec, drRestore, 'r'));
    expect(config).toEqual({
      mode: 'restore',
      backup_id: 'primary-20241201-120000',
      target: {
        bootstrap_servers: ['kafka-0.us-east-1.example.com:9092'],
        security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' },
      },
      storage: { backend: 's3', bucket: 'kafka-backups-dr', region: 'us-east-1', prefix: 'us-west-2/hourly' },
      restore: {
        include_original_offset_header: true,
        consumer_group_strategy: 'header-based',
        reset_consumer_offsets: true,
        consumer_groups: ['order-service', 'payment-processor', 'inventory-manager'],
      },
    });
    const run = structuredClone(config) as Record<string, Json>;
    Object.assign(run['target'].security, { sasl_username: 'u', sasl_password: 'p' });
    expect(RestoreConfig.safeParse(run).success).toBe(true);
  });

  it('maps every strategy and refuses unknown ones', () => {
    for (const [strategy, engine] of [
      ['earliest', 'earliest'],
      ['latest', 'latest'],
      ['header-based', 'header-based'],
    ]) {
      const spec = parseSpec(
        KafkaRestoreSpec,
        { ...drRestore, offsetReset: { ...drRestore.offsetReset, strategy } },
        'r',
      );
      expect(restoreConfigFromSpec('r', spec).restore?.consumer_group_strategy).toBe(engine);
    }
    expect(() =>
      parseSpec(
        KafkaRestoreSpec,
        { ...drRestore, offsetReset: { ...drRestore.offsetReset, strategy: 'magic' } },
        'r',
      ),
    ).toThrow(/r\.offsetReset\.strategy: must be one of headerBased, timestamp/);
    // timestamp needs a time the spec cannot give: the engine's schema says so, named by the spec field.
    const ts = parseSpec(
      KafkaRestoreSpec,
      { ...drRestore, offsetReset: { ...drRestore.offsetReset, strategy: 'timestamp' } },
      'r',
    );
    expect(() => restoreConfigFromSpec('r', ts)).toThrow(/KafkaRestore r: .*reset_timestamp/);
  });

  it('refuses a storage that is not S3', () => {
    expect(() =>
      parseSpec(
        KafkaRestoreSpec,
        { ...drRestore, storage: { storageType: 'gcs', s3: drRestore.storage.s3 } },
        'r',
      ),
    ).toThrow(/r\.storage\.storageType: must be s3/);
  });
});

describe('deployment config', () => {
  it('accepts the example', () => {
    const config = loadDeploymentConfig(EXAMPLE);
    expect(config.primary.region).toBe('us-west-2');
    expect(config.dr.map((d) => d.region)).toEqual(['us-east-1']);
    expect(config.restoreTargets.map((t) => t.region)).toEqual(['eu-west-1', 'ap-southeast-1']);
    expect(config.lifecycle).toEqual({
      noncurrentVersionExpirationDays: 30,
      abortIncompleteMultipartUploadDays: 7,
      accessLogExpirationDays: 365,
    });
  });

  it('names every wrong field, specs included', () => {
    const data = example();
    data.account = '1234';
    data.primary.region = 'us-west';
    data.dr[0].region = 'us-west-2';
    data.dr[0].network.subnetIds = ['sub-1'];
    data.primary.backups[1].spec.compressionLevel = 0;
    data.primary.backups[1].name = 'primary-hourly-backup';
    data.restoreTargets[0].restores[0].spec.targetCluster.securityProtocol = 'TLS';
    data.extra = true;
    let message = '';
    try {
      parseDeploymentConfig(data, 'deployment.json');
    } catch (error) {
      expect(error).toBeInstanceOf(DeploymentConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^deployment\.json:/);
    expect(message).toMatch(/account: must be a 12-digit AWS account id/);
    expect(message).toMatch(/primary\.region: must be an AWS region/);
    expect(message).toMatch(/dr\[0\]\.network\.subnetIds\[0\]: must be a subnet id/);
    expect(message).toMatch(/extra: unknown field/);
    // Region clash and duplicate names are reported once the shape is right.
    const clash = example();
    clash.dr[0].region = 'us-west-2';
    clash.primary.backups[1].name = 'primary-hourly-backup';
    expect(() => parseDeploymentConfig(clash)).toThrow(
      /dr\[0\]\.region: us-west-2 already has a stack \(primary\.region\)/,
    );
    expect(() => parseDeploymentConfig(clash)).toThrow(
      /primary\.backups\[1\]\.name: "primary-hourly-backup" is already used/,
    );
    const specs = example();
    specs.primary.backups[1].spec.compressionLevel = 0;
    specs.restoreTargets[0].restores[0].spec.targetCluster.securityProtocol = 'TLS';
    expect(() => parseDeploymentConfig(specs)).toThrow(
      /primary\.backups\[1\]\.spec\.compressionLevel: must be at least 1/,
    );
    expect(() => parseDeploymentConfig(specs)).toThrow(
      /restoreTargets\[0\]\.restores\[0\]\.spec\.targetCluster\.securityProtocol: must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/,
    );
  });

  it('requires a DR region', () => {
    const data = example();
    data.dr = [];
    expect(() => parseDeploymentConfig(data)).toThrow(/dr: must name at least one DR region/);
  });
});
