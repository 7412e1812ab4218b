import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { BackupRecord, RecordHeader } from '../format/record.ts';
import { type IsolationLevel, KafkaCluster } from './cluster.ts';
import type { WireHeader } from './kafkajs-patched.ts';
import { kafkajs } from './kafkajs-patched.ts';

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** Exclusive end (the cut). */
  to: number;
}

export interface ReadBatch {
  topic: string;
  partition: number;
  /** Records with from <= offset < to, in offset order, aborted and control records removed. */
  records: BackupRecord[];
  /** Where reading this batch started (the previous batch's nextOffset). */
  fetchedFrom: number;
  /**
   * The offset after everything this batch covered, filtered records included. Offsets below it are read;
   * equal to `to` once the partition is finished.
   */
  nextOffset: number;
}

export interface ReadOptions {
  isolation: IsolationLevel;
  /** Partitions fetched and handled at once. */
  concurrency: number;
  maxBytesPerPartition?: number;
  /** Called once per fetched batch, in offset order per partition; reading waits for it (backpressure). */
  onBatch: (batch: ReadBatch) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Fetch rounds in which no unfinished partition got a record, after which none has a record left below its cut
 * (e.g. its tail was aborted and then compacted away). Only when all are idle: a single idle partition may just
 * be starved by the fetch size limit while others are busy.
 */
const IDLE_ROUNDS_BEFORE_DONE = 20;

interface PartitionState {
  range: PartitionRange;
  next: number;
  done: boolean;
  /**
   * Being read now. At most `concurrency` partitions are: the others wait paused, so the caller holds open
   * state (e.g. a segment being filled) for a bounded number of partitions, whatever their count.
   */
  active: boolean;
  idleRounds: number;
  /** Serialises onBatch calls per partition across eachBatch and filtered-batch events. */
  chain: Promise<void>;
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function toRecord(m: KafkaMessage): BackupRecord {
  const extra = m as KafkaMessage & { headerList?: WireHeader[]; batchContext?: { timestampType?: number } };
  const headers: RecordHeader[] = (extra.headerList ?? []).map((h) => ({ key: h.key, value: h.value }));
  return {
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    timestampType: extra.batchContext?.timestampType === 1 ? 1 : 0,
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
  };
}

/**
 * Reads each partition from `from` up to (not including) `to`, then stops. kafkajs has no manual assignment,
 * so this joins a throw-away consumer group whose assigner gives every requested partition to its only member,
 * seeks, and deletes the group afterwards. Nothing is committed.
 */
export async function readPartitions(cluster: KafkaCluster, ranges: PartitionRange[], opts: ReadOptions) {
  const states = new Map<string, PartitionState>();
  for (const r of ranges) {
    if (r.from >= r.to) continue;
    states.set(key(r.topic, r.partition), {
      range: r,
      next: r.from,
      done: false,
      active: false,
      idleRounds: 0,
      chain: Promise.resolve(),
    });
  }
  if (states.size === 0) return;

  const groupId = KafkaCluster.internalGroupId('reader');
  const assignment: Record<string, number[]> = {};
  for (const s of states.values()) {
    assignment[s.range.topic] = [...(assignment[s.range.topic] ?? []), s.range.partition];
  }
  const { AssignerProtocol } = kafkajs;
  const onlyMemberAssigner = () => ({
    name: 'KafkaBackupRangeReader',
    version: 1,
    async assign({ members }: { members: { memberId: string }[] }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? assignment : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }: { topics: string[] }) {
      return {
        name: 'KafkaBackupRangeReader',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  });

  // kafkajs decodes a whole fetch response into message objects before handling its first batch and keeps them
  // until the last is handled, so the fetch size is what the reader holds: 2 MiB per partition (8 MiB a fetch at
  // the default concurrency) reads as fast as 8 MiB did on a local broker, with ~60-100 MiB less peak RSS
  // (bench/). A record batch larger than this still comes whole: Fetch v3+ returns a partition's first batch
  // even when it exceeds the limit.
  const maxBytesPerPartition = opts.maxBytesPerPartition ?? 2 * 1024 * 1024;
  const consumer: Consumer = cluster.kafka.consumer({
    groupId,
    partitionAssigners: [onlyMemberAssigner],
    readUncommitted: opts.isolation === 'read_uncommitted',
    maxBytesPerPartition,
    maxBytes: Math.max(
      maxBytesPerPartition,
      Math.min(64 * 1024 * 1024, maxBytesPerPartition * opts.concurrency),
    ),
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
    sessionTimeout: 30_000,
    // How long a rebalance waits for members to rejoin. The only rebalance this one-member group sees is kafkajs
    // rejoining as a new member after it restarted a crashed consumer (e.g. the broker was down), and the member
    // it waits for is that dead predecessor, which the restarted coordinator keeps until this runs out.
    rebalanceTimeout: 10_000,
    heartbeatInterval: 3_000,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  });

  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  let failed = false;
  const abort = (e: unknown) => {
    if (failed) return;
    failed = true;
    fail(e);
  };
  const remaining = () => [...states.values()].filter((s) => !s.done).length;

  const advance = (s: PartitionState, records: BackupRecord[], nextOffset: number) => {
    const fetchedFrom = s.next;
    const next = Math.min(Math.max(s.next, nextOffset), s.range.to);
    s.next = next;
    s.idleRounds = 0;
    const becameDone = !s.done && next >= s.range.to;
    if (becameDone) s.done = true;
    s.chain = s.chain.then(async () => {
      if (failed) return;
      await opts.onBatch({
        topic: s.range.topic,
        partition: s.range.partition,
        records,
        fetchedFrom,
        nextOffset: next,
      });
      if (becameDone) {
        pauseDone(s);
        s.active = false;
        if (remaining() === 0) finish();
        else activateWaiting();
      }
    });
    s.chain.catch(abort);
    return s.chain;
  };

  // A finished partition is paused so it is no longer fetched. kafkajs keeps pauses per consumer-group
  // instance: after a crash and restart (broker restart) they are gone, and between the two there is no
  // instance at all (pause throws), so this is repeated on every join and never fails the read.
  const pauseDone = (s: PartitionState) => {
    try {
      consumer.pause([{ topic: s.range.topic, partitions: [s.range.partition] }]);
    } catch {
      // restarting: the next GROUP_JOIN pauses it
    }
  };
  const maxActive = Math.max(1, opts.concurrency);
  const activate = (s: PartitionState) => {
    s.active = true;
    s.idleRounds = 0;
    try {
      consumer.seek({ topic: s.range.topic, partition: s.range.partition, offset: String(s.next) });
      consumer.resume([{ topic: s.range.topic, partitions: [s.range.partition] }]);
    } catch {
      // restarting: the next GROUP_JOIN seeks and resumes it
    }
  };
  /** Starts waiting partitions while fewer than `maxActive` are being read. */
  const activateWaiting = () => {
    let active = [...states.values()].filter((s) => s.active && !s.done).length;
    for (const s of states.values()) {
      if (active >= maxActive) break;
      if (!s.done && !s.active) {
        activate(s);
        active++;
      }
    }
  };
  const seekAll = () => {
    for (const s of states.values()) {
      if (s.done || !s.active) pauseDone(s);
      else activate(s);
    }
    activateWaiting();
  };

  // Batches left empty by filtering (only aborted records or transaction markers) never reach eachBatch.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize !== 0 || payload.lastOffset == null) return;
    const s = states.get(key(payload.topic, payload.partition));
    if (s && !s.done && s.active) void advance(s, [], Number(payload.lastOffset) + 1);
  });
  consumer.on(consumer.events.FETCH, () => {
    const open = [...states.values()].filter((s) => s.active && !s.done);
    for (const s of open) s.idleRounds += 1;
    if (open.length > 0 && open.every((s) => s.idleRounds >= IDLE_ROUNDS_BEFORE_DONE)) {
      for (const s of open) void advance(s, [], s.range.to);
    }
  });
  // kafkajs restarts a crashed consumer by rejoining the group; the seeks must then be made again.
  consumer.on(consumer.events.GROUP_JOIN, () => seekAll());
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) abort(payload.error);
  });
  const onAbort = () => abort(opts.signal?.reason ?? new Error('read aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    await cluster.call(() => consumer.connect());
    await cluster.call(() =>
      consumer.subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true }),
    );
    await cluster.call(() =>
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, opts.concurrency),
        eachBatch: async ({ batch, resolveOffset }: EachBatchPayload) => {
          const s = states.get(key(batch.topic, batch.partition));
          if (!s || failed) return;
          if (s.done || !s.active) {
            // Fetched before its pause took effect: dropped, and read again from s.next once it is activated.
            pauseDone(s);
            return;
          }
          const records: BackupRecord[] = [];
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset >= s.next && offset < s.range.to) records.push(toRecord(m));
          }
          const lastRaw = Number(batch.lastOffset());
          await advance(s, records, lastRaw + 1).catch(() => undefined);
          // Moves kafkajs' fetch position past this batch. With eachBatchAutoResolve off nothing else does:
          // the next fetch would return the same batch again, forever, for a partition larger than one fetch.
          if (!failed && s.active) resolveOffset(batch.lastOffset());
        },
      }),
    );
    seekAll();
    await finished;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // No batch handler may still run once this returns: callers flush and reuse their state right after.
    failed = true;
    await Promise.allSettled([...states.values()].map((s) => s.chain));
    await consumer.disconnect().catch(() => undefined);
    await cluster.deleteGroups([groupId]);
  }
}
