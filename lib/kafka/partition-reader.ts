import { FetchIsolationLevels, protocolErrorsCodesById } from '@platformatic/kafka';
import { CorruptDataError, UserError } from '../errors.ts';
import { allSettledOrThrow, mapLimit } from '../map-limit.ts';
import { connectionOf, type IsolationLevel, type KafkaCluster } from './cluster.ts';
import { classifyKafkaError, translateKafkaError } from './errors.ts';
import type { StoredBatch } from './protocol/batch-builder.ts';
import { type FetchedPartition, fetchRecordsV13 } from './protocol/fetch-records-v13.ts';
import {
  type BatchScan,
  batchesIn,
  decodeBatch,
  decodeRecords,
  encodeBatchPart,
  lastOffset,
  RecordBatchError,
  readBatchHeader,
  recordsRegion,
  scanBatch,
  verifyCrc,
} from './protocol/record-batch.ts';
import type { BackupRecord } from './record.ts';
import { backoffDelay, DEFAULT_RETRY, sleep } from './retry.ts';

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** Exclusive end (the cut). */
  to: number;
}

/** A fetched batch, CRC checked, its records walked (scan), holding only records in the read range. */
export interface FetchedBatch extends StoredBatch {
  scan: BatchScan;
}

export interface ReadBatch {
  topic: string;
  partition: number;
  /**
   * The record batches with records in from <= offset < to, in offset order, as the broker returned them;
   * aborted and control batches removed, and a batch the range starts or ends inside re-encoded with only the
   * records in range (same offsets, timestamps, keys, values and headers). Empty batches are left out.
   */
  batches: FetchedBatch[];
  /** The records of `batches`, decoded on first use. */
  readonly records: BackupRecord[];
  /**
   * Where reading this batch started: the previous batch's nextOffset, even when retention deleted offsets
   * meanwhile and reading went on at the log start (the caller sees the jump and records a gap).
   */
  fetchedFrom: number;
  /**
   * The offset after everything this batch covered, filtered records included. Offsets below it are read;
   * equal to `to` once the partition is finished.
   */
  nextOffset: number;
}

export interface ReadOptions {
  isolation: IsolationLevel;
  /**
   * Partitions read at once: at most this many have been handed on in part (an open segment each, downstream).
   * Partitions beyond them ride along in the same fetches as probes, and one whose whole range a probe brings is
   * handed on and finished at once, so thousands of small partitions take a few fetches, not thousands.
   */
  concurrency: number;
  maxBytesPerPartition?: number;
  /** Called once per fetched batch, in offset order per partition; reading waits for it (backpressure). */
  onBatch: (batch: ReadBatch) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Fetches in a row, each of this partition alone, that returned nothing although its end is past its next
 * offset, after which nothing is left below the cut (e.g. its tail was aborted and then compacted away). Alone,
 * because in a fetch of several partitions the broker returns a batch larger than partition_max_bytes only for
 * the first partition: the others come back empty, and would look finished.
 */
const EMPTY_FETCHES_BEFORE_DONE = 3;
const MAX_WAIT_MS = 250;
/**
 * Probes per fetch request (per leader). A consumer fetches every partition it is assigned on a broker at once;
 * a few thousand is ordinary for a broker, and a probe past the response's byte budget costs it one index lookup.
 */
const MAX_PROBES_PER_FETCH = 2_000;

interface PartitionState {
  range: PartitionRange;
  next: number;
  done: boolean;
  emptyFetches: number;
  /** Fetch it in a request of its own (it came back empty or with a partial batch among others). */
  solo: boolean;
  /** Something of it was handed on and it is not done: it holds one of the `concurrency` places. */
  opened: boolean;
  /** A probe brought records of it but not its whole range: it waits for a place instead of being probed again. */
  tooLargeToProbe: boolean;
  /** Producers with an aborted transaction open at `next` (read_committed): their data batches are skipped. */
  aborting: Set<bigint>;
  /** Where reading stood before retention moved it to the log start: the next delivery's fetchedFrom. */
  jumpedFrom: number | undefined;
}

const errorName = (code: number): string => protocolErrorsCodesById[code] ?? `error code ${code}`;

class PartitionFetchError extends Error {
  override name = 'PartitionFetchError';
  readonly apiId: string;
  constructor(topic: string, partition: number, code: number) {
    super(`fetch of ${topic}/${partition} failed: ${errorName(code)}`);
    this.apiId = errorName(code);
  }
}

/**
 * Reads each partition from `from` up to (not including) `to`, then stops: plain Fetch requests to each
 * partition's leader (no consumer group), the batches CRC-checked and decoded by record-batch.ts. Under
 * read_committed, aborted transactions are dropped using the aborted-transaction list of each response, as
 * Kafka's own consumer does. Transient errors (leader moved, broker restarting) are retried while the read made
 * progress within the retry deadline.
 */
export async function readPartitions(cluster: KafkaCluster, ranges: PartitionRange[], opts: ReadOptions) {
  const states = ranges
    .filter((r) => r.from < r.to)
    .map(
      (range): PartitionState => ({
        range,
        next: range.from,
        done: false,
        emptyFetches: 0,
        solo: false,
        opened: false,
        tooLargeToProbe: false,
        aborting: new Set(),
        jumpedFrom: undefined,
      }),
    );
  if (states.length === 0) return { fetches: 0 };
  await cluster.requireSupportedBroker();
  const fetcher = new PartitionFetcher(cluster, opts);
  await fetcher.run(states);
  return { fetches: fetcher.fetches };
}

/** Per topic: its id when reading started (a different one later means it was re-created) and its leaders. */
interface TopicState {
  topicId: string;
  leaders: Map<number, number> | undefined;
}

/** A fetch request's partitions: those read (`active`, handed on as fetched) first, then the probes. */
interface FetchGroup {
  active: PartitionState[];
  probes: PartitionState[];
}

/**
 * One readPartitions call: fetches the active partitions grouped by leader (a partition gone quiet alone), with
 * as many further partitions as probes, hands each partition's batches to `onBatch` in order, and retries
 * transient errors within the retry deadline.
 */
class PartitionFetcher {
  readonly #cluster: KafkaCluster;
  readonly #opts: ReadOptions;
  readonly #partitionMaxBytes: number;
  readonly #isolation: (typeof FetchIsolationLevels)[keyof typeof FetchIsolationLevels];
  readonly #topics = new Map<string, TopicState>();

  constructor(cluster: KafkaCluster, opts: ReadOptions) {
    this.#cluster = cluster;
    this.#opts = opts;
    this.#partitionMaxBytes = opts.maxBytesPerPartition ?? 2 * 1024 * 1024;
    this.#isolation =
      opts.isolation === 'read_committed'
        ? FetchIsolationLevels.READ_COMMITTED
        : FetchIsolationLevels.READ_UNCOMMITTED;
  }

  /** Fetch requests sent. */
  fetches = 0;

  async run(states: PartitionState[]): Promise<void> {
    const cluster = this.#cluster;
    const maxActive = Math.max(1, this.#opts.concurrency);
    let lastProgress = Date.now();
    let attempt = 0;
    const signal = this.#opts.signal;
    while (states.some((s) => !s.done)) {
      if (signal?.aborted) throw signal.reason ?? new Error('read aborted');
      const waiting = states.filter((s) => !s.done);
      // The open partitions keep their places; free places go to the next partitions in order.
      let places = maxActive - waiting.filter((s) => s.opened).length;
      const active = waiting.filter((s) => s.opened || places-- > 0);
      const activeSet = new Set(active);
      const candidates = waiting.filter((s) => !activeSet.has(s) && !s.tooLargeToProbe);
      const included = [...active];
      const before = new Map<PartitionState, number>();
      try {
        const requests: [number, FetchGroup][] = [];
        const byLeader = new Map<number, FetchGroup>();
        const groupOf = (leader: number) => {
          const g = byLeader.get(leader) ?? { active: [], probes: [] };
          byLeader.set(leader, g);
          return g;
        };
        for (const s of active) {
          const leader = await this.#leaderOf(s.range.topic, s.range.partition);
          if (s.solo) requests.push([leader, { active: [s], probes: [] }]);
          else groupOf(leader).active.push(s);
        }
        for (const s of candidates) {
          const g = groupOf(await this.#leaderOf(s.range.topic, s.range.partition));
          if (g.probes.length < MAX_PROBES_PER_FETCH) {
            g.probes.push(s);
            included.push(s);
          }
        }
        for (const s of included) before.set(s, s.next);
        // Every request ends before the round does, failed or not: a retry never overlaps a delivery.
        await allSettledOrThrow(
          [...requests, ...byLeader].map(([leader, group]) => this.#fetchFrom(leader, group)),
        );
        attempt = 0;
      } catch (e) {
        if (e instanceof UserError) throw e;
        const kind = classifyKafkaError(e);
        if (
          (kind !== 'transient' && kind !== 'network') ||
          Date.now() - lastProgress > DEFAULT_RETRY.deadlineMs
        ) {
          throw translateKafkaError(e, cluster.settings, cluster.section, `read ${describe(active)}`);
        }
        this.#forgetLeaders();
        await sleep(backoffDelay(DEFAULT_RETRY, ++attempt), signal);
      }
      if ([...before].some(([s, next]) => s.next !== next)) lastProgress = Date.now();
    }
  }

  async #leaderOf(topic: string, partition: number): Promise<number> {
    let t = this.#topics.get(topic);
    if (!t?.leaders) {
      const md = await this.#cluster.partitionLeaders(topic);
      if (t && t.topicId !== md.topicId) {
        throw new UserError(`topic ${topic} was deleted and re-created while it was being read`, {
          hint: 'Run the backup again: it backs up the new topic from its start.',
        });
      }
      t = { topicId: md.topicId, leaders: new Map(md.leaders.map((l) => [l.partition, l.leader])) };
      this.#topics.set(topic, t);
    }
    const leader = t.leaders!.get(partition) ?? -1;
    if (leader < 0) throw new PartitionFetchError(topic, partition, 5 /* LEADER_NOT_AVAILABLE */);
    return leader;
  }

  #forgetLeaders(): void {
    for (const t of this.#topics.values()) t.leaders = undefined;
    this.#cluster.forgetMetadata();
  }

  async #deliver(s: PartitionState, batches: FetchedBatch[], nextOffset: number): Promise<void> {
    const fetchedFrom = s.jumpedFrom ?? s.next;
    s.jumpedFrom = undefined;
    s.next = Math.min(Math.max(s.next, nextOffset), s.range.to);
    if (s.next >= s.range.to) s.done = true;
    s.opened = !s.done;
    await this.#opts.onBatch(readBatch(s.range, batches, fetchedFrom, s.next));
  }

  /**
   * A probe's answer: handed on only when it holds the rest of the partition's range (the partition is then done
   * and takes no place); otherwise dropped, the partition then read in its turn. An empty answer (the response's
   * byte budget ran out before it, or an error) leaves it to be probed again.
   */
  async #handleProbe(s: PartitionState, p: FetchedPartition): Promise<void> {
    if (p.errorCode !== 0 || p.records.length === 0) return;
    const aborting = new Set(s.aborting);
    const { batches, covered } = this.#keptBatches(s, p);
    if (covered >= s.range.to) {
      await this.#deliver(s, batches, covered);
      return;
    }
    s.aborting = aborting; // as it was: the partition is read again from `next`
    s.tooLargeToProbe = true;
  }

  async #handle(s: PartitionState, p: FetchedPartition, alone: boolean): Promise<void> {
    if (p.errorCode === 1 /* OFFSET_OUT_OF_RANGE */) {
      // Retention deleted offsets before we reached them: continue at the log start; the caller sees the jump
      // (fetchedFrom below the first record) and records a gap.
      const logStart = (await this.#cluster.partitionOffsets(s.range.topic, this.#opts.isolation)).find(
        (o) => o.partition === s.range.partition,
      )?.logStart;
      if (logStart === undefined || logStart <= s.next)
        throw new PartitionFetchError(s.range.topic, s.range.partition, 1);
      s.jumpedFrom ??= s.next;
      if (logStart >= s.range.to) await this.#deliver(s, [], s.range.to);
      else s.next = logStart;
      return;
    }
    if (p.errorCode !== 0) throw new PartitionFetchError(s.range.topic, s.range.partition, p.errorCode);
    const { batches, covered } = this.#keptBatches(s, p);
    if (covered > s.next) {
      s.emptyFetches = 0;
      s.solo = false;
      await this.#deliver(s, batches, covered);
      return;
    }
    const end =
      this.#isolation === FetchIsolationLevels.READ_COMMITTED ? p.lastStableOffset : p.highWatermark;
    if (end <= s.next) return; // nothing new yet (cannot happen below a cut taken earlier, but harmless)
    if (!alone) {
      s.solo = true;
      return;
    }
    if (p.records.length === 0 && ++s.emptyFetches >= EMPTY_FETCHES_BEFORE_DONE)
      await this.#deliver(s, [], s.range.to);
  }

  /**
   * The batches of a fetched partition to hand on, CRC checked: those in [next, to), aborted and control batches
   * dropped (under read_committed, by the fetch's aborted-transaction list and the markers), a batch the range
   * starts or ends inside cut to the records in it; `covered` is the offset after everything looked at.
   */
  #keptBatches(s: PartitionState, p: FetchedPartition): { batches: FetchedBatch[]; covered: number } {
    const aborted = [...p.abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
    const batches: FetchedBatch[] = [];
    let covered = s.next;
    const where = `${s.range.topic}/${s.range.partition}`;
    for (const { header, bytes } of batchesIn(p.records)) {
      const last = lastOffset(header);
      if (last < s.next) continue; // a whole batch before the fetch offset (the broker sends from its start)
      if (header.baseOffset >= s.range.to) {
        covered = s.range.to;
        break;
      }
      covered = last + 1;
      try {
        if (this.#isolation === FetchIsolationLevels.READ_COMMITTED) {
          while (aborted.length > 0 && aborted[0]!.firstOffset <= last)
            s.aborting.add(aborted.shift()!.producerId);
          if (header.control) {
            if (decodeBatch(header, bytes).controlType === 0) s.aborting.delete(header.producerId);
            continue;
          }
          if (header.transactional && s.aborting.has(header.producerId)) continue;
        } else if (header.control) continue;
        // Markers end transactions and are never stored (a restore writes without transactions).
        verifyCrc(header, bytes);
        if (header.recordCount === 0) continue; // compaction emptied it; the broker keeps it for producer state
        const scan = scanBatch(header, recordsRegion(header, bytes));
        if (scan.firstOffset >= s.next && scan.lastOffset < s.range.to) {
          batches.push({ header, bytes, scan });
          continue;
        }
        // The range starts or ends inside this batch (a log start moved by DeleteRecords): keep what is in it.
        const kept = decodeRecords(header, recordsRegion(header, bytes)).records.filter(
          (r) => r.offset >= s.next && r.offset < s.range.to,
        );
        if (kept.length === 0) continue;
        const part = encodeBatchPart(header, kept);
        const partHeader = readBatchHeader(part, 0)!;
        batches.push({
          header: partHeader,
          bytes: part,
          scan: scanBatch(partHeader, recordsRegion(partHeader, part)),
        });
      } catch (e) {
        if (!(e instanceof RecordBatchError)) throw e;
        throw new CorruptDataError(`${where}: ${e.message}`, {
          hint: 'The broker returned a damaged record batch; check the broker logs and the disk of the leader.',
        });
      }
    }
    return { batches, covered };
  }

  async #fetchFrom(leader: number, group: FetchGroup): Promise<void> {
    const all = [...group.active, ...group.probes];
    const byTopic = new Map<string, PartitionState[]>();
    for (const s of all) byTopic.set(s.range.topic, [...(byTopic.get(s.range.topic) ?? []), s]);
    const connection = await this.#cluster[connectionOf](leader);
    // The broker fills the response in request order up to its byte budget: the active partitions first, a
    // partition's worth for the probes after them. A partition past the budget comes back empty.
    const budget = this.#partitionMaxBytes * (group.active.length + (group.probes.length > 0 ? 1 : 0));
    this.fetches++;
    const response = await fetchRecordsV13.async(
      connection,
      MAX_WAIT_MS,
      1,
      Math.min(256 * 1024 * 1024, budget),
      this.#isolation,
      0,
      -1,
      [...byTopic].map(([topic, list]) => ({
        topicId: this.#topics.get(topic)!.topicId,
        partitions: list.map((s) => ({
          partition: s.range.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(s.next),
          lastFetchedEpoch: -1,
          partitionMaxBytes: this.#partitionMaxBytes,
        })),
      })),
      [],
      '',
    );
    if (response.errorCode !== 0) throw new PartitionFetchError('*', -1, response.errorCode);
    const byId = new Map([...this.#topics].map(([name, t]) => [t.topicId, name]));
    const key = (topic: string | undefined, partition: number) => `${topic}/${partition}`;
    const answers = new Map<string, FetchedPartition>();
    for (const t of response.responses)
      for (const p of t.partitions) answers.set(key(byId.get(t.topicId), p.partition), p);
    const answerOf = (s: PartitionState) => answers.get(key(s.range.topic, s.range.partition));
    const alone = all.length === 1;
    await allSettledOrThrow(
      group.active.map(async (s) => {
        const p = answerOf(s);
        if (p && !s.done) await this.#handle(s, p, alone);
      }),
    );
    // Finished probes are handed on `concurrency` at a time: each is a segment to store downstream.
    const finished = group.probes.filter((s) => !s.done && answerOf(s) !== undefined);
    await mapLimit(finished, Math.max(1, this.#opts.concurrency), (s) => this.#handleProbe(s, answerOf(s)!));
  }
}

function readBatch(
  range: PartitionRange,
  batches: FetchedBatch[],
  fetchedFrom: number,
  nextOffset: number,
): ReadBatch {
  let records: BackupRecord[] | undefined;
  return {
    topic: range.topic,
    partition: range.partition,
    batches,
    get records() {
      records ??= batches.flatMap((b) => decodeRecords(b.header, recordsRegion(b.header, b.bytes)).records);
      return records;
    },
    fetchedFrom,
    nextOffset,
  };
}

function describe(states: PartitionState[]): string {
  const names = states.slice(0, 3).map((s) => `${s.range.topic}/${s.range.partition}`);
  return names.join(', ') + (states.length > 3 ? ` and ${states.length - 3} more` : '');
}
