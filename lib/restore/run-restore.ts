import { UserError } from '../errors.ts';
import { loadManifest } from '../format/catalog.ts';
import { FORMAT_VERSION } from '../format/manifest.ts';
import { RestoreLayout, type RestorePartitionState, type RestorePlanState } from '../format/restore-state.ts';
import { IdempotentWriter, type KafkaCluster, type RecordWriter } from '../kafka/index.ts';
import { mapLimit } from '../map-limit.ts';
import {
  executeOffsetReset,
  type GroupResetPlan,
  type GroupResetResult,
  planOffsetReset,
} from '../offsets/index.ts';
import { keepLeaseAlive, type Lease } from '../storage/lease.ts';
import type { RestoreContext } from './context.ts';
import { loadPartitionState, type PartitionWork, planRestore, type RestorePlan } from './plan-restore.ts';
import type { PartitionReport, RestoreReport } from './report.ts';
import {
  acquireRestoreLease,
  DEFAULT_RESTORE_LEASE_TTL_MS,
  type RestoreLeaseOptions,
} from './restore-lease.ts';
import { restorePartition } from './restore-partition.ts';

export interface RunRestoreOptions {
  /** Phase 3: move consumer groups (three-phase restore, or restore.reset_consumer_offsets). */
  resetOffsets: boolean;
  onRecords?: (n: number) => void;
  onPlan?: (plan: RestorePlan) => void;
  /** How long the restore's lease lasts without renewal (default 2 minutes; renewed every third of it). */
  leaseTtlMs?: number;
}

const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** A planned and prepared restore, without the manifest: what the steps after preparation are handed. */
export interface RestoreJob {
  restore_id: string;
  backup_id: string;
  target_cluster_id: string;
  started_at: string;
  dry_run: boolean;
  window: RestorePlan['window'];
  topics: { source_topic: string; target_topic: string; action: 'create' | 'existing' }[];
  work: PartitionWork[];
  warnings: string[];
}

export interface PreparedRestore extends RestorePlan {
  started_at: string;
  dry_run: boolean;
  /** The restore's lease, held by the caller from here on (none in a dry run, which writes nothing). */
  lease: Lease | undefined;
}

/** What restoring one target partition left: its durable state and the records written by this run. */
export interface WorkOutcome {
  target_topic: string;
  target_partition: number;
  state: RestorePartitionState | undefined;
  written: number;
}

export function restoreJobOf(p: PreparedRestore): RestoreJob {
  return {
    restore_id: p.restore_id,
    backup_id: p.backup_id,
    target_cluster_id: p.target_cluster_id,
    started_at: p.started_at,
    dry_run: p.dry_run,
    window: p.window,
    topics: p.topics.map((t) => ({
      source_topic: t.source_topic,
      target_topic: t.target_topic,
      action: t.action,
    })),
    work: p.work,
    warnings: p.warnings,
  };
}

/**
 * Phase 1a: takes the restore's lease (unless `dry_run`: a LeaseHeldError when another run of the same restore
 * holds it), plans the restore, then creates the missing target topics and stores the restore's plan state next
 * to the backup. Every target partition can then be restored on its own, in any process. The caller holds the
 * returned lease until the restore ends (renews and releases it); on an error here it is released.
 */
export async function prepareRestore(
  ctx: RestoreContext,
  opts: { onPlan?: (plan: RestorePlan) => void; lease?: Partial<RestoreLeaseOptions> } = {},
): Promise<PreparedRestore> {
  const { config, store, logger } = ctx;
  const startedAt = ctx.now ? ctx.now() : new Date();
  const dryRun = config.restore.dry_run;
  let lease: Lease | undefined;
  try {
    const plan = await planRestore(ctx, {
      onIdentified: async (id) => {
        if (dryRun) return;
        lease = await acquireRestoreLease(store, id, {
          ttlMs: DEFAULT_RESTORE_LEASE_TTL_MS,
          bootstrapServers: config.target.bootstrap_servers,
          onTakeOver: (previous, why) =>
            logger.warn(
              `taking over the lease of restore ${id.restore_id}: ${why === 'holder died' ? 'its holder is gone' : 'it expired'}`,
              {
                holder: previous.holder,
                since: previous.acquired_at,
                expires_at: previous.expires_at,
              },
            ),
          ...opts.lease,
        });
      },
    });
    opts.onPlan?.(plan);
    for (const w of plan.warnings) logger.warn(w);
    if (!dryRun) await createTopicsAndPlanState(ctx, plan, startedAt);
    return { ...plan, started_at: startedAt.toISOString(), dry_run: dryRun, lease };
  } catch (e) {
    // The lease variable is assigned inside the callback above: TypeScript does not see it.
    await (lease as Lease | undefined)?.release().catch(() => undefined);
    throw e;
  }
}

async function createTopicsAndPlanState(ctx: RestoreContext, plan: RestorePlan, startedAt: Date) {
  const { store, target, logger } = ctx;
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
}

/** The largest batch the target topic accepts, with room for the batch overhead. */
export async function restoreBatchBytes(target: KafkaCluster, topic: string): Promise<number> {
  const max = Number(
    (await target.effectiveTopicConfig(topic, 'max.message.bytes')) ?? DEFAULT_MAX_MESSAGE_BYTES,
  );
  return Math.max(16 * 1024, Math.floor(max * 0.9));
}

export interface RestoreWorkItemResult extends WorkOutcome {
  done: boolean;
  /** What to call again with when not done (mode `resume`, the same base). */
  next: PartitionWork;
}

/**
 * Phase 1b: restores one target partition (a work item of the plan), or as much of it as fits before `deadline`.
 * Returns the continuation to call again with when it stopped early.
 */
export async function restoreWorkItem(
  ctx: RestoreContext,
  plan: Pick<RestorePlan, 'restore_id' | 'manifest' | 'window'>,
  work: PartitionWork,
  opts: {
    writer?: RecordWriter;
    batchBytes?: number;
    deadline?: number;
    onRecords?: (n: number) => void;
  } = {},
): Promise<RestoreWorkItemResult> {
  const key = { target_topic: work.target_topic, target_partition: work.target_partition };
  if (work.mode === 'done') {
    const state = await loadPartitionState(ctx, plan.restore_id, work.target_topic, work.target_partition);
    return { ...key, state, written: 0, done: true, next: work };
  }
  if (work.mode === 'resume')
    ctx.logger.info('resuming partition', {
      topic: work.target_topic,
      partition: work.target_partition,
      base_offset: work.base_offset,
    });
  const writer = opts.writer ?? new IdempotentWriter(ctx.target);
  try {
    const r = await restorePartition(ctx, plan, work, writer, {
      batchBytes: opts.batchBytes ?? (await restoreBatchBytes(ctx.target, work.target_topic)),
      ...(opts.deadline !== undefined ? { deadline: opts.deadline } : {}),
      ...(opts.onRecords ? { onRecords: opts.onRecords } : {}),
    });
    return {
      ...key,
      state: r.state,
      written: r.written,
      done: r.done,
      next: r.done ? work : { ...work, mode: 'resume' },
    };
  } finally {
    if (!opts.writer) await writer.close();
  }
}

/**
 * Phase 1b for many work items: `restore.max_concurrent_partitions` at a time through one idempotent writer (it
 * keeps a sequence per partition and shares the cluster's connections), each topic's batch size asked once. What
 * `kafka-backup restore` and a workflow item's worker run. Past `deadline`, once anything was written, a work item
 * not yet started is not started: its `result` is undefined (the caller continues it later, as it stands).
 */
export async function restoreWorkItems(
  ctx: RestoreContext,
  plan: Pick<RestorePlan, 'restore_id' | 'manifest' | 'window'>,
  works: readonly PartitionWork[],
  opts: { deadline?: number; onRecords?: (n: number) => void } = {},
): Promise<{ work: PartitionWork; result: RestoreWorkItemResult | undefined }[]> {
  const writer = new IdempotentWriter(ctx.target);
  const batchBytes = new Map<string, Promise<number>>();
  let progressed = false;
  try {
    return await mapLimit([...works], ctx.config.restore.max_concurrent_partitions, async (work) => {
      if (opts.deadline !== undefined && progressed && Date.now() >= opts.deadline)
        return { work, result: undefined };
      const bytes = batchBytes.get(work.target_topic) ?? restoreBatchBytes(ctx.target, work.target_topic);
      batchBytes.set(work.target_topic, bytes);
      const result = await restoreWorkItem(ctx, plan, work, {
        writer,
        batchBytes: await bytes,
        ...(opts.deadline !== undefined ? { deadline: opts.deadline } : {}),
        ...(opts.onRecords ? { onRecords: opts.onRecords } : {}),
      });
      progressed = true;
      return { work, result };
    });
  } finally {
    await writer.close();
  }
}

/** The stored state of every work item of a restore (after its items ran elsewhere), with what each wrote. */
export async function loadWorkOutcomes(
  ctx: Pick<RestoreContext, 'store'>,
  job: Pick<RestoreJob, 'restore_id' | 'work'>,
  written: { target_topic: string; target_partition: number; written: number }[] = [],
): Promise<WorkOutcome[]> {
  const count = new Map(written.map((w) => [`${w.target_topic}/${w.target_partition}`, w.written]));
  return Promise.all(
    job.work.map(async (w) => ({
      target_topic: w.target_topic,
      target_partition: w.target_partition,
      state: await loadPartitionState(ctx, job.restore_id, w.target_topic, w.target_partition),
      written: count.get(`${w.target_topic}/${w.target_partition}`) ?? 0,
    })),
  );
}

/**
 * Phase 2/3a, the offset mapping: where each consumer group should resume on the target, from the source offsets
 * it had committed and the mapping the restored partitions recorded. Undefined when no reset is asked for.
 */
export async function planGroupReset(
  ctx: RestoreContext,
  job: Pick<RestoreJob, 'backup_id' | 'topics'> & { manifest?: RestorePlan['manifest'] },
  outcomes: WorkOutcome[],
  opts: { resetOffsets: boolean },
): Promise<GroupResetPlan[] | undefined> {
  const r = ctx.config.restore;
  if (!opts.resetOffsets && !r.reset_consumer_offsets) return undefined;
  const manifest = job.manifest ?? (await loadManifest(ctx.store, job.backup_id));
  // No group named and none in the backup: the restore is done, there is no group to move (verifyRestore says so).
  if (r.consumer_groups.length === 0 && manifest.consumer_groups.length === 0) {
    ctx.logger.info(nothingToResetNote(job.backup_id));
    return [];
  }
  return planOffsetReset(ctx.target, {
    groups: r.consumer_groups,
    strategy: r.consumer_group_strategy,
    timestamp: r.reset_timestamp,
    explicit: r.explicit_offsets,
    restored: {
      manifest,
      topics: Object.fromEntries(job.topics.map((t) => [t.source_topic, t.target_topic])),
      partitions: outcomes.map((o) => o.state).filter((s): s is RestorePartitionState => s !== undefined),
    },
  });
}

/** Why a restore asked to move consumer groups moved none: not an error, but the report says it. */
export function nothingToResetNote(backupId: string): string {
  return `nothing to reset: backup ${backupId} recorded no consumer group offsets and restore.consumer_groups names none`;
}

/** Phase 3b: commits the planned offsets (in a dry run, reports what would happen). */
export async function applyGroupReset(
  ctx: RestoreContext,
  plans: GroupResetPlan[],
): Promise<GroupResetResult[]> {
  const r = ctx.config.restore;
  if (r.dry_run) {
    return plans.map((p) => ({
      ...p,
      status: p.problem ? (r.active_group_policy === 'skip' ? 'skipped' : 'failed') : 'unchanged',
    }));
  }
  return executeOffsetReset(ctx.target, plans, { activeGroupPolicy: r.active_group_policy });
}

/**
 * Verification: each target partition holds exactly base + restored records. Builds the report and (unless a dry
 * run) stores it next to the backup.
 */
export async function verifyRestore(
  ctx: RestoreContext,
  job: RestoreJob,
  outcomes: WorkOutcome[],
  groups: GroupResetResult[],
  opts: { resetOffsets?: boolean } = {},
): Promise<RestoreReport> {
  const { store, target } = ctx;
  const dryRun = job.dry_run;
  const byKey = new Map(outcomes.map((o) => [`${o.target_topic}/${o.target_partition}`, o]));
  const topics: RestoreReport['topics'] = [];
  for (const t of job.topics) {
    const ends = dryRun
      ? new Map<number, number>()
      : new Map((await target.partitionOffsets(t.target_topic)).map((o) => [o.partition, o.end]));
    const partitions: PartitionReport[] = job.work
      .filter((w) => w.target_topic === t.target_topic)
      .map((w) => {
        const s = byKey.get(`${w.target_topic}/${w.target_partition}`);
        const restored = s?.state?.restored_records ?? 0;
        const end = ends.get(w.target_partition) ?? w.base_offset;
        return {
          target_partition: w.target_partition,
          sources: w.sources.map((x) => `${x.topic}/${x.partition}`),
          backup_records: w.backup_records,
          expected:
            s?.state?.expected_records ??
            (job.window.start_time === null && job.window.end_time === null ? w.backup_records : 0),
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
    restore_id: job.restore_id,
    backup_id: job.backup_id,
    target_cluster_id: job.target_cluster_id,
    dry_run: dryRun,
    started_at: job.started_at,
    completed_at: completedAt.toISOString(),
    duration_ms: completedAt.getTime() - Date.parse(job.started_at),
    window: job.window,
    topics,
    consumer_groups: groups,
    // Groups were to be moved, and none was named or in the backup (planGroupReset planned none).
    ...(groups.length === 0 &&
    (opts.resetOffsets || ctx.config.restore.reset_consumer_offsets) &&
    ctx.config.restore.consumer_groups.length === 0
      ? { consumer_groups_note: nothingToResetNote(job.backup_id) }
      : {}),
    warnings: job.warnings,
    ok: topics.every((t) => t.partitions.every((p) => p.ok)) && groups.every((g) => g.status !== 'failed'),
  };
  if (!dryRun) await store.put(RestoreLayout.report(job.restore_id), JSON.stringify(report, null, 2));
  return report;
}

/**
 * Restore in three phases: (1) create missing topics and write every partition's records, (2) store the offset
 * mapping next to the backup, (3) reset consumer groups. `dry_run` plans and reports without writing anything.
 * The run holds the restore's lease from before planning to the end (also on failure), so a second run of the
 * same restore is refused meanwhile. The serverless workflows run the same functions as separate steps.
 */
export async function runRestore(ctx: RestoreContext, opts: RunRestoreOptions): Promise<RestoreReport> {
  const ttlMs = opts.leaseTtlMs ?? DEFAULT_RESTORE_LEASE_TTL_MS;
  const plan = await prepareRestore(ctx, {
    ...(opts.onPlan ? { onPlan: opts.onPlan } : {}),
    lease: { ttlMs },
  });
  const renewal = plan.lease ? keepLeaseAlive(plan.lease, ttlMs) : undefined;
  try {
    const outcomes: WorkOutcome[] = [];
    if (!plan.dry_run) {
      const restored = await restoreWorkItems(
        ctx,
        plan,
        plan.work,
        opts.onRecords ? { onRecords: opts.onRecords } : {},
      );
      // Without a deadline every work item ran.
      for (const { result } of restored) outcomes.push(result!);
    }
    // A lost lease (this run was paused past its expiry and another run took over) fails the run here.
    await renewal?.check();
    const plans = await planGroupReset(ctx, plan, outcomes, { resetOffsets: opts.resetOffsets });
    const groups = plans ? await applyGroupReset(ctx, plans) : [];
    return await verifyRestore(ctx, restoreJobOf(plan), outcomes, groups, {
      resetOffsets: opts.resetOffsets,
    });
  } finally {
    await renewal?.stop().catch(() => undefined);
    await plan.lease?.release().catch(() => undefined);
  }
}
