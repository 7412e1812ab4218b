import { UserError } from '../errors.ts';
import { readBackupPartitionItems } from '../format/backup-reader.ts';
import { FORMAT_VERSION } from '../format/manifest.ts';
import { RestoreLayout, type RestorePartitionState } from '../format/restore-state.ts';
import { batchRecords } from '../format/segment-reader.ts';
import {
  type CodecName,
  OutgoingBatch,
  RecordTooLargeError,
  type RecordWriter,
  resendable,
} from '../kafka/index.ts';
import { OffsetRunBuilder } from '../offsets/index.ts';
import type { RestoreContext } from './context.ts';
import { originHeaders } from './origin-headers.ts';
import type { PartitionWork, RestorePlan } from './plan-restore.ts';

/** Records per batch sent: bounds the batch as much as its bytes do (many tiny records). */
const MAX_BATCH_RECORDS = 20_000;
/** Per-record overhead in a record batch, generously (varints, attributes, deltas). */
const RECORD_OVERHEAD = 32;

export interface PartitionRestoreResult {
  state: RestorePartitionState;
  /** Records written by this run (the rest were already there from an interrupted run). */
  written: number;
  /** False when the deadline stopped it: call again with `mode: 'resume'` to continue. */
  done: boolean;
}

export interface PartitionRestoreOptions {
  onRecords?: (n: number) => void;
  batchBytes: number;
  /**
   * Stop at the first batch boundary after this time (epoch ms), having written at least one batch, and return
   * `done: false`. Everything written is durable; the next call (mode `resume`) continues after it.
   */
  deadline?: number;
}

async function saveState(
  ctx: Pick<RestoreContext, 'store'>,
  restoreId: string,
  state: RestorePartitionState,
) {
  state.updated_at = new Date().toISOString();
  await ctx.store.put(
    RestoreLayout.partition(restoreId, state.target_topic, state.target_partition),
    JSON.stringify(state),
  );
}

/**
 * Writes one target partition: the records of its source partitions, in order, through an idempotent producer.
 * Restored record k always lands at base_offset + k, so a resumed run skips exactly the records the target
 * already holds (its end offset minus the base) and never writes one twice.
 */
export async function restorePartition(
  ctx: RestoreContext,
  plan: Pick<RestorePlan, 'restore_id' | 'manifest' | 'window'>,
  work: PartitionWork,
  writer: RecordWriter,
  opts: PartitionRestoreOptions,
): Promise<PartitionRestoreResult> {
  const { store, target, config } = ctx;
  const state: RestorePartitionState = {
    format_version: FORMAT_VERSION,
    target_topic: work.target_topic,
    target_partition: work.target_partition,
    base_offset: work.base_offset,
    sources: work.sources,
    expected_records: 0,
    restored_records: 0,
    done: false,
    mappings: [],
    updated_at: '',
  };
  // Durable before the first record is written: the base is what makes a resumed run exact.
  if (work.mode === 'new') await saveState(ctx, plan.restore_id, state);

  const end = (await target.partitionEnd(work.target_topic, work.target_partition)) ?? 0;
  const already = end - work.base_offset;
  const withOrigin = config.restore.include_original_offset_header;
  const window = {
    ...(plan.window.start_time !== null ? { startTime: plan.window.start_time } : {}),
    ...(plan.window.end_time !== null ? { endTime: plan.window.end_time } : {}),
  };

  const compression = config.restore.compression;
  let k = 0;
  let written = 0;
  // Room for a full batch plus the varints a join may grow by: allocated once per batch, never regrown.
  const newBatch = () => new OutgoingBatch(opts.batchBytes + (opts.batchBytes >> 4));
  let batch = newBatch();
  /** The codec `batch` is sent in: a change of codec (compression: source) starts a new batch. */
  let batchCodec: CodecName = 'none';
  let firstInBatch: { offset: number; topic: string; partition: number } | undefined;
  /**
   * The batch being written, while the next one is read and built: reading, decompressing and joining overlap the
   * broker's round trip. One at a time, in order: the writer's sequence numbers allow no more (and a failed write
   * stops the restore before anything after it is sent).
   */
  let inFlight: Promise<void> | undefined;
  // A batch in flight counts as written: it is settled before the call returns.
  const outOfTime = () =>
    opts.deadline !== undefined && (written > 0 || inFlight !== undefined) && Date.now() >= opts.deadline;
  const settle = async () => {
    const p = inFlight;
    inFlight = undefined;
    await p;
  };
  const flush = async () => {
    if (batch.records === 0) return;
    const outgoing = batch;
    const first = firstInBatch!;
    batch = newBatch();
    await settle();
    const sent = writer.writeBatch(work.target_topic, work.target_partition, outgoing, batchCodec).then(
      () => {
        written += outgoing.records;
        opts.onRecords?.(outgoing.records);
      },
      (e: unknown) => {
        if (e instanceof RecordTooLargeError) {
          throw new UserError(
            `the target rejected records of ${first.topic}/${first.partition} from source offset ${first.offset} as too large for ${work.target_topic}`,
            {
              hint: `Raise max.message.bytes on ${work.target_topic} (and message.max.bytes on the brokers) to at least the source topic's.`,
              cause: e,
            },
          );
        }
        throw e;
      },
    );
    // Awaited by the next flush or settle; until then a failure must not count as unhandled.
    sent.catch(() => undefined);
    inFlight = sent;
  };
  /** Makes room for `size` more bytes of `codec`; false when the deadline says stop. */
  const room = async (size: number, codec: CodecName): Promise<boolean> => {
    const want = compression === 'source' ? codec : compression;
    if (
      batch.records > 0 &&
      (want !== batchCodec || batch.size + size > opts.batchBytes || batch.records >= MAX_BATCH_RECORDS)
    ) {
      await flush();
      // The state stays as saved when this restore started (not done): a resumed call rebuilds the mapping.
      if (outOfTime()) {
        await settle();
        return false;
      }
    }
    batchCodec = want;
    return true;
  };

  for (const source of work.sources) {
    const p = plan.manifest.topics
      .find((t) => t.name === source.topic)!
      .partitions.find((x) => x.partition === source.partition)!;
    const runs = new OffsetRunBuilder();
    for await (const item of readBackupPartitionItems(store, p, window)) {
      if (item.kind === 'batch') {
        const b = item.batch;
        const n = b.header.recordCount;
        // Sent as stored unless its records must change (origin headers, schema ids), its offsets have holes or its
        // timestamps are the broker's (resendable), or a resumed run needs only its tail.
        if (
          !withOrigin &&
          !ctx.rewriteRecord &&
          resendable(b.header) &&
          (work.mode === 'done' || k >= already || k + n <= already)
        ) {
          runs.addRun(b.firstOffset, work.base_offset + k, n);
          k += n;
          if (k <= already || work.mode === 'done') continue;
          const size = b.header.codec === 'none' ? b.bytes.length : b.bytes.length * 2;
          if (!(await room(size, b.header.codec))) return { state, written, done: false };
          if (batch.records === 0)
            firstInBatch = { offset: b.firstOffset, topic: source.topic, partition: source.partition };
          batch.addStored(b);
          continue;
        }
      }
      const records = item.kind === 'record' ? [item.record] : batchRecords(item.batch);
      const codec = item.kind === 'record' ? item.codec : item.batch.header.codec;
      for (const r of records) {
        runs.add(r.offset, work.base_offset + k);
        k++;
        if (k <= already || work.mode === 'done') continue;
        const headers = withOrigin
          ? [
              ...r.headers,
              ...originHeaders({
                offset: r.offset,
                partition: source.partition,
                timestamp: r.timestamp,
                clusterId: plan.manifest.source_cluster_id,
              }),
            ]
          : r.headers;
        const size =
          (r.key?.length ?? 0) +
          (r.value?.length ?? 0) +
          headers.reduce((n, h) => n + h.key.length * 3 + (h.value?.length ?? 0) + 8, 0) +
          RECORD_OVERHEAD;
        if (!(await room(size, codec))) return { state, written, done: false };
        if (batch.records === 0)
          firstInBatch = { offset: r.offset, topic: source.topic, partition: source.partition };
        const { key, value } = ctx.rewriteRecord ? ctx.rewriteRecord(r.key, r.value) : r;
        batch.addRecord({ key, value, timestamp: r.timestamp, headers });
      }
    }
    await flush();
    await settle();
    if (outOfTime() && source !== work.sources.at(-1)) return { state, written, done: false };
    state.mappings.push({
      source_topic: source.topic,
      source_partition: source.partition,
      runs: runs.runs,
      records: runs.records,
    });
  }
  await flush();
  await settle();
  state.expected_records = k;
  state.restored_records = k;
  state.done = true;
  if (already > k) {
    throw new UserError(
      `${work.target_topic}/${work.target_partition} holds ${already} records after offset ${work.base_offset}, more than this restore writes (${k}): something else wrote to it`,
      { hint: 'Restore into a topic nothing else writes to while the restore runs.' },
    );
  }
  await saveState(ctx, plan.restore_id, state);
  return { state, written, done: true };
}
