// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these configs hold ${VAR} references, substituted by the engine
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors.ts';
import { parseBackupInput, parseRestoreInput } from '../../../lib/workflow/config.ts';
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
