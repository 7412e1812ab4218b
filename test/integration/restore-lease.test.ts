// One run of a restore at a time: two identical restores started at once write every record once, the second
// refused naming the holder; a restore killed part-way is taken over at once; the workflow steps hold the lease.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRestoreConfig } from '../../lib/config/index.ts';
import { LeaseHeldError } from '../../lib/errors.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import type { Manifest } from '../../lib/format/manifest.ts';
import { RestoreLayout } from '../../lib/format/restore-state.ts';
import { KafkaCluster, readPartitions } from '../../lib/kafka/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { noopMetrics } from '../../lib/metrics/index.ts';
import { OriginHeader, type RestoreReport, runRestore } from '../../lib/restore/index.ts';
import { S3Store } from '../../lib/storage/index.ts';
import { runStep, type StepRuntime } from '../../lib/workflow/index.ts';
import { runCli, spawnCli, tempDir, writeConfig } from '../support/cli.ts';
import { type Child, putMapRunResults } from '../support/distributed-map.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import {
  createTopic,
  drSettings,
  primarySettings,
  produce,
  type TestMessage,
} from '../support/kafka-fixtures.ts';
import { groundBucket } from '../support/local-workflow.ts';

const PARTITIONS = 4;
const PER_PARTITION = 50_000;
const RECORDS = PARTITIONS * PER_PARTITION;

const storage = (prefix: string) => ({
  backend: 's3' as const,
  bucket: 'kafka-backup-test',
  region: 'us-east-1',
  prefix,
  endpoint: ground().s3Endpoint,
});

/** The restore id in a lease key `restores/<id>/lease.json`. */
const restoreIdOfKey = (key: string) => key.split('/')[1]!;

function yamlOf(value: unknown): string {
  // JSON is YAML: the configs below are written as JSON documents.
  return JSON.stringify(value, null, 2);
}

function restoreConfig(o: { backupId: string; prefix: string; source: string; target: string }) {
  return {
    mode: 'restore',
    backup_id: o.backupId,
    target: { bootstrap_servers: [ground().dr] },
    storage: storage(o.prefix),
    restore: {
      include_original_offset_header: true,
      topics: { include: [o.source] },
      topic_mapping: { [o.source]: o.target },
    },
  };
}

/**
 * Reads the whole target topic and checks it holds the backup's records exactly once: as many as the backup
 * holds, and each (source partition, source offset) once, the very set the backup holds.
 */
async function expectExactlyOnce(dr: KafkaCluster, topic: string, manifest: Manifest): Promise<void> {
  const ends = await dr.partitionOffsets(topic);
  expect(
    ends.reduce((n, o) => n + o.end - o.logStart, 0),
    'records in the target',
  ).toBe(manifest.stats.records);
  const seen = new Set<string>();
  let duplicates = 0;
  let count = 0;
  await readPartitions(
    dr,
    ends.map((o) => ({ topic, partition: o.partition, from: o.logStart, to: o.end })),
    {
      isolation: 'read_committed',
      concurrency: PARTITIONS,
      onBatch: async (b) => {
        for (const r of b.records) {
          const h = (k: string) => r.headers.find((x) => x.key === k)?.value?.toString();
          const id = `${h(OriginHeader.partition)}/${h(OriginHeader.offset)}`;
          if (seen.has(id)) duplicates++;
          seen.add(id);
          count++;
        }
      },
    },
  );
  expect(count).toBe(manifest.stats.records);
  expect(duplicates).toBe(0);
  const want = new Set(
    manifest.topics[0]!.partitions.flatMap((p) =>
      Array.from({ length: p.end_offset - p.start_offset }, (_, i) => `${p.partition}/${p.start_offset + i}`),
    ),
  );
  expect(seen.size).toBe(want.size);
  expect([...seen].every((id) => want.has(id))).toBe(true);
}

describe('restore lease: one run of a restore at a time', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  const prefix = uniqueName('restore-lease');
  const store = new S3Store(storage(prefix));
  const dir = tempDir();
  let source: string;
  let backupId: string;
  let manifest: Manifest;

  beforeAll(async () => {
    await dr.describeCluster();
    source = await createTopic(primary, { prefix: 'lease-src', partitions: PARTITIONS });
    const chunk = 5_000;
    for (let from = 0; from < PER_PARTITION; from += chunk) {
      const messages: TestMessage[] = [];
      for (let p = 0; p < PARTITIONS; p++)
        for (let i = from; i < from + chunk; i++)
          messages.push({ key: Buffer.from(`k${p}-${i}`), value: Buffer.alloc(100, i % 251), partition: p });
      await produce(primary, source, messages);
    }
    backupId = uniqueName('lease-backup');
    const cfg = writeConfig(
      dir,
      'backup.yaml',
      yamlOf({
        mode: 'backup',
        backup_id: backupId,
        source: { bootstrap_servers: [ground().primary], topics: { include: [source] } },
        storage: storage(prefix),
      }),
    );
    const b = await runCli(['backup', '--config', cfg]);
    expect(b.code, b.stderr).toBe(0);
    manifest = await loadManifest(store, backupId);
    expect(manifest.stats.records).toBe(RECORDS);
  }, 300_000);

  afterAll(async () => {
    store.destroy();
    await primary.close();
    await dr.close();
  });

  it('two identical restores started at once: the second is refused naming the holder, every record lands once', async () => {
    const target = uniqueName('lease-race');
    const file = writeConfig(dir, 'race.yaml', yamlOf(restoreConfig({ backupId, prefix, source, target })));
    const run = () =>
      runRestore(
        { config: loadRestoreConfig(file), store, target: dr, logger: silentLogger },
        { resetOffsets: false },
      );
    const started = Date.now();
    const [a, b] = await Promise.allSettled([run(), run()]);
    console.info(`two restores of ${RECORDS} records at once: ${Date.now() - started} ms`);
    const done = [a, b].filter((r) => r.status === 'fulfilled').map((r) => r.value as RestoreReport);
    const refused = [a, b].filter((r) => r.status === 'rejected').map((r) => r.reason as Error);
    expect(done).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const report = done[0]!;
    expect(report.ok).toBe(true);
    const e = refused[0]!;
    expect(e).toBeInstanceOf(LeaseHeldError);
    expect(e.message).toMatch(
      new RegExp(
        `^restore ${report.restore_id} \\(backup ${backupId} into ${target} of cluster \\S+\\) is already running: pid ${process.pid} on ${hostname()} holds its lease since \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    expect((e as LeaseHeldError).hint).toMatch(/^Wait for it to finish/);
    await expectExactlyOnce(dr, target, manifest);
    // Released at the end: running it again is allowed, and writes nothing.
    expect(await store.head(RestoreLayout.lease(report.restore_id))).toBeUndefined();
    const again = await run();
    expect(again.topics[0]!.partitions.map((p) => p.written_now)).toEqual([0, 0, 0, 0]);
    await expectExactlyOnce(dr, target, manifest);
  });

  it('two CLI restore processes at once: one restores, the other exits 3 naming the holder process', async () => {
    const target = uniqueName('lease-cli');
    const file = writeConfig(dir, 'cli.yaml', yamlOf(restoreConfig({ backupId, prefix, source, target })));
    const procs = [0, 1].map(() => spawnCli(['restore', '--config', file, '--format', 'json']));
    const results = await Promise.all(procs.map((p) => p.exited));
    const winner = results.findIndex((r) => r.code === 0);
    const loser = results.findIndex((r) => r.code === 3);
    expect(
      [winner, loser].sort(),
      results.map((r) => `exit ${r.code}: ${r.stderr.slice(-800)}`).join('\n'),
    ).toEqual([0, 1]);
    const stderr = results[loser]!.stderr;
    expect(stderr).toMatch(
      new RegExp(
        `is already running: pid ${procs[winner]!.child.pid} on ${hostname()} holds its lease since `,
      ),
    );
    expect(stderr).toContain('Wait for it to finish');
    expect(stderr).not.toMatch(/\n\s+at /);
    const report = JSON.parse(results[winner]!.stdout) as RestoreReport;
    expect(report.ok).toBe(true);
    await expectExactlyOnce(dr, target, manifest);
    expect(await store.head(RestoreLayout.lease(report.restore_id))).toBeUndefined();
  });

  it('a restore killed part-way leaves its lease behind; run again at once, it takes it over and finishes', async () => {
    const target = uniqueName('lease-killed');
    const file = writeConfig(dir, 'killed.yaml', yamlOf(restoreConfig({ backupId, prefix, source, target })));
    const first = spawnCli(['restore', '--config', file]);
    // Kill it once it holds the lease and has written some records, but not all.
    let leaseKey: string | undefined;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(20)) {
      for (const k of leaseKey ? [] : await store.list('restores/')) {
        const body = k.endsWith('/lease.json') ? await store.getIfExists(k) : undefined;
        if (body?.toString().includes(`"${target}"`)) leaseKey = k;
      }
      const written = (await dr.listTopics()).includes(target)
        ? (await dr.partitionOffsets(target)).reduce((n, o) => n + o.end, 0)
        : 0;
      if (leaseKey && written > 0) break;
    }
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal, `the first run ended on its own before the kill: ${killed.stderr}`).toBe('SIGKILL');
    await sleep(500); // a produce request the broker had already received when the process died lands meanwhile
    expect(leaseKey).toBeDefined();
    const left = JSON.parse((await store.get(leaseKey!)).toString()) as Record<string, unknown>;
    expect(left).toMatchObject({ pid: first.child.pid, host: hostname(), target_topics: [target] });
    const partial = (await dr.partitionOffsets(target)).reduce((n, o) => n + o.end, 0);
    expect(partial).toBeLessThan(RECORDS);

    // Well before the lease expires (2 minutes): its holder is gone from this machine, so it is taken over.
    expect(Date.parse(String(left['expires_at']))).toBeGreaterThan(Date.now() + 30_000);
    const second = await runCli(['restore', '--config', file, '--format', 'json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `taking over the lease of restore ${restoreIdOfKey(leaseKey!)}: its holder is gone`,
    );
    const report = JSON.parse(second.stdout) as RestoreReport;
    expect(report.ok).toBe(true);
    expect(report.topics[0]!.partitions.reduce((n, p) => n + p.written_now, 0)).toBe(RECORDS - partial);
    await expectExactlyOnce(dr, target, manifest);
    expect(await store.head(leaseKey!)).toBeUndefined();
  });

  it('the workflow steps hold the lease from PrepareRestore to VerifyRestore; RecordRestoreFailure releases it', async () => {
    const target = uniqueName('lease-wf');
    const rt: StepRuntime = {
      logger: silentLogger,
      metrics: noopMetrics,
      deadlineMarginMs: 30_000,
      secret: async () => undefined,
      env: {},
    };
    const prepareEvent = { config: restoreConfig({ backupId, prefix, source, target }), backup_id: backupId };
    type Prepared = {
      config_ref: unknown;
      job: { restore_id: string; lease?: { owner: string; ttl_ms: number } };
      map: { items: { bucket: string; key: string }; results: { bucket: string; prefix: string } };
    };
    // The bucket's root: where the Distributed Map's ItemReader and ResultWriter read and write.
    const bucketRoot = groundBucket('kafka-backup-test');
    const itemsOf = async (prepared: Prepared) =>
      JSON.parse((await bucketRoot.get(prepared.map.items.key)).toString()) as {
        work: { target_topic: string; target_partition: number };
      }[];
    const first = (await runStep('restore-prepare', prepareEvent, rt)) as Prepared;
    expect(first.job.lease).toMatchObject({ owner: expect.any(String), ttl_ms: 30 * 60_000 });
    const key = RestoreLayout.lease(first.job.restore_id);
    expect(JSON.parse((await store.get(key)).toString())).toMatchObject({
      owner: first.job.lease!.owner,
      holder: `workflow (${hostname()})`,
    });
    expect(JSON.parse((await store.get(key)).toString())).not.toHaveProperty('pid');

    // A second execution of the same restore is refused while the first holds the lease.
    const refused = await runStep('restore-prepare', prepareEvent, rt).catch((e: unknown) => e as Error);
    expect(refused).toBeInstanceOf(LeaseHeldError);
    expect((refused as Error).message).toContain(
      `is already running: workflow (${hostname()}) holds its lease since`,
    );

    // A dry run writes nothing and takes no lease: it plans while the restore is held.
    const dry = await runCli([
      'restore',
      '--dry-run',
      '--config',
      writeConfig(dir, 'wf-dry.yaml', yamlOf(prepareEvent.config)),
    ]);
    expect(dry.code, dry.stderr).toBe(0);

    // The first execution fails: its failure step releases the lease, and the restore can run again.
    const failed = await runStep(
      'restore-failed',
      { state: { prepared: first, error: { Error: 'InjectedFailure', Cause: 'x' } } },
      rt,
    );
    expect(failed).toMatchObject({ recorded: true, lease_released: true });
    expect(await store.head(key)).toBeUndefined();

    const p = (await runStep('restore-prepare', prepareEvent, rt)) as Prepared;
    const items = await itemsOf(p);
    const children: Child[] = [];
    for (const item of items) {
      const start = new Date();
      const r = (await runStep('restore-partition', { config_ref: p.config_ref, job: p.job, item }, rt)) as {
        done: boolean;
        written: { written: number }[];
      };
      expect(r.done).toBe(true);
      const input = { config_ref: p.config_ref, job: p.job, item };
      children.push({
        index: children.length,
        name: `child-${children.length}`,
        input,
        start,
        stop: new Date(),
        output: r,
      });
    }
    // What the RestorePartitions Map's ResultWriter would have stored for these iterations.
    const results = await putMapRunResults(bucketRoot, p.map.results.bucket, p.map.results.prefix, {
      mapRunId: 'lease-test',
      mapRunArn: 'arn:aws:states:us-east-1:123456789012:mapRun:local/RestorePartitions:lease-test',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:local',
      mapName: 'RestorePartitions',
      children,
    });
    // A worker of another execution's lease (here: a stale owner token) is refused, not let write.
    const stale = { ...p.job, lease: { owner: first.job.lease!.owner, ttl_ms: 60_000 } };
    await expect(
      runStep('restore-partition', { config_ref: p.config_ref, job: stale, item: items[0] }, rt),
    ).rejects.toBeInstanceOf(LeaseHeldError);
    const common = { config_ref: p.config_ref, job: p.job, results };
    const offsets = (await runStep('restore-map-offsets', { ...common, reset_offsets: false }, rt)) as {
      requested: boolean;
      groups: number;
    };
    expect(offsets).toMatchObject({ requested: false, groups: 0 });
    await runStep('restore-reset-groups', { config_ref: p.config_ref, job: p.job }, rt);
    expect(await store.head(key)).toBeDefined();
    const verify = common;
    const report = (await runStep('restore-verify', verify, rt)) as RestoreReport;
    expect(report.ok).toBe(true);
    expect(await store.head(key)).toBeUndefined();
    // A retry of VerifyRestore (e.g. its Lambda timed out after the release) verifies again.
    expect(((await runStep('restore-verify', verify, rt)) as RestoreReport).ok).toBe(true);
    await expectExactlyOnce(dr, target, manifest);
  });
});
