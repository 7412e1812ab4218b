import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import { clientOptions } from './client-options.ts';
import type { KafkaCluster } from './cluster.ts';
import { translateKafkaError } from './errors.ts';
import type { RecordHeader } from './record.ts';

export interface ProbedRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/**
 * Joins `groupId` as an ordinary consumer (Kafka's group protocol, committed offsets, earliest where none) and
 * returns the first `perPartition` records it is given on each partition: the proof that a consumer resumes where
 * it should. Commits nothing. Stops once every partition has them, or after `idleMs` without a new record
 * (partitions with nothing left to read yield none), or at `timeoutMs`.
 */
export async function firstRecordsForGroup(
  cluster: KafkaCluster,
  groupId: string,
  topic: string,
  partitions: number,
  opts: { perPartition?: number; idleMs?: number; timeoutMs?: number } = {},
): Promise<Map<number, ProbedRecord[]>> {
  const perPartition = opts.perPartition ?? 1;
  const consumer = new Consumer({
    ...clientOptions(cluster.settings, cluster.section, 'kafka-backup-probe'),
    retries: 10,
    retryDelay: 200,
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const got = new Map<number, ProbedRecord[]>();
  const complete = () =>
    [...Array(partitions).keys()].every((p) => (got.get(p)?.length ?? 0) >= perPartition);
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 200,
    });
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let lastRecord = Date.now();
    const idleMs = opts.idleMs ?? 5_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (Date.now() > deadline || Date.now() - lastRecord > idleMs) finish();
      }, 100);
      const finish = () => {
        clearInterval(timer);
        resolve();
      };
      stream.on('data', (m) => {
        const list = got.get(m.partition) ?? [];
        if (list.length < perPartition) {
          list.push({
            partition: m.partition,
            offset: Number(m.offset),
            key: m.key ?? null,
            value: m.value ?? null,
            headers: (m.headerEntries ?? []).map(([k, v]) => ({ key: k.toString('utf8'), value: v ?? null })),
          });
          got.set(m.partition, list);
          lastRecord = Date.now();
        }
        if (complete()) finish();
      });
      stream.on('error', (e) => {
        clearInterval(timer);
        reject(e);
      });
    });
    await stream.close().catch(() => undefined);
  } catch (e) {
    throw translateKafkaError(e, cluster.settings, cluster.section, `consume ${topic} as group ${groupId}`);
  } finally {
    await Promise.race([
      consumer.close(true).catch(() => undefined),
      new Promise((r) => setTimeout(r, 5_000).unref()),
    ]);
  }
  return got;
}
