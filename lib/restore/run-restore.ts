import { UserError } from '../errors.ts';
import { FORMAT_VERSION } from '../format/manifest.ts';
import { RestoreLayout, type RestorePartitionState, type RestorePlanState } from '../format/restore-state.ts';
import { executeOffsetReset, type GroupResetResult, planOffsetReset } from '../offsets/index.ts';
import type { RestoreContext } from './context.ts';
import { loadPartitionState, type PartitionWork, planRestore, type RestorePlan } from './plan-restore.ts';
import type { PartitionReport, RestoreReport } from './report.ts';
import { restorePartition } from './restore-partition.ts';

export interface RunRestoreOptions {
  /** Phase 3: move consumer groups (three-phase restore, or restore.reset_consumer_offsets). */
  resetOffsets: boolean;
  onRecords?: (n: number) => void;
  onPlan?: (plan: RestorePlan) => void;
}

const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Restore in three phases: (1) create missing topics and write every partition's records, (2) store the offset
 * mapping next to the backup, (3) reset consumer groups. `dry_run` plans and reports without writing anything.
 */
export async function runRestore(ctx: RestoreContext, opts: RunRestoreOptions): Promise<RestoreReport> {
  const { config, store, target, logger } = ctx;
  const startedAt = ctx.now ? ctx.now() : new Date();
  const plan = await planRestore(ctx);
  opts.onPlan?.(plan);
  for (const w of plan.warnings) logger.warn(w);
  const dryRun = config.restore.dry_run;

  const states = new Map<PartitionWork, { state: RestorePartitionState | undefined; written: number }>();
  if (!dryRun) {
    for (const t of plan.topics.filter((x) => x.action === 'create')) {
      logger.info('creating topic', {
        topic: t.target_topic,
        partitions: t.target_partitions,
        replication_factor: t.replication_factor,
      });
      try {
        await target.createTopic({
          name: t.target_topic,
          partitions: t.target_partitions,
          replicationFactor: t.replication_factor,
          configs: t.configs,
        });
      } catch (e) {
        throw new UserError(`could not create target topic ${t.target_topic}: ${(e as Error).message}`, {
          hint: 'Check the target principal may create topics, and the backed-up topic configs (describe the backup) are valid on the target.',
          cause: e,
        });
      }
    }
    const planState: RestorePlanState = {
      format_version: FORMAT_VERSION,
      restore_id: plan.restore_id,
      backup_id: plan.backup_id,
      target_cluster_id: plan.target_cluster_id,
      started_at: startedAt.toISOString(),
      topics: Object.fromEntries(plan.topics.map((t) => [t.source_topic, t.target_topic])),
      window: plan.window,
    };
    if (!(await store.head(RestoreLayout.plan(plan.restore_id)))) {
      await store.put(RestoreLayout.plan(plan.restore_id), JSON.stringify(planState, null, 2));
    }

    const batchBytes = new Map<string, number>();
    for (const t of plan.topics) {
      const max = Number(
        (await target.effectiveTopicConfig(t.target_topic, 'max.message.bytes')) ?? DEFAULT_MAX_MESSAGE_BYTES,
      );
      batchBytes.set(t.target_topic, Math.max(16 * 1024, Math.floor(max * 0.9)));
    }
    const concurrency = config.restore.max_concurrent_partitions;
    const producers = await Promise.all(
      Array.from({ length: Math.min(concurrency, Math.max(1, plan.work.length)) }, () => target.producer()),
    );
    const free = [...producers];
    try {
      await mapLimit(plan.work, concurrency, async (w) => {
        if (w.mode === 'done') {
          states.set(w, {
            state: await loadPartitionState(ctx, plan.restore_id, w.target_topic, w.target_partition),
            written: 0,
          });
          return;
        }
        const producer = free.pop()!;
        try {
          if (w.mode === 'resume')
            logger.info('resuming partition', {
              topic: w.target_topic,
              partition: w.target_partition,
              base_offset: w.base_offset,
            });
          const r = await restorePartition(ctx, plan, w, producer, {
            batchBytes: batchBytes.get(w.target_topic)!,
            ...(opts.onRecords ? { onRecords: opts.onRecords } : {}),
          });
          states.set(w, { state: r.state, written: r.written });
        } finally {
          free.push(producer);
        }
      });
    } finally {
      await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
    }
  }

  // Phase 3: consumer groups.
  let groups: GroupResetResult[] = [];
  const r = config.restore;
  if (opts.resetOffsets || r.reset_consumer_offsets) {
    const restoredStates = [...states.values()]
      .map((s) => s.state)
      .filter((s): s is RestorePartitionState => s !== undefined);
    const plans = await planOffsetReset(target, {
      groups: r.consumer_groups,
      strategy: r.consumer_group_strategy,
      timestamp: r.reset_timestamp,
      explicit: r.explicit_offsets,
      restored: {
        manifest: plan.manifest,
        topics: Object.fromEntries(plan.topics.map((t) => [t.source_topic, t.target_topic])),
        partitions: restoredStates,
      },
    });
    groups = dryRun
      ? plans.map((p) => ({
          ...p,
          status: p.problem ? (r.active_group_policy === 'skip' ? 'skipped' : 'failed') : 'unchanged',
        }))
      : await executeOffsetReset(target, plans, { activeGroupPolicy: r.active_group_policy });
  }

  // Verification: each target partition holds exactly base + restored records.
  const topics: RestoreReport['topics'] = [];
  for (const t of plan.topics) {
    const ends = dryRun
      ? new Map<number, number>()
      : new Map((await target.partitionOffsets(t.target_topic)).map((o) => [o.partition, o.end]));
    const partitions: PartitionReport[] = plan.work
      .filter((w) => w.target_topic === t.target_topic)
      .map((w) => {
        const s = states.get(w);
        const restored = s?.state?.restored_records ?? 0;
        const end = ends.get(w.target_partition) ?? w.base_offset;
        return {
          target_partition: w.target_partition,
          sources: w.sources.map((x) => `${x.topic}/${x.partition}`),
          backup_records: w.backup_records,
          expected:
            s?.state?.expected_records ??
            (plan.window.start_time === null && plan.window.end_time === null ? w.backup_records : 0),
          restored,
          written_now: s?.written ?? 0,
          base_offset: w.base_offset,
          end_offset: end,
          ok: dryRun || (s?.state?.done === true && end - w.base_offset === restored),
        };
      });
    topics.push({ source_topic: t.source_topic, target_topic: t.target_topic, action: t.action, partitions });
  }
  const completedAt = ctx.now ? ctx.now() : new Date();
  const report: RestoreReport = {
    restore_id: plan.restore_id,
    backup_id: plan.backup_id,
    target_cluster_id: plan.target_cluster_id,
    dry_run: dryRun,
    started_at: startedAt.toISOString(),
    completed_at: completedAt.toISOString(),
    duration_ms: completedAt.getTime() - startedAt.getTime(),
    window: plan.window,
    topics,
    consumer_groups: groups,
    warnings: plan.warnings,
    ok: topics.every((t) => t.partitions.every((p) => p.ok)) && groups.every((g) => g.status !== 'failed'),
  };
  if (!dryRun) await store.put(RestoreLayout.report(plan.restore_id), JSON.stringify(report, null, 2));
  return report;
}
