import { initProducerIdV4 } from '@platformatic/kafka';
import { connectionOf, type KafkaCluster, withClient } from './cluster.ts';
import { brokerErrorCodes, translateKafkaError } from './errors.ts';
import { OutgoingBatch, type OutputCodec } from './protocol/batch-builder.ts';
import { produceRecordsV9 } from './protocol/produce-records-v9.ts';
import type { OutgoingRecord } from './protocol/record-batch.ts';
import { withRetry } from './retry.ts';

export type { OutgoingRecord } from './protocol/record-batch.ts';

/** Appends records to partitions: what restore writes through. */
export interface RecordWriter {
  /**
   * Appends `records` to the end of `topic`/`partition` in one batch, in order, each exactly once, and resolves
   * once every in-sync replica has them. Calls for one partition must not overlap.
   */
  write(topic: string, partition: number, records: OutgoingRecord[]): Promise<void>;
  /** The same for a batch built by the caller (stored batches joined, records added), sent in `codec`. */
  writeBatch(topic: string, partition: number, batch: OutgoingBatch, codec: OutputCodec): Promise<void>;
  close(): Promise<void>;
}

/** The target refused a batch as too large (max.message.bytes); the caller knows which records they were. */
export class RecordTooLargeError extends Error {
  override name = 'RecordTooLargeError';
}

const PRODUCE_TIMEOUT_MS = 30_000;
const MAX_SEQUENCE = 2 ** 31;

/**
 * An idempotent producer of our own: a producer id from InitProducerId, a sequence number per partition, and a
 * retried batch sent again with the same sequence, so the broker drops it when an earlier attempt landed (a
 * connection lost after the write, a broker restart). Batches are encoded by record-batch.ts, keeping header
 * order, duplicate header keys and null header values.
 */
export class IdempotentWriter implements RecordWriter {
  readonly #cluster: KafkaCluster;
  readonly #codec: OutputCodec;
  #producer: Promise<{ id: bigint; epoch: number }> | undefined;
  readonly #sequences = new Map<string, number>();
  readonly #leaders = new Map<string, number>();

  constructor(cluster: KafkaCluster, opts: { codec?: OutputCodec } = {}) {
    this.#cluster = cluster;
    this.#codec = opts.codec ?? 'none';
  }

  #producerId() {
    this.#producer ??= this.#cluster.requireSupportedBroker().then(() =>
      this.#cluster[withClient]('init producer id', async (admin) => {
        const md = await admin.metadata({ topics: [] });
        const [nodeId] = [...md.brokers.keys()];
        const connection = await this.#cluster[connectionOf](nodeId!);
        const res = await initProducerIdV4.api.async(connection, null, 60_000, -1n, -1);
        return { id: res.producerId, epoch: res.producerEpoch };
      }),
    );
    return this.#producer;
  }

  async #leader(topic: string, partition: number): Promise<number> {
    const key = `${topic}\u0000${partition}`;
    let leader = this.#leaders.get(key);
    if (leader === undefined || leader < 0) {
      const { leaders } = await this.#cluster.partitionLeaders(topic);
      for (const l of leaders) this.#leaders.set(`${topic}\u0000${l.partition}`, l.leader);
      leader = this.#leaders.get(key) ?? -1;
    }
    if (leader < 0)
      throw Object.assign(new Error(`${topic}/${partition} has no leader`), {
        apiId: 'LEADER_NOT_AVAILABLE',
      });
    return leader;
  }

  async write(topic: string, partition: number, records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const batch = new OutgoingBatch();
    for (const r of records) batch.addRecord(r);
    await this.writeBatch(topic, partition, batch, this.#codec);
  }

  async writeBatch(
    topic: string,
    partition: number,
    outgoing: OutgoingBatch,
    codec: OutputCodec,
  ): Promise<void> {
    const count = outgoing.records;
    if (count === 0) return;
    const producer = await this.#producerId();
    const key = `${topic}\u0000${partition}`;
    const sequence = this.#sequences.get(key) ?? 0;
    const batch = outgoing.finish(codec, {
      producerId: producer.id,
      producerEpoch: producer.epoch,
      baseSequence: sequence,
    });
    try {
      await withRetry(
        async () => {
          try {
            const connection = await this.#cluster[connectionOf](await this.#leader(topic, partition));
            await produceRecordsV9.async(connection, -1, PRODUCE_TIMEOUT_MS, [{ topic, partition, batch }]);
          } catch (e) {
            const codes = brokerErrorCodes(e);
            // An earlier attempt of this very batch landed: the broker recognises the sequence.
            if (codes.includes('DUPLICATE_SEQUENCE_NUMBER')) return;
            if (codes.some((c) => c === 'MESSAGE_TOO_LARGE' || c === 'RECORD_LIST_TOO_LARGE')) {
              throw new RecordTooLargeError(
                `${topic}/${partition} refused a batch of ${count} records (${batch.length} bytes) as too large`,
                { cause: e },
              );
            }
            throw e;
          }
        },
        {
          // The cluster answered InitProducerId: a connection refused now is a broker restarting.
          reachedBefore: () => true,
          onRetry: () => {
            this.#leaders.delete(key);
            this.#cluster.forgetMetadata();
          },
        },
      );
    } catch (e) {
      if (e instanceof RecordTooLargeError) throw e;
      throw translateKafkaError(
        e,
        this.#cluster.settings,
        this.#cluster.section,
        `write to ${topic}/${partition}`,
      );
    }
    this.#sequences.set(key, (sequence + count) % MAX_SEQUENCE);
  }

  async close(): Promise<void> {
    // Connections belong to the cluster object; nothing of ours stays open.
  }
}
