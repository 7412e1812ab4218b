// The 10,000-partition set (`npm run bench -- --sets partitions`): small data over many partitions, where what
// counts is planning and fan-out, not throughput. On the bench's ground: TOPICS topics of PER_TOPIC partitions, one
// small record per partition; then
//   1. the backup-plan step alone, as `kafka-backup step backup-plan` (what its Lambda function runs), measured as a
//      child process: plan time, peak RSS, the size of its output (the state), the item count;
//   2. a CLI backup (`kafka-backup backup`) of the same topics, measured: wall time, peak RSS;
//   3. the backup workflow run locally end to end (test/support/local-workflow.ts: aws-local-stepfunctions, the Map
//      as a Map Run with its items and results in S3, every Task bound to the real handler in this process):
//      wall time, worker invocations, records in the manifest;
//   4. the failover workflow, the same way, restoring that backup into `dr` and moving a consumer group committed
//      on every partition: wall time, items, worker invocations, the size of its output (the report, abridged past
//      64 KiB), records on the target, groups moved.
// Everything goes to the ground's S3 (kafka-backup-test, us-east-1) under the run's prefix, removed afterwards.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdempotentWriter, KafkaCluster } from '../lib/kafka/index.ts';
import { LocalWorkflow } from '../test/support/local-workflow.ts';
import { synthWorkflows } from '../test/support/workflow-stack.ts';
import type { GroundEndpoints } from '../tools/ground/settings.ts';
import type { Measured } from './measure.ts';

export interface PartitionsResult {
  topics: number;
  partitions: number;
  records: number;
  setup_s: number;
  plan: {
    wall_s: number;
    peak_rss_mb: number | null;
    items: number;
    output_bytes: number;
    state_limit_bytes: number;
  };
  workflow: {
    wall_s: number;
    worker_invocations: number;
    fargate_tasks: number;
    map_items: number;
    records: number;
    bench_process_peak_rss_mb: number;
  };
  cli: { wall_s: number; peak_rss_mb: number | null; records: number };
  failover: {
    wall_s: number;
    map_items: number;
    worker_invocations: number;
    output_bytes: number;
    abridged: boolean;
    records_on_target: number;
    groups_reset: number;
    group_moves: number;
    ok: boolean;
  };
}

const STATE_LIMIT = 256 * 1024;

export async function benchPartitions(ctx: {
  e: GroundEndpoints;
  env: Record<string, string>;
  workDir: string;
  prefix: string;
  scale: number;
  log: (m: string) => void;
  runCli: (argv: string[]) => Promise<Measured>;
}): Promise<PartitionsResult> {
  const { e, log } = ctx;
  const topicsCount = 20;
  const perTopic = Math.max(1, Math.round(500 * ctx.scale));
  const topics = Array.from({ length: topicsCount }, (_, i) => `bench-parts-${String(i).padStart(2, '0')}`);
  const cluster = new KafkaCluster({ bootstrap_servers: [e.primaryBootstrap] }, 'bench-partitions');
  const dr = new KafkaCluster({ bootstrap_servers: [e.drBootstrap] }, 'bench-partitions-dr');
  const group = 'bench-parts-group';
  const storage = (what: string) => ({
    backend: 's3',
    bucket: 'kafka-backup-test',
    region: 'us-east-1',
    prefix: `${ctx.prefix}/${what}`,
    endpoint: e.s3Endpoint,
  });
  const config = (id: string, what: string) => ({
    mode: 'backup',
    backup_id: id,
    source: { bootstrap_servers: [e.primaryBootstrap], topics: { include: ['bench-parts-*'] } },
    storage: storage(what),
  });
  const t0 = Date.now();
  try {
    await cluster.deleteTopics(topics).catch(() => undefined);
    await dr.deleteTopics(topics).catch(() => undefined);
    await dr.deleteGroups([group]).catch(() => undefined);
    log(`  ${topicsCount} topics x ${perTopic} partitions, one record each`);
    for (const name of topics) {
      for (let attempt = 1; ; attempt++) {
        try {
          await cluster.createTopic({ name, partitions: perTopic, replicationFactor: 1, configs: {} });
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 2000 * attempt));
        }
      }
    }
    // A broker busy creating thousands of partitions answers UNKNOWN_TOPIC_OR_PARTITION for a while: wait until
    // every topic's partitions have leaders before timing anything.
    for (const name of topics) {
      for (let attempt = 1; ; attempt++) {
        const known = await cluster.partitionOffsets(name).then(
          (o) => o.length,
          () => 0,
        );
        if (known === perTopic) break;
        if (attempt >= 60)
          throw new Error(`${name}: ${known} of ${perTopic} partitions known after 2 minutes`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    const writer = new IdempotentWriter(cluster, { codec: 'none' });
    try {
      for (const name of topics)
        await Promise.all(
          Array.from({ length: perTopic }, (_, p) =>
            writer.write(name, p, [
              {
                key: Buffer.from(`k${p}`),
                value: Buffer.alloc(100, 97),
                headers: [],
                timestamp: Date.now(),
              },
            ]),
          ),
        );
    } finally {
      await writer.close();
    }
    // A consumer group that has read every partition: the failover moves it on the target, a move per partition.
    for (const name of topics)
      await cluster.setCommittedOffsets(
        group,
        name,
        Array.from({ length: perTopic }, (_, p) => ({ partition: p, offset: 1 })),
      );
    const partitions = topicsCount * perTopic;
    const setup_s = (Date.now() - t0) / 1000;

    // 1. The plan step alone, in a child process: what its Lambda function holds in memory, and what it returns.
    log('  backup-plan step (kafka-backup step backup-plan)');
    const eventFile = join(ctx.workDir, 'partitions-plan-event.json');
    writeFileSync(
      eventFile,
      JSON.stringify({ config: config('bench-parts-plan', 'plan'), schedule: 'bench' }),
    );
    const plan = await ctx.runCli(['step', 'backup-plan', '--event', eventFile]);
    const planOut = JSON.parse(plan.stdout) as { map?: { count: number }; items?: unknown[] };
    const items = planOut.map?.count ?? planOut.items?.length ?? 0;
    log(
      `  plan step: ${plan.wall_s} s, peak RSS ${plan.peak_rss_mb} MiB, ${items} items, output ${Buffer.byteLength(plan.stdout.trim())} B`,
    );

    // 2. The CLI (before the workflow, the longer run: one invocation per item until items are packed).
    log('  CLI backup (kafka-backup backup)');
    const cliConfig = join(ctx.workDir, 'partitions-cli.json');
    writeFileSync(cliConfig, JSON.stringify(config('bench-parts-cli', 'cli')));
    const cli = await ctx.runCli(['backup', '--config', cliConfig, '--format', 'json']);
    const cliOut = JSON.parse(cli.stdout) as { stats: { records: number } };
    // With BENCH_MEM_TRACE=1 the child logs its memory every 500 ms: kept beside the results, to tell what grows.
    const trace = cli.stderr.split('\n').filter((l) => l.startsWith('[mem]'));
    if (trace.length > 0) writeFileSync(join(ctx.workDir, 'partitions-cli-mem.txt'), `${trace.join('\n')}\n`);

    log(`  CLI backup: ${cli.wall_s} s, peak RSS ${cli.peak_rss_mb} MiB, ${cliOut.stats.records} records`);
    // 3. The workflow, locally end to end, in this process.
    log('  backup workflow (local: aws-local-stepfunctions, Map Run with items and results in S3)');
    Object.assign(process.env, ctx.env, { POWERTOOLS_LOG_LEVEL: 'WARN' });
    const wf = new LocalWorkflow(synthWorkflows().definitions.backup);
    const w0 = Date.now();
    const out = (await wf.run({ config: config('bench-parts-wf', 'workflow'), schedule: 'bench' })) as {
      stats: { records: number };
    };
    const workflow = {
      wall_s: (Date.now() - w0) / 1000,
      worker_invocations: wf.callsOf('BackupPartition').length,
      fargate_tasks: wf.callsOf('BackupPartitionOnFargate').length,
      map_items: (wf.callsOf('PlanBackup')[0]?.output as { map?: { count: number } })?.map?.count ?? 0,
      records: out.stats.records,
      bench_process_peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };

    log(
      `  backup workflow: ${workflow.wall_s} s, ${workflow.worker_invocations} worker invocations, ${workflow.records} records`,
    );

    // 4. Failover of the workflow's backup into dr, locally end to end, the group moved.
    log('  failover workflow (local, restoring the workflow backup into dr)');
    const fo = new LocalWorkflow(synthWorkflows().definitions.failover);
    const f0 = Date.now();
    const report = (await fo.run({
      validate: 'shallow',
      config: {
        mode: 'restore',
        backup_id: 'latest',
        target: { bootstrap_servers: [e.drBootstrap] },
        storage: storage('workflow'),
        restore: { reset_consumer_offsets: true, consumer_groups: [group] },
      },
    })) as { ok: boolean; abridged?: unknown };
    const failoverWall = (Date.now() - f0) / 1000;
    let onTarget = 0;
    for (const name of topics)
      for (const o of await dr.partitionOffsets(name)) onTarget += o.end - o.logStart;
    const reset = fo.callsOf('ResetConsumerGroups')[0]?.output as {
      summary: { reset: number };
      groups: { moves: number }[];
    };
    const failover = {
      wall_s: failoverWall,
      map_items: (fo.callsOf('PrepareRestore')[0]?.output as { map?: { count: number } })?.map?.count ?? 0,
      worker_invocations: fo.callsOf('RestorePartition').length,
      output_bytes: Buffer.byteLength(JSON.stringify(report)),
      abridged: report.abridged !== undefined,
      records_on_target: onTarget,
      groups_reset: reset.summary.reset,
      group_moves: reset.groups.reduce((n, g) => n + g.moves, 0),
      ok: report.ok,
    };
    log(
      `  failover workflow: ${failover.wall_s} s, ${failover.map_items} items, ${failover.worker_invocations} worker invocations, output ${failover.output_bytes} B${failover.abridged ? ' (abridged)' : ''}, ${failover.records_on_target} records on dr, ${failover.groups_reset} group reset with ${failover.group_moves} moves`,
    );
    if (!failover.ok) throw new Error('the failover report is not ok');

    for (const [what, n] of [
      ['workflow', workflow.records],
      ['CLI', cliOut.stats.records],
      ['failover', failover.records_on_target],
    ] as const)
      if (n !== partitions) throw new Error(`the ${what} backup holds ${n} records, expected ${partitions}`);
    return {
      topics: topicsCount,
      partitions,
      records: partitions,
      setup_s: Math.round(setup_s),
      plan: {
        wall_s: plan.wall_s,
        peak_rss_mb: plan.peak_rss_mb,
        items,
        output_bytes: Buffer.byteLength(plan.stdout.trim()),
        state_limit_bytes: STATE_LIMIT,
      },
      workflow,
      cli: { wall_s: cli.wall_s, peak_rss_mb: cli.peak_rss_mb, records: cliOut.stats.records },
      failover,
    };
  } finally {
    await cluster.deleteTopics(topics).catch(() => undefined);
    await dr.deleteTopics(topics).catch(() => undefined);
    await cluster.close();
    await dr.close();
  }
}

export function renderPartitions(r: PartitionsResult): string[] {
  return [
    `partitions set: ${r.topics} topics x ${r.partitions / r.topics} partitions = ${r.partitions} partitions, ${r.records} records (set up in ${r.setup_s} s)`,
    `  plan step (child process): ${r.plan.wall_s} s, peak RSS ${r.plan.peak_rss_mb} MiB, ${r.plan.items} items, output ${r.plan.output_bytes} B (state limit ${r.plan.state_limit_bytes} B)`,
    `  backup workflow (local, in-process): ${r.workflow.wall_s} s, ${r.workflow.map_items} Map items, ${r.workflow.worker_invocations} worker invocations, ${r.workflow.fargate_tasks} Fargate tasks, ${r.workflow.records} records; bench process peak RSS ${r.workflow.bench_process_peak_rss_mb} MiB`,
    `  CLI backup: ${r.cli.wall_s} s, peak RSS ${r.cli.peak_rss_mb} MiB, ${r.cli.records} records`,
    `  failover workflow (local, in-process): ${r.failover.wall_s} s, ${r.failover.map_items} Map items, ${r.failover.worker_invocations} worker invocations, output ${r.failover.output_bytes} B${r.failover.abridged ? ' (abridged)' : ''}, ${r.failover.records_on_target} records on dr, ${r.failover.groups_reset} group reset with ${r.failover.group_moves} moves`,
  ];
}
