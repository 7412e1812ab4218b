import type { BackupRecord } from '../../lib/format/record.ts';
import { type KafkaCluster, readPartitions } from '../../lib/kafka/index.ts';

/** Every committed record of a topic, per partition in offset order. */
export async function readTopic(cluster: KafkaCluster, topic: string): Promise<Map<number, BackupRecord[]>> {
  const offsets = await cluster.partitionOffsets(topic);
  const got = new Map<number, BackupRecord[]>();
  await readPartitions(
    cluster,
    offsets.map((o) => ({ topic, partition: o.partition, from: o.logStart, to: o.end })),
    {
      isolation: 'read_committed',
      concurrency: 2,
      onBatch: async (b) => {
        got.set(b.partition, [...(got.get(b.partition) ?? []), ...b.records]);
      },
    },
  );
  return got;
}

/** What a restore must reproduce byte for byte: key, value, headers in order, per partition in order. */
export function contentOf(records: Map<number, BackupRecord[]>) {
  return [...records.entries()]
    .sort(([a], [b]) => a - b)
    .map(([p, rs]) => ({
      partition: p,
      records: rs.map((r) => ({
        key: r.key?.toString('base64') ?? null,
        value: r.value?.toString('base64') ?? null,
        headers: r.headers
          .filter((h) => !h.key.startsWith('kafka-backup.'))
          .map((h) => [h.key, h.value?.toString('base64') ?? null]),
      })),
    }));
}
