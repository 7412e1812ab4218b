import { firstRecordsForGroup, type KafkaCluster, type ProbedRecord } from '../../lib/kafka/index.ts';

export type ConsumedRecord = ProbedRecord;

/**
 * Joins `groupId` as a real consumer and returns the first `perPartition` records it is given on each partition
 * of `topic`, starting from the group's committed offsets (nothing is committed). A partition with nothing to
 * read yields none: the consumer waits `idleMs` for more before it stops.
 */
export function consumeAsGroup(
  cluster: KafkaCluster,
  groupId: string,
  topic: string,
  opts: { perPartition: number; partitions: number; idleMs?: number },
): Promise<Map<number, ConsumedRecord[]>> {
  return firstRecordsForGroup(cluster, groupId, topic, opts.partitions, {
    perPartition: opts.perPartition,
    idleMs: opts.idleMs ?? 5_000,
    timeoutMs: 60_000,
  });
}

export function header(r: ConsumedRecord, key: string): string | undefined {
  return r.headers.find((h) => h.key === key)?.value?.toString();
}
