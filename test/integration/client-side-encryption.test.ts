import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ERRORS, exitCodeFor } from '../../lib/errors.ts';
import type { BackupRecord } from '../../lib/format/record.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { EmfMetrics } from '../../lib/metrics/index.ts';
import { keyFileId } from '../../lib/storage/encryption/key-file.ts';
import { KmsKeySource } from '../../lib/storage/encryption/kms.ts';
import { EncryptingStore, FilesystemStore, S3Store } from '../../lib/storage/index.ts';
import { runStep, STEP_ENV, type StepRuntime } from '../../lib/workflow/index.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, drSettings, primarySettings, produce } from '../support/kafka-fixtures.ts';
import { type MotoServer, startMotoServer } from '../support/moto-server.ts';
import { replicatePrimaryToDr } from '../support/replicate.ts';
import { contentOf, readTopic } from '../support/topic-content.ts';

/**
 * Client-side encryption (storage.encryption) end to end through the CLI: backups into the ground's S3 server
 * (versitygw) encrypted with a key file and with KMS keys of moto's KMS, restored byte-exactly, validated and
 * described; wrong, missing and absent keys refused with the error of the table naming key and object; and no
 * stored object holding the plaintext of a record.
 */

/** Random bytes do not compress: zstd stores them as they are, so a plaintext segment holds them verbatim. */
const MARKER = randomBytes(256);

/** Every object stored under `prefix`, raw (as S3 holds it), leases aside. */
async function storedObjects(bucket: string, prefix: string, region: string, endpoint: string) {
  const raw = new S3Store({ bucket, prefix, region, endpoint });
  const out = new Map<string, Buffer>();
  for (const key of await raw.list('')) out.set(key, await raw.get(key));
  raw.destroy();
  return out;
}

function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f));
}

describe('client-side encryption (storage.encryption)', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  const topic = uniqueName('cse-orders');
  let source: Map<number, BackupRecord[]>;

  beforeAll(async () => {
    await createTopic(primary, { name: topic, partitions: 2 });
    await produce(
      primary,
      topic,
      Array.from({ length: 120 }, (_, i) => ({
        key: buf(`customer-${i}`),
        // Record 8 spans several 64 KiB encryption chunks of its segment.
        value:
          i === 7
            ? MARKER
            : i === 8
              ? randomBytes(300_000)
              : Buffer.concat([buf(`order ${i} `), randomBytes(40)]),
        headers: [
          { key: 'trace', value: buf(`t${i}`) },
          { key: 'bin', value: Buffer.from([0, 255, i]) },
        ],
        partition: i % 2,
      })),
    );
    source = await readTopic(primary, topic);
  }, 60_000);
  afterAll(async () => {
    await primary.close();
    await dr.close();
  });

  const backupYaml = (id: string, storage: string) => `mode: backup
backup_id: ${id}
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: [${topic}]
storage:
${storage}
backup:
  segment_max_bytes: 2048
`;
  const restoreYaml = (id: string, storage: string, target: string) => `mode: restore
backup_id: ${id}
target:
  bootstrap_servers: ["${ground().dr}"]
storage:
${storage}
restore:
  topic_mapping: { "${topic}": "${target}" }
`;

  it('a plaintext backup of the same records shows the topic name in its manifest and the marker in its segments (what the checks below rule out)', async () => {
    const dir = tempDir();
    const path = join(dir, 'plain');
    const b = await runCli([
      'backup',
      '--config',
      writeConfig(dir, 'b.yaml', backupYaml('plain-1', `  path: ${path}`)),
    ]);
    expect(b.code, b.stderr).toBe(0);
    const files = filesUnder(path);
    expect(files.some((f) => f.includes(Buffer.from(`"${topic}"`)))).toBe(true);
    // Segments are zstd frames: decompressed, one holds the marker value.
    const zstdMagic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
    const segments = files.filter((f) => f.subarray(0, 4).equals(zstdMagic));
    expect(segments.length).toBeGreaterThan(0);
    expect(segments.some((f) => zstdDecompressSync(f).includes(MARKER))).toBe(true);
  });

  describe('with a key file, in S3 (versitygw)', () => {
    const dir = tempDir();
    const keyFile = join(dir, 'backup.key');
    const prefix = uniqueName('cse-keyfile');
    const id = 'cse-kf-1';
    const s3 = (extra: string) => `  backend: s3
  bucket: kafka-backup-test
  region: us-east-1
  prefix: ${prefix}
  endpoint: ${ground().s3Endpoint}
  encryption:
    ${extra}`;
    const path = `s3://kafka-backup-test/${prefix}`;
    const at = ['--path', path, '--s3-endpoint', ground().s3Endpoint, '--region', 'us-east-1'];

    beforeAll(async () => {
      // The README's command.
      execFileSync('bash', ['-c', `umask 077 && openssl rand -base64 32 > ${keyFile}`]);
      const b = await runCli([
        'backup',
        '--config',
        writeConfig(dir, 'b.yaml', backupYaml(id, s3(`key_file: ${keyFile}`))),
        '--format',
        'json',
      ]);
      expect(b.code, b.stderr).toBe(0);
    }, 120_000);

    it('stores every object encrypted: the header magic, no record value, no topic name in any body', async () => {
      const objects = await storedObjects('kafka-backup-test', prefix, 'us-east-1', ground().s3Endpoint);
      const keys = [...objects.keys()];
      const segments = keys.filter((k) => k.startsWith('segments/'));
      expect(segments.length).toBeGreaterThanOrEqual(2);
      expect(Math.max(...segments.map((k) => objects.get(k)!.length))).toBeGreaterThan(4 * 65_536);
      expect(keys).toContain(`backups/${id}/manifest.json`);
      for (const [key, body] of objects) {
        expect(body.subarray(0, 5).toString('latin1'), key).toBe('KBENC');
        expect(body.includes(MARKER.subarray(0, 32)), key).toBe(false);
        expect(body.includes(Buffer.from(topic)), key).toBe(false);
        expect(body.includes(Buffer.from('customer-')), key).toBe(false);
      }
    });

    it('restores byte-exactly, validates deep, describes and lists with the key file', async () => {
      const target = uniqueName('cse-restored');
      const r = await runCli([
        'restore',
        '--config',
        writeConfig(dir, 'r.yaml', restoreYaml(id, s3(`key_file: ${keyFile}`), target)),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(contentOf(await readTopic(dr, target))).toEqual(contentOf(source));

      const v = await runCli(['validate', ...at, '--backup-id', id, '--deep', '--key-file', keyFile]);
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toMatch(/is valid \(deep\): \d+ segments, 120 records/);
      const d = await runCli(['describe', ...at, '--backup-id', 'latest', '--key-file', keyFile]);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toContain(`backup ${id}`);
      expect(d.stdout).toContain(
        `encryption       client-side, AES-256-GCM with a data key per object from the key file ${keyFile}`,
      );
      const dj = await runCli([
        'describe',
        ...at,
        '--backup-id',
        id,
        '--key-file',
        keyFile,
        '--format',
        'json',
      ]);
      expect(JSON.parse(dj.stdout)).toMatchObject({
        backup_id: id,
        client_side_encryption: expect.stringContaining(keyFile),
      });
      const l = await runCli(['list', ...at, '--key-file', keyFile, '--format', 'json']);
      expect(l.code, l.stderr).toBe(0);
      expect(JSON.parse(l.stdout).backups.map((b: { backup_id: string }) => b.backup_id)).toEqual([id]);
    });

    it('refuses a wrong key file, a missing one and none at all, naming key and object, with the exit code of the table', async () => {
      const other = join(dir, 'other.key');
      execFileSync('bash', ['-c', `umask 077 && openssl rand -base64 32 > ${other}`]);
      const wrong = await runCli(['validate', ...at, '--backup-id', id, '--key-file', other]);
      expect(wrong.code).toBe(ERRORS.WrongEncryptionKeyError.exitCode);
      expect(wrong.stderr).toContain(`${path}/backups/${id}/manifest.json was encrypted for key file`);
      expect(wrong.stderr).toContain(keyFileId(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')));
      expect(wrong.stderr).toContain(other);
      expect(wrong.stderr).not.toContain(readFileSync(keyFile, 'utf8').trim());
      expect(wrong.stderr).not.toMatch(/\n\s+at /);

      const missing = await runCli([
        'describe',
        ...at,
        '--backup-id',
        id,
        '--key-file',
        join(dir, 'gone.key'),
      ]);
      expect(missing.code).toBe(ERRORS.EncryptionKeyNotFoundError.exitCode);
      expect(missing.stderr).toContain(`The key file ${join(dir, 'gone.key')}`);
      expect(missing.stderr).toContain(`backups/${id}/manifest.json`);

      const none = await runCli(['describe', ...at, '--backup-id', id]);
      expect(none.code).toBe(ERRORS.EncryptionKeyRequiredError.exitCode);
      expect(none.stderr).toMatch(/manifest\.json is encrypted \(with key file keyfile:[0-9a-f]{16}\)/);
    });

    it('a changed segment fails deep validation naming it; a plaintext object in the location is refused', async () => {
      const raw = new S3Store({
        bucket: 'kafka-backup-test',
        prefix,
        region: 'us-east-1',
        endpoint: ground().s3Endpoint,
      });
      try {
        const segment = (await raw.list('segments/'))[0]!;
        const bytes = await raw.get(segment);
        const changed = Buffer.from(bytes);
        changed[changed.length - 20]! ^= 0x01;
        await raw.put(segment, changed);
        const v = await runCli(['validate', ...at, '--backup-id', id, '--deep', '--key-file', keyFile]);
        expect(v.code).toBe(ERRORS.TamperedObjectError.exitCode);
        expect(v.stdout).toContain(`${segment}: ${path}/${segment} cannot be decrypted`);
        await raw.put(segment, bytes);

        await raw.put('backups/old-plain/manifest.json', '{"format_version":1}');
        const l = await runCli(['list', ...at, '--key-file', keyFile]);
        expect(l.code).toBe(ERRORS.ObjectNotEncryptedError.exitCode);
        expect(l.stderr).toContain(`${path}/backups/old-plain/manifest.json is not encrypted`);
        await raw.delete(['backups/old-plain/manifest.json']);
      } finally {
        raw.destroy();
      }
    });
  });

  describe("with moto's KMS: a key per region, the DR region reading with its own", () => {
    let moto: MotoServer;
    const dir = tempDir();
    const prefix = `${uniqueName('cse-kms')}/us-west-2/hourly`;
    const id = 'cse-kms-1';
    const keys: { west: string; east: string; other: string; alias: string } = {
      west: '',
      east: '',
      other: '',
      alias: '',
    };

    beforeAll(async () => {
      moto = await startMotoServer();
      const create = async (region: string) => {
        const kms = new KMSClient({ region, endpoint: moto.endpoint });
        const out = await kms.send(new CreateKeyCommand({ Description: 'kafka-backup test' }));
        kms.destroy();
        return out.KeyMetadata!.Arn!;
      };
      keys.west = await create('us-west-2');
      keys.east = await create('us-east-1');
      keys.other = await create('us-east-1');
      const kms = new KMSClient({ region: 'us-east-1', endpoint: moto.endpoint });
      keys.alias = `alias/${uniqueName('kafka-backup-dr')}`;
      await kms.send(new CreateAliasCommand({ AliasName: keys.alias, TargetKeyId: keys.east }));
      kms.destroy();
    }, 120_000);
    afterAll(async () => {
      await moto?.stop();
    });

    const primaryS3 = (encryption: string) => `  backend: s3
  bucket: kafka-backups-primary
  region: us-west-2
  prefix: ${prefix}
  endpoint: ${ground().s3WestEndpoint}
  encryption:
${encryption}`;
    const drS3 = (encryption: string) => `  backend: s3
  bucket: kafka-backups-dr
  region: us-east-1
  prefix: ${prefix}
  endpoint: ${ground().s3Endpoint}
  encryption:
${encryption}`;

    it('backs up with the primary key (data keys wrapped for the DR key too), restores in DR with the DR key alone', async () => {
      const b = await runCli([
        'backup',
        '--config',
        writeConfig(
          dir,
          'b.yaml',
          backupYaml(
            id,
            primaryS3(
              `    kms_key_id: ${keys.west}\n    additional_kms_key_ids: [${keys.east}]\n    endpoint: ${moto.endpoint}`,
            ),
          ),
        ),
      ]);
      expect(b.code, b.stderr).toBe(0);
      const objects = await storedObjects(
        'kafka-backups-primary',
        prefix,
        'us-west-2',
        ground().s3WestEndpoint,
      );
      for (const [key, body] of objects) {
        expect(body.subarray(0, 5).toString('latin1'), key).toBe('KBENC');
        expect(body.includes(MARKER.subarray(0, 32)), key).toBe(false);
        // Both recipients are named in the header.
        expect(body.includes(Buffer.from(keys.west)), key).toBe(true);
        expect(body.includes(Buffer.from(keys.east)), key).toBe(true);
      }

      expect(await replicatePrimaryToDr(prefix)).toBe(objects.size);
      const target = uniqueName('cse-kms-restored');
      // The alias of the DR key, its region from the storage: what a DR config would name.
      const r = await runCli([
        'restore',
        '--config',
        writeConfig(
          dir,
          'r.yaml',
          restoreYaml(id, drS3(`    kms_key_id: ${keys.alias}\n    endpoint: ${moto.endpoint}`), target),
        ),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(contentOf(await readTopic(dr, target))).toEqual(contentOf(source));
    });

    it('validates and describes with --kms-key-id (endpoint from AWS_ENDPOINT_URL_KMS); another key is refused naming both', async () => {
      const at = [
        '--path',
        `s3://kafka-backups-dr/${prefix}`,
        '--s3-endpoint',
        ground().s3Endpoint,
        '--region',
        'us-east-1',
      ];
      const saved = process.env['AWS_ENDPOINT_URL_KMS'];
      process.env['AWS_ENDPOINT_URL_KMS'] = moto.endpoint;
      try {
        const v = await runCli(['validate', ...at, '--backup-id', id, '--deep', '--kms-key-id', keys.east]);
        expect(v.code, v.stderr).toBe(0);
        expect(v.stdout).toMatch(/120 records/);
        const d = await runCli(['describe', ...at, '--backup-id', id, '--kms-key-id', keys.east]);
        expect(d.code, d.stderr).toBe(0);
        expect(d.stdout).toContain(`from the KMS key ${keys.east}`);

        const wrong = await runCli(['describe', ...at, '--backup-id', id, '--kms-key-id', keys.other]);
        expect(wrong.code).toBe(ERRORS.WrongEncryptionKeyError.exitCode);
        expect(wrong.stderr).toContain(
          `s3://kafka-backups-dr/${prefix}/backups/${id}/manifest.json was encrypted for KMS key ${keys.west}, KMS key ${keys.east}, not for the configured storage.encryption.kms_key_id ${keys.other}`,
        );
      } finally {
        if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_KMS'];
        else process.env['AWS_ENDPOINT_URL_KMS'] = saved;
      }
    });

    it("deployed steps encrypt with the deployment's keys though the input names none; the DR side reads with its own", async () => {
      const p = `${uniqueName('cse-steps')}/us-west-2/hourly`;
      const runtime = (region: 'west' | 'east'): StepRuntime => ({
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        metrics: new EmfMetrics({ write: () => {} }),
        deadlineMarginMs: 0,
        secret: async () => undefined,
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_KMS: moto.endpoint,
          // What the stacks set: this region's key, the other's for wrapping (ClientSideKeys.policy).
          [STEP_ENV.workflowPolicy]: JSON.stringify({
            kafka_clusters: [[ground().primary], [ground().dr]],
            buckets: [{ bucket: 'kafka-backups-primary' }, { bucket: 'kafka-backups-dr' }],
            storage_endpoints: [ground().s3WestEndpoint, ground().s3Endpoint],
            encryption:
              region === 'west'
                ? { kms_key_id: keys.west, additional_kms_key_ids: [keys.east] }
                : { kms_key_id: keys.east, additional_kms_key_ids: [keys.west] },
          }),
        },
      });
      const storage = (region: 'west' | 'east') =>
        region === 'west'
          ? {
              backend: 's3',
              bucket: 'kafka-backups-primary',
              region: 'us-west-2',
              prefix: p,
              endpoint: ground().s3WestEndpoint,
            }
          : {
              backend: 's3',
              bucket: 'kafka-backups-dr',
              region: 'us-east-1',
              prefix: p,
              endpoint: ground().s3Endpoint,
            };
      const config = {
        mode: 'backup',
        backup_id: 'steps-1',
        source: { bootstrap_servers: [ground().primary], topics: { include: [topic] } },
        storage: storage('west'),
      };
      // The KMS endpoint comes from the environment (as AWS_ENDPOINT_URL_KMS would in a function), not the input.
      const saved = process.env['AWS_ENDPOINT_URL_KMS'];
      process.env['AWS_ENDPOINT_URL_KMS'] = moto.endpoint;
      onTestFinished(() => {
        if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_KMS'];
        else process.env['AWS_ENDPOINT_URL_KMS'] = saved;
      });
      const plan = (await runStep(
        'backup-plan',
        { config, schedule: 'test', options: {} },
        runtime('west'),
      )) as {
        config_ref: unknown;
        lease: unknown;
      };
      // The Map's items, where the plan step put them (plaintext: Step Functions' ItemReader reads them itself).
      const stored = await storedObjects('kafka-backups-primary', p, 'us-west-2', ground().s3WestEndpoint);
      const items = JSON.parse(stored.get('backups/steps-1/workflow/items.json')!.toString()) as unknown[];
      expect(items.length).toBeGreaterThan(0);
      for (const item of items)
        await runStep(
          'backup-partition',
          { config_ref: plan.config_ref, lease: plan.lease, item },
          runtime('west'),
        );
      const done = (await runStep(
        'backup-finalize',
        { config_ref: plan.config_ref, lease: plan.lease },
        runtime('west'),
      )) as { stats: { records: number } };
      expect(done.stats.records).toBe(120);
      const objects = await storedObjects('kafka-backups-primary', p, 'us-west-2', ground().s3WestEndpoint);
      expect([...objects.keys()]).toContain('backups/steps-1/workflow/config.json');
      for (const [key, body] of objects) {
        // The Distributed Map's items are the one plaintext object (Step Functions reads it): topic names and
        // offsets, no record.
        if (key === 'backups/steps-1/workflow/items.json') {
          expect(body.includes(MARKER), key).toBe(false);
          expect(body.includes(Buffer.from('customer-')), key).toBe(false);
          continue;
        }
        expect(body.subarray(0, 5).toString('latin1'), key).toBe('KBENC');
        expect(body.includes(Buffer.from(topic)), key).toBe(false);
      }

      await replicatePrimaryToDr(p);
      const restoreConfig = {
        mode: 'restore',
        backup_id: 'latest',
        target: { bootstrap_servers: [ground().dr] },
        storage: storage('east'),
      };
      const found = (await runStep(
        'find-backup',
        { config: restoreConfig, options: {} },
        runtime('east'),
      )) as {
        backup_id: string;
      };
      expect(found.backup_id).toBe('steps-1');
      const validated = (await runStep(
        'validate-backup',
        { config: restoreConfig, backup_id: 'steps-1', validate: 'deep' },
        runtime('east'),
      )) as { ok: boolean; records_checked: number };
      expect(validated).toMatchObject({ ok: true, records_checked: 120 });

      // An input that asks for another key is refused before anything is read.
      await expect(
        runStep(
          'find-backup',
          {
            config: {
              ...restoreConfig,
              storage: { ...storage('east'), encryption: { kms_key_id: keys.other } },
            },
            options: {},
          },
          runtime('east'),
        ),
      ).rejects.toThrow(
        /storage.encryption.kms_key_id .* is not this deployment's client-side encryption key/,
      );
    });

    it('a KMS key that does not exist fails the backup naming it and the object, writing nothing', async () => {
      const missing = keys.east.replace(/[0-9a-f]{12}$/, '000000000000');
      const p = uniqueName('cse-kms-missing');
      const b = await runCli([
        'backup',
        '--config',
        writeConfig(
          dir,
          'missing.yaml',
          backupYaml(
            'cse-missing',
            drS3(`    kms_key_id: ${missing}\n    endpoint: ${moto.endpoint}`).replace(
              `prefix: ${prefix}`,
              `prefix: ${p}`,
            ),
          ),
        ),
      ]);
      expect(b.code).toBe(ERRORS.EncryptionKeyNotFoundError.exitCode);
      expect(b.stderr).toContain(
        `KMS key ${missing} does not exist (GenerateDataKey for s3://kafka-backups-dr/${p}/`,
      );
      const left = await storedObjects('kafka-backups-dr', p, 'us-east-1', ground().s3Endpoint);
      expect([...left.keys()].filter((k) => k !== 'lease.json')).toEqual([]);
    });

    it("a role allowed kms:Decrypt only reads but cannot write: EncryptionKeyAccessDeniedError naming key and object (moto's IAM)", async () => {
      const iam = async (params: Record<string, string>) => {
        const r = await fetch(moto.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization:
              'AWS4-HMAC-SHA256 Credential=AKIASETUP/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
          },
          body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
        });
        const text = await r.text();
        if (!r.ok) throw new Error(`moto IAM ${params['Action']}: ${r.status} ${text}`);
        return text;
      };
      const root = tempDir();
      const writer = new EncryptingStore(
        new FilesystemStore(root),
        new KmsKeySource({ keyId: keys.east, endpoint: moto.endpoint }),
      );
      await writer.put('backups/b/manifest.json', '{"written":"with rights"}');
      const user = uniqueName('reader');
      await iam({ Action: 'CreateUser', UserName: user });
      await iam({
        Action: 'PutUserPolicy',
        UserName: user,
        PolicyName: 'reader',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          // moto checks the action, not a KMS resource (it allows KMS actions on "*" only).
          Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: '*' }],
        }),
      });
      const xml = await iam({ Action: 'CreateAccessKey', UserName: user });
      const credentials = {
        accessKeyId: /<AccessKeyId>([^<]+)</.exec(xml)![1]!,
        secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(xml)![1]!,
      };
      const reader = new EncryptingStore(
        new FilesystemStore(root),
        new KmsKeySource({ keyId: keys.east, endpoint: moto.endpoint, credentials, maxAttempts: 1 }),
      );
      const auth = (allowed: string) =>
        fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: allowed }).then((r) => {
          if (!r.ok) throw new Error(`moto reset-auth ${r.status}`);
        });
      await auth('0');
      try {
        expect((await reader.get('backups/b/manifest.json')).toString()).toBe('{"written":"with rights"}');
        const e = await reader.put('backups/c/manifest.json', '{}').then(
          () => undefined,
          (err: unknown) => err as Error,
        );
        expect(e?.name).toBe('EncryptionKeyAccessDeniedError');
        expect(exitCodeFor(e)).toBe(ERRORS.EncryptionKeyAccessDeniedError.exitCode);
        // AWS answers AccessDeniedException; moto a bare 403.
        expect(e?.message).toMatch(
          new RegExp(`access to KMS key ${keys.east} was refused \\((AccessDeniedException|HTTP 403)\\)`),
        );
        expect(e?.message).toContain(`GenerateDataKey for ${root}/backups/c/manifest.json`);
        expect(e?.message).not.toContain(credentials.secretAccessKey);
      } finally {
        await auth('Infinity');
      }
    });
  });
});
