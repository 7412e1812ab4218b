// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these configs hold ${VAR} references, substituted by the engine
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateEvidenceKeyPair,
  keyFileVerifier,
  listEvidence,
  loadEvidence,
  verifyEvidence,
} from '../../lib/evidence/index.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import { Layout, type Manifest } from '../../lib/format/manifest.ts';
import { RestoreLayout, RestorePartitionState } from '../../lib/format/restore-state.ts';
import { validateBackup } from '../../lib/format/validate-backup.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { mapCommittedOffset, OriginHeader, type RestoreReport } from '../../lib/restore/index.ts';
import { S3Store } from '../../lib/storage/index.ts';
import { RestoreItem } from '../../lib/workflow/events.ts';
import { STEP_ENV, WorkflowLayout } from '../../lib/workflow/index.ts';
import { loadMapItems } from '../../lib/workflow/map-storage.ts';
import { consumeAsGroup, header } from '../support/consume.ts';
import { readMapRun } from '../support/distributed-map.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, drSettings, primarySettings, produce } from '../support/kafka-fixtures.ts';
import { captureEmf, groundBucket, LocalWorkflow } from '../support/local-workflow.ts';
import { synthWorkflows, type WorkflowName } from '../support/workflow-stack.ts';

// Local stand-ins for the two regions' buckets (see test/support/replicate.ts).
const west = (prefix: string) => ({
  backend: 's3',
  bucket: 'kafka-backups-primary',
  region: 'us-west-2',
  prefix,
  endpoint: ground().s3WestEndpoint,
});
const east = (prefix: string) => ({
  backend: 's3',
  bucket: 'kafka-backups-dr',
  region: 'us-east-1',
  prefix,
  endpoint: ground().s3Endpoint,
});
const storeOf = (s: ReturnType<typeof west>) =>
  new S3Store({ bucket: s.bucket, prefix: s.prefix, region: s.region, endpoint: s.endpoint });

/** The big partition is more than one fetch (8 MiB per partition): a worker stopping after one fetch loops. */
const P0_RECORDS = 9_000;
const P0_VALUE_BYTES = 1_100;
/** The many-offsets partition goes to the Fargate path (options.fargate_min_offsets below). */
const P1_RECORDS = 20_000;
const P2_RECORDS = 50;
const COMMITTED = [4_000, 12_345, 10];
/** Workers stop STEP_DEADLINE_MARGIN_MS (default 30 s) before the Lambda timeout: this leaves them 1 ms. */
const ONE_MS_PAST_MARGIN = 30_001;

interface EmfDoc extends Record<string, unknown> {
  _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
}
const metricDocs = (emf: Record<string, unknown>[], name: string) =>
  (emf as EmfDoc[]).filter((d) =>
    d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)),
  );

/** The partitions a BackupPartition call's item reads ranges of. */
const itemPartitions = (input: Record<string, unknown>) =>
  (input['item'] as { ranges: { partition: number }[] }).ranges.map((r) => r.partition);

/** Every topic of a cluster but the internal ones, with its partitions' end offsets: what a drill must not change. */
async function topicsAndEnds(cluster: KafkaCluster): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const t of await cluster.listTopics()) {
    if (t.startsWith('__')) continue;
    out.set(
      t,
      (await cluster.partitionOffsets(t)).map((o) => o.end),
    );
  }
  return out;
}

describe('serverless workflows, run locally against the real clusters and S3', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  let definitions: Record<WorkflowName, unknown>;
  const topic = uniqueName('wf-orders');
  const group = uniqueName('wf-order-service');
  const prefix = `${uniqueName('wf')}/us-west-2/hourly`;
  let firstBackup: { backup_id: string; stats: Manifest['stats'] };
  let failedOverAt = 0;

  beforeAll(async () => {
    // Handlers log through Powertools: keep the test output to warnings.
    process.env['POWERTOOLS_LOG_LEVEL'] = 'WARN';
    const started = Date.now();
    definitions = synthWorkflows().definitions;
    console.info(`synthesized the three workflows in ${Date.now() - started} ms`);
    await primary.describeCluster();
    await dr.describeCluster();
  }, 120_000);
  afterAll(async () => {
    await primary.close();
    await dr.close();
  });

  it('(a) backup: plan, a Lambda worker looping on its continuation, a Fargate item through the CLI, finalize', async () => {
    await createTopic(primary, { name: topic, partitions: 3 });
    for (let i = 0; i < P0_RECORDS; i += 500) {
      await produce(
        primary,
        topic,
        Array.from({ length: 500 }, (_, j) => ({
          key: buf(`k${i + j}`),
          value: randomBytes(P0_VALUE_BYTES),
          partition: 0,
        })),
      );
    }
    for (let i = 0; i < P1_RECORDS; i += 5_000) {
      await produce(
        primary,
        topic,
        Array.from({ length: 5_000 }, (_, j) => ({ key: null, value: buf(`p1-${i + j}`), partition: 1 })),
      );
    }
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

    const wf = new LocalWorkflow(definitions.backup);
    // The Lambda context leaves the worker 1 ms past its margin: every invocation stops after its first fetch.
    wf.remainingMs = ONE_MS_PAST_MARGIN;
    const input = {
      schedule: 'hourly',
      options: { fargate_min_offsets: 15_000 },
      config: {
        mode: 'backup',
        backup_id: 'primary-${TIMESTAMP}',
        source: { bootstrap_servers: [ground().primary], topics: { include: [topic] } },
        storage: west(prefix),
        backup: {
          compression: 'zstd',
          compression_level: 3,
          include_offset_headers: true,
          source_cluster_id: 'prod-us-west-2',
          consumer_groups: [group],
        },
      },
    };
    const { result, error, emf } = await captureEmf(() => wf.run(input));
    expect(error).toBeUndefined();
    const out = result as { backup_id: string; stats: Manifest['stats']; source_cluster_id: string };
    expect(out.backup_id).toMatch(/^primary-\d{8}-\d{6}$/);
    expect(out.stats.records).toBe(P0_RECORDS + P1_RECORDS + P2_RECORDS);
    firstBackup = out;

    // The continuation loop: p0 took several invocations, each one further, the last one done.
    const p0Calls = wf.callsOf('BackupPartition').filter((c) => itemPartitions(c.input).includes(0));
    const p0 = p0Calls.map((c) => c.output as { done: boolean; offsets_left: number });
    // Packed by bytes: p0's item may hold other small partitions too (each a range).
    const p0Ranges = (p0Calls[0]!.input['item'] as { ranges: unknown[] }).ranges.length;
    expect(p0.length).toBeGreaterThan(1);
    console.info(`backup: partition 0 took ${p0.length} worker invocations`);
    for (let i = 1; i < p0.length; i++) expect(p0[i]!.offsets_left).toBeLessThan(p0[i - 1]!.offsets_left);
    expect(p0.slice(0, -1).every((r) => !r.done)).toBe(true);
    expect(p0.at(-1)).toMatchObject({
      done: true,
      ranges: p0Ranges,
      ranges_done: p0Ranges,
      offsets_left: 0,
    });
    // p1 went to Fargate: the container command was the CLI's, with a pointer event, not data.
    const fargate = wf.callsOf('BackupPartitionOnFargate');
    expect(fargate).toHaveLength(1);
    const container = (
      fargate[0]!.input['Overrides'] as {
        ContainerOverrides: { Command: string[]; Environment: { Value: string }[] }[];
      }
    ).ContainerOverrides[0]!;
    expect(container.Command).toEqual(['step', 'backup-partition']);
    expect(container.Environment[0]!.Value.length).toBeLessThan(8 * 1024);
    expect(JSON.parse(container.Environment[0]!.Value)).toMatchObject({
      item: {
        ranges: [{ topic, partition: 1, from: 0, to: P1_RECORDS }],
        offsets: P1_RECORDS,
        runner: 'fargate',
      },
    });
    expect(fargate[0]!.output).toMatchObject({ Containers: [{ ExitCode: 0 }] });
    expect(wf.callsOf('BackupPartition').some((c) => itemPartitions(c.input).includes(1))).toBe(false);

    const store = storeOf(west(prefix));
    const manifest = await loadManifest(store, out.backup_id);
    expect(manifest.topics[0]!.partitions.map((p) => p.records)).toEqual([
      P0_RECORDS,
      P1_RECORDS,
      P2_RECORDS,
    ]);
    expect(manifest.consumer_groups).toMatchObject([
      { group_id: group, offsets: COMMITTED.map((offset, partition) => ({ topic, partition, offset })) },
    ]);
    expect((await validateBackup(store, out.backup_id, { deep: true })).ok).toBe(true);
    expect(await store.head(Layout.lease)).toBeUndefined();
    expect(await store.head(Layout.plan(out.backup_id))).toBeUndefined();
    expect(
      JSON.parse((await store.get(WorkflowLayout.backupConfig(out.backup_id))).toString()),
    ).toMatchObject({
      backup_id: out.backup_id,
    });
    // The items went through the bucket: PlanBackup stored them and returned a pointer, the Map read them there
    // (ItemReader) and wrote one result per item next to them (ResultWriter).
    const planned = wf.callsOf('PlanBackup')[0]!.output as {
      map: { items: { bucket: string; key: string }; results: { prefix: string }; count: number };
    };
    expect(planned.map.items).toEqual({
      bucket: 'kafka-backups-primary',
      key: `${prefix}/${WorkflowLayout.backupItems(out.backup_id)}`,
    });
    expect(planned).not.toHaveProperty('items');
    const items = JSON.parse(
      (await store.get(WorkflowLayout.backupItems(out.backup_id))).toString(),
    ) as unknown[];
    expect(items).toHaveLength(planned.map.count);
    const mapRun = wf.callsOf('BackupPartitions')[0]!.output as {
      ResultWriterDetails: { Bucket: string; Key: string };
    };
    expect(mapRun.ResultWriterDetails.Bucket).toBe('kafka-backups-primary');
    expect(mapRun.ResultWriterDetails.Key).toMatch(
      new RegExp(
        `^${prefix}/${WorkflowLayout.backupResultsPrefix(out.backup_id)}[0-9a-f-]{36}/manifest\\.json$`,
      ),
    );
    const bucketRoot = groundBucket('kafka-backups-primary');
    const run = await readMapRun(bucketRoot, mapRun.ResultWriterDetails.Key);
    expect(run.children.FAILED).toEqual([]);
    expect(run.children.SUCCEEDED.map((c) => JSON.parse(String(c['Input'])).item)).toEqual(items);
    bucketRoot.destroy?.();

    const succeeded = metricDocs(emf, 'kafka_backup_backups_total').filter((d) => d['Outcome'] === 'success');
    expect(succeeded.map((d) => [d['BackupId'], d['kafka_backup_backups_total']])).toContainEqual([
      out.backup_id,
      1,
    ]);
    const recorded = metricDocs(emf, 'kafka_backup_records_total').reduce(
      (n, d) => n + Number(d['kafka_backup_records_total']),
      0,
    );
    expect(recorded).toBe(P0_RECORDS + P1_RECORDS + P2_RECORDS);
    store.destroy();
  });

  it('(b) failover: newest fully replicated backup, validate, scale down, restore with continuations, groups moved, scale up, notify', async () => {
    // A second backup whose new segments have not replicated yet: failover must pass it over.
    await produce(primary, topic, [{ key: null, value: buf('after the first backup'), partition: 2 }]);
    const backup = new LocalWorkflow(definitions.backup);
    const second = (await backup.run({
      config: {
        mode: 'backup',
        backup_id: `${firstBackup.backup_id}-b`,
        source: { bootstrap_servers: [ground().primary], topics: { include: [topic] } },
        storage: west(prefix),
        backup: { source_cluster_id: 'prod-us-west-2', consumer_groups: [group] },
      },
    })) as { backup_id: string };
    const from = storeOf(west(prefix));
    const to = storeOf(east(prefix));
    const m1 = await loadManifest(from, firstBackup.backup_id);
    const m2 = await loadManifest(from, second.backup_id);
    const firstSegments = new Set(
      m1.topics.flatMap((t) => t.partitions.flatMap((p) => p.segments.map((s) => s.key))),
    );
    const lagging = m2.topics
      .flatMap((t) => t.partitions.flatMap((p) => p.segments.map((s) => s.key)))
      .filter((k) => !firstSegments.has(k));
    expect(lagging.length).toBeGreaterThan(0);
    for (const key of await from.list('')) if (!lagging.includes(key)) await to.put(key, await from.get(key));

    const wf = new LocalWorkflow(definitions.failover);
    wf.remainingMs = ONE_MS_PAST_MARGIN;
    const input = {
      validate: 'deep',
      hooks: {
        scale_down: {
          ecs_services: [{ cluster: 'apps', service: 'order-service' }],
          lambda_function: 'arn:aws:lambda:us-east-1:123456789012:function:stop-consumers',
        },
        scale_up: { ecs_services: [{ cluster: 'apps', service: 'order-service', desired_count: 3 }] },
      },
      config: {
        mode: 'restore',
        backup_id: '${BACKUP_ID}',
        target: { bootstrap_servers: [ground().dr] },
        storage: east(prefix),
        restore: {
          include_original_offset_header: true,
          consumer_group_strategy: 'header-based',
          reset_consumer_offsets: true,
          consumer_groups: [group],
        },
      },
    };
    const { result, error, emf } = await captureEmf(() => wf.run(input));
    expect(error).toBeUndefined();
    const report = result as RestoreReport;
    expect(report.ok).toBe(true);
    expect(report.backup_id).toBe(firstBackup.backup_id);
    expect(wf.callsOf('FindBackup')[0]!.output).toMatchObject({
      backup_id: firstBackup.backup_id,
      skipped: [{ backup_id: second.backup_id }],
    });
    expect(wf.callsOf('ValidateBackup')[0]!.output).toMatchObject({ ok: true, deep: true });

    // Each partition holds exactly the backup's records; p0 took several worker invocations.
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
    console.info(`failover: partition 0 took ${p0.length} restore worker invocations`);
    expect(p0.map((c) => (c.output as { done: boolean }).done)).toEqual([
      ...p0.slice(1).map(() => false),
      true,
    ]);
    expect(report.topics[0]!.partitions.map((p) => [p.restored, p.written_now])).toEqual([
      [P0_RECORDS, P0_RECORDS],
      [P1_RECORDS, P1_RECORDS],
      [P2_RECORDS, P2_RECORDS],
    ]);

    // The restore's items and results went through the bucket; MapOffsets and VerifyRestore got the Map Run's
    // manifest and read both from there (their results: what each partition wrote, as reported above).
    const prepared = wf.callsOf('PrepareRestore')[0]!.output as {
      map: { items: { key: string }; count: number };
    };
    expect(prepared).not.toHaveProperty('items');
    const store = storeOf(east(prefix));
    // The three small partitions share one item: one invocation loop, each partition written by it alone.
    expect(prepared.map).toMatchObject({
      items: { key: `${prefix}/${WorkflowLayout.restoreItems(report.restore_id)}` },
      count: 1,
    });
    const [item] = await loadMapItems(store, WorkflowLayout.restoreItems(report.restore_id), RestoreItem);
    expect(item!.works.map((w) => [w.target_topic, w.target_partition])).toEqual([
      [topic, 0],
      [topic, 1],
      [topic, 2],
    ]);
    const mapRun = wf.callsOf('RestorePartitions')[0]!.output;
    for (const step of ['MapOffsets', 'VerifyRestore']) {
      const event = wf.callsOf(step)[0]!.input;
      expect(event['results']).toEqual(mapRun);
      expect(event).not.toHaveProperty('items');
    }
    // Groups: committed on DR where the manifest's source offsets map to, and a real consumer resumes there.
    const partitions = await Promise.all(
      [0, 1, 2].map(async (p) =>
        RestorePartitionState.parse(
          JSON.parse((await store.get(RestoreLayout.partition(report.restore_id, topic, p))).toString()),
        ),
      ),
    );
    const committedOnDr = new Map((await dr.committedOffsets(group)).map((o) => [o.partition, o.offset]));
    for (const o of m1.consumer_groups[0]!.offsets) {
      const s = partitions[o.partition]!;
      expect(committedOnDr.get(o.partition)).toBe(
        mapCommittedOffset(s.mappings[0]!.runs, o.offset, s.base_offset + s.restored_records),
      );
    }
    const got = await consumeAsGroup(dr, group, topic, { perPartition: 1, partitions: 3 });
    for (const [p, offset] of COMMITTED.entries())
      expect(header(got.get(p)![0]!, OriginHeader.offset), `partition ${p}`).toBe(String(offset));
    expect(report.consumer_groups.map((g) => [g.group_id, g.status])).toEqual([[group, 'reset']]);
    // The moves travel through the restore's folder, not the execution state: the steps' outputs count them.
    const moves = report.consumer_groups[0]!.moves.length;
    expect(moves).toBe(3);
    expect(wf.callsOf('MapOffsets')[0]!.output).toEqual({ requested: true, groups: 1, moves, blocked: [] });
    expect(wf.callsOf('ResetConsumerGroups')[0]!.output).toMatchObject({
      groups: [{ group_id: group, status: 'reset', moves, problem: null }],
    });
    expect(wf.callsOf('ResetConsumerGroups')[0]!.input).not.toHaveProperty('plans');

    // Hooks in the seed's order: scale down before writing, scale up after verifying; then the notification.
    const order = wf.calls.map((c) => c.state);
    const at = (s: string) => order.indexOf(s);
    expect(wf.callsOf('ScaleDownEcsService')[0]!.input).toMatchObject({
      Cluster: 'apps',
      Service: 'order-service',
      DesiredCount: 0,
    });
    expect(wf.callsOf('ScaleDownFunction')[0]!.input).toMatchObject({
      FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:stop-consumers',
      Payload: { phase: 'scale_down', workflow: 'failover' },
    });
    expect(wf.callsOf('ScaleUpEcsService')[0]!.input).toMatchObject({ DesiredCount: 3 });
    expect(at('ScaleDownEcsService')).toBeLessThan(at('PrepareRestore'));
    expect(order.lastIndexOf('VerifyRestore')).toBeLessThan(at('ScaleUpEcsService'));
    expect(wf.callsOf('ScaleUpFunction')).toHaveLength(0);
    expect(wf.callsOf('NotifySuccess')[0]!.input).toMatchObject({
      Message: { workflow: 'failover', outcome: 'succeeded', backup_id: firstBackup.backup_id },
    });
    expect(
      metricDocs(emf, 'kafka_backup_restores_total').some(
        (d) => d['Outcome'] === 'success' && d['BackupId'] === firstBackup.backup_id,
      ),
    ).toBe(true);
    from.destroy();
    to.destroy();
    store.destroy();
    failedOverAt = Date.now();
  });

  describe('(e) the DR drill workflow on the failover location', () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'wf-drill-key-'));
    let key: ReturnType<typeof generateEvidenceKeyPair>;
    const drill = (extra: Record<string, unknown> = {}) => ({
      drill: {
        kind: 'backup',
        namespace: 'wf-drill',
        config: {
          mode: 'restore',
          backup_id: 'latest',
          target: { bootstrap_servers: [ground().dr] },
          storage: east(prefix),
        },
        topics: { include: [topic] },
        source_cluster_id: 'prod-us-west-2',
        ...extra,
      },
    });
    beforeAll(() => {
      // What the stack's KMS key is in AWS: the drill step signs with a key file outside it.
      key = generateEvidenceKeyPair(join(keyDir, 'drill'));
      process.env[STEP_ENV.evidenceKeyFile] = key.privatePath;
    });
    afterAll(() => {
      delete process.env[STEP_ENV.evidenceKeyFile];
      rmSync(keyDir, { recursive: true, force: true });
    });

    it('restores the newest complete backup into its scratch namespace, verifies, signs evidence, touches nothing else', async () => {
      expect(failedOverAt).toBeGreaterThan(0);
      const before = await topicsAndEnds(dr);
      const committedBefore = await dr.committedOffsets(group);
      const wf = new LocalWorkflow(definitions.drill);
      const { result, error, emf } = await captureEmf(() =>
        wf.run({ ...drill(), trigger: { via: 'workflow', principal: 'test' } }),
      );
      expect(error).toBeUndefined();
      const out = result as {
        ok: boolean;
        evidence_id: string;
        scratch_prefix: string;
        backup_id: string;
        rpo_seconds: number;
        rto_seconds: number;
        checks: { name: string; ok: boolean }[];
      };
      expect(out.ok).toBe(true);
      expect(out.backup_id).toBe(firstBackup.backup_id);
      expect(out.checks.every((c) => c.ok)).toBe(true);
      expect(out.rpo_seconds).toBeGreaterThan(0);
      expect(out.rto_seconds).toBeGreaterThan(0);
      // The prefix the state machine made from the execution's name (a UUID here) is the one the drill used.
      expect(wf.callsOf('RunDrill')[0]!.input['scratch_prefix']).toMatch(/^wf-drill-[0-9a-f-]{36}\.$/);
      expect(wf.callsOf('RunDrill')[0]!.input['scratch_prefix']).toBe(out.scratch_prefix);
      expect(wf.callsOf('CleanUpDrill')).toHaveLength(0);
      const restored = (await loadEvidence(storeOf(east(prefix)), out.evidence_id)).report.restored.topics;
      expect(restored.map((t) => t.target_topic)).toEqual([`${out.scratch_prefix}${topic}`]);

      // The evidence is in the DR location and verifies with the drill's key; an edit of it does not.
      const store = storeOf(east(prefix));
      const listed = await listEvidence(store);
      expect(listed.find((e) => e.id === out.evidence_id)).toMatchObject({
        ok: true,
        kind: 'backup',
        signed: true,
      });
      const verified = await verifyEvidence(store, out.evidence_id, keyFileVerifier(key.publicPath));
      expect(verified.problems).toEqual([]);
      expect(verified.report).toMatchObject({
        ok: true,
        triggered_by: {
          via: 'workflow',
          principal: 'test',
          execution: expect.stringMatching(/^arn:aws:states:/),
        },
        restored: {
          backup_id: firstBackup.backup_id,
          namespace: out.scratch_prefix,
          records: P0_RECORDS + P1_RECORDS + P2_RECORDS,
        },
        versions: { source_cluster_id: 'prod-us-west-2' },
      });
      expect(verified.report!.checks.map((c) => [c.name, c.ok])).toEqual([
        ['restore completed', true],
        ['counts and SHA-256 of keys and values', true],
        ['consumer-group resume points', true],
      ]);

      // The DR cluster: every other topic as it was, the scratch topics gone, the group not moved.
      const after = await topicsAndEnds(dr);
      expect([...after.keys()].filter((t) => t.startsWith(out.scratch_prefix))).toEqual([]);
      expect(after).toEqual(before);
      expect(await dr.committedOffsets(group)).toEqual(committedBefore);

      // Metrics: the verdict, RPO and RTO, and DR readiness, under the source cluster.
      const passed = metricDocs(emf, 'kafka_backup_drill_passed');
      expect(passed.map((d) => [d['SourceClusterId'], d['kafka_backup_drill_passed']])).toEqual([
        ['prod-us-west-2', 1],
      ]);
      expect(passed[0]!['kafka_backup_drill_rpo_seconds']).toBe(out.rpo_seconds);
      expect(passed[0]!['kafka_backup_drill_rto_seconds']).toBe(out.rto_seconds);
      expect(metricDocs(emf, 'kafka_backup_dr_ready').map((d) => d['kafka_backup_dr_ready'])).toEqual([1]);

      const md = `evidence/${out.evidence_id}/report.md`;
      await store.put(md, (await store.get(md)).toString().replace('PASSED', 'PASSED!'));
      const edited = await verifyEvidence(store, out.evidence_id, keyFileVerifier(key.publicPath));
      expect(edited.ok).toBe(false);
      expect(edited.problems).toEqual([expect.stringMatching(/report\.md was changed after signing/)]);
      store.destroy();
    });

    it('a drill whose check fails stores its (signed) evidence and fails the execution with DrillFailed', async () => {
      const before = await topicsAndEnds(dr);
      const wf = new LocalWorkflow(definitions.drill);
      const { error, emf } = await captureEmf(() =>
        wf.run(drill({ topics: { include: ['no-such-topic-*'], exclude: [] } })),
      );
      expect((error as Error | undefined)?.name).toBe('ExecutionError');
      expect(((error as Error).cause as Error).name).toBe('DrillFailed');
      const out = wf.callsOf('RunDrill')[0]!.output as {
        ok: boolean;
        evidence_id: string;
        failed_steps: { detail: string }[];
      };
      expect(out.ok).toBe(false);
      expect(out.failed_steps.map((s) => s.detail).join(' ')).toMatch(/matches the drill's topic selection/);
      expect(wf.callsOf('NotifyDrillFailed')[0]!.input).toMatchObject({
        Message: { workflow: 'drill', outcome: 'failed', evidence_id: out.evidence_id, error: 'DrillFailed' },
      });
      const store = storeOf(east(prefix));
      const v = await verifyEvidence(store, out.evidence_id, keyFileVerifier(key.publicPath));
      expect(v.problems).toEqual([]);
      expect(v.report!.ok).toBe(false);
      expect(metricDocs(emf, 'kafka_backup_drill_passed').map((d) => d['kafka_backup_drill_passed'])).toEqual(
        [0],
      );
      expect(await topicsAndEnds(dr)).toEqual(before);
      store.destroy();
    });

    it('after a drill that never returned (a Lambda timeout), CleanUpDrill deletes its scratch topics and only those', async () => {
      const before = await topicsAndEnds(dr);
      // Outside the namespace but sharing its start: must survive.
      const neighbour = await createTopic(dr, { name: uniqueName('wf-drill-neighbour'), partitions: 1 });
      await produce(dr, neighbour, [{ key: null, value: buf('keep me'), partition: 0 }]);
      const wf = new LocalWorkflow(definitions.drill);
      let prefixOfRun = '';
      wf.inject = async (state, input) => {
        if (state !== 'RunDrill') return;
        // What a drill that timed out half-way leaves: restored topics under its prefix.
        prefixOfRun = String(input['scratch_prefix']);
        for (const t of ['orders', 'payments']) {
          await createTopic(dr, { name: `${prefixOfRun}${t}`, partitions: 2 });
          await produce(dr, `${prefixOfRun}${t}`, [{ key: null, value: buf('restored'), partition: 0 }]);
        }
        throw Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
      };
      const { error, emf } = await captureEmf(() => wf.run(drill()));
      expect(((error as Error).cause as Error).name).toBe('Sandbox.Timedout');
      const cleanup = wf.callsOf('CleanUpDrill');
      expect(cleanup).toHaveLength(1);
      expect(cleanup[0]!.input['scratch_prefix']).toBe(prefixOfRun);
      expect(cleanup[0]!.output).toEqual({
        scratch_prefix: prefixOfRun,
        deleted: { target: [`${prefixOfRun}orders`, `${prefixOfRun}payments`], source: [] },
      });
      expect(wf.callsOf('NotifyFailure')[0]!.input).toMatchObject({
        Message: { workflow: 'drill', outcome: 'failed', error: { Error: 'Sandbox.Timedout' } },
      });
      const after = await topicsAndEnds(dr);
      expect(after.get(neighbour)).toEqual([1]);
      after.delete(neighbour);
      expect(after).toEqual(before);
      // No evidence (the drill never finished): the failure is counted by the clean-up.
      expect(
        metricDocs(emf, 'kafka_backup_drill_passed').map((d) => [
          d['SourceClusterId'],
          d['kafka_backup_drill_passed'],
        ]),
      ).toEqual([['prod-us-west-2', 0]]);
      await dr.deleteTopics([neighbour]);
    });

    it('a synthetic drill: its test topic and group under the scratch prefix on both clusters, gone afterwards', async () => {
      const drillPrefix = `${uniqueName('wf-synthetic')}/us-east-1`;
      const beforeDr = await topicsAndEnds(dr);
      const beforePrimary = await topicsAndEnds(primary);
      const wf = new LocalWorkflow(definitions.drill);
      const { result, error, emf } = await captureEmf(() =>
        wf.run({
          drill: {
            kind: 'synthetic',
            namespace: 'wf-synthetic',
            config: {
              mode: 'restore',
              backup_id: 'latest',
              target: { bootstrap_servers: [ground().dr] },
              storage: east(drillPrefix),
            },
            source_config: {
              mode: 'backup',
              backup_id: 'drill-${TIMESTAMP}',
              source: { bootstrap_servers: [ground().primary], topics: { include: ['*'] } },
              // The primary's bucket, as the KafkaBackup spec names it: the drill backs up into the DR location.
              storage: west(drillPrefix),
            },
            source_cluster_id: 'prod-us-west-2',
            synthetic: { records: 600, record_size: 200, partitions: 2 },
          },
        }),
      );
      expect(error).toBeUndefined();
      const out = result as { ok: boolean; kind: string; evidence_id: string; scratch_prefix: string };
      expect(out).toMatchObject({ ok: true, kind: 'synthetic' });
      const store = storeOf(east(drillPrefix));
      const v = await verifyEvidence(store, out.evidence_id, keyFileVerifier(key.publicPath));
      expect(v.problems).toEqual([]);
      expect(v.report!.restored.topics.map((t) => t.target_topic)).toEqual([`${out.scratch_prefix}dr-test`]);
      expect(v.report!.checks.every((c) => c.ok)).toBe(true);
      // Made under the prefix on both clusters, removed from both; the test backup too (its _drills location).
      expect(await topicsAndEnds(dr)).toEqual(beforeDr);
      expect(await topicsAndEnds(primary)).toEqual(beforePrimary);
      for (const cluster of [primary, dr])
        expect(await cluster.committedOffsets(`${out.scratch_prefix}dr-drill`)).toEqual([]);
      expect(await store.list('_drills/backups/')).toEqual([]);
      expect(await storeOf(west(drillPrefix)).list('')).toEqual([]);
      expect(metricDocs(emf, 'kafka_backup_drill_passed').map((d) => d['kafka_backup_drill_passed'])).toEqual(
        [1],
      );
      store.destroy();
    });

    it('refuses to run without a key to sign with, before touching Kafka', async () => {
      const saved = process.env[STEP_ENV.evidenceKeyFile];
      delete process.env[STEP_ENV.evidenceKeyFile];
      try {
        const wf = new LocalWorkflow(definitions.drill);
        const { error } = await captureEmf(() => wf.run(drill()));
        expect(((error as Error).cause as Error).name).toBe('ConfigError');
        expect(wf.callsOf('RunDrill')[0]!.error).toBe('ConfigError');
      } finally {
        process.env[STEP_ENV.evidenceKeyFile] = saved;
      }
    });
  });

  it('(d) failback: back up the DR cluster, restore only what was written since the failover, groups by time', async () => {
    expect(failedOverAt).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 20));
    // Written on DR while it was the primary.
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
    const drPrefix = `${uniqueName('wf-failback')}/us-east-1/dr`;
    const wf = new LocalWorkflow(definitions.failback);
    const { result, error } = await captureEmf(() =>
      wf.run({
        backup_config: {
          mode: 'backup',
          backup_id: 'dr-${TIMESTAMP}',
          source: { bootstrap_servers: [ground().dr], topics: { include: [topic] } },
          storage: east(drPrefix),
          backup: { source_cluster_id: 'dr-us-east-1', consumer_groups: [group] },
        },
        restore_config: {
          mode: 'restore',
          backup_id: 'latest',
          target: { bootstrap_servers: [ground().primary] },
          storage: east(drPrefix),
          restore: { start_time: failedOverAt, consumer_groups: [group] },
        },
      }),
    );
    expect(error).toBeUndefined();
    const report = result as RestoreReport;
    expect(report.ok).toBe(true);
    expect(report.window.start_time).toBe(failedOverAt);
    expect(report.topics[0]!.partitions.map((p) => [p.backup_records, p.restored])).toEqual([
      [P0_RECORDS + delta, delta],
      [P1_RECORDS + delta, delta],
      [P2_RECORDS + delta, delta],
    ]);
    expect(wf.callsOf('CheckPrimary')[0]!.output).toMatchObject({ brokers: 1 });
    // Only the delta reached the primary, after what it held; the group resumes at its first record.
    expect((await primary.partitionOffsets(topic)).map((o) => o.end)).toEqual(
      primaryEnds.map((e) => e + delta),
    );
    expect(report.consumer_groups.map((g) => [g.group_id, g.status])).toEqual([[group, 'reset']]);
    const got = await consumeAsGroup(primary, group, topic, { perPartition: delta, partitions: 3 });
    for (const p of [0, 1, 2]) {
      expect(got.get(p)!.map((r) => r.value!.toString())).toEqual(
        Array.from({ length: delta }, (_, i) => `dr-new-${p}-${i}`),
      );
      expect(got.get(p)![0]!.offset).toBe(primaryEnds[p]);
    }
  });

  it('(c) an injected worker failure ends on the failure path: failure metric, lease released, failed execution', async () => {
    const small = await createTopic(primary, { prefix: 'wf-fail', partitions: 1 });
    await produce(primary, small, [{ key: null, value: buf('a'), partition: 0 }]);
    const failPrefix = uniqueName('wf-fail');
    const wf = new LocalWorkflow(definitions.backup);
    wf.inject = (state, input) => {
      if (state === 'BackupPartition' && itemPartitions(input).includes(0))
        throw Object.assign(new Error('injected: the worker crashed'), { name: 'InjectedWorkerFailure' });
    };
    const { error, emf } = await captureEmf(() =>
      wf.run({
        config: {
          mode: 'backup',
          backup_id: 'fail-${TIMESTAMP}',
          source: { bootstrap_servers: [ground().primary], topics: { include: [small] } },
          storage: west(failPrefix),
          backup: { source_cluster_id: 'prod-us-west-2' },
        },
      }),
    );
    expect((error as Error | undefined)?.name).toBe('ExecutionError');
    // As in AWS: a failed child execution fails the Map Run (no failure tolerated), which the Map's Catch takes.
    expect(((error as Error).cause as Error).name).toBe('States.ExceedToleratedFailureThreshold');
    const backupId = (wf.callsOf('PlanBackup')[0]!.output as { backup_id: string }).backup_id;
    // The results name the child that failed and why.
    const mapRun = wf.callsOf('BackupPartitions')[0]!;
    expect(mapRun.error).toBe('States.ExceedToleratedFailureThreshold');
    const bucketRoot = groundBucket('kafka-backups-primary');
    const results = await bucketRoot.list(`${failPrefix}/${WorkflowLayout.backupResultsPrefix(backupId)}`);
    const manifestKey = results.find((k) => k.endsWith('/manifest.json'))!;
    const run = await readMapRun(bucketRoot, manifestKey);
    expect(run.children.FAILED.map((c) => [c['Status'], c['Error'], c['Cause']])).toEqual([
      ['FAILED', 'InjectedWorkerFailure', 'injected: the worker crashed'],
    ]);
    bucketRoot.destroy?.();
    expect(wf.callsOf('FinalizeBackup')).toHaveLength(0);
    expect(wf.callsOf('RecordBackupFailure')[0]!.output).toEqual({
      backup_id: backupId,
      recorded: true,
      lease_released: true,
    });
    expect(wf.callsOf('NotifyFailure')[0]!.input).toMatchObject({
      Message: {
        workflow: 'backup',
        outcome: 'failed',
        error: { Error: 'States.ExceedToleratedFailureThreshold' },
      },
    });
    const failed = metricDocs(emf, 'kafka_backup_backups_total').filter((d) => d['Outcome'] === 'failure');
    expect(failed.map((d) => [d['BackupId'], d['SourceClusterId'], d['kafka_backup_backups_total']])).toEqual(
      [[backupId, 'prod-us-west-2', 1]],
    );
    const store = storeOf(west(failPrefix));
    expect(await store.head(Layout.lease)).toBeUndefined();
    expect(await store.head(Layout.manifest(backupId))).toBeUndefined();
    store.destroy();
  });
  it('(f) failover of a backup without consumer groups: nothing to reset is no error, and the report says so', async () => {
    // A topic no consumer has read: the backup records no group offsets, and the restore config names none.
    const quiet = await createTopic(primary, { prefix: 'wf-nogroups', partitions: 2 });
    await produce(
      primary,
      quiet,
      Array.from({ length: 10 }, (_, i) => ({ key: null, value: buf(`v${i}`), partition: i % 2 })),
    );
    const quietPrefix = `${uniqueName('wf-nogroups')}/us-west-2/hourly`;
    const backed = (await new LocalWorkflow(definitions.backup).run({
      config: {
        mode: 'backup',
        backup_id: 'nogroups-${TIMESTAMP}',
        source: { bootstrap_servers: [ground().primary], topics: { include: [quiet] } },
        storage: west(quietPrefix),
        backup: { source_cluster_id: 'prod-us-west-2' },
      },
    })) as { backup_id: string };
    const from = storeOf(west(quietPrefix));
    expect((await loadManifest(from, backed.backup_id)).consumer_groups).toEqual([]);
    const to = storeOf(east(quietPrefix));
    for (const key of await from.list('')) await to.put(key, await from.get(key));
    from.destroy();
    to.destroy();

    const wf = new LocalWorkflow(definitions.failover);
    const { result, error } = await captureEmf(() =>
      wf.run({
        config: {
          mode: 'restore',
          backup_id: '${BACKUP_ID}',
          target: { bootstrap_servers: [ground().dr] },
          storage: east(quietPrefix),
          restore: { topic_mapping: { [quiet]: `${quiet}-dr` } },
        },
      }),
    );
    expect(error).toBeUndefined();
    const report = result as RestoreReport;
    expect(report.ok).toBe(true);
    expect(report.topics[0]!.partitions.map((p) => p.restored)).toEqual([5, 5]);
    expect(report.consumer_groups).toEqual([]);
    expect(report.consumer_groups_note).toBe(
      `nothing to reset: backup ${backed.backup_id} recorded no consumer group offsets and restore.consumer_groups names none`,
    );
    expect(wf.callsOf('MapOffsets')[0]!.output).toEqual({
      requested: true,
      groups: 0,
      moves: 0,
      blocked: [],
    });
    expect(wf.callsOf('ResetConsumerGroups')[0]!.output).toEqual({
      summary: { reset: 0, unchanged: 0, skipped: 0, failed: 0 },
      groups: [],
      groups_omitted: 0,
    });
    expect(wf.callsOf('NotifySuccess')[0]!.input).toMatchObject({
      Message: { workflow: 'failover', outcome: 'succeeded', backup_id: backed.backup_id },
    });
  });
});
