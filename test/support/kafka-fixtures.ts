// Test data on the real clusters. Plain records go through our writer (lib/kafka), which keeps header order,
// duplicate header keys and null header values; transactions through the client library's own producer, an
// independent implementation of the transaction protocol.
import { Producer } from '@platformatic/kafka';
import type { RecordHeader } from '../../lib/format/record.ts';
import {
  type CodecName,
  IdempotentWriter,
  type KafkaCluster,
  type KafkaConnectionSettings,
  type OutgoingRecord,
} from '../../lib/kafka/index.ts';
import { ground, uniqueName } from './ground-env.ts';

export function primarySettings(): KafkaConnectionSettings {
  return { bootstrap_servers: [ground().primary] };
}

export function drSettings(): KafkaConnectionSettings {
  return { bootstrap_servers: [ground().dr] };
}

export interface TestMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  timestamp?: number;
  partition?: number;
}

export async function createTopic(
  cluster: KafkaCluster,
  opts: { prefix?: string; partitions?: number; configs?: Record<string, string>; name?: string } = {},
): Promise<string> {
  const name = opts.name ?? uniqueName(opts.prefix ?? 'topic');
  await cluster.createTopic({
    name,
    partitions: opts.partitions ?? 1,
    replicationFactor: 1,
    configs: opts.configs ?? {},
  });
  return name;
}

/** Writes `messages` in order, one batch per partition (records without a partition go to 0). */
export async function produce(
  cluster: KafkaCluster,
  topic: string,
  messages: TestMessage[],
  opts: { compression?: CodecName } = {},
): Promise<void> {
  const writer = new IdempotentWriter(cluster, { codec: opts.compression ?? 'none' });
  const byPartition = new Map<number, OutgoingRecord[]>();
  const now = Date.now();
  for (const m of messages) {
    const p = m.partition ?? 0;
    const list = byPartition.get(p) ?? [];
    list.push({ key: m.key, value: m.value, headers: m.headers ?? [], timestamp: m.timestamp ?? now });
    byPartition.set(p, list);
  }
  try {
    await Promise.all([...byPartition].map(([p, records]) => writer.write(topic, p, records)));
  } finally {
    await writer.close();
  }
}

/**
 * Sends `messages` in one transaction that is committed or aborted, and returns once its commit or abort markers
 * are in the log. Kafka answers the commit or abort before it writes them, so without the wait a record sent
 * next can land before the marker, and offsets would depend on timing (it happens after a broker restart).
 */
export async function produceTransaction(
  cluster: KafkaCluster,
  topic: string,
  messages: TestMessage[],
  outcome: 'commit' | 'abort',
): Promise<void> {
  const producer = new Producer({
    clientId: 'kafka-backup-tests',
    bootstrapBrokers: cluster.settings.bootstrap_servers,
    transactionalId: uniqueName('tx'),
    idempotent: true,
    retries: 10,
  });
  try {
    const tx = await producer.beginTransaction();
    await tx.send({
      messages: messages.map((m) => ({
        topic,
        ...(m.key !== null ? { key: m.key } : {}),
        ...(m.value !== null ? { value: m.value } : {}),
        partition: m.partition ?? 0,
        ...(m.headers
          ? { headers: new Map(m.headers.map((h) => [Buffer.from(h.key), h.value ?? Buffer.alloc(0)])) }
          : {}),
      })),
    });
    if (outcome === 'commit') await tx.commit();
    else await tx.abort();
  } finally {
    await producer.close();
  }
  // The last stable offset reaches the high watermark once no transaction is open on a partition.
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const stable = await cluster.partitionOffsets(topic, 'read_committed');
    const high = await cluster.partitionOffsets(topic, 'read_uncommitted');
    if (stable.every((o, i) => o.end === high[i]?.end)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the transaction markers on ${topic} were not written within 10 s`);
}

export function buf(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}
