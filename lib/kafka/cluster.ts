import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { KafkaAccessError } from '../errors.ts';
import './codecs.ts';
import { type KafkaConnectionSettings, kafkaClientConfig } from './connection.ts';
import { translateKafkaError } from './errors.ts';
import { kafkajs } from './kafkajs-patched.ts';

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface PartitionOffsets {
  partition: number;
  /** First offset still held (log-start offset). */
  logStart: number;
  /** Exclusive end: last stable offset (read_committed) or high watermark (read_uncommitted). */
  end: number;
}

export interface TopicDescription {
  name: string;
  partitionCount: number;
  replicationFactor: number;
  /** kafkajs speaks Metadata v6, which predates topic ids. */
  topicId: string | null;
  /** Only configs set on the topic itself. */
  configs: Record<string, string>;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

export interface GroupState {
  groupId: string;
  state: string;
  members: number;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(t: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(t: string): { partitionId: number }[];
  fetchTopicsOffset(
    t: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  findGroupCoordinator(o: { groupId: string }): Promise<{
    offsetCommit(o: {
      groupId: string;
      groupGenerationId: number;
      memberId: string;
      retentionTime: number;
      topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
    }): Promise<unknown>;
  }>;
}

/** Errors a broker gives while a topic of the same name is still being deleted, or just created. */
function isTransientTopicError(e: unknown): boolean {
  const type = (e as { type?: string }).type;
  const text = String((e as Error)?.message ?? '');
  return (
    [
      'UNKNOWN_TOPIC_OR_PARTITION',
      'LEADER_NOT_AVAILABLE',
      'NOT_LEADER_FOR_PARTITION',
      'NOT_LEADER_OR_FOLLOWER',
      'REQUEST_TIMED_OUT',
    ].includes(type ?? '') || /marked for deletion|does not host this topic-partition|leader/i.test(text)
  );
}

/**
 * Leadership moves (a topic just created, a broker restarting) make the broker answer NOT_LEADER and the like
 * for a moment; kafkajs' admin retries only some of these. Retried here for up to `forMs`.
 */
async function retryTransient<T>(fn: () => Promise<T>, forMs = 15_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransientTopicError(e) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * attempt)));
    }
  }
}

/** kafkajs' DescribeConfigs source for a config set on the topic itself. */
const TOPIC_CONFIG_SOURCE = 1;

/**
 * One Kafka cluster, as the engine sees it. The only place (with its siblings in lib/kafka) that knows the
 * Kafka client library; errors a user can fix come out as KafkaAccessError naming `section` fields.
 */
export class KafkaCluster {
  readonly kafka: Kafka;
  readonly settings: KafkaConnectionSettings;
  readonly section: string;
  #admin: Admin | undefined;

  constructor(settings: KafkaConnectionSettings, section: string, clientId = 'kafka-backup') {
    this.settings = settings;
    this.section = section;
    this.kafka = new kafkajs.Kafka(kafkaClientConfig(settings, section, clientId));
  }

  /** Runs `fn`, turning user-fixable client errors into KafkaAccessError. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw translateKafkaError(e, this.settings, this.section);
    }
  }

  async admin(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.kafka.admin({ retry: { retries: 3 } });
      await this.call(() => admin.connect());
      this.#admin = admin;
    }
    return this.#admin;
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  async describeCluster(): Promise<{ clusterId: string; brokers: number }> {
    const admin = await this.admin();
    const d = await this.call(() => admin.describeCluster());
    return { clusterId: d.clusterId, brokers: d.brokers.length };
  }

  async listTopics(): Promise<string[]> {
    const admin = await this.admin();
    return (await this.call(() => admin.listTopics())).sort();
  }

  async describeTopics(names: string[]): Promise<TopicDescription[]> {
    if (names.length === 0) return [];
    const admin = await this.admin();
    const meta = await this.call(() => admin.fetchTopicMetadata({ topics: names }));
    const configs = await this.call(() =>
      admin.describeConfigs({
        resources: names.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name })),
        includeSynonyms: false,
      }),
    );
    return meta.topics.map((t) => {
      const res = configs.resources.find((r) => r.resourceName === t.name);
      const own: Record<string, string> = {};
      for (const entry of res?.configEntries ?? []) {
        const source = (entry as { configSource?: number }).configSource;
        if (source === TOPIC_CONFIG_SOURCE && entry.configValue !== null && !entry.isSensitive) {
          own[entry.configName] = entry.configValue;
        }
      }
      return {
        name: t.name,
        partitionCount: t.partitions.length,
        replicationFactor: Math.max(1, ...t.partitions.map((p) => p.replicas.length)),
        topicId: null,
        configs: own,
      };
    });
  }

  /** A topic's effective value of `name` (its own setting, else the broker's default). */
  async effectiveTopicConfig(topic: string, name: string): Promise<string | undefined> {
    const admin = await this.admin();
    const res = await this.call(() =>
      admin.describeConfigs({
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
        includeSynonyms: false,
      }),
    );
    return res.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue ?? undefined;
  }

  async partitionOffsets(
    topic: string,
    isolation: IsolationLevel = 'read_committed',
  ): Promise<PartitionOffsets[]> {
    const admin = await this.admin();
    const lowHigh = await this.call(() => retryTransient(() => admin.fetchTopicOffsets(topic)));
    let ends = new Map(lowHigh.map((p) => [p.partition, Number(p.high)]));
    if (isolation === 'read_uncommitted') ends = await retryTransient(() => this.#highWatermarks(topic));
    return lowHigh
      .map((p) => ({ partition: p.partition, logStart: Number(p.low), end: ends.get(p.partition)! }))
      .sort((a, b) => a.partition - b.partition);
  }

  /**
   * kafkajs' admin lists offsets at READ_COMMITTED only (the last stable offset). The high watermark needs a
   * READ_UNCOMMITTED ListOffsets, which only its internal cluster object can send.
   */
  async #highWatermarks(topic: string): Promise<Map<number, number>> {
    return this.#withInternalCluster({ isolationLevel: 0 }, async (cluster) => {
      await cluster.addTargetTopic(topic);
      await cluster.refreshMetadata();
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
      const [res] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions }]);
      return new Map(res!.partitions.map((p) => [p.partition, Number(p.offset)]));
    });
  }

  /**
   * kafkajs keeps its protocol-level cluster object private; a few operations its admin lacks (ListOffsets at
   * READ_UNCOMMITTED, a plain OffsetCommit) need one. Created per call and always disconnected.
   */
  async #withInternalCluster<T>(
    opts: { isolationLevel?: number },
    fn: (cluster: InternalCluster) => Promise<T>,
  ): Promise<T> {
    const symbol = Object.getOwnPropertySymbols(this.kafka).find(
      (s) => s.description === 'private:Kafka:createCluster',
    );
    if (!symbol) throw new Error('kafkajs internals changed: its private cluster factory is gone');
    const create = (this.kafka as unknown as Record<symbol, (o: object) => InternalCluster>)[symbol]!;
    const cluster = create({ ...opts, allowAutoTopicCreation: false });
    return this.call(async () => {
      await cluster.connect();
      try {
        return await fn(cluster);
      } finally {
        await cluster.disconnect();
      }
    });
  }

  /** The first offset whose timestamp is >= `timestamp` per partition (the end offset when none is). */
  async offsetsForTimestamp(topic: string, timestamp: number): Promise<Map<number, number>> {
    const admin = await this.admin();
    const res = await this.call(() => admin.fetchTopicOffsetsByTimestamp(topic, timestamp));
    const out = new Map<number, number>();
    for (const p of res) out.set(p.partition, Number(p.offset));
    const missing = res.filter((p) => Number(p.offset) < 0).length;
    if (missing > 0) {
      for (const p of await this.partitionOffsets(topic)) {
        if ((out.get(p.partition) ?? -1) < 0) out.set(p.partition, p.end);
      }
    }
    return out;
  }

  async listGroups(): Promise<string[]> {
    const admin = await this.admin();
    const { groups } = await this.call(() => admin.listGroups());
    return groups.map((g) => g.groupId).sort();
  }

  /**
   * Committed offsets of `groupId` on `topics` (every topic it committed on when omitted); partitions without
   * a commit are left out.
   */
  async committedOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    if (topics && topics.length === 0) return [];
    const admin = await this.admin();
    const res = await this.call(() => admin.fetchOffsets(topics ? { groupId, topics } : { groupId }));
    const out: CommittedOffset[] = [];
    for (const t of res) {
      for (const p of t.partitions) {
        const offset = Number(p.offset);
        if (offset >= 0)
          out.push({ topic: t.topic, partition: p.partition, offset, metadata: p.metadata ?? null });
      }
    }
    return out;
  }

  async describeGroups(groupIds: string[]): Promise<GroupState[]> {
    if (groupIds.length === 0) return [];
    const admin = await this.admin();
    const { groups } = await this.call(() => admin.describeGroups(groupIds));
    return groups.map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.length }));
  }

  /**
   * Commits offsets for a group that has no running members: a plain OffsetCommit outside any generation, which
   * Kafka refuses while the group has members. (kafkajs' admin.setOffsets joins the group as a consumer and waits
   * for a fetch: seconds per call.)
   */
  async setCommittedOffsets(
    groupId: string,
    topic: string,
    offsets: { partition: number; offset: number }[],
  ) {
    await this.#withInternalCluster({}, async (cluster) => {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({
        groupId,
        groupGenerationId: -1,
        memberId: '',
        retentionTime: -1,
        topics: [
          { topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: String(o.offset) })) },
        ],
      });
    });
  }

  /**
   * Creates a topic and waits until every partition has a leader. A topic of the same name deleted moments
   * before (a re-run drill, a restore after cleanup) makes the broker answer with transient errors for a while:
   * those are retried for up to `retryForMs`.
   */
  async createTopic(
    t: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string> },
    opts: { retryForMs?: number } = {},
  ): Promise<void> {
    const admin = await this.admin();
    const deadline = Date.now() + (opts.retryForMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      try {
        const created = await admin.createTopics({
          waitForLeaders: false,
          topics: [
            {
              topic: t.name,
              numPartitions: t.partitions,
              replicationFactor: t.replicationFactor,
              configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
            },
          ],
        });
        // false: it exists already, i.e. an earlier attempt of ours created it before failing.
        void created;
        await this.#waitForLeaders(t.name, t.partitions, deadline);
        return;
      } catch (e) {
        if (!isTransientTopicError(e) || Date.now() > deadline)
          throw translateKafkaError(e, this.settings, this.section);
        await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * attempt)));
      }
    }
  }

  async #waitForLeaders(topic: string, partitions: number, deadline: number): Promise<void> {
    const admin = await this.admin();
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch((e: unknown) => {
        if (isTransientTopicError(e)) return undefined;
        throw e;
      });
      const ready = meta?.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      if (ready >= partitions) return;
      if (Date.now() > deadline)
        throw new Error(`topic ${topic}: partitions without a leader after creation`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const admin = await this.admin();
    await this.call(() => admin.deleteTopics({ topics: names }));
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length === 0) return;
    const admin = await this.admin();
    await this.call(() => admin.deleteGroups(groupIds)).catch(() => undefined);
  }

  /** An idempotent producer: a retried send never writes a record twice. */
  async producer(opts: { transactionalId?: string } = {}): Promise<Producer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      ...(opts.transactionalId ? { transactionalId: opts.transactionalId } : {}),
    });
    await this.call(() => producer.connect());
    return producer;
  }

  /** A name for throw-away groups (the reader's), recognisable and unique. */
  static internalGroupId(purpose: string): string {
    return `kafka-backup-${purpose}-${randomUUID()}`;
  }

  requireTopicsExist(wanted: string[], existing: string[], field: string): void {
    const missing = wanted.filter((t) => !existing.includes(t));
    if (missing.length > 0) {
      throw new KafkaAccessError(
        `topic(s) ${missing.join(', ')} do not exist on ${this.settings.bootstrap_servers.join(', ')}`,
        {
          hint: `Fix ${field} or create the topic(s).`,
        },
      );
    }
  }
}
