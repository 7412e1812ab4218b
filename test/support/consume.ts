import type { KafkaCluster } from '../../lib/kafka/index.ts';
import type { WireHeader } from '../../lib/kafka/kafkajs-patched.ts';

export interface ConsumedRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: WireHeader[];
}

/**
 * Joins `groupId` as a real consumer and returns the first `perPartition` records it is given on each partition
 * of `topic`, starting from the group's committed offsets (nothing is committed). A partition with nothing to
 * read yields none: the consumer waits `idleMs` for more before it stops.
 */
export async function consumeAsGroup(
  cluster: KafkaCluster,
  groupId: string,
  topic: string,
  opts: { perPartition: number; partitions: number; idleMs?: number },
): Promise<Map<number, ConsumedRecord[]>> {
  const consumer = cluster.kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 200,
  });
  const got = new Map<number, ConsumedRecord[]>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let lastProgress = Date.now();
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const complete = () =>
      [...Array(opts.partitions).keys()].every((p) => (got.get(p)?.length ?? 0) >= opts.perPartition);
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const list = got.get(partition) ?? [];
        if (list.length < opts.perPartition) {
          list.push({
            partition,
            offset: Number(message.offset),
            key: message.key,
            value: message.value,
            headers: (message as unknown as { headerList: WireHeader[] }).headerList ?? [],
          });
          got.set(partition, list);
          lastProgress = Date.now();
        }
        if (complete()) resolveDone();
      },
    });
    const idle = opts.idleMs ?? 5_000;
    await Promise.race([
      done,
      new Promise<void>((r) => {
        const t = setInterval(() => {
          if (Date.now() - lastProgress > idle) {
            clearInterval(t);
            r();
          }
        }, 200);
      }),
    ]);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

export function header(r: ConsumedRecord, key: string): string | undefined {
  return r.headers.find((h) => h.key === key)?.value?.toString();
}
