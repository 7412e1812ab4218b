import type { KafkaCluster } from './cluster.ts';
import type { WireHeader } from './kafkajs-patched.ts';

export interface ProbedRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: WireHeader[];
}

/**
 * Joins `groupId` as an ordinary consumer and returns the first record it is given on each partition, starting
 * at the group's committed offsets: the proof that a consumer resumes where it should. Commits nothing. Waits up
 * to `timeoutMs` (partitions with nothing left to read yield no record).
 */
export async function firstRecordsForGroup(
  cluster: KafkaCluster,
  groupId: string,
  topic: string,
  partitions: number,
  timeoutMs = 20_000,
): Promise<Map<number, ProbedRecord>> {
  const consumer = cluster.kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 200,
  });
  const got = new Map<number, ProbedRecord>();
  await cluster.call(() => consumer.connect());
  try {
    await cluster.call(() => consumer.subscribe({ topic, fromBeginning: true }));
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => {
      resolveAll = r;
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (!got.has(partition)) {
          got.set(partition, {
            partition,
            offset: Number(message.offset),
            key: message.key,
            value: message.value,
            headers: (message as unknown as { headerList?: WireHeader[] }).headerList ?? [],
          });
        }
        if (got.size >= partitions) resolveAll();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return got;
}
