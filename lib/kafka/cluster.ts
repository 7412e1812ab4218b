import {
  Admin,
  type Broker,
  ConfigResourceTypes,
  ConfigSources,
  type Connection,
  FetchIsolationLevels,
  ListOffsetTimestamps,
} from '@platformatic/kafka';
import { KafkaAccessError, KafkaTransientError } from '../errors.ts';
import { clientOptions, type KafkaConnectionSettings } from './client-options.ts';
import { brokerErrorCodes, translateKafkaError } from './errors.ts';
import { DEFAULT_RETRY, type RetryPolicy, sleep, withRetry } from './retry.ts';
import { requireProtocolSupport } from './versions.ts';

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
  /** The broker's id of this incarnation of the topic: a topic deleted and re-created gets a new one. */
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

export interface PartitionLeader {
  partition: number;
  leader: number;
  leaderEpoch: number;
}

/**
 * Keys of the two methods that hand out the client library's own objects (its admin client, a broker connection):
 * for lib/kafka's reader and writer only. index.ts exports neither, so nothing outside lib/kafka can reach the
 * client through a KafkaCluster.
 */
export const withClient = Symbol('lib/kafka: run with the client');
export const connectionOf = Symbol('lib/kafka: broker connection');

/** Kafka's id for "no id" (a topic id of all zero bits). */
const ZERO_UUID = /^(0{8}-0{4}-0{4}-0{4}-0{12}|A{22})$/;
const CLOSE_DEADLINE_MS = 5_000;

/**
 * One Kafka cluster, as the engine sees it. Every request goes through one retry policy (retry.ts) and comes out
 * either as a result, a KafkaAccessError naming `section` fields (a person must fix something), a
 * KafkaTransientError (the cluster kept answering "not now" until the deadline), or a bug.
 */
export class KafkaCluster {
  readonly settings: KafkaConnectionSettings;
  readonly section: string;
  readonly #clientId: string;
  readonly #policy: RetryPolicy;
  #admin: Admin | undefined;
  #reached = false;
  #checkedVersions: Promise<void> | undefined;

  constructor(
    settings: KafkaConnectionSettings,
    section: string,
    clientId = 'kafka-backup',
    policy: Partial<RetryPolicy> = {},
  ) {
    this.settings = settings;
    this.section = section;
    this.#clientId = clientId;
    this.#policy = { ...DEFAULT_RETRY, ...policy };
  }

  #client(): Admin {
    this.#admin ??= new Admin(clientOptions(this.settings, this.section, this.#clientId));
    return this.#admin;
  }

  /** Runs `fn` under the retry policy; errors come out translated (see the class comment). */
  async [withClient]<T>(
    what: string,
    fn: (admin: Admin) => Promise<T>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<T> {
    try {
      return await withRetry(
        async () => {
          const out = await fn(this.#client());
          this.#reached = true;
          return out;
        },
        {
          policy: this.#policy,
          reachedBefore: () => this.#reached,
          onRetry: () => this.#admin?.clearMetadata(),
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
      );
    } catch (e) {
      throw translateKafkaError(e, this.settings, this.section, what);
    }
  }

  /** Refuses brokers too old for the protocol versions we speak, naming what they support. */
  async requireSupportedBroker(): Promise<void> {
    this.#checkedVersions ??= this[withClient]('ApiVersions', (a) => a.listApis()).then((apis) =>
      requireProtocolSupport(apis, this.settings.bootstrap_servers.join(', ')),
    );
    return this.#checkedVersions;
  }

  /** A connection to broker `nodeId` (from the latest metadata), authenticated as configured. */
  async [connectionOf](nodeId: number): Promise<Connection> {
    const admin = this.#client();
    let broker: Broker | undefined = admin.currentMetadata?.brokers.get(nodeId);
    if (!broker) {
      const md = await admin.metadata({ topics: [], forceUpdate: true });
      broker = md.brokers.get(nodeId);
    }
    if (!broker)
      throw Object.assign(new Error(`broker ${nodeId} is not in the cluster metadata`), {
        apiId: 'LEADER_NOT_AVAILABLE',
      });
    return admin.connections.get(broker);
  }

  /** Current leaders of `topic`'s partitions, fresh from a broker. */
  async partitionLeaders(topic: string): Promise<{ topicId: string; leaders: PartitionLeader[] }> {
    const md = await this[withClient](`metadata of ${topic}`, (a) =>
      a.metadata({ topics: [topic], forceUpdate: true }),
    );
    const t = md.topics.get(topic);
    if (!t)
      throw new KafkaAccessError(
        `topic ${topic} does not exist on ${this.settings.bootstrap_servers.join(', ')}`,
      );
    return {
      topicId: t.id,
      leaders: t.partitions.map((p, partition) => ({
        partition,
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
      })),
    };
  }

  /** Drops cached metadata, so the next request asks a broker (after a leader moved or a topic was re-created). */
  forgetMetadata(): void {
    this.#admin?.clearMetadata();
  }

  /** Closes every connection, waiting at most a few seconds: a dead broker must not keep the process alive. */
  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    this.#checkedVersions = undefined;
    if (!admin) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      admin.close().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    for (const [, connection] of admin.connections) connection.socket?.destroy();
  }

  async describeCluster(): Promise<{ clusterId: string; brokers: number }> {
    await this.requireSupportedBroker();
    const md = await this[withClient]('describe cluster', (a) =>
      a.metadata({ topics: [], forceUpdate: true }),
    );
    return { clusterId: md.id, brokers: md.brokers.size };
  }

  async listTopics(): Promise<string[]> {
    return (await this[withClient]('list topics', (a) => a.listTopics())).sort();
  }

  async describeTopics(names: string[]): Promise<TopicDescription[]> {
    if (names.length === 0) return [];
    const md = await this[withClient]('describe topics', (a) =>
      a.metadata({ topics: names, forceUpdate: true }),
    );
    const configs = await this[withClient]('describe topic configs', (a) =>
      a.describeConfigs({
        resources: names.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name })),
        includeSynonyms: false,
      }),
    );
    return names.map((name) => {
      const t = md.topics.get(name);
      if (!t)
        throw new KafkaAccessError(
          `topic ${name} does not exist on ${this.settings.bootstrap_servers.join(', ')}`,
        );
      const own: Record<string, string> = {};
      for (const c of configs.find((r) => r.resourceName === name)?.configs ?? []) {
        if (
          c.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG &&
          typeof c.value === 'string' &&
          !c.isSensitive
        )
          own[c.name] = c.value;
      }
      return {
        name,
        partitionCount: t.partitionsCount,
        replicationFactor: Math.max(1, ...t.partitions.map((p) => p.replicas.length)),
        topicId: t.id && !ZERO_UUID.test(t.id) ? t.id : null,
        configs: own,
      };
    });
  }

  /** A topic's effective value of `name` (its own setting, else the broker's default). */
  async effectiveTopicConfig(topic: string, name: string): Promise<string | undefined> {
    return (await this.effectiveTopicConfigs(topic, [name]))[name];
  }

  /** Several effective values of a topic in one DescribeConfigs. */
  async effectiveTopicConfigs(topic: string, names: string[]): Promise<Record<string, string | undefined>> {
    const res = await this[withClient](`describe configs ${names.join(', ')} of ${topic}`, (a) =>
      a.describeConfigs({
        resources: [
          { resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: names },
        ],
      }),
    );
    const configs = res[0]?.configs ?? [];
    return Object.fromEntries(names.map((n) => [n, configs.find((c) => c.name === n)?.value ?? undefined]));
  }

  async #partitionCount(topic: string): Promise<number> {
    const md = await this[withClient](`metadata of ${topic}`, (a) => a.metadata({ topics: [topic] }));
    return md.topics.get(topic)?.partitionsCount ?? 0;
  }

  /** Every partition index of the topic: 0 .. partition count − 1. */
  async #allPartitions(topic: string): Promise<number[]> {
    return Array.from({ length: await this.#partitionCount(topic) }, (_, p) => p);
  }

  async #listOffsets(
    topic: string,
    partitions: readonly number[],
    timestamp: bigint,
    isolation: IsolationLevel,
  ): Promise<Map<number, number>> {
    const res = await this[withClient](`list offsets of ${topic}`, (a) =>
      a.listOffsets({
        topics: [
          {
            name: topic,
            partitions: partitions.map((p) => ({ partitionIndex: p, timestamp })),
          },
        ],
        isolationLevel:
          isolation === 'read_committed'
            ? FetchIsolationLevels.READ_COMMITTED
            : FetchIsolationLevels.READ_UNCOMMITTED,
      }),
    );
    const out = new Map<number, number>();
    for (const p of res.find((t) => t.name === topic)?.partitions ?? [])
      out.set(p.partitionIndex, Number(p.offset));
    return out;
  }

  /**
   * The end offset (the last stable offset under read_committed) of one partition: what a restore of that
   * partition asks, without listing the topic's other partitions (10,000 restored partitions of 500-partition
   * topics would be 5 million partition lookups).
   */
  async partitionEnd(
    topic: string,
    partition: number,
    isolation: IsolationLevel = 'read_committed',
  ): Promise<number | undefined> {
    return (await this.#listOffsets(topic, [partition], ListOffsetTimestamps.LATEST, isolation)).get(
      partition,
    );
  }

  async partitionOffsets(
    topic: string,
    isolation: IsolationLevel = 'read_committed',
  ): Promise<PartitionOffsets[]> {
    const all = await this.#allPartitions(topic);
    const [starts, ends] = await Promise.all([
      this.#listOffsets(topic, all, ListOffsetTimestamps.EARLIEST, isolation),
      this.#listOffsets(topic, all, ListOffsetTimestamps.LATEST, isolation),
    ]);
    return [...starts]
      .map(([partition, logStart]) => ({ partition, logStart, end: ends.get(partition) ?? logStart }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** The first offset whose timestamp is >= `timestamp` per partition (the end offset when none is). */
  async offsetsForTimestamp(topic: string, timestamp: number): Promise<Map<number, number>> {
    const out = await this.#listOffsets(
      topic,
      await this.#allPartitions(topic),
      BigInt(timestamp),
      'read_committed',
    );
    if ([...out.values()].some((o) => o < 0)) {
      for (const p of await this.partitionOffsets(topic))
        if ((out.get(p.partition) ?? -1) < 0) out.set(p.partition, p.end);
    }
    return out;
  }

  async listGroups(): Promise<string[]> {
    const groups = await this[withClient]('list groups', (a) => a.listGroups());
    return [...groups.keys()].sort();
  }

  /**
   * Committed offsets of `groupId` on `topics` (every topic it committed on when omitted); partitions without
   * a commit are left out.
   */
  async committedOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    if (topics && topics.length === 0) return [];
    const partitionsOf = async (t: string) =>
      (await this[withClient](`metadata of ${t}`, (a) => a.metadata({ topics: [t] }))).topics.get(t)
        ?.partitionsCount ?? 0;
    const wanted = topics
      ? await Promise.all(
          topics.map(async (name) => ({
            name,
            partitionIndexes: Array.from({ length: await partitionsOf(name) }, (_, p) => p),
          })),
        )
      : null;
    const res = await this[withClient](`committed offsets of group ${groupId}`, (a) =>
      a.listConsumerGroupOffsets({ groups: [wanted ? { groupId, topics: wanted } : groupId] }),
    );
    const out: CommittedOffset[] = [];
    for (const g of res) {
      for (const t of g.topics) {
        for (const p of t.partitions) {
          const offset = Number(p.committedOffset);
          if (offset >= 0)
            out.push({ topic: t.name, partition: p.partitionIndex, offset, metadata: p.metadata ?? null });
        }
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  async describeGroups(groupIds: string[]): Promise<GroupState[]> {
    if (groupIds.length === 0) return [];
    const groups = await this[withClient]('describe groups', (a) => a.describeGroups({ groups: groupIds }));
    return groupIds.map((groupId) => {
      const g = groups.get(groupId);
      return { groupId, state: g?.state ?? 'DEAD', members: g?.members.size ?? 0 };
    });
  }

  /**
   * Commits offsets for a group that has no running members: a plain OffsetCommit outside any generation, which
   * Kafka refuses while the group has members.
   */
  async setCommittedOffsets(
    groupId: string,
    topic: string,
    offsets: { partition: number; offset: number }[],
  ) {
    await this[withClient](`commit offsets of group ${groupId}`, (a) =>
      a.alterConsumerGroupOffsets({
        groupId,
        topics: [
          {
            name: topic,
            partitionOffsets: offsets.map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
          },
        ],
      }),
    );
  }

  /**
   * Creates a topic and waits until every partition has a leader. A topic of the same name deleted moments
   * before (a re-run drill, a restore after cleanup) makes the broker answer with transient errors for a while:
   * retried like every other transient error. A topic that exists already (our own earlier attempt) is fine.
   */
  async createTopic(t: {
    name: string;
    partitions: number;
    replicationFactor: number;
    configs: Record<string, string>;
  }): Promise<void> {
    await this[withClient](`create topic ${t.name}`, async (a) => {
      try {
        await a.createTopics({
          topics: [t.name],
          partitions: t.partitions,
          replicas: t.replicationFactor,
          configs: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
        });
      } catch (e) {
        const codes = brokerErrorCodes(e);
        if (codes.length === 0 || !codes.every((c) => c === 'TOPIC_ALREADY_EXISTS')) throw e;
      }
    });
    const deadline = Date.now() + this.#policy.deadlineMs;
    await this[withClient](`wait for leaders of ${t.name}`, async (a) => {
      for (;;) {
        const md = await a.metadata({ topics: [t.name], forceUpdate: true });
        const topic = md.topics.get(t.name);
        const ready = topic?.partitions.filter((p) => p.leader >= 0).length ?? 0;
        if (ready >= t.partitions) return;
        if (Date.now() > deadline) {
          throw new KafkaTransientError(
            `topic ${t.name}: ${t.partitions - ready} partition(s) without a leader after creation`,
            {
              hint: 'The cluster is electing leaders slowly; check broker health and run again.',
            },
          );
        }
        await sleep(100);
      }
    });
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this[withClient](`delete topics ${names.join(', ')}`, (a) => a.deleteTopics({ topics: names }));
    this.forgetMetadata();
  }

  /** Deletes groups; one that does not exist (or is not empty) is left as it is. */
  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length === 0) return;
    await this[withClient](`delete groups ${groupIds.join(', ')}`, (a) =>
      a.deleteGroups({ groups: groupIds }),
    ).catch(() => undefined);
  }

  /** Deletes every record below `offset` in each partition given (what retention does, on demand). */
  async deleteRecordsBefore(topic: string, offsets: { partition: number; offset: number }[]): Promise<void> {
    await this[withClient](`delete records of ${topic}`, (a) =>
      a.deleteRecords({
        topics: [
          {
            name: topic,
            partitions: offsets.map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
          },
        ],
      }),
    );
  }

  requireTopicsExist(wanted: string[], existing: string[], field: string): void {
    const missing = wanted.filter((t) => !existing.includes(t));
    if (missing.length > 0) {
      throw new KafkaAccessError(
        `topic(s) ${missing.join(', ')} do not exist on ${this.settings.bootstrap_servers.join(', ')}`,
        { hint: `Fix ${field} or create the topic(s).` },
      );
    }
  }
}
