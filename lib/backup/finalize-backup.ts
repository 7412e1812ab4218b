import { UserError } from '../errors.ts';
import { FORMAT_VERSION, Layout, type Manifest } from '../format/manifest.ts';
import { type BackupPlan, RangeProgress } from '../format/plan.ts';
import { mapLimit } from '../map-limit.ts';
import { storedMetadataRef } from '../metadata/index.ts';
import { readStoredJson } from '../storage/stored-json.ts';
import { TOOL_VERSION } from '../version.ts';
import type { BackupContext } from './context.ts';
import { nowOf } from './context.ts';
import { joinRangeGaps, tileRanges } from './range-tiling.ts';
import { applyRetention, type RetentionResult } from './retention.ts';

export interface FinalizeResult {
  manifest: Manifest;
  retention: RetentionResult;
}

/**
 * Writes the manifest (last: a backup is listed only once complete), removes the run's plan and progress,
 * then applies retention and deletes segments no retained backup needs.
 */
export async function finalizeBackup(
  ctx: Pick<BackupContext, 'store' | 'logger' | 'config' | 'now' | 'segmentFormat'>,
  plan: BackupPlan,
  opts: {
    /**
     * Every range's progress as the caller stored it (it read every range in this process); without it, the
     * progress objects are listed and read from the location (the workflow's FinalizeBackup).
     */
    progress?: readonly RangeProgress[];
  } = {},
): Promise<FinalizeResult> {
  const { store, logger } = ctx;
  let recordsTotal = 0;
  let storedBytes = 0;
  let uploadedBytes = 0;
  let segmentsUploaded = 0;
  let segmentsReused = 0;
  const topics: Manifest['topics'] = [];
  const stored = opts.progress ? byPartition(opts.progress) : await storedRanges(ctx, plan);
  for (const t of plan.topics) {
    const partitions: Manifest['topics'][number]['partitions'] = [];
    for (const p of t.partitions) {
      // The ranges its workers read, put together in offset order: exactly [read_from, end_offset) or an error.
      const ranges = tileRanges(
        plan.backup_id,
        { topic: t.name, partition: p.partition, from: p.read_from, to: p.end_offset },
        stored.get(`${t.name}/${p.partition}`) ?? [],
      );
      const read = ranges.flatMap((r) => r.segments);
      const newRecords = read.reduce((n, s) => n + s.records, 0);
      const segments = [...p.reused_segments, ...read];
      recordsTotal += p.reused_records + newRecords;
      storedBytes += segments.reduce((n, s) => n + s.size, 0);
      uploadedBytes += read.reduce((n, s) => n + s.size, 0);
      segmentsUploaded += read.length;
      segmentsReused += p.reused_segments.length;
      partitions.push({
        partition: p.partition,
        start_offset: p.start_offset,
        end_offset: p.end_offset,
        records: p.reused_records + newRecords,
        segments,
        gaps: [...p.reused_gaps, ...joinRangeGaps(ranges)],
      });
    }
    topics.push({
      name: t.name,
      topic_id: t.topic_id,
      ...(t.recreated_since ? { recreated_since: t.recreated_since } : {}),
      partition_count: t.partition_count,
      replication_factor: t.replication_factor,
      configs: t.configs,
      partitions,
    });
  }
  const metadata = await storedMetadataRef(store, plan.backup_id);
  const completedAt = nowOf(ctx);
  const manifest: Manifest = {
    format_version: ctx.segmentFormat ?? FORMAT_VERSION,
    backup_id: plan.backup_id,
    tool_version: TOOL_VERSION,
    source_cluster_id: plan.source_cluster_id,
    kafka_cluster_id: plan.kafka_cluster_id,
    started_at: plan.started_at,
    completed_at: completedAt.toISOString(),
    isolation_level: plan.isolation_level,
    compression: plan.compression,
    based_on: plan.based_on,
    include_offset_headers: plan.include_offset_headers,
    topics,
    consumer_groups: plan.consumer_groups,
    ...(metadata ? { metadata } : {}),
    stats: {
      records: recordsTotal,
      stored_bytes: storedBytes,
      uploaded_bytes: uploadedBytes,
      segments_uploaded: segmentsUploaded,
      segments_reused: segmentsReused,
      duration_ms: Math.max(0, completedAt.getTime() - Date.parse(plan.started_at)),
    },
  };
  const written = await store.putIfAbsent(Layout.manifest(plan.backup_id), JSON.stringify(manifest, null, 2));
  if (!written) {
    throw new UserError(
      `backup ${plan.backup_id} already has a manifest in ${store.location}; not overwritten`,
      {
        hint: 'Another run finalized it. Use `kafka-backup describe` to see it.',
      },
    );
  }
  // The run state, every range's progress with it (ranges outside the tiling too: their segments are left to
  // retention below, as no manifest names them).
  await store.delete([
    Layout.plan(plan.backup_id),
    ...(await store.list(Layout.progressPrefix(plan.backup_id))),
  ]);
  logger.info('backup complete', {
    backup_id: plan.backup_id,
    records: recordsTotal,
    stored_bytes: storedBytes,
    uploaded_bytes: uploadedBytes,
    segments_uploaded: segmentsUploaded,
    segments_reused: segmentsReused,
  });
  const retention = await applyRetention(store, ctx.config.retention?.backups, logger, [manifest]);
  return { manifest, retention };
}

/** Progress objects read at once. */
const READ_CONCURRENCY = 16;
/** The last part of a range progress key: `<from>-<to>.json`, both 20 digits. */
const RANGE_PROGRESS_NAME = /\/\d{20}-\d{20}\.json$/;

/**
 * Every range progress object of the run, by `topic/partition`: one listing of the run's progress folder (a few
 * LIST requests for thousands of partitions) instead of probing a key per partition and range.
 */
async function storedRanges(
  ctx: Pick<BackupContext, 'store'>,
  plan: BackupPlan,
): Promise<Map<string, RangeProgress[]>> {
  // Range keys only: a whole-partition progress object of a version before ranges (`<partition>.json`) is not
  // used by this version's workers, which read such a partition again as one range.
  const keys = (await ctx.store.list(Layout.progressPrefix(plan.backup_id))).filter((k) =>
    RANGE_PROGRESS_NAME.test(k),
  );
  const read = await mapLimit(keys, READ_CONCURRENCY, (key) => readStoredJson(ctx.store, key, RangeProgress));
  return byPartition(read.filter((r) => r !== undefined));
}

function byPartition(ranges: readonly RangeProgress[]): Map<string, RangeProgress[]> {
  const out = new Map<string, RangeProgress[]>();
  for (const r of ranges) {
    const key = `${r.topic}/${r.partition}`;
    const list = out.get(key);
    if (list) list.push(r);
    else out.set(key, [r]);
  }
  return out;
}
