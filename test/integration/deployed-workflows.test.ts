// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these configs hold ${VAR} references, substituted by the engine
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsVerifier, listEvidence, verifyEvidence } from '../../lib/evidence/index.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import { Layout, type Manifest } from '../../lib/format/manifest.ts';
import { validateBackup } from '../../lib/format/validate-backup.ts';
import { STEP_BUNDLING } from '../../lib/infra/workflows/functions.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import type { RestoreReport } from '../../lib/restore/index.ts';
import { S3Store } from '../../lib/storage/index.ts';
import { REPO_ROOT, spawnCli } from '../support/cli.ts';
import {
  type DeployedStack,
  type PolicyStatement,
  policyAllows,
  readAssembly,
  synthExampleDeployment,
} from '../support/deployed/assembly.ts';
import { containerApp, installContainerDeps, runContainer } from '../support/deployed/container.ts';
import { IamS3, startSecretsServer } from '../support/deployed/iam-s3.ts';
import { type Credentials, LambdaService, taskRootOf } from '../support/deployed/lambda-runtime.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, drSettings, primarySettings, produce } from '../support/kafka-fixtures.ts';
import { LocalWorkflow, type WorkflowBindings } from '../support/local-workflow.ts';
import type { MotoServer } from '../support/moto-server.ts';

/*
 * The serverless deployment as it is deployed: deploy/deployment.example.json synthesized once per run with
 * bundling on (bin/cdk-app.ts as the CDK CLI runs it, into a temporary folder); every Lambda Task of the backup,
 * failover and failback state machines runs the bundled asset from cdk.out in a Node process of its own, started
 * like the Lambda runtime starts it (test/support/deployed/lambda-runtime.ts), with an IAM user's keys holding
 * exactly its role's synthesized policy against an S3 server that enforces them (moto, IAM access control on);
 * the Fargate Task runs the container's command from the image's build context installed as the Dockerfile
 * installs it. Kafka: the ground's SASL_SSL listeners, credentials and CA from the Kafka secret (Secrets Manager,
 * a second moto server) merged by the steps, as in the deployment.
 *
 * KAFKA_BACKUP_DEPLOYED_ASSEMBLY=<folder> reuses an assembly synthesized from the current tree (for iterating on
 * this file only: nothing checks that it is current).
 */

const PRIMARY_STACK = 'kafka-backup-us-west-2';
const DR_STACK = 'kafka-backup-us-east-1';
const SECRET_NAME = 'kafka-credentials';
const P0_RECORDS = 9_000;
const P0_VALUE_BYTES = 1_100;
const P1_RECORDS = 20_000;
const P2_RECORDS = 50;
const COMMITTED = [4_000, 12_345, 10];

interface EmfDoc extends Record<string, unknown> {
  _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
}
const metricDocs = (emf: Record<string, unknown>[], name: string) =>
  (emf as EmfDoc[]).filter((d) =>
    d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)),
  );

function du(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + du(join(path, f)), 0);
}
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

describe('the example deployment as deployed: bundled assets in their own processes, IAM enforced', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  let outdir: string;
  let ownAssembly = false;
  let stacks: Map<string, DeployedStack>;
  let iam: IamS3;
  let secrets: MotoServer;
  let admin: Credentials;
  let containerDir: string;
  const users = new Map<string, Credentials>();
  const taskRoots = new Map<string, string>();
  const emf: Record<string, unknown>[] = [];
  const lambdaService = new LambdaService();
  const durations: { step: string; ms: number }[] = [];
  const topic = uniqueName('dwf-orders');
  const group = uniqueName('dwf-order-service');
  const prefix = `${uniqueName('dwf')}/us-west-2/hourly`;
  const security = { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' };
  let firstBackup: { backup_id: string; stats: Manifest['stats'] };
  let failedOverAt = 0;
  /** The DR stack's evidence key, made in moto (ECC_NIST_P256, SIGN_VERIFY) in place of the stack's. */
  let evidenceKeyArn = '';
  let drilledEvidenceId = '';

  const stack = (name: string) => stacks.get(name)!;
  const userName = (s: DeployedStack, roleId: string) => `${s.region}-${roleId}`.slice(0, 64);
  const storage = (bucket: string, region: string, p: string) => ({
    backend: 's3',
    bucket,
    region,
    prefix: p,
    endpoint: iam.endpoint,
  });
  const adminStore = (bucket: string, region: string, p: string) =>
    new S3Store({ bucket, region, prefix: p, endpoint: iam.endpoint, credentials: admin });

  /**
   * Lambda Tasks to processes running the stack's bundled functions, the Fargate Task to the installed CLI, and the
   * Distributed Maps' ItemReader and ResultWriter to the bucket as the state machine's role (its keys, its policy).
   */
  const bindings = (s: DeployedStack, stateMachine: string): WorkflowBindings => ({
    storeFor: (bucket) =>
      new S3Store({
        bucket,
        region: bucket === 'kafka-backups-primary' ? 'us-west-2' : 'us-east-1',
        endpoint: iam.endpoint,
        credentials: users.get(userName(s, s.stateMachineRole(stateMachine)))!,
      }),
    lambda: async (logicalId, input, remainingMs) => {
      const fn = s.lambda(logicalId);
      let root = taskRoots.get(fn.assetDir);
      if (!root) {
        root = taskRootOf(fn.assetDir);
        taskRoots.set(fn.assetDir, root);
      }
      const out = await lambdaService.invoke(fn, root, input, {
        credentials: users.get(userName(s, fn.roleId))!,
        region: s.region,
        env: {
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
          AWS_ENDPOINT_URL_KMS: iam.endpoint,
          POWERTOOLS_LOG_LEVEL: 'WARN',
        },
        remainingMs,
      });
      emf.push(...out.emf);
      durations.push({ step: fn.handler, ms: out.durationMs });
      return out.result;
    },
    runTask: (override) => {
      const task = s.task();
      return runContainer(task, containerDir, override, {
        credentials: users.get(userName(s, task.taskRoleId))!,
        region: s.region,
        env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint, POWERTOOLS_LOG_LEVEL: 'WARN' },
      });
    },
  });

  beforeAll(async () => {
    const started = Date.now();
    outdir = process.env['KAFKA_BACKUP_DEPLOYED_ASSEMBLY'] ?? '';
    const servers = Promise.all([
      IamS3.start(),
      startSecretsServer([
        {
          name: SECRET_NAME,
          regions: ['us-west-2', 'us-east-1'],
          value: { sasl_username: 'admin', sasl_password: 'admin-secret', ssl_ca_pem: ground().caPem() },
        },
      ]),
    ]);
    // The image's dependencies install (or come from the cache) while the assembly is synthesized.
    const deps = installContainerDeps(REPO_ROOT);
    deps.catch(() => undefined); // awaited below; a failed synth must not leave it unhandled
    // The servers first: the deployment file names their endpoint (workflows.storageEndpoints), as a user names a
    // VPC endpoint there.
    [iam, secrets] = await servers;
    if (!outdir) {
      ownAssembly = true;
      outdir = join(mkdtempSync(join(tmpdir(), 'kb-assembly-')), 'cdk.out');
      const { ms } = await synthExampleDeployment(outdir, {
        kafkaServers: [[ground().primarySaslSsl], [ground().drSaslSsl]],
        storageEndpoints: [iam.endpoint],
      });
      console.info(`synthesized the example deployment with bundling in ${ms} ms`);
    }
    stacks = readAssembly(outdir);
    await iam.open(true);
    await iam.buckets([
      { name: 'kafka-backups-primary', region: 'us-west-2' },
      { name: 'kafka-backups-dr', region: 'us-east-1' },
    ]);
    // The DR stack's evidence key, as CloudFormation would have made it: its ARN is what the template's env vars
    // and policies name from here on.
    const [keyId, ...more] = stack(DR_STACK)
      .ofType('AWS::KMS::Key')
      .filter(([, p]) => p['KeyUsage'] === 'SIGN_VERIFY');
    expect(more).toEqual([]);
    evidenceKeyArn = await iam.kmsKey('us-east-1', {
      KeyUsage: keyId![1]['KeyUsage'] as string,
      KeySpec: keyId![1]['KeySpec'] as string,
    });
    stack(DR_STACK).bind(keyId![0], { arn: evidenceKeyArn });
    for (const s of [stack(PRIMARY_STACK), stack(DR_STACK)]) {
      const machines = s.ofType('AWS::StepFunctions::StateMachine').map(([id]) => s.stateMachineRole(id));
      const roles = new Set([...s.lambdas().map((f) => f.roleId), s.task().taskRoleId, ...machines]);
      for (const roleId of roles)
        users.set(
          userName(s, roleId),
          await iam.user(
            userName(s, roleId),
            // A state machine's role also names Lambda functions, the task, SNS and the state machine itself (its
            // Distributed Map's child executions), references this test does not resolve: what runs as it here is
            // its ItemReader and ResultWriter, so its S3 and KMS statements.
            machines.includes(roleId)
              ? s
                  .policyOf(roleId)
                  .filter((st) =>
                    (Array.isArray(st.Action) ? st.Action : [st.Action]).every((a) => /^(s3|kms):/.test(a)),
                  )
              : s.policyOf(roleId),
          ),
        );
    }
    admin = await iam.user('test-admin', [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    await iam.open(false);
    const installed = await deps;
    console.info(
      installed.installedMs === undefined
        ? `container dependencies: cached (${installed.nodeModules})`
        : `container dependencies: npm ci --omit=dev in ${installed.installedMs} ms`,
    );
    containerDir = containerApp(stack(PRIMARY_STACK).task(), installed);
    await primary.describeCluster();
    await dr.describeCluster();
    console.info(`set up in ${Date.now() - started} ms`);
  }, 300_000);

  afterAll(async () => {
    await lambdaService.close();
    await primary.close();
    await dr.close();
    await iam?.stop();
    await secrets?.stop();
    for (const root of taskRoots.values()) rmSync(join(root, '..'), { recursive: true, force: true });
    if (containerDir) rmSync(join(containerDir, '..'), { recursive: true, force: true });
    if (ownAssembly && outdir) rmSync(join(outdir, '..'), { recursive: true, force: true });
  });

  it('every bundled function asset imports from an empty folder and exports its handlers', () => {
    const assets = new Map<string, Set<string>>();
    for (const s of stacks.values())
      for (const fn of s.lambdas()) {
        const [module, name] = fn.handler.split('.') as [string, string];
        // Every function of the deployment ships an ESM bundle (the steps' and the DR-readiness handler; no CDK
        // provider function with code of its own is in these stacks): anything else is a new kind to look at.
        const file = join(fn.assetDir, `${module}.mjs`);
        expect(existsSync(file), `${s.name} ${fn.logicalId}: ${file}`).toBe(true);
        const exports = assets.get(file) ?? new Set<string>();
        exports.add(name);
        assets.set(file, exports);
      }
    expect(assets.size).toBeGreaterThanOrEqual(2);
    let stepAssets = 0;
    for (const [file, exports] of assets) {
      const assetDir = join(file, '..');
      const root = taskRootOf(assetDir);
      // The steps' bundle ships @node-rs/crc32 (every Kafka batch's CRC); the readiness function (ARM64, reads no
      // Kafka batches) does not.
      const steps = [...exports].some((e) => e === 'backupPartition' || e === 'restorePartition');
      const script = `const t = performance.now(); const m = await import('./${file.split('/').at(-1)}'); const ms = performance.now() - t;
        const missing = ${JSON.stringify([...exports])}.filter((e) => typeof m[e] !== 'function');
        const crc = ${steps} ? (await import('@node-rs/crc32')).crc32c(Buffer.from('123456789')) : null;
        console.log(JSON.stringify({ ms, missing, crc }));`;
      let out: string;
      try {
        out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          cwd: root,
          env: { PATH: '/usr/bin:/bin' },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (e) {
        throw new Error(
          `${assetDir} does not import from an empty folder:\n${(e as { stderr?: string }).stderr}`,
        );
      } finally {
        rmSync(join(root, '..'), { recursive: true, force: true });
      }
      const { ms, missing, crc } = JSON.parse(out.trim().split('\n').at(-1)!) as {
        ms: number;
        missing: string[];
        crc: number | null;
      };
      expect(missing, assetDir).toEqual([]);
      // The shipped @node-rs/crc32 loads its native binary from the asset alone (the CRC-32C check value).
      if (steps) stepAssets++;
      if (steps) expect(crc, assetDir).toBe(0xe3069283);
      else expect(crc, assetDir).toBeNull();
      const modules = join(assetDir, 'node_modules');
      console.info(
        `asset ${assetDir.split('asset.')[1]!.slice(0, 12)}: ${[...exports].length} handlers, bundle ${mb(statSync(file).size)}` +
          `${existsSync(modules) ? `, node_modules ${mb(du(modules))} (${readdirSync(modules).join(' ')})` : ''}, total ${mb(du(assetDir))}; cold import ${ms.toFixed(0)} ms`,
      );
    }
    expect(stepAssets).toBeGreaterThan(0);
  });

  it('the Kafka client’s wasm alias is what makes the bundle load: without it the import fails', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kb-noalias-')), 'task');
    mkdirSync(dir);
    try {
      const alias = STEP_BUNDLING.esbuildArgs?.['--alias:@platformatic/wasm-utils'];
      expect(alias).toBe('@platformatic/wasm-utils/bundled');
      await build({
        entryPoints: [join(REPO_ROOT, 'functions', 'index.ts')],
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'esm',
        mainFields: ['module', 'main'],
        banner: { js: STEP_BUNDLING.banner! },
        external: [...(STEP_BUNDLING.externalModules ?? []), ...(STEP_BUNDLING.nodeModules ?? [])],
        outfile: join(dir, 'index.mjs'),
        logLevel: 'silent',
      });
      // The native module the real asset ships, so that only the alias differs.
      const real = stack(PRIMARY_STACK).lambdas()[0]!.assetDir;
      cpSync(join(real, 'node_modules'), join(dir, 'node_modules'), { recursive: true });
      let stderr = '';
      try {
        execFileSync(process.execPath, ['--input-type=module', '-e', "await import('./index.mjs')"], {
          cwd: dir,
          env: { PATH: '/usr/bin:/bin' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (e) {
        stderr = String((e as { stderr?: Buffer }).stderr);
      }
      expect(stderr).toMatch(/ENOENT.*native\.wasm/);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('backup: plan, a Lambda worker looping on continuations, a Fargate item through the installed CLI, finalize', async () => {
    await createTopic(primary, { name: topic, partitions: 3 });
    for (let i = 0; i < P0_RECORDS; i += 500)
      await produce(
        primary,
        topic,
        Array.from({ length: 500 }, (_, j) => ({
          key: buf(`k${i + j}`),
          value: randomBytes(P0_VALUE_BYTES),
          partition: 0,
        })),
      );
    for (let i = 0; i < P1_RECORDS; i += 5_000)
      await produce(
        primary,
        topic,
        Array.from({ length: 5_000 }, (_, j) => ({ key: null, value: buf(`p1-${i + j}`), partition: 1 })),
      );
    await produce(
      primary,
      topic,
      Array.from({ length: P2_RECORDS }, (_, j) => ({ key: null, value: buf(`p2-${j}`), partition: 2 })),
    );
    await primary.setCommittedOffsets(
      group,
      topic,
      COMMITTED.map((offset, partition) => ({ partition, offset })),
    );
    const s = stack(PRIMARY_STACK);
    const wf = new LocalWorkflow(
      s.definition('BackupWorkflowStateMachine'),
      bindings(s, 'BackupWorkflowStateMachine'),
    );
    // The context leaves a worker 1 ms past its margin (STEP_DEADLINE_MARGIN_MS of the template): one fetch each.
    wf.remainingMs = Number(s.lambdas()[0]!.environment['STEP_DEADLINE_MARGIN_MS']) + 1;
    const started = Date.now();
    const out = (await wf.run({
      schedule: 'hourly',
      options: { fargate_min_offsets: 15_000 },
      config: {
        mode: 'backup',
        backup_id: 'primary-${TIMESTAMP}',
        source: { bootstrap_servers: [ground().primarySaslSsl], security, topics: { include: [topic] } },
        storage: storage('kafka-backups-primary', 'us-west-2', prefix),
        backup: {
          compression: 'zstd',
          include_offset_headers: true,
          source_cluster_id: 'prod-us-west-2',
          consumer_groups: [group],
        },
      },
    })) as { backup_id: string; stats: Manifest['stats'] };
    console.info(`backup workflow: ${wf.calls.length} tasks in ${Date.now() - started} ms`);
    expect(out.stats.records).toBe(P0_RECORDS + P1_RECORDS + P2_RECORDS);
    firstBackup = out;
    const p0 = wf
      .callsOf('BackupPartition')
      .filter((c) =>
        (c.input['item'] as { ranges: { partition: number }[] }).ranges.some((r) => r.partition === 0),
      )
      .map((c) => c.output as { done: boolean; offsets_left: number });
    expect(p0.length).toBeGreaterThan(1);
    expect(p0.at(-1)).toMatchObject({ done: true, offsets_left: 0 });
    const fargate = wf.callsOf('BackupPartitionOnFargate');
    expect(fargate).toHaveLength(1);
    expect(fargate[0]!.output, String((fargate[0]!.output as { Output?: string })?.Output)).toMatchObject({
      Containers: [{ ExitCode: 0 }],
    });
    const store = adminStore('kafka-backups-primary', 'us-west-2', prefix);
    const manifest = await loadManifest(store, out.backup_id);
    expect(manifest.topics[0]!.partitions.map((p) => p.records)).toEqual([
      P0_RECORDS,
      P1_RECORDS,
      P2_RECORDS,
    ]);
    expect((await validateBackup(store, out.backup_id, { deep: true })).ok).toBe(true);
    expect(await store.head(Layout.lease)).toBeUndefined();
    expect(
      metricDocs(emf, 'kafka_backup_backups_total').some(
        (d) => d['Outcome'] === 'success' && d['BackupId'] === out.backup_id,
      ),
    ).toBe(true);
    store.destroy();
  });

  it('failover: the DR stack’s functions restore the replicated backup with continuations and move the group', async () => {
    expect(firstBackup).toBeDefined();
    const from = adminStore('kafka-backups-primary', 'us-west-2', prefix);
    const to = adminStore('kafka-backups-dr', 'us-east-1', prefix);
    for (const key of await from.list('')) await to.put(key, await from.get(key));
    const s = stack(DR_STACK);
    const wf = new LocalWorkflow(
      s.definition('FailoverWorkflowStateMachine'),
      bindings(s, 'FailoverWorkflowStateMachine'),
    );
    wf.remainingMs = Number(s.lambdas()[0]!.environment['STEP_DEADLINE_MARGIN_MS']) + 1;
    const started = Date.now();
    const report = (await wf.run({
      validate: 'deep',
      config: {
        mode: 'restore',
        backup_id: 'latest',
        target: { bootstrap_servers: [ground().drSaslSsl], security },
        storage: storage('kafka-backups-dr', 'us-east-1', prefix),
        restore: {
          include_original_offset_header: true,
          consumer_group_strategy: 'header-based',
          reset_consumer_offsets: true,
          consumer_groups: [group],
        },
      },
    })) as RestoreReport;
    console.info(`failover workflow: ${wf.calls.length} tasks in ${Date.now() - started} ms`);
    expect(report.ok).toBe(true);
    expect(report.backup_id).toBe(firstBackup.backup_id);
    expect((await dr.partitionOffsets(topic)).map((o) => o.end)).toEqual([
      P0_RECORDS,
      P1_RECORDS,
      P2_RECORDS,
    ]);
    const p0 = wf
      .callsOf('RestorePartition')
      .filter((c) =>
        (c.input['item'] as { works: { target_partition: number }[] }).works.some(
          (w) => w.target_partition === 0,
        ),
      );
    expect(p0.length).toBeGreaterThan(1);
    expect(report.consumer_groups.map((g) => [g.group_id, g.status])).toEqual([[group, 'reset']]);
    from.destroy();
    to.destroy();
    failedOverAt = Date.now();
  });

  it('drill: the DR stack’s drill restores the newest backup into its scratch namespace, signs with the stack key, touches nothing else', async () => {
    expect(failedOverAt).toBeGreaterThan(0);
    const others = async () => {
      const out = new Map<string, number[]>();
      for (const t of await dr.listTopics())
        if (!t.startsWith('__'))
          out.set(
            t,
            (await dr.partitionOffsets(t)).map((o) => o.end),
          );
      return out;
    };
    const before = await others();
    const committed = await dr.committedOffsets(group);
    const s = stack(DR_STACK);
    const run = s.lambdas().find((f) => f.handler === 'index.drillRun')!;
    expect(run.environment['KAFKA_BACKUP_EVIDENCE_KMS_KEY_ID']).toBe(evidenceKeyArn);
    const wf = new LocalWorkflow(
      s.definition('DrillWorkflowStateMachine'),
      bindings(s, 'DrillWorkflowStateMachine'),
    );
    const started = Date.now();
    const out = (await wf.run({
      trigger: { via: 'schedule', principal: 'EventBridge Scheduler schedule kafka-backup/drill' },
      drill: {
        kind: 'backup',
        namespace: 'dwf-drill',
        config: {
          mode: 'restore',
          backup_id: 'latest',
          target: { bootstrap_servers: [ground().drSaslSsl], security },
          storage: storage('kafka-backups-dr', 'us-east-1', prefix),
        },
        topics: { include: [topic] },
        source_cluster_id: 'prod-us-west-2',
      },
    })) as { ok: boolean; evidence_id: string; scratch_prefix: string; key_id: string; backup_id: string };
    console.info(`drill workflow: ${wf.calls.length} tasks in ${Date.now() - started} ms`);
    expect(out).toMatchObject({ ok: true, backup_id: firstBackup.backup_id });
    // KMS's GetPublicKey names the key by its ARN; moto's by its id.
    expect(evidenceKeyArn.endsWith(out.key_id)).toBe(true);
    expect(out.scratch_prefix).toMatch(/^dwf-drill-[0-9a-f-]{36}\.$/);
    expect(wf.callsOf('CleanUpDrill')).toHaveLength(0);
    // Signed through KMS by the drill function's role, verified with the key's public half.
    const store = adminStore('kafka-backups-dr', 'us-east-1', prefix);
    const kms = new KMSClient({ region: 'us-east-1', endpoint: iam.endpoint, credentials: admin });
    const verified = await verifyEvidence(
      store,
      out.evidence_id,
      await kmsVerifier({ keyId: evidenceKeyArn, client: kms }),
    );
    expect(verified.problems).toEqual([]);
    expect(verified).toMatchObject({ ok: true, algorithm: 'ECDSA_SHA_256', key_id: out.key_id });
    expect(verified.report).toMatchObject({
      ok: true,
      triggered_by: { via: 'schedule', principal: 'EventBridge Scheduler schedule kafka-backup/drill' },
      restored: { namespace: out.scratch_prefix, records: P0_RECORDS + P1_RECORDS + P2_RECORDS },
    });
    // Nothing but its own scratch topics was written on the DR cluster, and those are gone; the group did not move.
    expect(await others()).toEqual(before);
    expect(await dr.committedOffsets(group)).toEqual(committed);
    // The drill role signed, and nothing else did.
    const signers = new Set(
      iam.calls.filter((c) => c.action === 'kms:Sign').map((c) => iam.ownerOf(c.accessKeyId)),
    );
    expect([...signers]).toEqual([userName(s, run.roleId)]);
    expect(
      metricDocs(emf, 'kafka_backup_drill_passed').some(
        (d) => d['SourceClusterId'] === 'prod-us-west-2' && d['kafka_backup_drill_passed'] === 1,
      ),
    ).toBe(true);
    // What an auditor runs: `kafka-backup evidence verify` through KMS, and offline with the exported public key.
    const cliEnv = {
      AWS_ACCESS_KEY_ID: admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
      AWS_ENDPOINT_URL_KMS: iam.endpoint,
    };
    const where = [
      '--path',
      `s3://kafka-backups-dr/${prefix}`,
      '--region',
      'us-east-1',
      '--s3-endpoint',
      iam.endpoint,
    ];
    const viaKms = await spawnCli(
      ['evidence', 'verify', out.evidence_id, ...where, '--evidence-kms-key-id', evidenceKeyArn],
      cliEnv,
    ).exited;
    expect(viaKms.code, viaKms.stderr).toBe(0);
    expect(viaKms.stdout).toContain(`evidence ${out.evidence_id}: signature valid (ECDSA_SHA_256`);
    const pem = join(mkdtempSync(join(tmpdir(), 'kb-evidence-pub-')), 'evidence.pub');
    const exported = await spawnCli(
      [
        'evidence',
        'public-key',
        '--evidence-kms-key-id',
        evidenceKeyArn,
        '--out',
        pem,
        '--region',
        'us-east-1',
      ],
      cliEnv,
    ).exited;
    expect(exported.code, exported.stderr).toBe(0);
    const offline = await spawnCli(
      ['evidence', 'verify', out.evidence_id, ...where, '--public-key', pem],
      cliEnv,
    ).exited;
    expect(offline.code, offline.stderr).toBe(0);
    rmSync(join(pem, '..'), { recursive: true, force: true });
    drilledEvidenceId = out.evidence_id;
    kms.destroy();
    store.destroy();
  });

  it('drill: the DR-readiness function finds the passing drill in the location it watches, verified with the key', async () => {
    expect(drilledEvidenceId).not.toBe('');
    const s = stack(DR_STACK);
    const fn = s
      .lambdas()
      .find((f) => f.handler === 'index.handler' && f.environment['DR_READINESS_DRILL_EVIDENCE'])!;
    const watched = JSON.parse(fn.environment['DR_READINESS_DRILL_EVIDENCE']!) as {
      prefix: string;
      keyArn: string;
    };
    expect(watched.keyArn).toBe(evidenceKeyArn);
    // The drill above ran on the test's own location; the function watches the deployment's: copy the folder.
    const from = adminStore('kafka-backups-dr', 'us-east-1', prefix);
    const to = adminStore('kafka-backups-dr', 'us-east-1', watched.prefix);
    for (const key of await from.list(`evidence/${drilledEvidenceId}/`))
      await to.put(key, await from.get(key));
    expect((await listEvidence(to)).map((e) => e.id)).toContain(drilledEvidenceId);
    const root = taskRootOf(fn.assetDir);
    try {
      const out = await lambdaService.invoke(
        fn,
        root,
        {},
        {
          credentials: users.get(userName(s, fn.roleId))!,
          region: s.region,
          env: {
            AWS_ENDPOINT_URL_S3: iam.endpoint,
            AWS_ENDPOINT_URL_KMS: iam.endpoint,
            POWERTOOLS_LOG_LEVEL: 'WARN',
          },
        },
      );
      expect((out.result as { drill: { newestPassedId: string } }).drill.newestPassedId).toBe(
        drilledEvidenceId,
      );
      const days = metricDocs(out.emf, 'kafka_backup_days_since_drill_passed');
      expect(days.map((d) => d['SourceClusterId'])).toEqual(['prod-us-west-2']);
      expect(Number(days[0]!['kafka_backup_days_since_drill_passed'])).toBeLessThan(0.1);
    } finally {
      rmSync(join(root, '..'), { recursive: true, force: true });
      from.destroy();
      to.destroy();
    }
  });

  it('failback: the DR cluster backed up and only what was written since the failover restored to the primary', async () => {
    expect(failedOverAt).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 20));
    const delta = 5;
    for (const p of [0, 1, 2])
      await produce(
        dr,
        topic,
        Array.from({ length: delta }, (_, i) => ({
          key: null,
          value: buf(`dr-new-${p}-${i}`),
          partition: p,
        })),
      );
    const primaryEnds = (await primary.partitionOffsets(topic)).map((o) => o.end);
    const drPrefix = `${uniqueName('dwf-failback')}/us-east-1/dr`;
    const s = stack(DR_STACK);
    const wf = new LocalWorkflow(
      s.definition('FailbackWorkflowStateMachine'),
      bindings(s, 'FailbackWorkflowStateMachine'),
    );
    const report = (await wf.run({
      backup_config: {
        mode: 'backup',
        backup_id: 'dr-${TIMESTAMP}',
        source: { bootstrap_servers: [ground().drSaslSsl], security, topics: { include: [topic] } },
        storage: storage('kafka-backups-dr', 'us-east-1', drPrefix),
        backup: { source_cluster_id: 'dr-us-east-1', consumer_groups: [group] },
      },
      restore_config: {
        mode: 'restore',
        backup_id: 'latest',
        target: { bootstrap_servers: [ground().primarySaslSsl], security },
        storage: storage('kafka-backups-dr', 'us-east-1', drPrefix),
        restore: { start_time: failedOverAt, consumer_groups: [group] },
      },
    })) as RestoreReport;
    expect(report.ok).toBe(true);
    expect(report.topics[0]!.partitions.map((p) => p.restored)).toEqual([delta, delta, delta]);
    expect((await primary.partitionOffsets(topic)).map((o) => o.end)).toEqual(
      primaryEnds.map((e) => e + delta),
    );
  });

  it('IAM: every request was allowed by moto, and the report lists per role the S3 actions granted and used', () => {
    expect(iam.calls.length).toBeGreaterThan(0);
    const denied = iam.calls.filter((c) => c.status === 403);
    expect(denied, JSON.stringify(denied.slice(0, 5))).toEqual([]);
    const lines: string[] = [];
    for (const s of [stack(PRIMARY_STACK), stack(DR_STACK)]) {
      // Each role with what runs under it and the Kafka secret that reads (KAFKA_SECRET_ARN), if any.
      const roles = new Map<string, { what: string; secret: string | undefined }>();
      for (const f of s.lambdas())
        roles.set(f.roleId, { what: f.handler, secret: f.environment['KAFKA_SECRET_ARN'] });
      const task = s.task();
      roles.set(task.taskRoleId, { what: 'Fargate task', secret: task.environment['KAFKA_SECRET_ARN'] });
      // The state machines' roles: their Distributed Maps read items.json and wrote the results as these.
      for (const [id] of s.ofType('AWS::StepFunctions::StateMachine'))
        roles.set(s.stateMachineRole(id), {
          what: id.replace(/StateMachine.*$/, ' (state machine)'),
          secret: undefined,
        });
      for (const [roleId, { what, secret }] of roles) {
        const statements = s.policyOf(roleId);
        const granted = statements
          .flatMap((st: PolicyStatement) => (Array.isArray(st.Action) ? st.Action : [st.Action]))
          .filter((a) => a.startsWith('s3:') || a.startsWith('kms:'));
        const user = userName(s, roleId);
        const used = new Map<string, Set<string>>();
        for (const c of iam.calls.filter((c) => iam.ownerOf(c.accessKeyId) === user)) {
          const buckets = used.get(c.action) ?? new Set<string>();
          buckets.add(
            c.resource.startsWith('arn:aws:s3:::')
              ? c.resource.split(':::')[1]!.split('/')[0]!
              : c.resource.split(':').slice(2, 4).join(':'),
          );
          used.set(c.action, buckets);
          // Our reading of the policy agrees with moto's.
          expect(policyAllows(statements, c.action, c.resource), `${user} ${c.action} ${c.resource}`).toBe(
            true,
          );
        }
        // moto cannot evaluate the secret's `-??????` resource: checked here, against the secret's full ARN
        // (the partial ARN in KAFKA_SECRET_ARN plus the 6-character suffix Secrets Manager adds).
        if (secret)
          expect(policyAllows(statements, 'secretsmanager:GetSecretValue', `${secret}-AbC123`), user).toBe(
            true,
          );
        lines.push(
          `${s.region} ${what.padEnd(24)} granted ${granted.join(' ') || 'no S3 or KMS action'}; used ${
            [...used].map(([a, b]) => `${a} (${[...b].join(',')})`).join(' ') || 'nothing'
          }`,
        );
      }
    }
    console.info(`S3 actions per role:\n${lines.join('\n')}`);
    // The Maps' items and results went through S3 as the state machines' roles: read items.json, wrote results/.
    for (const [s, machine] of [
      [stack(PRIMARY_STACK), 'BackupWorkflowStateMachine'],
      [stack(DR_STACK), 'FailoverWorkflowStateMachine'],
      [stack(DR_STACK), 'FailbackWorkflowStateMachine'],
    ] as const) {
      const user = userName(s, s.stateMachineRole(machine));
      const calls = iam.calls.filter((c) => iam.ownerOf(c.accessKeyId) === user);
      expect(
        calls
          .filter((c) => c.action === 's3:GetObject')
          .every((c) => c.resource.endsWith('/workflow/items.json')),
        user,
      ).toBe(true);
      expect(
        calls.some((c) => c.action === 's3:GetObject'),
        `${machine} read its items`,
      ).toBe(true);
      expect(
        calls
          .filter((c) => c.action === 's3:PutObject')
          .map((c) => c.resource.replace(/^.*\/workflow\/results\/[0-9a-f-]{36}\//, '')),
        `${machine} wrote its results`,
      ).toEqual(expect.arrayContaining(['SUCCEEDED_0.json', 'manifest.json']));
    }
    const cold = lambdaService.coldStarts.map((c) => c.initMs).sort((a, b) => a - b);
    const perStep = new Map<string, number[]>();
    for (const d of durations) perStep.set(d.step, [...(perStep.get(d.step) ?? []), d.ms]);
    console.info(
      `${cold.length} cold starts (bundle import median ${cold[Math.floor(cold.length / 2)]?.toFixed(0)} ms, max ${cold.at(-1)?.toFixed(0)} ms), ${lambdaService.warmStarts} warm; invocations: ${[
        ...perStep,
      ]
        .map(([k, v]) => `${k} ${v.length}x ${Math.round(v.reduce((a, b) => a + b, 0) / v.length)} ms`)
        .join(', ')}`,
    );
  });

  it('IAM: a role missing an action the step needs fails the step (PlanBackup without s3:PutObject)', async () => {
    const s = stack(PRIMARY_STACK);
    const fn = s.lambdas().find((f) => f.handler === 'index.backupPlan')!;
    const statements = s
      .policyOf(fn.roleId)
      .map((st) =>
        Array.isArray(st.Action) && st.Action.includes('s3:PutObject')
          ? { ...st, Action: st.Action.filter((a) => a !== 's3:PutObject') }
          : st,
      );
    await iam.open(true);
    const credentials = await iam.user('plan-without-put', statements);
    await iam.open(false);
    const root = taskRootOf(fn.assetDir);
    try {
      const event = {
        config: {
          mode: 'backup',
          backup_id: 'nopermission-${TIMESTAMP}',
          source: { bootstrap_servers: [ground().primarySaslSsl], security, topics: { include: [topic] } },
          storage: storage('kafka-backups-primary', 'us-west-2', uniqueName('dwf-denied')),
        },
      };
      const error = await lambdaService
        .invoke(fn, root, event, {
          credentials,
          region: s.region,
          env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint, POWERTOOLS_LOG_LEVEL: 'WARN' },
        })
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(error?.name).toBe('StorageAccessError');
      expect(
        iam.calls.some((c) => iam.ownerOf(c.accessKeyId) === 'plan-without-put' && c.status === 403),
      ).toBe(true);
    } finally {
      rmSync(join(root, '..'), { recursive: true, force: true });
    }
  });
});
