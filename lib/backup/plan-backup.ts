import { matchesGlob, selectTopics } from '../config/index.ts';
import { KafkaAccessError, UserError } from '../errors.ts';
import { type BackupHeader, backupHeaders, loadManifest } from '../format/catalog.ts';
import {
  FORMAT_VERSION,
  type GroupOffsets,
  Layout,
  type PartitionManifest,
  type RecreatedSince,
} from '../format/manifest.ts';
import { BackupPlan, type PlannedPartition } from '../format/plan.ts';
import { readSegment } from '../format/segment-reader.ts';
import type { KafkaCluster, PartitionOffsets } from '../kafka/index.ts';
import { readStoredJson } from '../storage/stored-json.ts';
import { type BackupContext, nowOf } from './context.ts';
import {
  type CheckedTopic,
  checkTopicIdentities,
  normalizeTopicId,
  offsetsContinue,
} from './topic-identity.ts';

export async function loadPlan(
  ctx: Pick<BackupContext, 'store'>,
  backupId: string,
): Promise<BackupPlan | undefined> {
  return readStoredJson(ctx.store, Layout.plan(backupId), BackupPlan);
}

/**
 * Takes the cut and decides what to read: the first step of every backup. A plan already stored for this
 * backup id (a killed run) is returned unchanged, so a resumed backup keeps its original cut. `store: false`
 * (a dry run, `kafka-backup plan`) only reads: the plan is returned, not stored.
 */
export async function planBackup(
  ctx: BackupContext,
  opts: { store?: boolean } = {},
): Promise<{
  plan: BackupPlan;
  resumed: boolean;
  /** The location's complete backups as this plan read them (not for a resumed plan): for the plan's items. */
  headers?: BackupHeader[];
}> {
  const { config, store, source, logger } = ctx;
  const backupId = config.backup_id;
  if (await store.head(Layout.manifest(backupId))) {
    throw new UserError(`backup ${backupId} already exists in ${store.location}`, {
      hint: 'Choose another backup_id (one with the TIMESTAMP variable is new on every run); a stored backup is never overwritten.',
    });
  }
  const existing = await loadPlan(ctx, backupId);
  if (existing) {
    logger.info('resuming backup from its stored plan', {
      backup_id: backupId,
      started_at: existing.started_at,
    });
    return { plan: existing, resumed: true };
  }

  const startedAt = nowOf(ctx).toISOString();
  const { clusterId } = await source.describeCluster();
  const available = await source.listTopics();
  const { selected, missing } = selectTopics(
    available,
    config.source.topics.include,
    config.source.topics.exclude ?? [],
  );
  if (missing.length > 0) {
    throw new KafkaAccessError(
      `source.topics.include names topic(s) that do not exist on ${config.source.bootstrap_servers.join(', ')}: ${missing.join(', ')}`,
      { hint: 'Fix the topic names, use a glob such as "events-*", or create the topics.' },
    );
  }
  if (selected.length === 0) {
    throw new UserError('source.topics.include/exclude select no topic', {
      hint: `The cluster has: ${available.slice(0, 20).join(', ')}${available.length > 20 ? ', …' : ''}`,
    });
  }
  const isolation = config.backup.isolation_level;
  const descriptions = await source.describeTopics(selected);
  const offsets = new Map<string, PartitionOffsets[]>();
  for (const topic of selected) offsets.set(topic, await source.partitionOffsets(topic, isolation));
  const groups = await groupOffsetsAtCut(source, selected, config.backup.consumer_groups);

  const headers = await backupHeaders(store);
  const newestOfCluster = headers.filter((m) => m.kafka_cluster_id === clusterId).at(-1);
  const previous = newestOfCluster ? await loadManifest(store, newestOfCluster.backup_id) : undefined;
  const identities = previous
    ? await checkTopicIdentities(ctx, previous, descriptions, offsets)
    : new Map<string, CheckedTopic>();
  const byOffsetsOnly: string[] = [];
  const topics: BackupPlan['topics'] = [];
  for (const d of descriptions) {
    const topicId = normalizeTopicId(d.topicId);
    const checked = identities.get(d.name);
    let recreated: RecreatedSince | undefined;
    if (previous && checked?.identity.recreated) {
      recreated = {
        backup_id: previous.backup_id,
        topic_id: checked.previous.topic_id,
        detected_by: checked.identity.by,
        detail: checked.identity.detail,
      };
      logger.warn(
        'topic re-created since the earlier backup: backing it up in full, reusing none of its segments',
        {
          topic: d.name,
          old_topic_id: checked.previous.topic_id,
          new_topic_id: topicId,
          earlier_backup: previous.backup_id,
          detected_by: recreated.detected_by,
          detail: recreated.detail,
        },
      );
    } else if (checked?.identity.by === 'offsets') {
      byOffsetsOnly.push(d.name);
    }
    // A re-created topic shares nothing with the earlier backup's topic of that name.
    const prevTopic = recreated ? undefined : checked?.previous;
    const partitions: PlannedPartition[] = [];
    for (const o of offsets.get(d.name)!) {
      const prev = prevTopic?.partitions.find((p) => p.partition === o.partition);
      partitions.push(await planPartition(ctx, o, prev));
    }
    topics.push({
      name: d.name,
      topic_id: topicId,
      ...(recreated ? { recreated_since: recreated } : {}),
      partition_count: d.partitionCount,
      replication_factor: d.replicationFactor,
      configs: d.configs,
      partitions,
    });
  }
  if (byOffsetsOnly.length > 0) {
    logger.info('no topic id and no earlier record left to compare: identity checked by offsets only', {
      topics: byOffsetsOnly,
    });
  }
  const reusedAny = topics.some((t) => t.partitions.some((p) => p.reused_segments.length > 0));
  const plan: BackupPlan = {
    format_version: ctx.segmentFormat ?? FORMAT_VERSION,
    backup_id: backupId,
    started_at: startedAt,
    source_cluster_id: config.backup.source_cluster_id ?? clusterId,
    kafka_cluster_id: clusterId,
    isolation_level: isolation,
    compression: { codec: 'zstd', level: config.backup.compression_level },
    include_offset_headers: config.backup.include_offset_headers,
    based_on: reusedAny && previous ? previous.backup_id : null,
    topics,
    consumer_groups: groups,
  };
  if (opts.store === false) return { plan, resumed: false, headers };
  await store.put(Layout.plan(backupId), JSON.stringify(plan, null, 2));
  logger.info('backup planned', {
    backup_id: backupId,
    topics: topics.length,
    partitions: topics.reduce((n, t) => n + t.partitions.length, 0),
    based_on: plan.based_on,
    consumer_groups: groups.length,
  });
  return { plan, resumed: false, headers };
}

/**
 * Reuses the earlier backup's segments when they continue this partition's history: same topic (see
 * topic-identity.ts; `prev` is undefined for a re-created one), same cluster, offsets not gone backwards (a
 * recreated topic starts again at 0), nothing missing between the two.
 */
async function planPartition(
  ctx: BackupContext,
  o: PartitionOffsets,
  prev: PartitionManifest | undefined,
): Promise<PlannedPartition> {
  const fresh: PlannedPartition = {
    partition: o.partition,
    start_offset: o.logStart,
    end_offset: o.end,
    reused_segments: [],
    reused_records: 0,
    reused_gaps: [],
    read_from: o.logStart,
  };
  if (!prev || !offsetsContinue(prev, o)) {
    return fresh;
  }
  const reused = prev.segments.filter((s) => s.last_offset >= o.logStart);
  let records = 0;
  for (const s of reused) {
    if (s.first_offset >= o.logStart) {
      records += s.records;
    } else {
      // Straddles the new log start: count only the records the source still held at the cut.
      for await (const r of readSegment(ctx.store.getStream(s.key), { ...s }))
        if (r.offset >= o.logStart) records++;
    }
  }
  return {
    ...fresh,
    reused_segments: reused,
    reused_records: records,
    reused_gaps: prev.gaps
      .filter((g) => g.end_offset > o.logStart)
      .map((g) => ({ ...g, start_offset: Math.max(g.start_offset, o.logStart) })),
    read_from: prev.end_offset,
  };
}

async function groupOffsetsAtCut(
  source: KafkaCluster,
  topics: string[],
  patterns: string[] | undefined,
): Promise<GroupOffsets[]> {
  const groups = (await source.listGroups()).filter(
    (g) => !g.startsWith('kafka-backup-') && (!patterns || patterns.some((p) => matchesGlob(p, g))),
  );
  const out: GroupOffsets[] = [];
  for (const group_id of groups) {
    const offsets = await source.committedOffsets(group_id, topics);
    if (offsets.length > 0) out.push({ group_id, offsets });
  }
  return out;
}
