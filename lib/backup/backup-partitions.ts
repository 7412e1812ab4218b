import type { SegmentRef } from '../format/manifest.ts';
import { Layout } from '../format/manifest.ts';
import { type BackupPlan, PartitionProgress } from '../format/plan.ts';
import { readPartitions } from '../kafka/index.ts';
import { readStoredJson } from '../storage/stored-json.ts';
import type { BackupContext } from './context.ts';
import { PartitionSink } from './partition-sink.ts';

export interface WorkItem {
  topic: string;
  partition: number;
}

export interface WorkItemResult extends WorkItem {
  done: boolean;
  next_offset: number;
  end_offset: number;
}

export interface BackupProgressEvent {
  topic: string;
  partition: number;
  records: number;
  bytes: number;
  next_offset: number;
  end_offset: number;
}

export interface BackupPartitionsOptions {
  /**
   * Stop reading at this time (epoch ms), store what was read, and report the items as not done. A call stores at
   * least one fetched batch before it stops, even past the deadline: a loop of calls always makes progress.
   */
  deadline?: number;
  signal?: AbortSignal;
  onProgress?: (e: BackupProgressEvent) => void;
  onSegment?: (ref: SegmentRef) => void;
}

/** Every partition of the plan as a work item. */
export function planItems(plan: BackupPlan): WorkItem[] {
  return plan.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
}

export async function loadProgress(
  ctx: Pick<BackupContext, 'store'>,
  plan: BackupPlan,
  item: WorkItem,
): Promise<PartitionProgress> {
  const stored = await readStoredJson(
    ctx.store,
    Layout.progress(plan.backup_id, item.topic, item.partition),
    PartitionProgress,
  );
  if (stored) return stored;
  const planned = plannedPartition(plan, item);
  return { ...item, next_offset: planned.read_from, segments: [], gaps: [], updated_at: plan.started_at };
}

export function plannedPartition(plan: BackupPlan, item: WorkItem) {
  const p = plan.topics
    .find((t) => t.name === item.topic)
    ?.partitions.find((x) => x.partition === item.partition);
  if (!p)
    throw new Error(`work item ${item.topic}/${item.partition} is not in the plan of ${plan.backup_id}`);
  return p;
}

/**
 * Reads the given partitions from where their durable progress says up to the cut, storing segments as it
 * goes. Safe to run again on the same items after a crash; different items may run in parallel processes.
 */
export async function backupPartitions(
  ctx: BackupContext,
  plan: BackupPlan,
  items: WorkItem[],
  opts: BackupPartitionsOptions = {},
): Promise<WorkItemResult[]> {
  const { config, source, store, logger } = ctx;
  const sinks = new Map<string, PartitionSink>();
  const logStartCache = new Map<string, { at: number; offsets: Map<number, number> }>();
  const logStartOf = async (topic: string, partition: number, maxAgeMs = 5_000): Promise<number> => {
    const cached = logStartCache.get(topic);
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.offsets.get(partition) ?? 0;
    const offsets = new Map((await source.partitionOffsets(topic)).map((o) => [o.partition, o.logStart]));
    logStartCache.set(topic, { at: Date.now(), offsets });
    return offsets.get(partition) ?? 0;
  };

  for (const item of items) {
    const planned = plannedPartition(plan, item);
    const progress = await loadProgress(ctx, plan, item);
    const sink = new PartitionSink(progress, {
      store,
      backupId: plan.backup_id,
      end: planned.end_offset,
      compressionLevel: plan.compression.level,
      segmentMaxBytes: config.backup.segment_max_bytes,
      storageClass: config.storage.storage_class,
      checkpointIntervalMs: config.backup.checkpoint_interval_secs * 1000,
      logStart: () => logStartOf(item.topic, item.partition, 0),
      ...(ctx.segmentFormat ? { segmentFormat: ctx.segmentFormat } : {}),
      ...(opts.onSegment ? { onSegment: opts.onSegment } : {}),
    });
    // Offsets the source deleted before this run reached them: a gap, not a failure.
    if (!sink.done) {
      const logStart = await logStartOf(item.topic, item.partition);
      if (logStart > progress.next_offset) {
        const to = Math.min(logStart, planned.end_offset);
        sink.addGap(progress.next_offset, to);
        logger.warn('records deleted by retention before they were read', {
          topic: item.topic,
          partition: item.partition,
          from: progress.next_offset,
          to,
        });
        progress.next_offset = to;
        await sink.saveProgress();
      }
    }
    sinks.set(`${item.topic}/${item.partition}`, sink);
  }

  const open = [...sinks.values()].filter((s) => !s.done);
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
    if (open.length > 0) {
      await readPartitions(
        source,
        open.map((s) => ({
          topic: s.progress.topic,
          partition: s.progress.partition,
          from: s.progress.next_offset,
          to: plannedPartition(plan, s.progress).end_offset,
        })),
        {
          isolation: plan.isolation_level,
          concurrency: config.backup.max_concurrent_partitions,
          signal: stop.signal,
          onBatch: async (batch) => {
            const sink = sinks.get(`${batch.topic}/${batch.partition}`)!;
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
              records: c.records,
              bytes: c.bytes,
              next_offset: batch.nextOffset,
              end_offset: plannedPartition(plan, batch).end_offset,
            });
          },
        },
      );
    }
  } catch (e) {
    if (!(stop.signal.reason instanceof DeadlineReached) || !stop.signal.aborted) throw e;
    logger.info('time budget reached: storing what was read', { items: open.length });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  // Whatever was read but not yet stored (deadline, or the last records of each partition).
  for (const sink of open) await sink.flush();

  return [...sinks.values()].map((s) => ({
    topic: s.progress.topic,
    partition: s.progress.partition,
    done: s.done,
    next_offset: s.progress.next_offset,
    end_offset: plannedPartition(plan, s.progress).end_offset,
  }));
}

class DeadlineReached extends Error {
  override name = 'DeadlineReached';
}
