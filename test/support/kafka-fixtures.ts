// Test data on the real clusters, produced through lib/kafka so that header order and codecs are the patched ones.
import type { KafkaConnectionSettings } from '../../lib/kafka/index.ts';
import { type KafkaCluster, kafkajs } from '../../lib/kafka/index.ts';
import type { WireHeader } from '../../lib/kafka/kafkajs-patched.ts';
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
  headers?: WireHeader[];
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

export async function produce(
  cluster: KafkaCluster,
  topic: string,
  messages: TestMessage[],
  opts: { compression?: number } = {},
): Promise<void> {
  const producer = await cluster.producer();
  try {
    await producer.send({
      topic,
      acks: -1,
      compression: opts.compression ?? kafkajs.CompressionTypes.None,
      messages: messages.map((m) => ({
        key: m.key,
        value: m.value,
        headerList: m.headers ?? [],
        ...(m.partition !== undefined ? { partition: m.partition } : {}),
        ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
      })) as never,
    });
  } finally {
    await producer.disconnect();
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
  const producer = await cluster.producer({ transactionalId: uniqueName('tx') });
  try {
    const tx = await producer.transaction();
    await tx.send({
      topic,
      messages: messages.map((m) => ({
        key: m.key,
        value: m.value,
        headerList: m.headers ?? [],
        ...(m.partition !== undefined ? { partition: m.partition } : {}),
      })) as never,
    });
    if (outcome === 'commit') await tx.commit();
    else await tx.abort();
  } finally {
    await producer.disconnect();
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
