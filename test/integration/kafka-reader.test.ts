import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRecord } from '../../lib/format/record.ts';
import { KafkaCluster, type ReadBatch, readPartitions } from '../../lib/kafka/index.ts';
import { buf, createTopic, primarySettings, produce, produceTransaction } from '../support/kafka-fixtures.ts';

async function readAll(
  cluster: KafkaCluster,
  topic: string,
  partitions: number,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
) {
  const offsets = await cluster.partitionOffsets(topic, isolation);
  const got = new Map<number, BackupRecord[]>();
  const batches: ReadBatch[] = [];
  await readPartitions(
    cluster,
    offsets.slice(0, partitions).map((o) => ({ topic, partition: o.partition, from: o.logStart, to: o.end })),
    {
      isolation,
      concurrency: 2,
      onBatch: async (b) => {
        batches.push(b);
        got.set(b.partition, [...(got.get(b.partition) ?? []), ...b.records]);
      },
    },
  );
  return { got, batches, offsets };
}

describe('lib/kafka partition reader', () => {
  const cluster = new KafkaCluster(primarySettings(), 'source');
  beforeAll(async () => {
    await cluster.describeCluster();
  });
  afterAll(() => cluster.close());

  it('reads keys, values and headers byte-exactly, header order and duplicates kept', async () => {
    const topic = await createTopic(cluster, { prefix: 'fidelity' });
    const binary = Buffer.from([0, 255, 1, 254, 0]);
    await produce(cluster, topic, [
      { key: null, value: buf('null key') },
      { key: buf('tomb'), value: null },
      { key: buf(''), value: buf('') },
      {
        key: binary,
        value: binary,
        headers: [
          { key: 'b', value: buf('1') },
          { key: 'a', value: null },
          { key: 'b', value: binary },
          { key: '1', value: buf('numeric key') },
          { key: 'a', value: buf('') },
        ],
      },
    ]);
    const { got, offsets } = await readAll(cluster, topic, 1);
    expect(offsets[0]).toEqual({ partition: 0, logStart: 0, end: 4 });
    const records = got.get(0)!;
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(records[0]!.key).toBeNull();
    expect(records[1]!.value).toBeNull();
    expect(records[2]!.key).toEqual(Buffer.alloc(0));
    expect(records[2]!.value).toEqual(Buffer.alloc(0));
    expect(records[3]!.key).toEqual(binary);
    expect(records[3]!.headers).toEqual([
      { key: 'b', value: buf('1') },
      { key: 'a', value: null },
      { key: 'b', value: binary },
      { key: '1', value: buf('numeric key') },
      { key: 'a', value: Buffer.alloc(0) },
    ]);
    expect(records.every((r) => r.timestamp > 1_600_000_000_000 && r.timestampType === 0)).toBe(true);
  });

  it('skips aborted transactions and markers under read_committed, keeps them under read_uncommitted', async () => {
    const topic = await createTopic(cluster, { prefix: 'tx' });
    await produce(cluster, topic, [{ key: null, value: buf('plain-0') }]);
    await produceTransaction(
      cluster,
      topic,
      [
        { key: null, value: buf('aborted-1') },
        { key: null, value: buf('aborted-2') },
      ],
      'abort',
    );
    await produceTransaction(cluster, topic, [{ key: null, value: buf('committed-1') }], 'commit');
    await produceTransaction(cluster, topic, [{ key: null, value: buf('aborted-3') }], 'abort');

    const committed = await readAll(cluster, topic, 1);
    expect(committed.got.get(0)!.map((r) => r.value!.toString())).toEqual(['plain-0', 'committed-1']);
    // The reader reached the cut although the last offsets were an aborted record and its marker.
    expect(committed.batches.at(-1)!.nextOffset).toBe(committed.offsets[0]!.end);

    const all = await readAll(cluster, topic, 1, 'read_uncommitted');
    expect(all.got.get(0)!.map((r) => r.value!.toString())).toEqual([
      'plain-0',
      'aborted-1',
      'aborted-2',
      'committed-1',
      'aborted-3',
    ]);
  });

  it('reads topics produced with every Kafka codec', async () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const name = codec;
      const topic = await createTopic(cluster, { prefix: `codec-${name}` });
      const messages = Array.from({ length: 50 }, (_, i) => ({
        key: buf(`k${i}`),
        value: buf(`${name} value ${i} `.repeat(20)),
      }));
      await produce(cluster, topic, messages, { compression: codec });
      const { got } = await readAll(cluster, topic, 1);
      expect(
        got.get(0)!.map((r) => r.value!.toString()),
        name,
      ).toEqual(messages.map((m) => m.value.toString()));
    }
  });

  it('stops at the cut even while producers keep writing, across partitions', async () => {
    const topic = await createTopic(cluster, { prefix: 'cut', partitions: 3 });
    await produce(
      cluster,
      topic,
      Array.from({ length: 30 }, (_, i) => ({ key: null, value: buf(`v${i}`), partition: i % 3 })),
    );
    const offsets = await cluster.partitionOffsets(topic);
    await produce(
      cluster,
      topic,
      Array.from({ length: 9 }, (_, i) => ({ key: null, value: buf(`late${i}`), partition: i % 3 })),
    );
    const got: BackupRecord[] = [];
    await readPartitions(
      cluster,
      offsets.map((o) => ({ topic, partition: o.partition, from: 0, to: o.end })),
      {
        isolation: 'read_committed',
        concurrency: 3,
        onBatch: async (b) => {
          got.push(...b.records);
        },
      },
    );
    expect(got.length).toBe(30);
    expect(got.some((r) => r.value!.toString().startsWith('late'))).toBe(false);
  });

  it('reads no more than `concurrency` partitions at a time, and all of each', async () => {
    const topic = await createTopic(cluster, { prefix: 'pool', partitions: 6 });
    // Ten sends make ten record batches per partition; a 1 KiB fetch limit then brings about one at a time.
    for (let round = 0; round < 10; round++) {
      await produce(
        cluster,
        topic,
        Array.from({ length: 60 }, (_, i) => ({
          key: null,
          value: buf(`v${round}-${i}-${'x'.repeat(50)}`),
          partition: i % 6,
        })),
      );
    }
    const offsets = await cluster.partitionOffsets(topic);
    const open = new Set<number>();
    let maxOpen = 0;
    const counts = new Map<number, number>();
    await readPartitions(
      cluster,
      offsets.map((o) => ({ topic, partition: o.partition, from: 0, to: o.end })),
      {
        isolation: 'read_committed',
        concurrency: 2,
        maxBytesPerPartition: 1024,
        onBatch: async (b) => {
          open.add(b.partition);
          maxOpen = Math.max(maxOpen, open.size);
          counts.set(b.partition, (counts.get(b.partition) ?? 0) + b.records.length);
          if (b.nextOffset >= 100) open.delete(b.partition);
        },
      },
    );
    expect(maxOpen).toBeLessThanOrEqual(2);
    expect([...counts.entries()].sort((a, b) => a[0] - b[0])).toEqual(
      [0, 1, 2, 3, 4, 5].map((p) => [p, 100]),
    );
  });

  // Thousands of small partitions (a large estate's usual shape) must not take a fetch round each: the partitions
  // past the `concurrency` places ride along as probes and finish in the fetch that brings their whole range. A
  // large partition among them is probed once, dropped, and read in its turn.
  it('reads many small partitions in a few fetches, and a large one among them in its turn', async () => {
    const topic = await createTopic(cluster, { prefix: 'small', partitions: 120 });
    await produce(
      cluster,
      topic,
      Array.from({ length: 120 }, (_, p) => ({ key: buf(`k${p}`), value: buf(`v${p}`), partition: p })),
    );
    // Partition 7 is larger than one fetch: 30 batches of 40 records of 1 KB, against a 64 KiB fetch limit.
    for (let round = 0; round < 30; round++)
      await produce(
        cluster,
        topic,
        Array.from({ length: 40 }, (_, i) => ({
          key: buf(`r${round}-${i}`),
          value: Buffer.alloc(1_000, i),
          partition: 7,
        })),
      );
    const offsets = await cluster.partitionOffsets(topic);
    const got = new Map<number, string[]>();
    const open = new Set<number>();
    let maxOpen = 0;
    const { fetches } = await readPartitions(
      cluster,
      offsets.map((o) => ({ topic, partition: o.partition, from: 0, to: o.end })),
      {
        isolation: 'read_committed',
        concurrency: 2,
        maxBytesPerPartition: 64 * 1024,
        onBatch: async (b) => {
          got.set(b.partition, [...(got.get(b.partition) ?? []), ...b.records.map((r) => r.key!.toString())]);
          // A partition handed on in part holds one of the `concurrency` places until it is done.
          if (b.nextOffset < offsets[b.partition]!.end) open.add(b.partition);
          else open.delete(b.partition);
          maxOpen = Math.max(maxOpen, open.size);
        },
      },
    );
    for (let p = 0; p < 120; p++) {
      const expected =
        p === 7
          ? ['k7', ...Array.from({ length: 1_200 }, (_, i) => `r${Math.floor(i / 40)}-${i % 40}`)]
          : [`k${p}`];
      expect(got.get(p), `partition ${p}`).toEqual(expected);
    }
    expect(maxOpen).toBeGreaterThan(0); // partition 7 took more than one fetch
    expect(maxOpen).toBeLessThanOrEqual(2);
    // 120 partitions at 2 a round would be 60 rounds or more; partition 7 alone needs about 1.2 MB / 64 KiB = 19.
    expect(fetches).toBeLessThan(40);
  });

  it('reads a partition larger than one fetch to its end', async () => {
    const topic = await createTopic(cluster, { prefix: 'large' });
    const value = Buffer.alloc(100_000, 7);
    for (let i = 0; i < 3; i++)
      await produce(
        cluster,
        topic,
        Array.from({ length: 40 }, () => ({ key: null, value })),
      );
    const [o] = await cluster.partitionOffsets(topic);
    let records = 0;
    let bytes = 0;
    await readPartitions(cluster, [{ topic, partition: 0, from: 0, to: o!.end }], {
      isolation: 'read_committed',
      concurrency: 1,
      maxBytesPerPartition: 1024 * 1024,
      onBatch: async (b) => {
        records += b.records.length;
        for (const r of b.records) bytes += r.value!.length;
      },
    });
    expect(records).toBe(120);
    expect(bytes).toBe(12_000_000);
  });

  // The broker returns a batch larger than partition_max_bytes only for the first partition of a fetch; the
  // others come back empty. They must not be taken for finished (a drill once read 0 of 3,333 records so).
  it('reads every partition of a fetch whose batches are larger than the per-partition limit', async () => {
    const topic = await createTopic(cluster, { prefix: 'bigbatch', partitions: 3 });
    const value = Buffer.alloc(1_000, 3);
    for (let round = 0; round < 4; round++) {
      await produce(
        cluster,
        topic,
        Array.from({ length: 900 }, (_, i) => ({ key: buf(`r${round}-${i}`), value, partition: i % 3 })),
      );
    }
    const offsets = await cluster.partitionOffsets(topic);
    const got = new Map<number, string[]>();
    await readPartitions(
      cluster,
      offsets.map((o) => ({ topic, partition: o.partition, from: 0, to: o.end })),
      {
        isolation: 'read_committed',
        concurrency: 3,
        maxBytesPerPartition: 64 * 1024, // each batch is ~300 KB
        onBatch: async (b) => {
          got.set(b.partition, [...(got.get(b.partition) ?? []), ...b.records.map((r) => r.key!.toString())]);
        },
      },
    );
    for (const p of [0, 1, 2]) {
      const expected = [0, 1, 2, 3].flatMap((round) =>
        Array.from({ length: 900 }, (_, i) => i)
          .filter((i) => i % 3 === p)
          .map((i) => `r${round}-${i}`),
      );
      expect(got.get(p), `partition ${p}`).toEqual(expected);
    }
  });
});
