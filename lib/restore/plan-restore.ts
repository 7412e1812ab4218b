import { createHash } from 'node:crypto';
import { selectTopics } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { loadManifest, resolveBackupId } from '../format/catalog.ts';
import type { Manifest, TopicManifest } from '../format/manifest.ts';
import { RestoreLayout, RestorePartitionState } from '../format/restore-state.ts';
import { readStoredJson } from '../storage/stored-json.ts';
import { checkSegmentsReadable } from './archived-segments.ts';
import type { RestoreContext } from './context.ts';
import { oldRecordsWarning } from './retention-check.ts';

/** Topic configs that Kafka 4 removed or that describe the source cluster rather than the topic. */
const CONFIGS_NOT_RESTORED = new Set([
  'message.format.version',
  'message.downconversion.enable',
  'leader.replication.throttled.replicas',
  'follower.replication.throttled.replicas',
]);

export interface TopicAction {
  source_topic: string;
  target_topic: string;
  action: 'create' | 'existing';
  source_partitions: number;
  target_partitions: number;
  replication_factor: number;
  configs: Record<string, string>;
}

export interface PartitionWork {
  target_topic: string;
  target_partition: number;
  /** Written in this order into the target partition. */
  sources: { topic: string; partition: number }[];
  /** Records in the backup for these sources (before any time window). */
  backup_records: number;
  /** Where writing starts, and what is already there from an interrupted run of this restore. */
  base_offset: number;
  mode: 'new' | 'resume' | 'done';
}

export interface RestorePlan {
  restore_id: string;
  backup_id: string;
  manifest: Manifest;
  target_cluster_id: string;
  window: { start_time: number | null; end_time: number | null };
  topics: TopicAction[];
  work: PartitionWork[];
  warnings: string[];
}

function restoreIdOf(
  backupId: string,
  clusterId: string,
  topics: Record<string, string>,
  window: RestorePlan['window'],
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ topics: Object.entries(topics).sort(), window }))
    .digest('hex')
    .slice(0, 10);
  return `${backupId}--${clusterId}--${digest}`;
}

/** Which restore this is: the same backup, target cluster, topic mapping and window give the same restore id. */
export interface RestoreIdentity {
  restore_id: string;
  backup_id: string;
  target_cluster_id: string;
  /** source topic -> target topic. */
  topics: Record<string, string>;
}

/**
 * Decides what a restore will do, without writing anything: which topics to create, which target partition
 * receives which source partitions, and where each one starts (resuming an interrupted run of the same restore).
 * `onIdentified` runs once the restore id is known and before anything of the target's topics or the restore's
 * state is read (where a run takes the restore's lease): so a plan made after it reflects every earlier run.
 */
export async function planRestore(
  ctx: RestoreContext,
  opts: { onIdentified?: (id: RestoreIdentity) => Promise<void> } = {},
): Promise<RestorePlan> {
  const { config, store, target } = ctx;
  const r = config.restore;
  const backupId = await resolveBackupId(store, config.backup_id);
  const manifest = await loadManifest(store, backupId);
  const names = manifest.topics.map((t) => t.name);
  const { selected, missing } = selectTopics(names, r.topics.include, r.topics.exclude);
  if (missing.length > 0) {
    throw new UserError(
      `restore.topics.include names topic(s) not in backup ${backupId}: ${missing.join(', ')}`,
      {
        hint: `The backup holds: ${names.join(', ')}`,
      },
    );
  }
  const unknownMapped = Object.keys(r.topic_mapping).filter((t) => !names.includes(t));
  if (unknownMapped.length > 0) {
    throw new UserError(
      `restore.topic_mapping names topic(s) not in backup ${backupId}: ${unknownMapped.join(', ')}`,
    );
  }
  if (selected.length === 0)
    throw new UserError(`restore.topics selects no topic of backup ${backupId}`, {
      hint: `The backup holds: ${names.join(', ')}`,
    });

  const { clusterId, brokers } = await target.describeCluster();
  const mapping = Object.fromEntries(selected.map((t) => [t, r.topic_mapping[t] ?? t]));
  const targets = Object.values(mapping);
  const duplicateTargets = targets.filter((t, i) => targets.indexOf(t) !== i);
  if (duplicateTargets.length > 0) {
    throw new UserError(
      `restore.topic_mapping sends several topics into ${[...new Set(duplicateTargets)].join(', ')}`,
      {
        hint: 'Map each restored topic to its own target topic.',
      },
    );
  }
  const window = { start_time: r.start_time ?? null, end_time: r.end_time ?? null };
  const restoreId = restoreIdOf(backupId, clusterId, mapping, window);
  await opts.onIdentified?.({
    restore_id: restoreId,
    backup_id: backupId,
    target_cluster_id: clusterId,
    topics: mapping,
  });
  const existing = new Set(await target.listTopics());
  const described = new Map(
    (await target.describeTopics(targets.filter((t) => existing.has(t)))).map((d) => [d.name, d]),
  );

  const warnings: string[] = [];
  const topics: TopicAction[] = [];
  const work: PartitionWork[] = [];
  for (const source of selected) {
    const tm = manifest.topics.find((t) => t.name === source)!;
    const targetTopic = mapping[source]!;
    const d = described.get(targetTopic);
    if (!d && !r.create_topics) {
      throw new UserError(`target topic ${targetTopic} does not exist and restore.create_topics is false`, {
        hint: 'Create it, or set restore.create_topics: true.',
      });
    }
    const action = d ? 'existing' : 'create';
    const partitions = d ? d.partitionCount : tm.partition_count;
    let rf = r.replication_factor ?? tm.replication_factor;
    if (action === 'create' && rf > brokers) {
      warnings.push(
        `${targetTopic}: replication factor ${rf} capped to ${brokers}, the number of brokers in the target cluster`,
      );
      rf = brokers;
    }
    if (partitions < tm.partition_count) {
      warnings.push(
        `${targetTopic} has ${partitions} partitions, the backup ${tm.partition_count}: source partition p goes to p mod ${partitions} (per-key order across merged partitions is not kept)`,
      );
    }
    const configs = action === 'create' ? restorableConfigs(tm) : d!.configs;
    const retention =
      action === 'create'
        ? { 'retention.ms': configs['retention.ms'], 'cleanup.policy': configs['cleanup.policy'] }
        : await target.effectiveTopicConfigs(targetTopic, ['retention.ms', 'cleanup.policy']);
    const oldRecords = oldRecordsWarning({
      targetTopic,
      retentionMs: retention['retention.ms'] !== undefined ? Number(retention['retention.ms']) : undefined,
      cleanupPolicy: retention['cleanup.policy'],
      retentionAssumed: retention['retention.ms'] === undefined,
      source: tm,
      window,
      now: Date.now(),
    });
    if (oldRecords) warnings.push(oldRecords);
    topics.push({
      source_topic: source,
      target_topic: targetTopic,
      action,
      source_partitions: tm.partition_count,
      target_partitions: partitions,
      replication_factor: action === 'create' ? rf : d!.replicationFactor,
      configs,
    });
    const offsets = d
      ? new Map((await target.partitionOffsets(targetTopic)).map((o) => [o.partition, o]))
      : new Map();
    for (let tp = 0; tp < partitions; tp++) {
      const sources = tm.partitions.filter((p) => p.partition % partitions === tp);
      if (sources.length === 0) continue;
      const state = await loadPartitionState(ctx, restoreId, targetTopic, tp);
      const o = offsets.get(tp) as { logStart: number; end: number } | undefined;
      const end = o?.end ?? 0;
      const nonEmpty = o !== undefined && o.end > o.logStart;
      let mode: PartitionWork['mode'] = 'new';
      let base = end;
      if (state && (r.on_existing_data !== 'append' || !state.done)) {
        if (end < state.base_offset) {
          throw new UserError(
            `${targetTopic}/${tp} ends at offset ${end}, before where restore ${restoreId} started writing (${state.base_offset}): the topic was recreated or truncated`,
            {
              hint: 'Delete the restore state under restores/ in the backup location, or restore into another topic.',
            },
          );
        }
        mode = state.done ? 'done' : 'resume';
        base = state.base_offset;
      } else if (nonEmpty && r.on_existing_data === 'fail') {
        throw new UserError(
          `target topic ${targetTopic} partition ${tp} already holds records (offsets ${o!.logStart}..${o!.end - 1})`,
          {
            hint: 'Set restore.on_existing_data to append (write after them) or resume (continue an interrupted restore), or restore into an empty topic.',
          },
        );
      } else if (r.on_existing_data === 'resume' && !state && nonEmpty) {
        throw new UserError(
          `restore.on_existing_data is resume, but ${targetTopic}/${tp} holds records no run of this restore wrote`,
          {
            hint: 'Use append to add after them, or restore into an empty topic.',
          },
        );
      }
      work.push({
        target_topic: targetTopic,
        target_partition: tp,
        sources: sources.map((p) => ({ topic: source, partition: p.partition })),
        backup_records: sources.reduce((n, p) => n + p.records, 0),
        base_offset: base,
        mode,
      });
    }
  }
  // Before anything is written: a restore that would stop at its first archived segment must not start.
  await checkSegmentsReadable(store, { manifest, work, window });
  return {
    restore_id: restoreId,
    backup_id: backupId,
    manifest,
    target_cluster_id: clusterId,
    window,
    topics,
    work,
    warnings,
  };
}

function restorableConfigs(t: TopicManifest): Record<string, string> {
  return Object.fromEntries(Object.entries(t.configs).filter(([k]) => !CONFIGS_NOT_RESTORED.has(k)));
}

export async function loadPartitionState(
  ctx: Pick<RestoreContext, 'store'>,
  restoreId: string,
  topic: string,
  partition: number,
): Promise<RestorePartitionState | undefined> {
  return readStoredJson(
    ctx.store,
    RestoreLayout.partition(restoreId, topic, partition),
    RestorePartitionState,
  );
}
