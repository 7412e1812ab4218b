import { z } from 'zod';
import {
  acquireLease,
  type BackupContext,
  backupPartitions,
  finalizeBackup,
  keepLeaseAlive,
  type Lease,
  leaseOf,
  loadPlan,
  planBackup,
  wholePartitionRanges,
} from '../backup/index.ts';
import type { BackupConfig, RestoreConfig } from '../config/index.ts';
import { CorruptDataError, InvalidEventError, NotFoundError, WorkNotFinishedError } from '../errors.ts';
import { validateBackup } from '../format/validate-backup.ts';
import { KafkaCluster } from '../kafka/index.ts';
import {
  applyMetadataRestore,
  captureBackupMetadata,
  planMetadataRestore,
  schemaIdRewriteFor,
} from '../metadata/index.ts';
import { backupSucceededFromManifest, recordRestoreOutcome } from '../metrics/index.ts';
import { packRestoreItems, planItemsAndEstimate } from '../plan/index.ts';
import {
  abridgeReport,
  applyGroupReset,
  failedGroupsFirst,
  findRestorableBackup,
  loadWorkOutcomes,
  type PartitionWork,
  planGroupReset,
  prepareRestore,
  type RestoreContext,
  restoreJobOf,
  restoreLeaseOf,
  restoreWorkItems,
  verifyRestore,
} from '../restore/index.ts';
import { openStore } from '../storage/index.ts';
import { RestoreLayout } from '../storage/layout.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { readStoredJson } from '../storage/stored-json.ts';
import {
  assertNoLiteralSecrets,
  type ConfigRef,
  loadConfigRef,
  parseBackupInput,
  parseRestoreInput,
  type RawConfig,
  storeConfig,
  WorkflowLayout,
} from './config.ts';
import { drillCleanupStep, drillRunStep } from './drill-steps.ts';
import {
  GroupResetPlan,
  GroupResetResult,
  parseEvent,
  RestoredItems,
  RestoreItem,
  type RestoreJobHeader,
  type StepEvent,
} from './events.ts';
import { loadManifestCached } from './manifest-cache.ts';
import { loadMapItems, loadMapResults, storeMapItems } from './map-storage.ts';
import { STEP_ENV, type StepName } from './names.ts';
import { checkStorage, configVariables, policyFromEnv } from './policy.ts';
import { deadlineOf, numberFromEnv, type StepRuntime } from './runtime.ts';

/**
 * The workflow steps. Each parses its event, calls the engine, returns: the same functions the CLI's backup and
 * restore commands are made of (lib/backup, lib/restore). A Lambda handler (functions/) and `kafka-backup step`
 * (the Fargate task) run them alike.
 */

const DEFAULT_LEASE_TTL_MS = 30 * 60_000;
const DEFAULT_FARGATE_MIN_OFFSETS = 20_000_000;
const DEFAULT_FARGATE_MIN_BYTES = 8 * 1024 ** 3;

/**
 * How a step parses a config: `${VAR}` from the deployment's config variables only (never the function's
 * environment, which holds the role's credentials), and the deployment's workflow policy checked.
 */
const parseEnv = (rt: StepRuntime) => ({ env: configVariables(rt.env), policy: policyFromEnv(rt.env) });

const now = (rt: StepRuntime) => (rt.now ? rt.now() : new Date());

async function withBackupContext<T>(
  rt: StepRuntime,
  ref: ConfigRef,
  fn: (ctx: BackupContext) => Promise<T>,
): Promise<T> {
  const { raw, store } = await loadConfigRef(ref, policyFromEnv(rt.env));
  const config = parseBackupInput(raw, {
    source: `${store.location}/${ref.key}`,
    ...parseEnv(rt),
    now: new Date(ref.now),
    secret: await rt.secret(),
  });
  rt.appendKeys?.({ backup_id: config.backup_id });
  return withSource(rt, config, store, fn);
}

async function withSource<T>(
  rt: StepRuntime,
  config: BackupConfig,
  store: ObjectStore,
  fn: (ctx: BackupContext) => Promise<T>,
): Promise<T> {
  const source = new KafkaCluster(config.source, 'source');
  try {
    return await fn({ config, store, source, logger: rt.logger });
  } finally {
    await source.close().catch(() => undefined);
  }
}

async function withRestoreContext<T>(
  rt: StepRuntime,
  ref: ConfigRef,
  fn: (ctx: RestoreContext) => Promise<T>,
): Promise<T> {
  const { raw, store } = await loadConfigRef(ref, policyFromEnv(rt.env));
  const config = parseRestoreInput(raw, {
    source: `${store.location}/${ref.key}`,
    ...parseEnv(rt),
    now: new Date(ref.now),
    secret: await rt.secret(),
  });
  rt.appendKeys?.({ backup_id: config.backup_id });
  return withTarget(rt, config, store, fn);
}

async function withTarget<T>(
  rt: StepRuntime,
  config: RestoreConfig,
  store: ObjectStore,
  fn: (ctx: RestoreContext) => Promise<T>,
): Promise<T> {
  const target = new KafkaCluster(config.target, 'target');
  try {
    return await fn({ config, store, target, logger: rt.logger });
  } finally {
    await target.close().catch(() => undefined);
  }
}

/** A restore config from the execution input; the backup id (found by an earlier step) replaces the config's. */
async function restoreInput(rt: StepRuntime, raw: RawConfig, backupId: string | undefined, where: string) {
  assertNoLiteralSecrets(raw, 'target', where);
  const given = backupId !== undefined ? { ...raw, backup_id: backupId } : raw;
  const at = now(rt);
  const config = parseRestoreInput(given, {
    source: where,
    ...parseEnv(rt),
    now: at,
    secret: await rt.secret(),
  });
  return { raw: given, config, at };
}

function leaseFor(store: ObjectStore, backupId: string, lease: { owner: string; ttl_ms: number }) {
  return leaseOf(store, { owner: lease.owner, backupId, ttlMs: lease.ttl_ms, processBound: false });
}

function restoreLeaseFor(store: ObjectStore, restoreId: string, lease: { owner: string; ttl_ms: number }) {
  return restoreLeaseOf(store, restoreId, { owner: lease.owner, ttlMs: lease.ttl_ms, processBound: false });
}

/**
 * Plans restore.metadata and, unless a dry run, applies it; returns counts for the step's output (small: the
 * state machine carries it), or undefined when restore.metadata is empty.
 */
async function restoreMetadataForWorkflow(ctx: RestoreContext, dryRun: boolean) {
  if (ctx.config.restore.metadata.length === 0) return undefined;
  const plan = await planMetadataRestore(ctx);
  const report = dryRun ? undefined : await applyMetadataRestore(ctx, plan);
  const subjects = report?.schemas?.subjects ?? [];
  return {
    applied: !dryRun,
    parts: plan.parts,
    schemas_kept: subjects.reduce((n, s) => n + s.kept, 0),
    schemas_remapped: subjects.reduce((n, s) => n + s.remapped, 0),
    acls_created: plan.acls?.create.length ?? 0,
    quotas_set: plan.quotas?.change.length ?? 0,
    users_created: plan.users?.create.length ?? 0,
    users_skipped: plan.users?.skipped.map((u) => u.name) ?? [],
  };
}

/** The restore's lease, which restore-prepare took and the job carries. None for a dry run: it took none. */
function jobLease(store: ObjectStore, job: RestoreJobHeader): Lease | undefined {
  if (job.dry_run) return undefined;
  if (!job.lease)
    throw new InvalidEventError(`restore ${job.restore_id}: the job carries no lease`, {
      hint: 'The state machine and the functions come from different versions: deploy them together.',
    });
  return restoreLeaseFor(store, job.restore_id, job.lease);
}

/** The job's lease, renewed: a LeaseHeldError if another run took it over meanwhile (this one must not write). */
async function renewRestoreLease(store: ObjectStore, job: RestoreJobHeader): Promise<Lease | undefined> {
  const lease = jobLease(store, job);
  await lease?.renew();
  return lease;
}

/** A failed execution's lease (as its state holds it), released so the next run need not wait for its expiry. */
async function releaseOnFailure(
  rt: StepRuntime,
  ref: ConfigRef | undefined,
  lease: Record<string, unknown>,
  leaseIn: (store: ObjectStore, lease: { owner: string; ttl_ms: number }) => Lease,
): Promise<boolean> {
  const owner = str(lease['owner']);
  if (!ref || !owner) return false;
  try {
    checkStorage(ref.storage, 'config_ref.storage', policyFromEnv(rt.env), 'step event');
    await leaseIn(openStore(ref.storage), { owner, ttl_ms: Number(lease['ttl_ms']) || 1 }).release();
    return true;
  } catch (err) {
    rt.logger.warn('could not release the lease; it expires on its own', { error: String(err) });
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Backup

async function backupPlanStep(e: StepEvent<'backup-plan'>, rt: StepRuntime) {
  const where = 'execution input "config"';
  assertNoLiteralSecrets(e.config, 'source', where);
  const at = now(rt);
  const config = parseBackupInput(e.config, {
    source: where,
    ...parseEnv(rt),
    now: at,
    secret: await rt.secret(),
  });
  const backupId = config.backup_id;
  rt.appendKeys?.({ backup_id: backupId, schedule: e.schedule });
  const store = openStore(config.storage);
  const ttlMs = numberFromEnv(rt, STEP_ENV.leaseTtlMs, DEFAULT_LEASE_TTL_MS);
  const lease = await acquireLease(store, { backupId, ttlMs, processBound: false });
  try {
    return await withSource(rt, config, store, async (ctx) => {
      const { plan, resumed, headers } = await planBackup(ctx);
      // backup.metadata (schemas, ACLs, quotas, users) at the cut, as `kafka-backup backup` does.
      await captureBackupMetadata(ctx);
      rt.metrics.backupStarted({ backupId, sourceClusterId: plan.source_cluster_id });
      const configRef = await storeConfig(
        store,
        config.storage,
        WorkflowLayout.backupConfig(backupId),
        { ...e.config, backup_id: backupId },
        at,
      );
      const minOffsets =
        e.options.fargate_min_offsets ??
        numberFromEnv(rt, STEP_ENV.fargateMinOffsets, DEFAULT_FARGATE_MIN_OFFSETS);
      // Items packed by bytes to read (lib/plan): many small partitions an item, a large one split by offset
      // range; partitions with nothing to read are in none (finalize takes them from the plan).
      const { items, estimate } = await planItemsAndEstimate(ctx, plan, {
        fargateMinOffsets: minOffsets,
        ...(headers ? { headers } : {}),
      });
      rt.logger.info('backup planned for the workflow', {
        items: items.length,
        on_fargate: items.filter((i) => i.runner === 'fargate').length,
        resumed,
        bytes: estimate.read.bytes,
        estimated_usd: estimate.total_usd,
      });
      // The items go to the location, not into the state: BackupPartitions reads them there (ItemReader).
      const map = await storeMapItems(
        store,
        config.storage,
        {
          items: WorkflowLayout.backupItems(backupId),
          resultsPrefix: WorkflowLayout.backupResultsPrefix(backupId),
        },
        items,
      );
      return {
        backup_id: backupId,
        source_cluster_id: plan.source_cluster_id,
        resumed,
        config_ref: configRef,
        lease: { owner: lease.owner, ttl_ms: ttlMs },
        partitions: wholePartitionRanges(plan).length,
        map,
        estimate,
      };
    });
  } catch (err) {
    await lease.release().catch(() => undefined);
    throw err;
  }
}

async function backupPartitionStep(e: StepEvent<'backup-partition'>, rt: StepRuntime) {
  return withBackupContext(rt, e.config_ref, async (ctx) => {
    const backupId = ctx.config.backup_id;
    const lease = leaseFor(ctx.store, backupId, e.lease);
    await lease.renew();
    const alive = keepLeaseAlive(lease, e.lease.ttl_ms);
    try {
      const plan = await loadPlan(ctx, backupId);
      if (!plan)
        throw new NotFoundError(`backup ${backupId} has no plan in ${ctx.store.location}`, {
          hint: 'It was finalized or removed meanwhile; start the workflow again.',
        });
      const deadline = deadlineOf(rt);
      const results = await backupPartitions(ctx, plan, e.item.ranges, {
        ...(deadline !== undefined ? { deadline } : {}),
      });
      await alive.stop();
      const records = results.reduce((n, r) => n + r.records, 0);
      if (records > 0) rt.metrics.recordsBackedUp({ sourceClusterId: plan.source_cluster_id, records });
      const unfinished = results.filter((r) => !r.done);
      // Small whatever the item holds (it travels in the state machine's state): counts, not the ranges.
      const result = {
        done: unfinished.length === 0,
        ranges: results.length,
        ranges_done: results.length - unfinished.length,
        offsets_left: unfinished.reduce((n, r) => n + (r.to - r.next_offset), 0),
        records_now: records,
      };
      if (!result.done && deadline === undefined) {
        throw new WorkNotFinishedError(
          `${unfinished.length} of ${results.length} ranges stopped before their end: ${unfinished
            .slice(0, 3)
            .map((r) => `${r.topic}/${r.partition} at offset ${r.next_offset} of ${r.to}`)
            .join(', ')}${unfinished.length > 3 ? ', …' : ''}`,
          { hint: 'Run the step again: it continues from the stored progress.' },
        );
      }
      rt.logger.info(result.done ? 'item backed up' : 'time budget reached: continuing in a new invocation', {
        ...result,
        first_range: e.item.ranges[0],
      });
      return result;
    } finally {
      await alive.stop().catch(() => undefined);
    }
  });
}

async function backupFinalizeStep(e: StepEvent<'backup-finalize'>, rt: StepRuntime) {
  return withBackupContext(rt, e.config_ref, async (ctx) => {
    const backupId = ctx.config.backup_id;
    const lease = leaseFor(ctx.store, backupId, e.lease);
    await lease.renew();
    const plan = await loadPlan(ctx, backupId);
    if (!plan) throw new NotFoundError(`backup ${backupId} has no plan in ${ctx.store.location}`);
    const { manifest, retention } = await finalizeBackup(ctx, plan);
    rt.metrics.backupSucceeded(backupSucceededFromManifest(manifest));
    await lease.release();
    return {
      backup_id: manifest.backup_id,
      location: ctx.store.location,
      source_cluster_id: manifest.source_cluster_id,
      completed_at: manifest.completed_at,
      stats: manifest.stats,
      retention,
    };
  });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

async function backupFailedStep(e: StepEvent<'backup-failed'>, rt: StepRuntime) {
  const plan = obj(e.state['plan']);
  const configured = str(obj(e.state['config'] ?? e.state['backup_config'])['backup_id']);
  const backupId = str(plan['backup_id']) ?? configured ?? 'unknown';
  const sourceClusterId = str(plan['source_cluster_id']);
  rt.appendKeys?.({ backup_id: backupId });
  rt.logger.error('backup failed', { error: e.state['error'] });
  rt.metrics.backupFailed({ backupId, ...(sourceClusterId ? { sourceClusterId } : {}) });
  // The lease is the run's: release it so the next scheduled run need not wait for it to expire.
  const leaseReleased = await releaseOnFailure(
    rt,
    plan['config_ref'] as ConfigRef | undefined,
    obj(plan['lease']),
    (store, lease) => leaseFor(store, backupId, lease),
  );
  return { backup_id: backupId, recorded: true, lease_released: leaseReleased };
}

// ---------------------------------------------------------------------------------------------------------------
// Restore (failover, failback)

async function findBackupStep(e: StepEvent<'find-backup'>, rt: StepRuntime) {
  const { config } = await restoreInput(rt, e.config, 'latest', 'execution input "config"');
  const store = openStore(config.storage);
  const found = await findRestorableBackup(store, {
    ...(e.options.source_cluster_id ? { sourceClusterId: e.options.source_cluster_id } : {}),
  });
  rt.appendKeys?.({ backup_id: found.backup_id });
  for (const s of found.skipped)
    rt.logger.warn('skipped a backup not fully present in this bucket', {
      skipped: s.backup_id,
      problem: s.first_problem,
    });
  const age = Math.max(0, Math.round((now(rt).getTime() - Date.parse(found.completed_at)) / 1000));
  rt.logger.info('newest restorable backup', { completed_at: found.completed_at, age_seconds: age });
  return { ...found, location: store.location, age_seconds: age };
}

async function validateBackupStep(e: StepEvent<'validate-backup'>, rt: StepRuntime) {
  const { config } = await restoreInput(rt, e.config, e.backup_id, 'execution input "config"');
  const store = openStore(config.storage);
  const report = await validateBackup(store, e.backup_id, { deep: e.validate === 'deep', concurrency: 8 });
  if (!report.ok) {
    const first = report.problems[0]!;
    throw new CorruptDataError(
      `backup ${e.backup_id} failed validation (${report.problems.length} problem(s)); first: ${first.object}: ${first.problem}`,
      {
        hint: `Run kafka-backup validate --path ${store.location} --backup-id ${e.backup_id} --deep for all of them.`,
      },
    );
  }
  const { problems: _none, ...summary } = report;
  return summary;
}

async function checkClusterStep(e: StepEvent<'check-cluster'>, rt: StepRuntime) {
  const { config } = await restoreInput(rt, e.config, 'latest', 'execution input "config"');
  const target = new KafkaCluster(config.target, 'target');
  try {
    const { clusterId, brokers } = await target.describeCluster();
    const topics = (await target.listTopics()).length;
    rt.logger.info('cluster answers', { cluster_id: clusterId, brokers, topics });
    return { cluster_id: clusterId, brokers, topics };
  } finally {
    await target.close().catch(() => undefined);
  }
}

async function restorePrepareStep(e: StepEvent<'restore-prepare'>, rt: StepRuntime) {
  const restore = { ...e.restore_defaults, ...obj(e.config['restore']), ...e.restore_overrides };
  const { raw, config, at } = await restoreInput(
    rt,
    { ...e.config, restore },
    e.backup_id,
    'execution input "config"',
  );
  const store = openStore(config.storage);
  const ttlMs = numberFromEnv(rt, STEP_ENV.leaseTtlMs, DEFAULT_LEASE_TTL_MS);
  return withTarget(rt, config, store, async (ctx) => {
    // The restore's lease, a workflow's (bound to no process): the later steps renew it, VerifyRestore or
    // RecordRestoreFailure release it. A second execution of the same restore is refused here.
    const prepared = await prepareRestore(ctx, { lease: { ttlMs, processBound: false } });
    try {
      // restore.metadata before the data: schemas, ACLs, quotas and users are in place on the target before any
      // record is written, so producers and consumers can start on it at once. A dry run only plans.
      const metadata = await restoreMetadataForWorkflow(ctx, prepared.dry_run);
      rt.appendKeys?.({ backup_id: prepared.backup_id, restore_id: prepared.restore_id });
      rt.metrics.restoreStarted({
        backupId: prepared.backup_id,
        targetClusterId: prepared.target_cluster_id,
      });
      const configRef = await storeConfig(
        store,
        config.storage,
        WorkflowLayout.restoreConfig(prepared.restore_id),
        { ...raw, backup_id: prepared.backup_id },
        at,
      );
      const minBytes =
        e.options.fargate_min_bytes ?? numberFromEnv(rt, STEP_ENV.fargateMinBytes, DEFAULT_FARGATE_MIN_BYTES);
      const stored = new Map<string, number>();
      for (const t of prepared.manifest.topics)
        for (const p of t.partitions)
          stored.set(
            `${t.name}/${p.partition}`,
            p.segments.reduce((n, seg) => n + seg.size, 0),
          );
      // Small target partitions share an item (and an invocation), each still written by that item alone.
      const items: RestoreItem[] = packRestoreItems(
        prepared.work.map((work) => ({
          work,
          bytes: work.sources.reduce((n, s) => n + (stored.get(`${s.topic}/${s.partition}`) ?? 0), 0),
        })),
        { fargateMinBytes: minBytes },
      );
      const { work: _work, ...header } = restoreJobOf(prepared);
      const job: RestoreJobHeader = prepared.lease
        ? { ...header, lease: { owner: prepared.lease.owner, ttl_ms: ttlMs } }
        : header;
      rt.logger.info('restore prepared for the workflow', {
        items: items.length,
        on_fargate: items.filter((i) => i.runner === 'fargate').length,
        created_topics: prepared.topics.filter((t) => t.action === 'create').length,
      });
      // The items in the restore's folder: RestorePartitions reads them there (ItemReader).
      const map = await storeMapItems(
        store,
        config.storage,
        {
          items: WorkflowLayout.restoreItems(prepared.restore_id),
          resultsPrefix: WorkflowLayout.restoreResultsPrefix(prepared.restore_id),
        },
        items,
      );
      return { config_ref: configRef, job, map, ...(metadata ? { metadata } : {}) };
    } catch (err) {
      await prepared.lease?.release().catch(() => undefined);
      throw err;
    }
  });
}

/**
 * One invocation on a restore item: its target partitions (restore.max_concurrent_partitions at a time, one
 * writer each, as `kafka-backup restore` writes them) until all are done or the time budget is spent; the output
 * is the next invocation's `progress` (what each partition wrote so far, the partitions left, continued where
 * the target stands).
 */
async function restorePartitionStep(e: StepEvent<'restore-partition'>, rt: StepRuntime) {
  const works = e.progress.next ?? e.item.works;
  const writtenBefore = new Map(
    e.progress.written.map((w) => [`${w.target_topic}/${w.target_partition}`, w.written]),
  );
  const written = () =>
    e.item.works.map((w) => ({
      target_topic: w.target_topic,
      target_partition: w.target_partition,
      written: writtenBefore.get(`${w.target_topic}/${w.target_partition}`) ?? 0,
    }));
  // A dry run plans and reports; it writes nothing (as `kafka-backup restore --dry-run`).
  if (e.job.dry_run) return { done: true, written: written(), next: [] };
  return withRestoreContext(rt, e.config_ref, async (ctx) => {
    const lease = (await renewRestoreLease(ctx.store, e.job))!;
    const alive = keepLeaseAlive(lease, e.job.lease!.ttl_ms);
    let records = 0;
    const deadline = deadlineOf(rt);
    const left: PartitionWork[] = [];
    try {
      const manifest = await loadManifestCached(ctx.store, e.job.backup_id);
      // restore.rewrite_schema_ids: ids looked up in the target registry, where restore-prepare put the schemas.
      const rewrite = await schemaIdRewriteFor({ config: ctx.config, store: ctx.store });
      const withRewrite = rewrite && rewrite.remapped > 0 ? { ...ctx, rewriteRecord: rewrite.rewrite } : ctx;
      // Past the budget, a partition not started waits for the next invocation (once this one wrote anything).
      const results = await restoreWorkItems(
        withRewrite,
        { restore_id: e.job.restore_id, manifest, window: e.job.window },
        works,
        {
          ...(deadline !== undefined ? { deadline } : {}),
          onRecords: (n) => {
            records += n;
          },
        },
      );
      await alive.stop();
      for (const { work, result: r } of results) {
        const k = `${work.target_topic}/${work.target_partition}`;
        if (r) writtenBefore.set(k, (writtenBefore.get(k) ?? 0) + r.written);
        if (!r?.done) left.push(r ? r.next : work);
      }
    } finally {
      await alive.stop().catch(() => undefined);
    }
    if (records > 0) rt.metrics.recordsRestored({ targetClusterId: e.job.target_cluster_id, records });
    if (left.length > 0 && deadline === undefined)
      throw new WorkNotFinishedError(
        `${left.map((w) => `${w.target_topic}/${w.target_partition}`).join(', ')} stopped before the end`,
        { hint: 'Run the step again: it continues after what the target holds.' },
      );
    rt.logger.info(
      left.length === 0 ? 'partitions restored' : 'time budget reached: continuing in a new invocation',
      { partitions: works.length, left: left.length, written_now: records },
    );
    return { done: left.length === 0, written: written(), next: left };
  });
}

/**
 * The restore's work items (what PrepareRestore stored for RestorePartitions) and what each iteration wrote (the
 * Map Run's results): both from the location, as 10,000 partitions do not fit in the execution state.
 */
async function restoredWork(ctx: RestoreContext, e: StepEvent<'restore-map-offsets' | 'restore-verify'>) {
  const items = await loadMapItems(ctx.store, WorkflowLayout.restoreItems(e.job.restore_id), RestoreItem);
  const results = await loadMapResults(
    ctx.store,
    ctx.config.storage,
    e.results,
    WorkflowLayout.restoreResultsPrefix(e.job.restore_id),
  );
  const written = RestoredItems.safeParse(results);
  if (!written.success || written.data.length !== items.length)
    throw new CorruptDataError(
      `restore ${e.job.restore_id}: the RestorePartitions results (${results.length}) do not match its ${items.length} work items`,
      { hint: "The Map Run results are not this restore run's: start the workflow again." },
    );
  return { work: items.flatMap((i) => i.works), written: written.data.flatMap((r) => r.written) };
}

/**
 * The largest restore report carried whole in the execution state (256 KiB in all, with the config reference, the
 * job and the other steps' outputs); a larger one is abridged (abridgeReport).
 */
const REPORT_IN_STATE_BYTES = 64 * 1024;

/** Groups listed by name in a step's output; the rest are counted (the whole lists are in the restore's folder). */
const GROUPS_IN_STATE = 50;

/** The JSON of `key` in the restore's folder, checked against `schema`; a missing one names the step that writes it. */
async function loadRestoreStepOutput<T>(
  store: ObjectStore,
  key: string,
  schema: z.ZodType<T>,
  writer: string,
) {
  const found = await readStoredJson(store, key, schema);
  if (found === undefined)
    throw new NotFoundError(`${store.location}/${key} is missing: ${writer} stores it`, {
      hint: `Run the restore workflow from its start: ${writer} runs before this step.`,
    });
  return found;
}

async function restoreMapOffsetsStep(e: StepEvent<'restore-map-offsets'>, rt: StepRuntime) {
  return withRestoreContext(rt, e.config_ref, async (ctx) => {
    const { work, written } = await restoredWork(ctx, e);
    await renewRestoreLease(ctx.store, e.job);
    const outcomes = await loadWorkOutcomes(ctx, { restore_id: e.job.restore_id, work }, written);
    const plans = await planGroupReset(ctx, e.job, outcomes, { resetOffsets: e.reset_offsets });
    for (const p of plans ?? [])
      rt.logger.info('offset mapping', { group: p.group_id, moves: p.moves.length, problem: p.problem });
    // A move per group and partition: kept in the restore's folder for ResetConsumerGroups, counted here.
    await ctx.store.put(WorkflowLayout.restoreOffsetPlans(e.job.restore_id), JSON.stringify(plans ?? []));
    return {
      requested: plans !== undefined,
      groups: plans?.length ?? 0,
      moves: (plans ?? []).reduce((n, p) => n + p.moves.length, 0),
      blocked: (plans ?? [])
        .filter((p) => p.problem !== null)
        .slice(0, GROUPS_IN_STATE)
        .map((p) => ({ group_id: p.group_id, problem: p.problem })),
    };
  });
}

async function restoreResetGroupsStep(e: StepEvent<'restore-reset-groups'>, rt: StepRuntime) {
  return withRestoreContext(rt, e.config_ref, async (ctx) => {
    await renewRestoreLease(ctx.store, e.job);
    const plans = await loadRestoreStepOutput(
      ctx.store,
      WorkflowLayout.restoreOffsetPlans(e.job.restore_id),
      z.array(GroupResetPlan),
      'MapOffsets',
    );
    const results = await applyGroupReset(ctx, plans);
    await ctx.store.put(WorkflowLayout.restoreGroupResults(e.job.restore_id), JSON.stringify(results));
    const summary: Record<string, number> = { reset: 0, unchanged: 0, skipped: 0, failed: 0 };
    for (const r of results) summary[r.status] = (summary[r.status] ?? 0) + 1;
    for (const r of results.filter((x) => x.status === 'failed'))
      rt.logger.warn('consumer group not reset', { group: r.group_id, problem: r.problem });
    return {
      summary,
      groups: failedGroupsFirst(results)
        .slice(0, GROUPS_IN_STATE)
        .map((r) => ({ group_id: r.group_id, status: r.status, moves: r.moves.length, problem: r.problem })),
      groups_omitted: Math.max(0, results.length - GROUPS_IN_STATE),
    };
  });
}

async function restoreVerifyStep(e: StepEvent<'restore-verify'>, rt: StepRuntime) {
  return withRestoreContext(rt, e.config_ref, async (ctx) => {
    // Verifying only reads (and stores the report): not renewed, so a retry of this step after the release passes.
    const lease = jobLease(ctx.store, e.job);
    const { work, written } = await restoredWork(ctx, e);
    const job = { ...e.job, work };
    const outcomes = await loadWorkOutcomes(ctx, job, written);
    const groups = await loadRestoreStepOutput(
      ctx.store,
      WorkflowLayout.restoreGroupResults(e.job.restore_id),
      z.array(GroupResetResult),
      'ResetConsumerGroups',
    );
    const report = await verifyRestore(ctx, job, outcomes, groups, { resetOffsets: e.reset_offsets });
    // The restore is over, verified or not: the next run of it need not wait for the lease to expire.
    await lease?.release();
    recordRestoreOutcome(rt.metrics, report);
    if (!report.ok) {
      rt.logger.error('restore verification failed', {
        partitions: report.topics
          .flatMap((t) =>
            t.partitions.filter((p) => !p.ok).map((p) => `${t.target_topic}/${p.target_partition}`),
          )
          .slice(0, 100),
      });
    }
    // The execution's output (failover's and failback's): whole while it is small, else abridged; whole in the
    // restore's folder either way.
    return abridgeReport(
      report,
      REPORT_IN_STATE_BYTES,
      `${ctx.store.location}/${RestoreLayout.report(e.job.restore_id)}`,
    );
  });
}

async function restoreFailedStep(e: StepEvent<'restore-failed'>, rt: StepRuntime) {
  const prepared = obj(e.state['prepared']);
  const job = obj(prepared['job']);
  const backupId =
    str(job['backup_id']) ??
    str(obj(e.state['backup'])['backup_id']) ??
    str(obj(e.state['result'])['backup_id']) ??
    'unknown';
  const targetClusterId = str(job['target_cluster_id']);
  rt.appendKeys?.({ backup_id: backupId });
  rt.logger.error('restore failed', { error: e.state['error'] });
  rt.metrics.restoreFailed({ backupId, ...(targetClusterId ? { targetClusterId } : {}) });
  // The restore's lease (taken by PrepareRestore): released so that running the restore again need not wait.
  const restoreId = str(job['restore_id']);
  const leaseReleased =
    restoreId !== undefined &&
    (await releaseOnFailure(
      rt,
      prepared['config_ref'] as ConfigRef | undefined,
      obj(job['lease']),
      (store, lease) => restoreLeaseFor(store, restoreId, lease),
    ));
  return { backup_id: backupId, recorded: true, lease_released: leaseReleased };
}

// ---------------------------------------------------------------------------------------------------------------

type Step = (event: unknown, rt: StepRuntime) => Promise<unknown>;

function step<N extends StepName>(name: N, fn: (e: StepEvent<N>, rt: StepRuntime) => Promise<unknown>): Step {
  return (event, rt) => fn(parseEvent(name, event), rt);
}

export const STEPS: Readonly<Record<StepName, Step>> = {
  'backup-plan': step('backup-plan', backupPlanStep),
  'backup-partition': step('backup-partition', backupPartitionStep),
  'backup-finalize': step('backup-finalize', backupFinalizeStep),
  'backup-failed': step('backup-failed', backupFailedStep),
  'find-backup': step('find-backup', findBackupStep),
  'validate-backup': step('validate-backup', validateBackupStep),
  'check-cluster': step('check-cluster', checkClusterStep),
  'restore-prepare': step('restore-prepare', restorePrepareStep),
  'restore-partition': step('restore-partition', restorePartitionStep),
  'restore-map-offsets': step('restore-map-offsets', restoreMapOffsetsStep),
  'restore-reset-groups': step('restore-reset-groups', restoreResetGroupsStep),
  'restore-verify': step('restore-verify', restoreVerifyStep),
  'restore-failed': step('restore-failed', restoreFailedStep),
  'drill-run': step('drill-run', drillRunStep),
  'drill-cleanup': step('drill-cleanup', drillCleanupStep),
};

/** Runs one step: what every Lambda handler and `kafka-backup step <name>` call. */
export function runStep(name: StepName, event: unknown, rt: StepRuntime): Promise<unknown> {
  return STEPS[name](event, rt);
}
