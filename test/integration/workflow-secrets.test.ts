// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these configs hold ${VAR} references, substituted by the engine
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import type { Logger } from '../../lib/log.ts';
import { EmfMetrics } from '../../lib/metrics/index.ts';
import { S3Store } from '../../lib/storage/index.ts';
import { WorkflowLayout } from '../../lib/storage/layout.ts';
import { BackupItem } from '../../lib/workflow/events.ts';
import { runStep, STEP_ENV, type StepName, type StepRuntime } from '../../lib/workflow/index.ts';
import { loadMapItems } from '../../lib/workflow/map-storage.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';

/**
 * The workflow steps as a deployed function runs them, with what a function's environment holds: the role's
 * credentials (AWS_SECRET_ACCESS_KEY is the ground's S3 secret here, AWS_SESSION_TOKEN a marker), the Kafka secret,
 * the deployment's workflow policy and config variables. Nothing of the credentials may reach a stored object, a
 * step's output or a metric; a config that tries to steer them elsewhere is refused before anything happens.
 */

const KAFKA_PASSWORD = 'backup-secret';
const SESSION_TOKEN = 'session-token-must-not-leak-7f3a';
const BUCKET = 'kafka-backup-test';

describe('workflow steps keep credentials in (deployed environment)', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const topic = uniqueName('sec-orders');
  let roleSecret: string;
  let lure: Server;
  let lureAddress: string;
  let lureConnections = 0;
  const metrics: string[] = [];
  const logs: string[] = [];

  const logger: Logger = {
    debug: (m, f) => logs.push(JSON.stringify({ m, f })),
    info: (m, f) => logs.push(JSON.stringify({ m, f })),
    warn: (m, f) => logs.push(JSON.stringify({ m, f })),
    error: (m, f) => logs.push(JSON.stringify({ m, f })),
  };

  const runtime = (): StepRuntime => ({
    logger,
    metrics: new EmfMetrics({ write: (line) => metrics.push(line) }),
    deadlineMarginMs: 0,
    secret: async () => ({
      sasl_username: 'backup-service',
      sasl_password: KAFKA_PASSWORD,
      ssl_ca_pem: ground().caPem(),
    }),
    env: {
      ...process.env,
      AWS_SESSION_TOKEN: SESSION_TOKEN,
      [STEP_ENV.workflowPolicy]: JSON.stringify({
        kafka_clusters: [[ground().primarySaslSsl]],
        buckets: [{ bucket: BUCKET }],
        storage_endpoints: [ground().s3Endpoint],
      }),
      [STEP_ENV.configVariables]: JSON.stringify({ SOURCE_CLUSTER_ID: 'prod-secrets-test' }),
    },
  });
  const step = (name: StepName, event: unknown) => runStep(name, event, runtime());

  const config = (
    prefix: string,
    over: Record<string, unknown> = {},
    security: Record<string, unknown> = {},
  ) => ({
    mode: 'backup',
    backup_id: 'sec-${TIMESTAMP}',
    source: {
      bootstrap_servers: [ground().primarySaslSsl],
      security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256', ...security },
      topics: { include: [topic] },
    },
    storage: { backend: 's3', bucket: BUCKET, region: 'us-east-1', prefix, endpoint: ground().s3Endpoint },
    backup: { compression: 'zstd', source_cluster_id: '${SOURCE_CLUSTER_ID}' },
    ...over,
  });
  const storeAt = (prefix: string) =>
    new S3Store({ bucket: BUCKET, prefix, region: 'us-east-1', endpoint: ground().s3Endpoint });

  /** Everything under the prefix, as text. */
  async function storedText(prefix: string): Promise<{ keys: string[]; text: string }> {
    const store = storeAt(prefix);
    const keys = await store.list('');
    let text = keys.join('\n');
    for (const k of keys) text += `\n${(await store.get(k)).toString('latin1')}`;
    return { keys, text };
  }

  function expectNoCredential(where: string, text: string) {
    for (const secret of [KAFKA_PASSWORD, SESSION_TOKEN, roleSecret])
      expect(text, where).not.toContain(secret);
  }

  beforeAll(async () => {
    roleSecret = process.env['AWS_SECRET_ACCESS_KEY'] ?? '';
    expect(roleSecret.length).toBeGreaterThan(4);
    await createTopic(primary, { name: topic, partitions: 2 });
    await produce(
      primary,
      topic,
      Array.from({ length: 20 }, (_, i) => ({ key: buf(`k${i}`), value: buf(`v${i}`), partition: i % 2 })),
    );
    lure = createServer((socket) => {
      lureConnections++;
      socket.destroy();
    });
    await new Promise<void>((r) => lure.listen(0, '127.0.0.1', r));
    const address = lure.address();
    lureAddress = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }, 60_000);
  afterAll(async () => {
    await primary.close();
    await new Promise((r) => lure.close(r));
  });

  it('a whole backup: nothing of the role credentials or the Kafka password in any stored object, output or metric', async () => {
    const prefix = uniqueName('sec-ok');
    const plan = (await step('backup-plan', { config: config(prefix), schedule: 'test', options: {} })) as {
      backup_id: string;
      config_ref: unknown;
      lease: unknown;
      source_cluster_id: string;
    };
    expect(plan.source_cluster_id).toBe('prod-secrets-test');
    const outputs: unknown[] = [plan];
    // The items, where the plan step stored them (what the Distributed Map's ItemReader reads).
    const store = new S3Store({ bucket: BUCKET, region: 'us-east-1', prefix, endpoint: ground().s3Endpoint });
    const items = await loadMapItems(store, WorkflowLayout.backupItems(plan.backup_id), BackupItem);
    expect(items.length).toBeGreaterThan(0);
    for (const item of items)
      outputs.push(await step('backup-partition', { config_ref: plan.config_ref, lease: plan.lease, item }));
    const done = (await step('backup-finalize', { config_ref: plan.config_ref, lease: plan.lease })) as {
      backup_id: string;
      stats: { records: number };
    };
    outputs.push(done);
    expect(done.stats.records).toBe(20);
    const stored = await storedText(prefix);
    expect(stored.keys).toContain(`backups/${done.backup_id}/manifest.json`);
    expect(stored.keys).toContain(`backups/${done.backup_id}/workflow/config.json`);
    expectNoCredential('stored objects', stored.text);
    expectNoCredential('step outputs', JSON.stringify(outputs));
    expect(metrics.length).toBeGreaterThan(0);
    expectNoCredential('metrics', metrics.join('\n'));
    expectNoCredential('logs', logs.join('\n'));
  }, 120_000);

  it('${AWS_*} and other variables of the environment do not resolve in a step: refused before anything is stored', async () => {
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'PATH', 'GROUND_S3_ENDPOINT']) {
      const prefix = uniqueName('sec-env');
      const bad = config(prefix, { backup: { source_cluster_id: `\${${name}}` } });
      const error = await step('backup-plan', { config: bad, schedule: 'test', options: {} }).catch((e) => e);
      expect(error, name).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(`\${${name}} is not set`);
      expectNoCredential('error', `${(error as Error).message} ${JSON.stringify(error)}`);
      expect((await storedText(prefix)).keys, name).toEqual([]);
    }
    expectNoCredential('metrics', metrics.join('\n'));
  });

  it('a literal credential or a ${VAR:-default} in a secret field is refused, on the input and on a stored config', async () => {
    for (const value of ['literal-password', '${UNSET_PASSWORD:-default-password}']) {
      const prefix = uniqueName('sec-lit');
      const bad = config(prefix, {}, { sasl_password: value });
      const error = await step('backup-plan', { config: bad, schedule: 'test', options: {} }).catch((e) => e);
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('source.security.sasl_password');
      expect((error as Error).message).not.toContain(value);
      expect((await storedText(prefix)).keys).toEqual([]);
    }
    // A config put into the bucket by someone else and handed to a later step by reference.
    const prefix = uniqueName('sec-ref');
    const key = 'backups/x/workflow/config.json';
    await storeAt(prefix).put(
      key,
      JSON.stringify(config(prefix, {}, { sasl_password: '${P:-default-password}' })),
    );
    const error = await step('backup-finalize', {
      config_ref: {
        storage: {
          backend: 's3',
          bucket: BUCKET,
          region: 'us-east-1',
          prefix,
          endpoint: ground().s3Endpoint,
        },
        key,
        now: new Date().toISOString(),
      },
      lease: { owner: 'o', ttl_ms: 60_000 },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('sasl_password');
  });

  it('bootstrap servers the deployment does not name never receive the Kafka secret: refused naming the field', async () => {
    const prefix = uniqueName('sec-host');
    const bad = config(prefix, {
      source: { ...config(prefix)['source'], bootstrap_servers: [lureAddress] },
    });
    const error = await step('backup-plan', { config: bad, schedule: 'test', options: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('source.bootstrap_servers');
    expectNoCredential('error', (error as Error).message);
    // Restore-side steps too (find-backup and check-cluster read the execution input's config).
    const restore = {
      mode: 'restore',
      backup_id: 'latest',
      target: {
        bootstrap_servers: [lureAddress],
        security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' },
      },
      storage: config(prefix)['storage'],
    };
    for (const name of ['find-backup', 'check-cluster'] as const) {
      const e = await step(name, { config: restore, options: {} }).catch((x) => x);
      expect(e, name).toBeInstanceOf(ConfigError);
      expect((e as Error).message, name).toContain('target.bootstrap_servers');
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(lureConnections).toBe(0);
    expect((await storedText(prefix)).keys).toEqual([]);
  });

  it('storage the deployment does not name is refused: another endpoint, another bucket', async () => {
    const prefix = uniqueName('sec-store');
    const base = config(prefix);
    const endpoint = `http://${lureAddress}`;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...(base['storage'] as object), endpoint }, 'storage.endpoint'],
      [{ ...(base['storage'] as object), bucket: 'kafka-backups-dr' }, 'storage.bucket'],
      [{ path: '/tmp/elsewhere' }, 'storage.backend'],
    ];
    for (const [storage, field] of cases) {
      const e = await step('backup-plan', { config: { ...base, storage }, schedule: 't', options: {} }).catch(
        (x) => x,
      );
      expect(e, field).toBeInstanceOf(ConfigError);
      expect((e as Error).message, field).toContain(field);
    }
    // A step's config_ref naming another endpoint (a forged Map item) is refused before the store is opened.
    const e = await step('backup-partition', {
      config_ref: {
        storage: { ...(base['storage'] as object), endpoint },
        key: 'k',
        now: new Date().toISOString(),
      },
      lease: { owner: 'o', ttl_ms: 60_000 },
      item: { ranges: [{ topic, partition: 0, from: 0, to: 1 }], offsets: 1, bytes: 1, runner: 'lambda' },
    }).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain('config_ref.storage.endpoint');
    await new Promise((r) => setTimeout(r, 200));
    expect(lureConnections).toBe(0);
  });
});
