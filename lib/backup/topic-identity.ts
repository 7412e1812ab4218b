import { createHash } from 'node:crypto';
import { readBackupPartition } from '../format/backup-reader.ts';
import type { Manifest, PartitionManifest, RecreatedSince, TopicManifest } from '../format/manifest.ts';
import type { BackupRecord } from '../format/record.ts';
import { encodeRecord } from '../format/record-codec.ts';
import {
  type KafkaCluster,
  type PartitionOffsets,
  type PartitionRange,
  readPartitions,
  type TopicDescription,
} from '../kafka/index.ts';
import { mapLimit } from '../map-limit.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/*
 * Is the topic named T on the source still the topic T an earlier backup stored? A topic deleted and created
 * again under the same name starts again at offset 0; once it is filled past the earlier cut, offsets alone
 * cannot tell, and reusing the earlier segments would restore the deleted topic's records. So:
 *
 * 1. Both the earlier manifest and the broker give a topic id: the topic is the same exactly when they match.
 * 2. Either lacks one (manifests written with the earlier kafkajs client, which spoke Metadata v6, hold
 *    null): a partition count lower than before means a new topic (Kafka never removes partitions). Otherwise
 *    the last few records the earlier backup stored below its cut are compared with what the source holds at
 *    the same offsets now (key, value, headers, timestamp). Any difference means a new topic.
 * 3. Nothing comparable (the source's log start moved past the stored records, or compaction removed every one
 *    of them since): the offsets check of planning is all that is left (offsets that went backwards, or a log
 *    start past the earlier cut, mean the partition is backed up afresh).
 *
 * Every doubt resolves to a full backup of the topic: it costs bytes, never correctness.
 */

/** How many of the last stored records of a partition are compared with the source. */
export const COMPARED_RECORDS = 16;

/** Kafka's "no id" (the all-zero UUID, as a UUID string or in Kafka's base64 form). */
const ZERO_TOPIC_IDS = new Set(['00000000-0000-0000-0000-000000000000', 'AAAAAAAAAAAAAAAAAAAAAA']);

/** The broker's topic id as recorded: null when it reports none (null, empty, or the all-zero UUID). */
export function normalizeTopicId(id: string | null | undefined): string | null {
  if (!id || ZERO_TOPIC_IDS.has(id)) return null;
  return id;
}

/** A record's content as compared across backups: key, value, headers (in order) and timestamp, hashed. */
export interface RecordPrint {
  offset: number;
  print: string;
}

export function recordPrint(r: BackupRecord): RecordPrint {
  // The segment encoding with offset and timestamp type fixed: length-prefixed, so null, empty and header
  // boundaries cannot collide.
  const canonical = encodeRecord({ ...r, offset: 0, timestampType: 0 });
  return { offset: r.offset, print: createHash('sha256').update(canonical).digest('hex') };
}

/** The stored and the source's records of one partition over the same offsets. */
export interface PartitionSample {
  partition: number;
  /** The last records the earlier backup stored below its cut (at or after the source's log start now). */
  stored: RecordPrint[];
  /** What the source holds now over the same offsets; compaction may have removed some. */
  source: RecordPrint[];
}

export type TopicIdentity =
  | { recreated: false; by: 'topic_id' | 'records' | 'offsets' }
  | { recreated: true; by: RecreatedSince['detected_by']; detail: string };

export interface TopicIdentityInput {
  previousId: string | null;
  currentId: string | null;
  previousPartitionCount: number;
  currentPartitionCount: number;
  /** Consulted only when an id is missing. */
  samples: PartitionSample[];
}

/** Whether topic ids alone decide (both known). */
export function idsComparable(previousId: string | null, currentId: string | null): boolean {
  return normalizeTopicId(previousId) !== null && normalizeTopicId(currentId) !== null;
}

export function decideTopicIdentity(i: TopicIdentityInput): TopicIdentity {
  const previousId = normalizeTopicId(i.previousId);
  const currentId = normalizeTopicId(i.currentId);
  if (previousId !== null && currentId !== null) {
    return previousId === currentId
      ? { recreated: false, by: 'topic_id' }
      : { recreated: true, by: 'topic_id', detail: `topic id ${previousId} is now ${currentId}` };
  }
  if (i.currentPartitionCount < i.previousPartitionCount) {
    return {
      recreated: true,
      by: 'partition_count',
      detail: `${i.previousPartitionCount} partitions before, ${i.currentPartitionCount} now (Kafka never removes partitions)`,
    };
  }
  let compared = 0;
  for (const s of i.samples) {
    const stored = new Map(s.stored.map((r) => [r.offset, r.print]));
    for (const r of s.source) {
      const was = stored.get(r.offset);
      // For the same topic the source holds a subset of what was stored over these offsets (compaction only
      // removes records): a record the backup did not have, or a different one, is another topic's.
      if (was === undefined) {
        return {
          recreated: true,
          by: 'records',
          detail: `partition ${s.partition} holds a record at offset ${r.offset} where the earlier backup stored none`,
        };
      }
      if (was !== r.print) {
        return {
          recreated: true,
          by: 'records',
          detail: `partition ${s.partition}: the record at offset ${r.offset} differs from the one the earlier backup stored`,
        };
      }
      compared++;
    }
  }
  // No record could be compared (no earlier records the source still holds): the offsets check decides.
  return compared > 0 ? { recreated: false, by: 'records' } : { recreated: false, by: 'offsets' };
}

/**
 * Whether the earlier backup's segments of a partition can continue it, by offsets alone: same cluster,
 * offsets not gone backwards (a recreated topic starts again at 0), nothing missing between the two.
 */
export function offsetsContinue(prev: PartitionManifest, o: PartitionOffsets): boolean {
  return prev.end_offset <= o.end && prev.start_offset <= o.logStart && prev.end_offset > o.logStart;
}

/** The last `count` records of an earlier backup's partition (offset order), from its last segment only. */
export async function storedTail(
  store: ObjectStore,
  p: PartitionManifest,
  count = COMPARED_RECORDS,
): Promise<RecordPrint[]> {
  const last = p.segments.at(-1);
  if (!last) return [];
  const tail: RecordPrint[] = [];
  for await (const r of readBackupPartition(store, p, { fromOffset: last.first_offset })) {
    tail.push(recordPrint(r));
    if (tail.length > count) tail.shift();
  }
  return tail;
}

export interface IdentityCheckContext {
  store: ObjectStore;
  source: KafkaCluster;
}

export interface CheckedTopic {
  identity: TopicIdentity;
  previous: TopicManifest;
}

/**
 * Decides the identity of every topic the earlier backup `previous` also holds. Records are compared only for
 * topics without ids on both sides, and only on partitions whose offsets would let their segments be reused;
 * the source is read once for all of them.
 */
export async function checkTopicIdentities(
  ctx: IdentityCheckContext,
  previous: Manifest,
  descriptions: TopicDescription[],
  offsets: Map<string, PartitionOffsets[]>,
): Promise<Map<string, CheckedTopic>> {
  const out = new Map<string, CheckedTopic>();
  const pending: { d: TopicDescription; prev: TopicManifest; samples: PartitionSample[] }[] = [];
  const toRead: { sample: PartitionSample; topic: string; p: PartitionManifest; o: PartitionOffsets }[] = [];
  for (const d of descriptions) {
    const prev = previous.topics.find((t) => t.name === d.name);
    if (!prev) continue;
    const input = {
      previousId: prev.topic_id,
      currentId: d.topicId,
      previousPartitionCount: prev.partition_count,
      currentPartitionCount: d.partitionCount,
      samples: [],
    };
    if (idsComparable(prev.topic_id, d.topicId) || d.partitionCount < prev.partition_count) {
      out.set(d.name, { identity: decideTopicIdentity(input), previous: prev });
      continue;
    }
    const samples: PartitionSample[] = [];
    pending.push({ d, prev, samples });
    for (const o of offsets.get(d.name) ?? []) {
      const p = prev.partitions.find((x) => x.partition === o.partition);
      // Partitions that offsets already start afresh reuse nothing: nothing to verify there.
      if (!p || p.segments.length === 0 || !offsetsContinue(p, o)) continue;
      const sample: PartitionSample = { partition: o.partition, stored: [], source: [] };
      samples.push(sample);
      toRead.push({ sample, topic: d.name, p, o });
    }
  }

  await mapLimit(toRead, 8, async ({ sample, p, o }) => {
    // Records below the source's log start are gone from it: they cannot be compared (only those after are).
    sample.stored = (await storedTail(ctx.store, p)).filter((r) => r.offset >= o.logStart);
  });
  const ranges: PartitionRange[] = [];
  const byKey = new Map<string, PartitionSample>();
  for (const { sample, topic } of toRead) {
    const first = sample.stored[0];
    const last = sample.stored.at(-1);
    if (!first || !last) continue;
    ranges.push({ topic, partition: sample.partition, from: first.offset, to: last.offset + 1 });
    byKey.set(`${topic}/${sample.partition}`, sample);
  }
  if (ranges.length > 0) {
    await readPartitions(ctx.source, ranges, {
      // As the earlier backup read them: under read_uncommitted it also stored aborted records.
      isolation: previous.isolation_level,
      concurrency: Math.min(ranges.length, 32),
      maxBytesPerPartition: 256 * 1024,
      onBatch: async (batch) => {
        const sample = byKey.get(`${batch.topic}/${batch.partition}`);
        if (sample) for (const r of batch.records) sample.source.push(recordPrint(r));
      },
    });
  }
  for (const { d, prev, samples } of pending) {
    out.set(d.name, {
      identity: decideTopicIdentity({
        previousId: prev.topic_id,
        currentId: d.topicId,
        previousPartitionCount: prev.partition_count,
        currentPartitionCount: d.partitionCount,
        samples,
      }),
      previous: prev,
    });
  }
  return out;
}
