import { describe, expect, it } from 'vitest';
import {
  BackupConfig,
  type KafkaSecurity,
  parseConfig,
  type RestoreConfig,
  type StorageConfig,
} from '../../../lib/config/index.ts';
import { ConfigError } from '../../../lib/errors.ts';

/** YAML lines indented under a key by `indent` spaces. */
function indentLines(yaml: string, indent: number): string {
  return yaml
    .trim()
    .split('\n')
    .map((line) => ' '.repeat(indent) + line)
    .join('\n');
}

function backupYaml(
  parts: { security?: string; storage?: string; backup?: string; top?: string } = {},
): string {
  return [
    'mode: backup',
    'backup_id: b1',
    'source:',
    '  bootstrap_servers: [localhost:9092]',
    parts.security ? `  security:\n${indentLines(parts.security, 4)}` : '',
    '  topics:',
    '    include: [orders]',
    'storage:',
    indentLines(parts.storage ?? 'path: /backups', 2),
    parts.backup ? `backup:\n${indentLines(parts.backup, 2)}` : '',
    parts.top ?? '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function restoreYaml(restore: string, top = 'backup_id: latest'): string {
  return [
    'mode: restore',
    top,
    'target:',
    '  bootstrap_servers: localhost:9092',
    'storage:',
    '  path: /backups',
    restore ? `restore:\n${indentLines(restore, 2)}` : '',
  ].join('\n');
}

function parseBackup(yaml: string): BackupConfig {
  const config = parseConfig(yaml, { source: 'test.yaml', env: {} });
  if (config.mode !== 'backup') throw new Error('not a backup config');
  return config;
}

function parseRestore(yaml: string): RestoreConfig {
  const config = parseConfig(yaml, { source: 'test.yaml', env: {} });
  if (config.mode !== 'restore') throw new Error('not a restore config');
  return config;
}

function security(yaml: string): KafkaSecurity {
  return parseBackup(backupYaml({ security: yaml })).source.security;
}

function storage(yaml: string): StorageConfig {
  return parseBackup(backupYaml({ storage: yaml })).storage;
}

/** The problem lines of the ConfigError parsing `yaml` throws, without the `test.yaml line N: ` prefix. */
function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, { source: 'test.yaml', env: {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n').map((line) => line.replace(/^test\.yaml line \d+: /, ''));
  }
  throw new Error('expected a ConfigError');
}

describe('Kafka connection', () => {
  it('defaults to PLAINTEXT, and to hostname verification where TLS is used', () => {
    expect(security('')).toEqual({ security_protocol: 'PLAINTEXT' });
    expect(security('security_protocol: SSL')).toEqual({
      security_protocol: 'SSL',
      ssl_verify_hostname: true,
    });
  });

  it('parses a parsed config again unchanged (drills and workflow steps re-parse configs)', () => {
    for (const y of [undefined, 'security_protocol: SSL', 'security_protocol: PLAINTEXT']) {
      const once = parseBackup(backupYaml(y ? { security: y } : {}));
      expect(BackupConfig.parse(once)).toEqual(once);
    }
  });

  it('accepts bootstrap servers as one comma-separated string', () => {
    const yaml = backupYaml().replace('[localhost:9092]', '" kafka-0:9092, kafka-1:9093 ,"');
    expect(parseBackup(yaml).source.bootstrap_servers).toEqual(['kafka-0:9092', 'kafka-1:9093']);
  });

  it('rejects servers without a valid port and an empty list', () => {
    expect(
      problems(backupYaml().replace('[localhost:9092]', '[localhost, "[::1]:9092", "h:70000"]')),
    ).toEqual([
      'source.bootstrap_servers[0]: must be host:port, e.g. kafka-0.example.com:9092',
      'source.bootstrap_servers[2]: must be host:port, e.g. kafka-0.example.com:9092',
    ]);
    expect(problems(backupYaml().replace('[localhost:9092]', '[]'))).toEqual([
      'source.bootstrap_servers: must list at least one host:port',
    ]);
  });

  it('normalizes lowercase protocol and mechanism names', () => {
    const parsed = security(
      'security_protocol: sasl_ssl\nsasl_mechanism: scram-sha-512\nsasl_username: u\nsasl_password: p',
    );
    expect(parsed).toMatchObject({ security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-512' });
  });

  it('requires a mechanism for SASL protocols', () => {
    expect(problems(backupYaml({ security: 'security_protocol: SASL_PLAINTEXT' }))).toEqual([
      'source.security.sasl_mechanism: required when security_protocol is SASL_PLAINTEXT: one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM',
    ]);
  });

  it('requires username and password for PLAIN and SCRAM', () => {
    expect(problems(backupYaml({ security: 'security_protocol: SASL_SSL\nsasl_mechanism: PLAIN' }))).toEqual([
      'source.security.sasl_username: required for sasl_mechanism PLAIN',
      'source.security.sasl_password: required for sasl_mechanism PLAIN',
    ]);
  });

  it('requires SASL_SSL for AWS_MSK_IAM and takes a region', () => {
    expect(
      problems(backupYaml({ security: 'security_protocol: SASL_PLAINTEXT\nsasl_mechanism: AWS_MSK_IAM' })),
    ).toEqual([
      'source.security.security_protocol: must be SASL_SSL for sasl_mechanism AWS_MSK_IAM (MSK accepts IAM only over TLS)',
    ]);
    expect(
      security('security_protocol: SASL_SSL\nsasl_mechanism: aws_msk_iam\naws_region: eu-west-1'),
    ).toMatchObject({
      sasl_mechanism: 'AWS_MSK_IAM',
      aws_region: 'eu-west-1',
    });
  });

  it('rejects TLS settings without TLS and SASL settings without SASL', () => {
    expect(
      problems(
        backupYaml({
          security:
            'security_protocol: SASL_PLAINTEXT\nsasl_mechanism: PLAIN\nsasl_username: u\nsasl_password: p\nssl_ca_location: /ca.pem',
        }),
      ),
    ).toEqual([
      'source.security.ssl_ca_location: only used with security_protocol SSL or SASL_SSL, not SASL_PLAINTEXT',
    ]);
    expect(problems(backupYaml({ security: 'ssl_verify_hostname: false\nsasl_username: u' }))).toEqual([
      'source.security.ssl_verify_hostname: only used with security_protocol SSL or SASL_SSL, not PLAINTEXT',
      'source.security.sasl_username: only used with security_protocol SASL_PLAINTEXT or SASL_SSL, not PLAINTEXT',
    ]);
  });

  it('requires a client certificate and its key together', () => {
    expect(
      problems(backupYaml({ security: 'security_protocol: SSL\nssl_certificate_location: /c.pem' })),
    ).toEqual([
      'source.security.ssl_certificate_location: needs ssl_key_location too: a client certificate is useless without its key',
    ]);
    expect(problems(backupYaml({ security: 'security_protocol: SSL\nssl_key_location: /k.pem' }))).toEqual([
      'source.security.ssl_key_location: needs ssl_certificate_location too: a client key is useless without its certificate',
    ]);
    expect(
      security(
        'security_protocol: SSL\nssl_certificate_location: /c.pem\nssl_key_location: /k.pem\nssl_verify_hostname: false',
      ),
    ).toMatchObject({
      ssl_certificate_location: '/c.pem',
      ssl_key_location: '/k.pem',
      ssl_verify_hostname: false,
    });
  });
});

describe('storage', () => {
  it('defaults to the filesystem backend when only a path is given', () => {
    expect(storage('path: /backups')).toEqual({ backend: 'filesystem', path: '/backups' });
  });

  it('strips slashes around the S3 prefix and defaults it to empty', () => {
    expect(storage('backend: s3\nbucket: my-bucket\nprefix: /a/b/')).toEqual({
      backend: 's3',
      bucket: 'my-bucket',
      prefix: 'a/b',
    });
    expect(storage('backend: s3\nbucket: my-bucket')).toEqual({
      backend: 's3',
      bucket: 'my-bucket',
      prefix: '',
    });
  });

  it('requires a backend or a path', () => {
    expect(problems(backupYaml({ storage: 'bucket: my-bucket' }))).toEqual([
      'storage.backend: required: one of filesystem, s3',
    ]);
  });

  it('rejects an s3:// URL as a bucket name and a non-http endpoint', () => {
    expect(
      problems(backupYaml({ storage: 'backend: s3\nbucket: s3://my-bucket/x\nendpoint: ftp://host' })),
    ).toEqual([
      'storage.bucket: must be a bucket name only (3 to 63 of a-z 0-9 . -), without s3:// or a path; put the path in prefix',
      'storage.endpoint: must be an http:// or https:// URL',
    ]);
  });

  it('takes a storage class for the segments of an S3 location, in any case', () => {
    expect(storage('backend: s3\nbucket: my-bucket\nstorage_class: standard_ia')).toEqual({
      backend: 's3',
      bucket: 'my-bucket',
      prefix: '',
      storage_class: 'STANDARD_IA',
    });
    for (const c of ['STANDARD', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR'])
      expect(storage(`backend: s3\nbucket: my-bucket\nstorage_class: ${c}`)).toMatchObject({
        storage_class: c,
      });
  });

  it('refuses archive classes (saying why), unknown classes, and a storage class for a folder', () => {
    const s3 = (c: string) =>
      problems(backupYaml({ storage: `backend: s3\nbucket: my-bucket\nstorage_class: ${c}` }));
    const readable = 'STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR';
    expect(s3('glacier')).toEqual([
      `storage.storage_class: GLACIER is not readable without a retrieval (RestoreObject, minutes to hours): a restore would have to wait for every segment. Use GLACIER_IR (millisecond reads) or one of ${readable}`,
    ]);
    expect(s3('DEEP_ARCHIVE')[0]).toMatch(
      /^storage\.storage_class: DEEP_ARCHIVE is not readable without a retrieval/,
    );
    expect(s3('REDUCED_REDUNDANCY')).toEqual([`storage.storage_class: must be one of ${readable}`]);
    expect(problems(backupYaml({ storage: 'path: /backups\nstorage_class: STANDARD_IA' }))).toEqual([
      'storage.storage_class: only used with backend s3: a folder has no storage classes (remove storage_class)',
    ]);
  });
});

describe('backup options', () => {
  it('applies the defaults', () => {
    expect(parseBackup(backupYaml()).backup).toEqual({
      compression: 'zstd',
      compression_level: 3,
      checkpoint_interval_secs: 30,
      include_offset_headers: true,
      isolation_level: 'read_committed',
      segment_max_bytes: 32 * 1024 * 1024,
      max_concurrent_partitions: 4,
      metadata: [],
    });
  });

  it('checks ranges', () => {
    const yaml = backupYaml({
      backup:
        'compression_level: 0\ncheckpoint_interval_secs: 0\nsegment_max_bytes: 1000\nmax_concurrent_partitions: 65',
    });
    expect(problems(yaml)).toEqual([
      'backup.compression_level: must be at least 1',
      'backup.checkpoint_interval_secs: must be more than 0',
      'backup.segment_max_bytes: must be at least 1024',
      'backup.max_concurrent_partitions: must be at most 64',
    ]);
    expect(parseBackup(backupYaml({ backup: 'segment_max_bytes: 1024' })).backup.segment_max_bytes).toBe(
      1024,
    );
  });

  it('takes consumer group globs, retention and metrics', () => {
    const config = parseBackup(
      backupYaml({
        backup: 'consumer_groups: ["app-*"]',
        top: 'retention:\n  backups: 168\nmetrics:\n  prometheus_port: 9400\n  keep_serving: true',
      }),
    );
    expect(config.backup.consumer_groups).toEqual(['app-*']);
    expect(config.retention).toEqual({ backups: 168 });
    expect(config.metrics).toEqual({ prometheus_port: 9400, keep_serving: true });
  });

  it('checks backup ids', () => {
    const withId = (id: string) => backupYaml().replace('backup_id: b1', `backup_id: "${id}"`);
    expect(parseBackup(withId('a.B_c-9')).backup_id).toBe('a.B_c-9');
    expect(problems(withId('a/b'))).toEqual([
      'backup_id: must be 1 to 200 characters, each a letter, digit, ".", "_" or "-"',
    ]);
    expect(problems(withId('x'.repeat(201)))).toHaveLength(1);
    expect(problems(withId('..'))).toEqual(['backup_id: must not be only dots']);
    expect(problems(withId('latest'))).toEqual([
      'backup_id: "latest" is reserved: restore reads it as "the newest backup"',
    ]);
  });
});

describe('restore options', () => {
  it('applies the defaults', () => {
    expect(parseRestore(restoreYaml('')).restore).toEqual({
      include_original_offset_header: false,
      consumer_group_strategy: 'header-based',
      reset_consumer_offsets: false,
      consumer_groups: [],
      topics: { include: ['*'], exclude: [] },
      topic_mapping: {},
      create_topics: true,
      on_existing_data: 'fail',
      dry_run: false,
      max_concurrent_partitions: 4,
      active_group_policy: 'fail',
      compression: 'source',
      metadata: [],
      rewrite_schema_ids: false,
      principal_mapping: {},
      scram_users: [],
    });
  });

  it('accepts latest as a backup id', () => {
    expect(parseRestore(restoreYaml('')).backup_id).toBe('latest');
  });

  it('normalizes ISO-8601 and epoch times to epoch milliseconds', () => {
    const restore = parseRestore(
      restoreYaml(
        'start_time: 2024-12-01T12:00:00+01:00\nend_time: 1733054400250\nreset_timestamp: "2024-12-01"',
      ),
    ).restore;
    expect(restore.start_time).toBe(1733050800000);
    expect(restore.end_time).toBe(1733054400250);
    expect(restore.reset_timestamp).toBe(1733011200000);
    expect(parseRestore(restoreYaml('start_time: "2024-12-01T12:00:00.250Z"')).restore.start_time).toBe(
      1733054400250,
    );
    expect(parseRestore(restoreYaml('start_time: "1733054400000"')).restore.start_time).toBe(1733054400000);
  });

  it('rejects times without a zone, impossible dates and start after end', () => {
    const expected = 'must be epoch milliseconds or an ISO-8601 time with a zone, e.g. 2024-12-01T12:00:00Z';
    expect(problems(restoreYaml('start_time: 2024-12-01T12:00:00'))).toEqual([
      `restore.start_time: ${expected}`,
    ]);
    expect(problems(restoreYaml('start_time: 2024-02-30T00:00:00Z'))).toEqual([
      `restore.start_time: ${expected}`,
    ]);
    expect(problems(restoreYaml('start_time: true'))).toEqual([`restore.start_time: ${expected}`]);
    expect(problems(restoreYaml('start_time: 2024-12-02T00:00:00Z\nend_time: 2024-12-01T00:00:00Z'))).toEqual(
      ['restore.end_time: must not be before start_time'],
    );
  });

  it('needs a timestamp for the timestamp strategy and defaults it to start_time', () => {
    expect(problems(restoreYaml('consumer_group_strategy: timestamp'))).toEqual([
      'restore.reset_timestamp: required when consumer_group_strategy is timestamp (or set start_time, which it then defaults to)',
    ]);
    const restore = parseRestore(restoreYaml('consumer_group_strategy: timestamp\nstart_time: 1000')).restore;
    expect(restore.reset_timestamp).toBe(1000);
  });

  it('does not invent a reset timestamp for other strategies', () => {
    expect(parseRestore(restoreYaml('start_time: 1000')).restore.reset_timestamp).toBeUndefined();
  });

  it('needs explicit offsets for the explicit strategy', () => {
    expect(problems(restoreYaml('consumer_group_strategy: explicit'))).toEqual([
      'restore.explicit_offsets: required when consumer_group_strategy is explicit',
    ]);
    const restore = parseRestore(
      restoreYaml(
        'consumer_group_strategy: explicit\nexplicit_offsets:\n  app:\n    orders:\n      0: 42\n      "1": 7',
      ),
    ).restore;
    expect(restore.explicit_offsets).toEqual({ app: { orders: { '0': 42, '1': 7 } } });
    expect(
      problems(
        restoreYaml('consumer_group_strategy: explicit\nexplicit_offsets:\n  app:\n    orders:\n      p0: 1'),
      ),
    ).toEqual(['restore.explicit_offsets.app.orders.p0: must be a partition number']);
  });

  it('maps topics and rejects unknown enum values', () => {
    expect(parseRestore(restoreYaml('topic_mapping:\n  orders: orders-dr')).restore.topic_mapping).toEqual({
      orders: 'orders-dr',
    });
    expect(problems(restoreYaml('on_existing_data: overwrite\nactive_group_policy: kill'))).toEqual([
      'restore.on_existing_data: must be one of fail, append, resume',
      'restore.active_group_policy: must be one of fail, skip',
    ]);
  });
});

describe('restore.compression', () => {
  it('takes source or a codec, and names the allowed values otherwise', () => {
    for (const c of ['source', 'none', 'gzip', 'snappy', 'lz4', 'zstd'])
      expect(parseRestore(restoreYaml(`compression: ${c}`)).restore.compression).toBe(c);
    expect(() => parseRestore(restoreYaml('compression: brotli'))).toThrow(ConfigError);
    expect(() => parseRestore(restoreYaml('compression: brotli'))).toThrow(/restore\.compression.*source/s);
  });
});

describe('cluster metadata (backup.metadata, restore.metadata, schema_registry)', () => {
  const registry =
    'schema_registry:\n  url: https://registry.example.com:8081\n  basic_auth: { username: u, password: p }';

  it('takes the parts to capture, and a registry when schemas are among them', () => {
    const c = parseBackup(backupYaml({ backup: 'metadata: [schemas, acls, quotas, users]', top: registry }));
    expect(c.backup.metadata).toEqual(['schemas', 'acls', 'quotas', 'users']);
    expect(c.schema_registry).toEqual({
      url: 'https://registry.example.com:8081',
      basic_auth: { username: 'u', password: 'p' },
      request_timeout_ms: 30_000,
    });
  });

  it('names what is wrong with the parts and the registry', () => {
    expect(problems(backupYaml({ backup: 'metadata: [acl]' }))).toEqual([
      'backup.metadata[0]: must be one of schemas, acls, quotas, users',
    ]);
    expect(problems(backupYaml({ backup: 'metadata: [acls, acls]' }))).toEqual([
      'backup.metadata: lists a part twice',
    ]);
    expect(problems(backupYaml({ backup: 'metadata: [schemas]' }))).toEqual([
      'backup.metadata: lists schemas: add a schema_registry section (url and credentials of the source registry)',
    ]);
    expect(
      problems(
        backupYaml({
          top: 'schema_registry:\n  url: http://r:8081\n  basic_auth: { username: u, password: p }\n  bearer: { token: t }\n  ssl_ca_location: /ca.pem',
        }),
      ),
    ).toEqual([
      'schema_registry.bearer: give basic_auth or bearer, not both',
      'schema_registry.ssl_ca_location: only used with an https:// url',
    ]);
  });

  it('restores metadata and rewrites ids only with a target registry', () => {
    expect(problems(restoreYaml('metadata: [schemas]\nrewrite_schema_ids: true'))).toEqual([
      'restore.metadata: lists schemas: add a schema_registry section (url and credentials of the target registry)',
      'restore.rewrite_schema_ids: needs a schema_registry section (the target registry, where the new ids are looked up)',
    ]);
    const c = parseRestore(
      `${restoreYaml('metadata: [acls, users]\nprincipal_mapping:\n  "User:a": "User:b"\nscram_users:\n  - { name: b, password: pw }')}`,
    );
    expect(c.restore).toMatchObject({
      metadata: ['acls', 'users'],
      principal_mapping: { 'User:a': 'User:b' },
      scram_users: [{ name: 'b', password: 'pw' }],
    });
    expect(problems(restoreYaml('principal_mapping:\n  orders-app: "User:b"'))).toEqual([
      'restore.principal_mapping.orders-app: must be TYPE:NAME, e.g. User:orders-app',
    ]);
  });
});
