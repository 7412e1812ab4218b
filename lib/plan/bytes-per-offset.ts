import type { Manifest } from '../format/manifest.ts';
import { type IsolationLevel, type KafkaCluster, readPartitions } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import { mapLimit } from '../map-limit.ts';

/**
 * Bytes a fetch returns per offset, the measure work items are packed by. In order of preference:
 * 1. `previous_backup`: the newest backup in the same location holding segments of this topic-partition (or,
 *    for a partition it lacks, of the same topic): its segments' uncompressed bytes (the Kafka record batches as
 *    fetched) over the offsets they span. Also gives the stored-to-read ratio (zstd's gain) for the PUT count.
 * 2. `probe`: one small fetch (up to PROBE_BYTES) from the partition of the topic with the most to read, through
 *    lib/kafka, applied to every partition of that topic; at most MAX_PROBED_TOPICS topics, the largest first.
 * 3. `default`: DEFAULT_BYTES_PER_OFFSET.
 */
export type BytesPerOffsetSource = 'previous_backup' | 'probe' | 'default';

export interface ByteEstimate {
  bytesPerOffset: number;
  /** Stored (compressed) bytes per byte read; DEFAULT_STORED_RATIO when unknown. */
  storedRatio: number;
  source: BytesPerOffsetSource;
  /** The backup the figure comes from (source previous_backup). */
  backupId?: string;
}

/** 1 KiB a record: a common size for event topics, and the bench's main data set. */
export const DEFAULT_BYTES_PER_OFFSET = 1024;
/** Unknown compression counts as none: more segments and PUTs in the estimate rather than fewer. */
export const DEFAULT_STORED_RATIO = 1;
/** A probe reads at most this much (one fetch of one partition). */
export const PROBE_BYTES = 256 * 1024;
/** Topics probed per plan at most (the others without history get the default): a probe is a fetch each. */
export const MAX_PROBED_TOPICS = 50;
const PROBE_CONCURRENCY = 4;

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

interface Totals {
  bytes: number;
  stored: number;
  offsets: number;
}
const add = (
  t: Totals | undefined,
  s: { uncompressed_size: number; size: number; first_offset: number; last_offset: number },
): Totals => ({
  bytes: (t?.bytes ?? 0) + s.uncompressed_size,
  stored: (t?.stored ?? 0) + s.size,
  offsets: (t?.offsets ?? 0) + (s.last_offset - s.first_offset + 1),
});
const estimateOf = (t: Totals, backupId: string): ByteEstimate => ({
  bytesPerOffset: t.bytes / t.offsets,
  storedRatio: t.bytes > 0 ? t.stored / t.bytes : DEFAULT_STORED_RATIO,
  source: 'previous_backup',
  backupId,
});

/** What earlier backups tell: per partition and per topic, from the newest backup that has segments of it. */
export interface History {
  partitions: Map<string, ByteEstimate>;
  topics: Map<string, ByteEstimate>;
}

/** `manifests` oldest first (as loadManifests returns them). */
export function historyOf(manifests: readonly Manifest[]): History {
  const history: History = { partitions: new Map(), topics: new Map() };
  for (const m of [...manifests].reverse()) addToHistory(history, m);
  return history;
}

/**
 * Adds what `m` says of its partitions and topics not yet in `history`: called newest backup first, each
 * partition's estimate is its newest backup's (historyOf, one manifest at a time).
 */
export function addToHistory(history: History, m: Manifest): void {
  const { partitions, topics } = history;
  for (const t of m.topics) {
    let topicTotals: Totals | undefined;
    for (const p of t.partitions) {
      if (p.segments.length === 0) continue;
      let totals: Totals | undefined;
      for (const s of p.segments) totals = add(totals, s);
      topicTotals = {
        bytes: (topicTotals?.bytes ?? 0) + totals!.bytes,
        stored: (topicTotals?.stored ?? 0) + totals!.stored,
        offsets: (topicTotals?.offsets ?? 0) + totals!.offsets,
      };
      const k = partitionKey(t.name, p.partition);
      if (!partitions.has(k)) partitions.set(k, estimateOf(totals!, m.backup_id));
    }
    if (topicTotals && !topics.has(t.name)) topics.set(t.name, estimateOf(topicTotals, m.backup_id));
  }
}

export interface ToEstimate {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

/**
 * Bytes per offset of every partition to read: history first, then a probe per topic without any, then the
 * default. A failed probe is logged and falls back to the default: an estimate never stops a backup.
 */
export async function estimateBytesPerOffset(
  partitions: readonly ToEstimate[],
  opts: {
    history: History;
    /** Absent: no probes (every partition without history gets the default). */
    source?: KafkaCluster;
    isolation?: IsolationLevel;
    logger?: Logger;
    maxProbedTopics?: number;
  },
): Promise<Map<string, ByteEstimate>> {
  const out = new Map<string, ByteEstimate>();
  const unknownTopics = new Map<string, ToEstimate>();
  for (const p of partitions) {
    const known =
      opts.history.partitions.get(partitionKey(p.topic, p.partition)) ?? opts.history.topics.get(p.topic);
    if (known) {
      out.set(partitionKey(p.topic, p.partition), known);
      continue;
    }
    // The partition with the most to read stands for its topic (ties: the lowest partition number).
    const best = unknownTopics.get(p.topic);
    const more = (a: ToEstimate, b: ToEstimate) =>
      a.to - a.from - (b.to - b.from) || b.partition - a.partition;
    if (p.to > p.from && (!best || more(p, best) > 0)) unknownTopics.set(p.topic, p);
  }
  const probed = new Map<string, number>();
  if (opts.source) {
    const source = opts.source;
    const chosen = [...unknownTopics.values()]
      .sort((a, b) => b.to - b.from - (a.to - a.from) || (a.topic < b.topic ? -1 : 1))
      .slice(0, opts.maxProbedTopics ?? MAX_PROBED_TOPICS);
    await mapLimit(chosen, PROBE_CONCURRENCY, async (p) => {
      try {
        const v = await probe(source, p, opts.isolation ?? 'read_committed');
        if (v !== undefined) probed.set(p.topic, v);
      } catch (err) {
        opts.logger?.warn('could not probe the record size: using the default', {
          topic: p.topic,
          partition: p.partition,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    });
  }
  for (const p of partitions) {
    const k = partitionKey(p.topic, p.partition);
    if (out.has(k)) continue;
    const v = probed.get(p.topic);
    out.set(
      k,
      v !== undefined
        ? { bytesPerOffset: v, storedRatio: DEFAULT_STORED_RATIO, source: 'probe' }
        : { bytesPerOffset: DEFAULT_BYTES_PER_OFFSET, storedRatio: DEFAULT_STORED_RATIO, source: 'default' },
    );
  }
  return out;
}

const PROBE_DONE = Symbol('probe done');

/**
 * One fetch of at most PROBE_BYTES from `from`: the batch bytes returned over the offsets they covered. Undefined
 * when the fetch covered no offset.
 */
export async function probe(
  source: KafkaCluster,
  p: ToEstimate,
  isolation: IsolationLevel,
): Promise<number | undefined> {
  const stop = new AbortController();
  let result: number | undefined;
  try {
    await readPartitions(source, [{ topic: p.topic, partition: p.partition, from: p.from, to: p.to }], {
      isolation,
      concurrency: 1,
      maxBytesPerPartition: PROBE_BYTES,
      signal: stop.signal,
      onBatch: async (b) => {
        const offsets = b.nextOffset - b.fetchedFrom;
        if (offsets > 0) result = b.batches.reduce((n, x) => n + x.bytes.length, 0) / offsets;
        stop.abort(PROBE_DONE);
      },
    });
  } catch (err) {
    if (err !== PROBE_DONE) throw err;
  }
  return result;
}
