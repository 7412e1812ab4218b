import { UserError } from '../errors.ts';
import type { Manifest } from '../format/manifest.ts';
import type { RestorePartitionState } from '../format/restore-state.ts';
import type { KafkaCluster } from '../kafka/index.ts';
import { mapCommittedOffset } from './offset-mapping.ts';

export type ResetStrategy = 'header-based' | 'timestamp' | 'earliest' | 'latest' | 'explicit';

/** What a restore knows: the source offsets groups had committed, and where each source record landed. */
export interface RestoredOffsets {
  manifest: Manifest;
  /** source topic -> target topic. */
  topics: Record<string, string>;
  partitions: RestorePartitionState[];
}

export interface OffsetResetRequest {
  groups: string[];
  strategy: ResetStrategy;
  /** Epoch ms, for `timestamp`. */
  timestamp?: number | undefined;
  /** group -> topic -> partition -> offset, for `explicit`. */
  explicit?: Record<string, Record<string, Record<string, number>>> | undefined;
  /** For `header-based`, and to know which topics each group consumed. */
  restored?: RestoredOffsets | undefined;
  /** Target topics to limit the reset to. */
  topics?: string[] | undefined;
}

export interface OffsetMove {
  topic: string;
  partition: number;
  /** What the group has committed on the target now (null: nothing). */
  current: number | null;
  target: number;
  /** The offset the group had committed on the source, when known. */
  source_offset: number | null;
}

export interface GroupResetPlan {
  group_id: string;
  state: string;
  members: number;
  moves: OffsetMove[];
  /** Why this group cannot be moved (e.g. it has running members). */
  problem: string | null;
}

export interface GroupResetResult extends GroupResetPlan {
  status: 'reset' | 'skipped' | 'failed' | 'unchanged';
}

/** Target offset ranges each source partition landed in, from the restore's partition states. */
function landing(restored: RestoredOffsets, sourceTopic: string, sourcePartition: number) {
  for (const s of restored.partitions) {
    let start = s.base_offset;
    for (const m of s.mappings) {
      if (m.source_topic === sourceTopic && m.source_partition === sourcePartition) {
        return { topic: s.target_topic, partition: s.target_partition, runs: m.runs, end: start + m.records };
      }
      start += m.records;
    }
  }
  return undefined;
}

async function movesFor(target: KafkaCluster, group: string, req: OffsetResetRequest): Promise<OffsetMove[]> {
  const current = new Map(
    (await target.committedOffsets(group)).map((o) => [`${o.topic}/${o.partition}`, o.offset]),
  );
  const cur = (topic: string, partition: number) => current.get(`${topic}/${partition}`) ?? null;
  const byKey = new Map<string, OffsetMove>();
  const propose = (m: OffsetMove) => {
    if (req.topics && !req.topics.includes(m.topic)) return;
    const key = `${m.topic}/${m.partition}`;
    const prev = byKey.get(key);
    // Several source partitions merged into one target partition: resume at the earliest (at-least-once).
    if (!prev || m.target < prev.target) byKey.set(key, m);
  };

  if (req.strategy === 'header-based') {
    if (!req.restored)
      throw new UserError('the header-based strategy needs the backup and its restore mapping', {
        hint: 'Pass --path and --backup-id of the restored backup.',
      });
    const committed = req.restored.manifest.consumer_groups.find((g) => g.group_id === group);
    for (const o of committed?.offsets ?? []) {
      if (!(o.topic in req.restored.topics)) continue;
      const l = landing(req.restored, o.topic, o.partition);
      if (!l) continue;
      propose({
        topic: l.topic,
        partition: l.partition,
        current: cur(l.topic, l.partition),
        target: mapCommittedOffset(l.runs, o.offset, l.end),
        source_offset: o.offset,
      });
    }
    return [...byKey.values()];
  }

  if (req.strategy === 'explicit') {
    const offsets = req.explicit?.[group] ?? {};
    for (const [topic, parts] of Object.entries(offsets)) {
      for (const [p, offset] of Object.entries(parts))
        propose({
          topic,
          partition: Number(p),
          current: cur(topic, Number(p)),
          target: offset,
          source_offset: null,
        });
    }
    return [...byKey.values()];
  }

  // timestamp / earliest / latest: the topics the group consumed (per the backup, else on the target now).
  let topics: string[];
  if (req.restored) {
    const committed = req.restored.manifest.consumer_groups.find((g) => g.group_id === group);
    topics = [
      ...new Set(
        (committed?.offsets ?? [])
          .filter((o) => o.topic in req.restored!.topics)
          .map((o) => req.restored!.topics[o.topic]!),
      ),
    ];
  } else {
    topics = [...new Set([...current.keys()].map((k) => k.slice(0, k.lastIndexOf('/'))))];
  }
  if (req.topics) topics = topics.filter((t) => req.topics!.includes(t));
  for (const topic of topics) {
    if (req.strategy === 'timestamp') {
      if (req.timestamp === undefined)
        throw new UserError('the timestamp strategy needs --timestamp (epoch ms or ISO-8601)');
      for (const [partition, offset] of await target.offsetsForTimestamp(topic, req.timestamp)) {
        propose({ topic, partition, current: cur(topic, partition), target: offset, source_offset: null });
      }
    } else {
      for (const o of await target.partitionOffsets(topic)) {
        propose({
          topic,
          partition: o.partition,
          current: cur(topic, o.partition),
          target: req.strategy === 'earliest' ? o.logStart : o.end,
          source_offset: null,
        });
      }
    }
  }
  return [...byKey.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** What a reset would do, group by group; nothing is written. */
export async function planOffsetReset(
  target: KafkaCluster,
  req: OffsetResetRequest,
): Promise<GroupResetPlan[]> {
  const groups =
    req.groups.length > 0
      ? req.groups
      : (req.restored?.manifest.consumer_groups.map((g) => g.group_id) ?? []);
  if (groups.length === 0)
    throw new UserError('no consumer group to reset', {
      hint: 'Name them (restore.consumer_groups or --groups).',
    });
  const states = new Map((await target.describeGroups(groups)).map((g) => [g.groupId, g]));
  const plans: GroupResetPlan[] = [];
  for (const group_id of groups) {
    const s = states.get(group_id);
    const members = s?.members ?? 0;
    plans.push({
      group_id,
      state: s?.state ?? 'Dead',
      members,
      moves: await movesFor(target, group_id, req),
      problem:
        members > 0
          ? `group ${group_id} has ${members} running member(s) (state ${s?.state}); stop its consumers first`
          : null,
    });
  }
  return plans;
}

/**
 * Commits the planned offsets. Kafka only lets offsets of a group without running members be changed, and so
 * do we: an active group is failed (the default) or skipped, per `activeGroupPolicy`.
 */
export async function executeOffsetReset(
  target: KafkaCluster,
  plans: GroupResetPlan[],
  opts: { activeGroupPolicy: 'fail' | 'skip' },
): Promise<GroupResetResult[]> {
  const results: GroupResetResult[] = [];
  for (const plan of plans) {
    if (plan.problem) {
      results.push({ ...plan, status: opts.activeGroupPolicy === 'skip' ? 'skipped' : 'failed' });
      continue;
    }
    if (plan.moves.length === 0) {
      results.push({ ...plan, status: 'unchanged' });
      continue;
    }
    const byTopic = new Map<string, { partition: number; offset: number }[]>();
    for (const m of plan.moves)
      byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), { partition: m.partition, offset: m.target }]);
    for (const [topic, offsets] of byTopic) await target.setCommittedOffsets(plan.group_id, topic, offsets);
    results.push({ ...plan, status: 'reset' });
  }
  return results;
}
