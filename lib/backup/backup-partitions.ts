import { UserError } from '../errors.ts';
import type { SegmentRef } from '../format/manifest.ts';
import { Layout } from '../format/manifest.ts';
import { type BackupPlan, RangeProgress } from '../format/plan.ts';
import { type PartitionRange, readPartitions } from '../kafka/index.ts';
import { mapLimit } from '../map-limit.ts';
import { readStoredJson } from '../storage/stored-json.ts';
import type { BackupContext } from './context.ts';
import { PartitionSink } from './partition-sink.ts';

/**
 * One offset range [from, to) of a partition, read by one worker: a whole partition ([read_from, end_offset) of
 * the plan), or a piece of a large one split so that several workers read it at once. The workflow's BackupRange.
 */
export type BackupRange = PartitionRange;

export interface RangeResult extends BackupRange {
  done: boolean;
  next_offset: number;
  /** Records this call read (and stored) of the range. */
  records: number;
}

export interface BackupProgressEvent {
  topic: string;
  partition: number;
  /** The range being read: [from, end_offset). */
  from: number;
  records: number;
  bytes: number;
  next_offset: number;
  end_offset: number;
}

export interface BackupPartitionsOptions {
  /**
   * Stop reading at this time (epoch ms), store what was read, and report the ranges as not done. A call stores
   * at least one fetched batch before it stops, even past the deadline: a loop of calls always makes progress.
   */
  deadline?: number;
  signal?: AbortSignal;
  onProgress?: (e: BackupProgressEvent) => void;
  onSegment?: (ref: SegmentRef) => void;
}

/** Progress objects read (and ranges set up) at once when a call starts. */
const SETUP_CONCURRENCY = 8;

/**
 * A call given more ranges of a topic than this lists the topic's progress objects (one LIST per 1,000) and reads
 * only those that exist, instead of asking for each: a first run of 500 small partitions then starts with one
 * request, not 500. Fewer ranges are looked up one by one (a LIST costs as much as 12.5 GETs).
 */
export const PROGRESS_LIST_MIN_RANGES = 16;

/** Every partition of the plan as one range, [read_from, end_offset): what `kafka-backup backup` reads. */
export function wholePartitionRanges(plan: BackupPlan): BackupRange[] {
  return plan.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partition, from: p.read_from, to: p.end_offset })),
  );
}

export function plannedPartition(plan: BackupPlan, item: { topic: string; partition: number }) {
  const p = plan.topics
    .find((t) => t.name === item.topic)
    ?.partitions.find((x) => x.partition === item.partition);
  if (!p)
    throw new UserError(`work item ${item.topic}/${item.partition} is not in the plan of ${plan.backup_id}`, {
      hint: 'The work item belongs to another run of this backup: start the backup again.',
    });
  return p;
}

/** The range's planned partition, checking the range lies within what the plan reads of it. */
function plannedRange(plan: BackupPlan, range: BackupRange) {
  const p = plannedPartition(plan, range);
  if (range.from > range.to || range.from < p.read_from || range.to > p.end_offset)
    throw new UserError(
      `work item range [${range.from}, ${range.to}) of ${range.topic}/${range.partition} is not within the offsets [${p.read_from}, ${p.end_offset}) the plan of ${plan.backup_id} reads`,
      { hint: 'The work item belongs to another run of this backup: start the backup again.' },
    );
  return p;
}

/** A range's durable progress, or a fresh one at its start. */
export async function loadRangeProgress(
  ctx: Pick<BackupContext, 'store'>,
  plan: BackupPlan,
  range: BackupRange,
): Promise<RangeProgress> {
  const stored = await readStoredJson(
    ctx.store,
    Layout.rangeProgress(plan.backup_id, range.topic, range.partition, range.from, range.to),
    RangeProgress,
  );
  return stored ?? freshProgress(plan, range);
}

/**
 * loadRangeProgress for many ranges: for a topic with more than PROGRESS_LIST_MIN_RANGES of them, the progress
 * objects that exist are listed first and only those are read.
 */
function rangeProgressLoader(ctx: Pick<BackupContext, 'store'>, plan: BackupPlan, ranges: BackupRange[]) {
  const perTopic = new Map<string, number>();
  for (const r of ranges) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
  const listed = new Map<string, Promise<Set<string>>>();
  return async (range: BackupRange): Promise<RangeProgress> => {
    if ((perTopic.get(range.topic) ?? 0) <= PROGRESS_LIST_MIN_RANGES)
      return loadRangeProgress(ctx, plan, range);
    let keys = listed.get(range.topic);
    if (!keys) {
      keys = ctx.store
        .list(`${Layout.progressPrefix(plan.backup_id)}${range.topic}/`)
        .then((list) => new Set(list));
      listed.set(range.topic, keys);
    }
    const key = Layout.rangeProgress(plan.backup_id, range.topic, range.partition, range.from, range.to);
    return (await keys).has(key) ? loadRangeProgress(ctx, plan, range) : freshProgress(plan, range);
  };
}

function freshProgress(plan: BackupPlan, range: BackupRange): RangeProgress {
  return {
    topic: range.topic,
    partition: range.partition,
    from: range.from,
    to: range.to,
    next_offset: range.from,
    segments: [],
    gaps: [],
    updated_at: plan.started_at,
  };
}

/**
 * The ranges in rounds, each holding at most one range of a partition: a read request names a partition once.
 * An item holds one range per partition (several ranges of a partition go to different workers), so this is one
 * round unless a caller hands in more.
 */
function rounds(ranges: BackupRange[]): number[][] {
  const seen = new Map<string, number>();
  const out: number[][] = [];
  ranges.forEach((r, i) => {
    const key = `${r.topic}/${r.partition}`;
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    if (round === out.length) out.push([]);
    out[round]!.push(i);
  });
  return out;
}

/**
 * Reads the given ranges from where their durable progress says up to their end, storing segments as it goes.
 * Safe to run again on the same ranges after a crash; other ranges (of other partitions, or other ranges of the
 * same partition) may run in parallel processes. At most backup.max_concurrent_partitions ranges are read at a
 * time, which bounds memory (an open segment and a fetch each) however many ranges the call is given.
 */
export async function backupPartitions(
  ctx: BackupContext,
  plan: BackupPlan,
  ranges: BackupRange[],
  opts: BackupPartitionsOptions = {},
): Promise<RangeResult[]> {
  return (await backupRanges(ctx, plan, ranges, opts)).results;
}

/**
 * backupPartitions, also handing back every range's progress as stored at the end: what finalizeBackup would
 * read back from the location, for a caller that finalizes in the same process (`kafka-backup backup`).
 */
export async function backupRanges(
  ctx: BackupContext,
  plan: BackupPlan,
  ranges: BackupRange[],
  opts: BackupPartitionsOptions = {},
): Promise<{ results: RangeResult[]; progress: RangeProgress[] }> {
  const { config, source, store, logger } = ctx;
  const logStartCache = new Map<string, { at: number; offsets: Promise<Map<number, number>> }>();
  const logStartOf = async (topic: string, partition: number, maxAgeMs = 5_000): Promise<number> => {
    let cached = logStartCache.get(topic);
    if (!cached || Date.now() - cached.at >= maxAgeMs) {
      const offsets = source
        .partitionOffsets(topic)
        .then((list) => new Map(list.map((o) => [o.partition, o.logStart])));
      cached = { at: Date.now(), offsets };
      logStartCache.set(topic, cached);
      offsets.catch(() => logStartCache.delete(topic));
    }
    return (await cached.offsets).get(partition) ?? 0;
  };

  const progressOf = rangeProgressLoader(ctx, plan, ranges);
  const sinks = await mapLimit(ranges, SETUP_CONCURRENCY, async (range) => {
    plannedRange(plan, range);
    const progress = await progressOf(range);
    const sink = new PartitionSink(progress, {
      store,
      backupId: plan.backup_id,
      compressionLevel: plan.compression.level,
      segmentMaxBytes: config.backup.segment_max_bytes,
      storageClass: config.storage.storage_class,
      checkpointIntervalMs: config.backup.checkpoint_interval_secs * 1000,
      logStart: () => logStartOf(range.topic, range.partition, 0),
      ...(ctx.segmentFormat ? { segmentFormat: ctx.segmentFormat } : {}),
      ...(opts.onSegment ? { onSegment: opts.onSegment } : {}),
    });
    // Offsets the source deleted before this run reached them: a gap, not a failure.
    if (!sink.done) {
      const logStart = await logStartOf(range.topic, range.partition);
      if (logStart > progress.next_offset) {
        const to = Math.min(logStart, range.to);
        sink.addGap(progress.next_offset, to);
        logger.warn('records deleted by retention before they were read', {
          topic: range.topic,
          partition: range.partition,
          from: progress.next_offset,
          to,
        });
        progress.next_offset = to;
        await sink.saveProgress();
      }
    }
    return sink;
  });

  const stop = new AbortController();
  let batches = 0;
  let stopAfterNextBatch = false;
  const timer =
    opts.deadline !== undefined
      ? setTimeout(
          () => {
            if (batches > 0) stop.abort(new DeadlineReached());
            else stopAfterNextBatch = true;
          },
          Math.max(0, opts.deadline - Date.now()),
        )
      : undefined;
  const onAbort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const counters = new Map<PartitionSink, { records: number; bytes: number }>();
  try {
    for (const round of rounds(ranges)) {
      if (stop.signal.aborted) break;
      const open = round.map((i) => sinks[i]!).filter((s) => !s.done);
      if (open.length === 0) continue;
      // One range per partition in a round: the batches of a partition are its sink's.
      const sinkOf = new Map(open.map((s) => [`${s.progress.topic}/${s.progress.partition}`, s]));
      try {
        await readPartitions(
          source,
          open.map((s) => ({
            topic: s.progress.topic,
            partition: s.progress.partition,
            from: s.progress.next_offset,
            to: s.progress.to,
          })),
          {
            isolation: plan.isolation_level,
            concurrency: config.backup.max_concurrent_partitions,
            signal: stop.signal,
            onBatch: async (batch) => {
              const sink = sinkOf.get(`${batch.topic}/${batch.partition}`)!;
              await sink.accept(batch);
              batches++;
              if (stopAfterNextBatch) stop.abort(new DeadlineReached());
              const c = counters.get(sink) ?? { records: 0, bytes: 0 };
              // Batch bytes as fetched (records are not decoded to count their keys and values).
              for (const b of batch.batches) {
                c.records += b.header.recordCount;
                c.bytes += b.bytes.length;
              }
              counters.set(sink, c);
              opts.onProgress?.({
                topic: batch.topic,
                partition: batch.partition,
                from: sink.progress.from,
                records: c.records,
                bytes: c.bytes,
                next_offset: batch.nextOffset,
                end_offset: sink.progress.to,
              });
            },
          },
        );
      } catch (e) {
        if (!(stop.signal.reason instanceof DeadlineReached) || !stop.signal.aborted) throw e;
        logger.info('time budget reached: storing what was read', { ranges: open.length });
      }
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  // Whatever was read but not yet stored (deadline, or the last records of each range).
  // (A sink with nothing new, finished before or never reached, stores nothing.)
  for (const sink of sinks) await sink.flush();

  const results = sinks.map((s) => ({
    topic: s.progress.topic,
    partition: s.progress.partition,
    from: s.progress.from,
    to: s.progress.to,
    done: s.done,
    next_offset: s.progress.next_offset,
    records: counters.get(s)?.records ?? 0,
  }));
  return { results, progress: sinks.map((s) => s.progress) };
}

class DeadlineReached extends Error {
  override name = 'DeadlineReached';
}
