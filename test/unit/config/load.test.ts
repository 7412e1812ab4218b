// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text holding ${VAR} references
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBackupConfig, loadConfig, loadRestoreConfig, parseConfig } from '../../../lib/config/index.ts';
import { ConfigError } from '../../../lib/errors.ts';

const FIXTURES = new URL('../../fixtures/config/', import.meta.url);
const NOW = new Date('2024-12-01T12:00:00Z');
const ENV = { KAFKA_PASSWORD: 'correct-horse', BACKUP_ID: 'primary-20241130-230000' };

function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

function configError(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, { source: 'backup.yaml', env, now: NOW });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const VALID_BACKUP = `mode: backup
backup_id: nightly
source:
  bootstrap_servers: [localhost:9092]
  topics:
    include: [orders]
storage:
  path: /var/backups
`;

describe('the seed configs from the multi-cluster DR guide', () => {
  it('parses primary-backup.yaml unchanged', () => {
    const config = parseConfig(fixture('primary-backup.yaml'), {
      source: 'primary-backup.yaml',
      env: ENV,
      now: NOW,
    });
    expect(config).toEqual({
      mode: 'backup',
      backup_id: 'primary-20241201-120000',
      source: {
        bootstrap_servers: [
          'kafka-0.us-west-2.example.com:9092',
          'kafka-1.us-west-2.example.com:9092',
          'kafka-2.us-west-2.example.com:9092',
        ],
        security: {
          security_protocol: 'SASL_SSL',
          sasl_mechanism: 'SCRAM-SHA-256',
          sasl_username: 'backup-service',
          sasl_password: 'correct-horse',
          ssl_ca_location: '/certs/ca.crt',
          ssl_verify_hostname: true,
        },
        topics: {
          include: ['orders', 'payments', 'inventory', 'customers', 'events-*'],
          exclude: ['__consumer_offsets', '_schemas'],
        },
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
        checkpoint_interval_secs: 30,
        include_offset_headers: true,
        source_cluster_id: 'prod-us-west-2',
        isolation_level: 'read_committed',
        segment_max_bytes: 33554432,
        max_concurrent_partitions: 4,
        metadata: [],
      },
    });
  });

  it('parses dr-restore.yaml unchanged', () => {
    const config = parseConfig(fixture('dr-restore.yaml'), { source: 'dr-restore.yaml', env: ENV, now: NOW });
    if (config.mode !== 'restore') throw new Error(`parsed as ${config.mode}`);
    expect(config.backup_id).toBe('primary-20241130-230000');
    expect(config.target.security).toMatchObject({
      sasl_username: 'restore-service',
      sasl_password: 'correct-horse',
    });
    expect(config.storage).toEqual({
      backend: 's3',
      bucket: 'kafka-backups-dr',
      region: 'us-east-1',
      prefix: 'us-west-2/hourly',
    });
    expect(config.restore).toMatchObject({
      include_original_offset_header: true,
      consumer_group_strategy: 'header-based',
      reset_consumer_offsets: true,
      consumer_groups: ['order-service', 'payment-processor', 'inventory-manager', 'notification-service'],
      topics: { include: ['*'], exclude: [] },
      on_existing_data: 'fail',
    });
  });

  it('parses the file the failover script writes', () => {
    const text = fixture('failover-dr-restore.yaml');
    expect(text).toContain('sasl_password: ${KAFKA_PASSWORD}');
    const config = parseConfig(text, { source: '/tmp/dr-restore.yaml', env: ENV, now: NOW });
    if (config.mode !== 'restore') throw new Error(`parsed as ${config.mode}`);
    expect(config.backup_id).toBe('primary-20241201-120000');
    expect(config.target.bootstrap_servers).toEqual(['kafka-0.us-east-1.example.com:9092']);
    expect(config.target.security.sasl_password).toBe('correct-horse');
  });

  it('names the line of an unset password', () => {
    expect(() =>
      parseConfig(fixture('primary-backup.yaml'), { source: 'primary-backup.yaml', env: {}, now: NOW }),
    ).toThrow(/^primary-backup\.yaml line 13: \$\{KAFKA_PASSWORD\} is not set/);
  });
});

describe('parseConfig errors', () => {
  it('accepts the minimal backup config used below', () => {
    expect(parseConfig(VALID_BACKUP, { source: 'backup.yaml', env: {} }).mode).toBe('backup');
  });

  it('reports an unknown key with its line and the key it resembles', () => {
    const text = VALID_BACKUP.replace(
      '  topics:',
      '  security:\n    security_protocol: SASL_SSL\n    sasl_mechansim: PLAIN\n  topics:',
    );
    expect(configError(text).message.split('\n')).toEqual([
      expect.stringMatching(/^backup\.yaml line 5: source\.security\.sasl_mechanism: required when/),
      'backup.yaml line 7: source.security.sasl_mechansim: unknown key (did you mean "sasl_mechanism"?)',
    ]);
  });

  it('suggests nothing for an unknown key unlike any known one', () => {
    const message = configError(`${VALID_BACKUP}flux_capacitor: 1\n`).message;
    expect(message).toBe('backup.yaml line 9: flux_capacitor: unknown key');
  });

  it('suggests keys of the variant the discriminator selects', () => {
    const text = VALID_BACKUP.replace('  path: /var/backups', '  backend: s3\n  bucket: b-1\n  prefx: x');
    expect(configError(text).message).toBe(
      'backup.yaml line 10: storage.prefx: unknown key (did you mean "prefix"?)',
    );
  });

  it('does not suggest keys of a variant the discriminator rules out', () => {
    const s3 = VALID_BACKUP.replace('  path: /var/backups', '  backend: s3\n  bucket_name: b-1');
    expect(configError(s3).message).toContain('storage.bucket_name: unknown key (did you mean "bucket"?)');
    const filesystem = VALID_BACKUP.replace(
      '  path: /var/backups',
      '  backend: filesystem\n  path: /b\n  bucket_name: b-1',
    );
    expect(configError(filesystem).message).toBe('backup.yaml line 10: storage.bucket_name: unknown key');
  });

  it('lists the allowed values of a wrong enum', () => {
    const text = `${VALID_BACKUP}backup:\n  isolation_level: serializable\n`;
    expect(configError(text).message).toBe(
      'backup.yaml line 10: backup.isolation_level: must be one of read_committed, read_uncommitted',
    );
  });

  it('lists every problem, in line order', () => {
    const text = `mode: backup
backup_id: "has space"
source:
  bootstrap_servers: kafka-0:9092, kafka-1
  topics:
    include: []
storage:
  backend: gcs
backup:
  compression: gzip
  compression_level: 30
`;
    expect(configError(text).message.split('\n')).toEqual([
      'backup.yaml line 2: backup_id: must be 1 to 200 characters, each a letter, digit, ".", "_" or "-"',
      'backup.yaml line 4: source.bootstrap_servers[1]: must be host:port, e.g. kafka-0.example.com:9092',
      'backup.yaml line 6: source.topics.include: must list at least one topic or glob',
      'backup.yaml line 8: storage.backend: must be one of filesystem, s3',
      'backup.yaml line 10: backup.compression: must be zstd, the only compression this tool writes',
      'backup.yaml line 11: backup.compression_level: must be at most 22',
    ]);
  });

  it('reports a missing key at the line of its parent', () => {
    const text = VALID_BACKUP.replace('  path: /var/backups', '  backend: s3\n  region: eu-west-1');
    expect(configError(text).message).toBe('backup.yaml line 7: storage.bucket: required');
  });

  it('lists the modes when mode is missing', () => {
    expect(configError(VALID_BACKUP.replace('mode: backup\n', '')).message).toBe(
      'backup.yaml line 1: mode: required: one of backup, restore',
    );
  });

  it('names file and line of a YAML syntax error', () => {
    expect(configError('mode: backup\nsource:\n  a: b\n c: d\n').message).toMatch(
      /^backup\.yaml line 4: invalid YAML: /,
    );
  });

  it('rejects a file that is not a mapping', () => {
    expect(configError('- mode: backup\n').message).toMatch(/^backup\.yaml: expected a mapping/);
  });
});

describe('secrets in error messages', () => {
  const SECRET = 'Tr0ub4dor-and-3';
  const withSecurity = (security: string) =>
    VALID_BACKUP.replace('  topics:', `  security:\n${security}  topics:`);

  it('does not echo a password of the wrong type', () => {
    const text = withSecurity(
      `    security_protocol: SASL_SSL\n    sasl_mechanism: PLAIN\n    sasl_username: u\n    sasl_password: [${SECRET}]\n`,
    );
    const message = configError(text).message;
    expect(message).toContain('source.security.sasl_password: must be a string, not a list');
    expect(message).not.toContain(SECRET);
  });

  it('does not echo a password that is not allowed with the protocol', () => {
    const message = configError(withSecurity(`    sasl_password: ${SECRET}\n`)).message;
    expect(message).toContain(
      'source.security.sasl_password: only used with security_protocol SASL_PLAINTEXT',
    );
    expect(message).not.toContain(SECRET);
  });

  it('does not echo the source line of a YAML error on a secret line', () => {
    const text = withSecurity(`    ssl_key_password: ${SECRET}: oops\n`);
    const message = configError(text).message;
    expect(message).toMatch(/line 6: invalid YAML/);
    expect(message).not.toContain(SECRET);
  });

  it('reports an unquoted password starting with ! instead of dropping it as a tag', () => {
    const message = configError(withSecurity(`    ssl_key_password: !${SECRET}\n`)).message;
    expect(message).toBe('backup.yaml line 6: invalid YAML: unknown tag; quote a value that starts with !');
  });

  it('does not echo source text a YAML message would quote', () => {
    const message = configError(withSecurity(`    ssl_key_password: |${SECRET}\n      x\n`)).message;
    expect(message).toMatch(
      /^backup\.yaml line 6: invalid YAML: Block scalar header includes extra characters/,
    );
    expect(message).not.toContain(SECRET);
  });

  it('does not echo a substituted password that breaks a value', () => {
    const text = withSecurity('    security_protocol: SSL\n    ssl_key_password: ${KEY_PASSWORD}\n');
    const message = configError(text, { KEY_PASSWORD: `${SECRET} #: [` }).message;
    expect(message).toContain('source.security.ssl_key_password: only used with ssl_key_location');
    expect(message).not.toContain(SECRET);
  });
});

describe('loading files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-backup-config-'));
  const backupFile = join(dir, 'backup.yaml');
  const restoreFile = join(dir, 'restore.yaml');
  writeFileSync(backupFile, VALID_BACKUP);
  writeFileSync(
    restoreFile,
    'mode: restore\nbackup_id: latest\ntarget:\n  bootstrap_servers: localhost:9092\nstorage:\n  path: /b\n',
  );

  it('loads a config file and names the path in messages', () => {
    expect(loadConfig(backupFile, { env: {} }).mode).toBe('backup');
    expect(loadRestoreConfig(restoreFile, { env: {} }).target.bootstrap_servers).toEqual(['localhost:9092']);
    writeFileSync(join(dir, 'broken.yaml'), 'mode: restore\n');
    expect(() => loadConfig(join(dir, 'broken.yaml'), { env: {} })).toThrow(
      `${join(dir, 'broken.yaml')} line 1:`,
    );
  });

  it('names the path of a missing file', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => loadConfig(missing)).toThrow(ConfigError);
    expect(() => loadConfig(missing)).toThrow(`${missing}: config file not found`);
  });

  it('checks the mode a command needs', () => {
    expect(() => loadBackupConfig(restoreFile, { env: {} })).toThrow(
      `${restoreFile} line 1: mode: is restore, but this command needs mode: backup`,
    );
    expect(() => loadRestoreConfig(backupFile, { env: {} })).toThrow(
      /mode: is backup, but this command needs mode: restore/,
    );
  });
});

describe('storage.encryption', () => {
  const withEncryption = (lines: string) =>
    VALID_BACKUP.replace('  path: /var/backups', `  path: /var/backups\n  encryption:\n${lines}`);

  it('takes a key file, or a KMS key with additional keys, region and endpoint', () => {
    const keyFile = parseConfig(withEncryption('    key_file: /etc/kafka-backup/backup.key'), {
      source: 'backup.yaml',
      now: NOW,
    });
    expect(keyFile.storage.encryption).toEqual({ key_file: '/etc/kafka-backup/backup.key' });
    const kms = parseConfig(
      VALID_BACKUP.replace(
        '  path: /var/backups',
        [
          '  backend: s3',
          '  bucket: kafka-backups-primary',
          '  region: us-west-2',
          '  encryption:',
          '    kms_key_id: arn:aws:kms:us-west-2:111111111111:alias/kafka-backup-client-side',
          '    additional_kms_key_ids: [arn:aws:kms:us-east-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef]',
        ].join('\n'),
      ),
      { source: 'backup.yaml', now: NOW },
    );
    expect(kms.storage.encryption?.additional_kms_key_ids).toHaveLength(1);
  });

  it('needs exactly one of kms_key_id and key_file, with the line and field', () => {
    expect(configError(withEncryption('    region: us-east-1')).message).toBe(
      'backup.yaml line 9: storage.encryption: needs kms_key_id (an AWS KMS key) or key_file (a local key file)',
    );
    expect(configError(withEncryption('    key_file: /k\n    region: us-east-1')).message).toBe(
      'backup.yaml line 11: storage.encryption.region: only used with kms_key_id',
    );
    expect(configError(withEncryption('    kms_key_id: alias/kafka-backup\n    key_file: /k')).message).toBe(
      'backup.yaml line 11: storage.encryption.key_file: give kms_key_id or key_file, not both: each object is encrypted with one kind of key',
    );
  });

  it('suggests the field a misspelt one resembles, and checks the form of a KMS key id', () => {
    expect(configError(withEncryption('    kms_keyid: alias/kafka-backup')).message).toContain(
      'backup.yaml line 10: storage.encryption.kms_keyid: unknown key (did you mean "kms_key_id"?)',
    );
    expect(configError(withEncryption('    kms_key_id: my key')).message).toBe(
      'backup.yaml line 10: storage.encryption.kms_key_id: must be a KMS key ARN, key id, alias name (alias/...) or alias ARN',
    );
  });
});
