// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these configs hold ${VAR} references, substituted by the engine

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors.ts';
import { ObjectNotEncryptedError } from '../../../lib/storage/encryption/errors.ts';
import { loadConfigRef, parseBackupInput, parseRestoreInput } from '../../../lib/workflow/config.ts';
import { configVariables, policyFromEnv, STEP_ENV } from '../../../lib/workflow/index.ts';

const SECRET = { sasl_username: 'backup-service', sasl_password: 'the-kafka-password' };
const policy = {
  kafka_clusters: [['kafka-0.us-west-2.example.com:9092', 'kafka-1.us-west-2.example.com:9092']],
  buckets: [{ bucket: 'kafka-backups-primary', region: 'us-west-2' }],
  storage_endpoints: [],
};
const backup = (servers: string[], storage: Record<string, unknown> = {}) => ({
  mode: 'backup',
  backup_id: 'b-${TIMESTAMP}',
  source: {
    bootstrap_servers: servers,
    security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' },
    topics: { include: ['orders'] },
  },
  storage: { backend: 's3', bucket: 'kafka-backups-primary', region: 'us-west-2', prefix: 'p', ...storage },
});
const parse = (raw: Record<string, unknown>, env: Record<string, string> = {}) =>
  parseBackupInput(raw, { source: 'input', env, now: new Date(), secret: SECRET, policy });

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('the workflow policy', () => {
  it('merges the Kafka secret into a config of an allowed cluster (any subset of its servers, any case)', () => {
    const c = parse(backup(['KAFKA-1.us-west-2.example.com:9092']));
    expect(c.source.security.sasl_password).toBe('the-kafka-password');
  });

  it('refuses other servers, naming the field, never the secret', () => {
    for (const servers of [
      ['attacker.example.com:9092'],
      ['kafka-0.us-west-2.example.com:9092', 'attacker.example.com:9092'],
      ['kafka-0.us-west-2.example.com:9093'],
    ]) {
      const e = errorOf(() => parse(backup(servers)));
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toContain('source.bootstrap_servers');
      expect(JSON.stringify({ ...e, message: e.message })).not.toContain('the-kafka-password');
    }
    // A ${VAR} is resolved before the check: the check sees the servers the connection would use.
    const e = errorOf(() => parse(backup(['${HOST}']), { HOST: 'attacker.example.com:9092' }));
    expect(e.message).toContain('source.bootstrap_servers');
  });

  it('refuses storage.endpoint unless listed, other buckets and regions, filesystem storage', () => {
    expect(
      errorOf(() => parse(backup(policy.kafka_clusters[0]!, { endpoint: 'https://evil.example.com' })))
        .message,
    ).toContain('storage.endpoint');
    expect(
      errorOf(() => parse(backup(policy.kafka_clusters[0]!, { bucket: 'other-bucket' }))).message,
    ).toContain('storage.bucket');
    expect(
      errorOf(() => parse(backup(policy.kafka_clusters[0]!, { region: 'us-east-1' }))).message,
    ).toContain('storage.bucket');
    expect(
      parseBackupInput(backup(policy.kafka_clusters[0]!, { endpoint: 'https://s3.vpce.example.com' }), {
        source: 'input',
        env: {},
        now: new Date(),
        secret: SECRET,
        policy: { ...policy, storage_endpoints: ['https://s3.vpce.example.com'] },
      }).storage,
    ).toMatchObject({ endpoint: 'https://s3.vpce.example.com' });
  });

  it('checks the target of a restore config the same way', () => {
    const raw = {
      mode: 'restore',
      backup_id: 'latest',
      target: {
        bootstrap_servers: ['attacker.example.com:9092'],
        security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' },
      },
      storage: backup([])['storage'],
    };
    const e = errorOf(() =>
      parseRestoreInput(raw, { source: 'input', env: {}, now: new Date(), secret: SECRET, policy }),
    );
    expect(e.message).toContain('target.bootstrap_servers');
  });

  it('refuses credentials written into the config, literal or as a ${VAR:-default}', () => {
    for (const v of ['hunter2', '${PW:-hunter2}']) {
      const raw = backup(policy.kafka_clusters[0]!);
      (raw.source.security as Record<string, unknown>)['sasl_password'] = v;
      const e = errorOf(() => parse(raw));
      expect(e.message).toContain('source.security.sasl_password');
      expect(e.message).not.toContain('hunter2');
    }
  });

  it('config variables come from KAFKA_BACKUP_CONFIG_VARS only, never AWS_* or the environment at large', () => {
    expect(configVariables({ AWS_SECRET_ACCESS_KEY: 'k', PATH: '/bin' })).toEqual({});
    expect(configVariables({ [STEP_ENV.configVariables]: '{"CLUSTER":"prod"}', PATH: '/bin' })).toEqual({
      CLUSTER: 'prod',
    });
    expect(() => configVariables({ [STEP_ENV.configVariables]: '{"AWS_SECRET_ACCESS_KEY":"x"}' })).toThrow(
      ConfigError,
    );
    expect(() => configVariables({ [STEP_ENV.configVariables]: '[1]' })).toThrow(ConfigError);
  });

  it('reads the policy the stacks set, and refuses a broken one', () => {
    expect(policyFromEnv({})).toBeUndefined();
    expect(policyFromEnv({ [STEP_ENV.workflowPolicy]: JSON.stringify(policy) })).toEqual(policy);
    expect(() => policyFromEnv({ [STEP_ENV.workflowPolicy]: '{"kafka_clusters": "x"}' })).toThrow(
      ConfigError,
    );
  });
});

describe('the workflow policy with client-side encryption', () => {
  const west = 'arn:aws:kms:us-west-2:111111111111:alias/kafka-backup-client-side';
  const east = 'arn:aws:kms:us-east-1:111111111111:alias/kafka-backup-client-side';
  const encrypted = { ...policy, encryption: { kms_key_id: west, additional_kms_key_ids: [east] } };
  const parseWith = (raw: Record<string, unknown>, p: typeof policy & { encryption?: unknown }) =>
    parseBackupInput(raw, { source: 'input', env: {}, now: new Date(), secret: SECRET, policy: p as never });
  const servers = policy.kafka_clusters[0]!;

  it("gives every config the deployment's keys: an input need not name them, nor can it turn encryption off", () => {
    for (const storage of [{}, { encryption: { kms_key_id: 'alias/kafka-backup-client-side' } }]) {
      expect(parseWith(backup(servers, storage), encrypted).storage.encryption).toEqual({
        kms_key_id: west,
        additional_kms_key_ids: [east],
      });
    }
    // Without encryption in the policy, nothing is added.
    expect(parse(backup(servers)).storage.encryption).toBeUndefined();
  });

  it('refuses another KMS key, a key file and a KMS endpoint the deployment does not name, naming the field', () => {
    const other = errorOf(() =>
      parseWith(
        backup(servers, { encryption: { kms_key_id: 'arn:aws:kms:us-west-2:222222222222:key/x' } }),
        encrypted,
      ),
    );
    expect(other).toBeInstanceOf(ConfigError);
    expect(other.message).toContain(
      "storage.encryption.kms_key_id arn:aws:kms:us-west-2:222222222222:key/x is not this deployment's client-side encryption key",
    );
    expect(
      errorOf(() => parseWith(backup(servers, { encryption: { key_file: '/tmp/k' } }), encrypted)).message,
    ).toContain('storage.encryption.key_file cannot be used in a deployed workflow');
    expect(
      errorOf(() =>
        parseWith(
          backup(servers, { encryption: { kms_key_id: west, endpoint: 'https://kms.evil.example.com' } }),
          encrypted,
        ),
      ).message,
    ).toContain('storage.encryption.endpoint is not allowed');
    // A deployment without client-side encryption refuses a config asking for it: its roles could not use the key.
    expect(errorOf(() => parse(backup(servers, { encryption: { kms_key_id: west } }))).message).toContain(
      'this deployment has no client-side encryption',
    );
  });

  it('a step loading its stored config through config_ref reads it with the same keys', async () => {
    const path = mkdtempSync(join(tmpdir(), 'kb-ref-'));
    writeFileSync(join(path, 'c.json'), '{"mode":"backup"}');
    const ref = {
      storage: { backend: 'filesystem' as const, path },
      key: 'c.json',
      now: new Date().toISOString(),
    };
    expect((await loadConfigRef(ref)).raw).toEqual({ mode: 'backup' });
    // Under the deployment's encryption the same plaintext object is refused: it is read through the keys.
    const fsPolicy = { storage_endpoints: [], encryption: { kms_key_id: west, additional_kms_key_ids: [] } };
    await expect(loadConfigRef(ref, fsPolicy)).rejects.toBeInstanceOf(ObjectNotEncryptedError);
  });
});
