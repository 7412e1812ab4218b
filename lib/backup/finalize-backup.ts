import { UserError } from '../errors.ts';
import { FORMAT_VERSION, Layout, type Manifest } from '../format/manifest.ts';
import type { BackupPlan } from '../format/plan.ts';
import { storedMetadataRef } from '../metadata/index.ts';
import { TOOL_VERSION } from '../version.ts';
import { loadProgress, planItems } from './backup-partitions.ts';
import type { BackupContext } from './context.ts';
import { nowOf } from './context.ts';
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
): Promise<FinalizeResult> {
  const { store, logger } = ctx;
  let recordsTotal = 0;
  let storedBytes = 0;
  let uploadedBytes = 0;
  let segmentsUploaded = 0;
  let segmentsReused = 0;
  const topics: Manifest['topics'] = [];
  for (const t of plan.topics) {
    const partitions: Manifest['topics'][number]['partitions'] = [];
    for (const p of t.partitions) {
      const progress = await loadProgress(ctx, plan, { topic: t.name, partition: p.partition });
      if (progress.next_offset < p.end_offset) {
        throw new UserError(
          `backup ${plan.backup_id} is not finished: ${t.name}/${p.partition} is at offset ${progress.next_offset} of ${p.end_offset}`,
          { hint: 'Run the backup again with the same backup_id to resume it.' },
        );
      }
      const newRecords = progress.segments.reduce((n, s) => n + s.records, 0);
      const segments = [...p.reused_segments, ...progress.segments];
      recordsTotal += p.reused_records + newRecords;
      storedBytes += segments.reduce((n, s) => n + s.size, 0);
      uploadedBytes += progress.segments.reduce((n, s) => n + s.size, 0);
      segmentsUploaded += progress.segments.length;
      segmentsReused += p.reused_segments.length;
      partitions.push({
        partition: p.partition,
        start_offset: p.start_offset,
        end_offset: p.end_offset,
        records: p.reused_records + newRecords,
        segments,
        gaps: [...p.reused_gaps, ...progress.gaps],
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
  const leftovers = [
    Layout.plan(plan.backup_id),
    ...planItems(plan).map((i) => Layout.progress(plan.backup_id, i.topic, i.partition)),
  ];
  await store.delete(leftovers);
  logger.info('backup complete', {
    backup_id: plan.backup_id,
    records: recordsTotal,
    stored_bytes: storedBytes,
    uploaded_bytes: uploadedBytes,
    segments_uploaded: segmentsUploaded,
    segments_reused: segmentsReused,
  });
  const retention = await applyRetention(store, ctx.config.retention?.backups, logger);
  return { manifest, retention };
}
