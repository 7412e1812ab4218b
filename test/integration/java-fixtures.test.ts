// Records written by Apache Kafka's own Java producer (not by our client) must read back byte for byte.
// The Java program (test/support/java/JavaFixtures.java) reports every record it sent with the offset and
// timestamp the broker acknowledged; DumpLogSegments shows what the broker's log files hold.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRecord } from '../../lib/format/record.ts';
import { KafkaCluster, readPartitions } from '../../lib/kafka/index.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import {
  type DumpedBatch,
  type DumpedLog,
  dumpLogSegments,
  type JavaFixtures,
  type JavaRecord,
  primaryLogFiles,
  writeJavaFixtures,
} from '../support/java-fixtures.ts';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

type IsolationLevel = 'read_committed' | 'read_uncommitted';
type PartitionOffsets = Awaited<ReturnType<KafkaCluster['partitionOffsets']>>[number];

interface Read {
  offsets: PartitionOffsets;
  records: BackupRecord[];
  /** nextOffset of the partition's last batch. */
  lastNextOffset: number;
  /** Codec of every batch read. */
  codecs: string[];
}

async function readTopics(
  cluster: KafkaCluster,
  topics: string[],
  isolation: IsolationLevel,
): Promise<Map<string, Read>> {
  const out = new Map<string, Read>();
  for (const topic of topics) {
    const [offsets] = await cluster.partitionOffsets(topic, isolation);
    out.set(topic, { offsets: offsets!, records: [], lastNextOffset: -1, codecs: [] });
  }
  await readPartitions(
    cluster,
    topics.map((topic) => {
      const o = out.get(topic)!.offsets;
      return { topic, partition: 0, from: o.logStart, to: o.end };
    }),
    {
      isolation,
      concurrency: 4,
      onBatch: async (b) => {
        const r = out.get(b.topic)!;
        r.records.push(...b.records);
        r.lastNextOffset = b.nextOffset;
        r.codecs.push(...b.batches.map((x) => x.header.codec));
      },
    },
  );
  return out;
}

/** Bytes as something a diff can show: small buffers in hex, large ones by length and SHA-256. */
function fp(b: Buffer | null): string | null {
  if (b === null) return null;
  if (b.length <= 48) return `hex:${b.toString('hex')}`;
  return `${b.length} bytes sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function comparable(r: {
  offset: number;
  timestamp: number;
  timestampType: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}) {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    key: fp(r.key),
    value: fp(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: fp(h.value) })),
  };
}

function expected(records: JavaRecord[], timestampType: 0 | 1 = 0) {
  return [...records].sort((a, b) => a.offset - b.offset).map((r) => comparable({ ...r, timestampType }));
}

describe('records written by Kafka’s Java producer', () => {
  const cluster = new KafkaCluster({ bootstrap_servers: [ground().primary] }, 'source');
  const timings: Record<string, number> = {};
  let fx: JavaFixtures;
  let committed: Map<string, Read>;
  let uncommitted: Map<string, Read>;
  let dumped: DumpedLog;
  const topic = (kind: string, codec?: string) =>
    fx.topics.find((t) => t.kind === kind && (codec === undefined || t.codec === codec))!.name;
  const sent = (t: string) => fx.records.filter((r) => r.topic === t);
  const log = (t: string): DumpedBatch[] => {
    const batches = dumped.get(`${t}-0`);
    if (!batches) throw new Error(`DumpLogSegments printed nothing for ${t}-0`);
    return batches;
  };

  beforeAll(async () => {
    let t = Date.now();
    fx = await writeJavaFixtures(ground().primary, uniqueName('javafx'));
    timings['java producer (incl. JVM start, compile, compaction wait)'] = Date.now() - t;
    const names = fx.topics.map((x) => x.name);
    t = Date.now();
    committed = await readTopics(cluster, names, 'read_committed');
    timings['readPartitions read_committed'] = Date.now() - t;
    t = Date.now();
    uncommitted = await readTopics(cluster, names, 'read_uncommitted');
    timings['readPartitions read_uncommitted'] = Date.now() - t;
    t = Date.now();
    dumped = await dumpLogSegments((await Promise.all(names.map((n) => primaryLogFiles(n)))).flat());
    timings['DumpLogSegments'] = Date.now() - t;
  }, 180_000);

  afterAll(async () => {
    console.error(
      `[java-fixtures] kafka-clients ${fx?.kafkaClientsVersion}; timings (ms): ${JSON.stringify(timings)}; ` +
        `inside java: ${fx?.elapsedMs} ${JSON.stringify(fx?.phasesMs)}; ` +
        `compaction: ${JSON.stringify({ ...fx?.compacted, survivors: undefined, heldByJavaConsumer: undefined })}`,
    );
    await cluster.close();
  });

  it.each(CODECS)('reads the %s topic byte for byte, under both isolation levels', (codec) => {
    const t = topic('codec', codec);
    const want = expected(sent(t));
    expect(want).toHaveLength(14);
    for (const read of [committed, uncommitted]) {
      const r = read.get(t)!;
      expect(r.offsets).toEqual({ partition: 0, logStart: 0, end: 14 });
      expect(r.records.map(comparable)).toEqual(want);
      expect(r.lastNextOffset).toBe(14);
    }
  });

  it.each(CODECS)('keeps null apart from empty, header order a,b,a and explicit timestamps (%s)', (codec) => {
    const t = topic('codec', codec);
    const got = new Map(committed.get(t)!.records.map((r) => [r.offset, r]));
    const at = (note: string) => {
      const s = sent(t).find((r) => r.note === note)!;
      return { s, r: got.get(s.offset)! };
    };
    const headers = at('headers a,b,a with a null value').r;
    expect(headers.headers).toEqual([
      { key: 'a', value: Buffer.from('first a') },
      { key: 'b', value: null },
      { key: 'a', value: Buffer.from('second a') },
    ]);
    expect(at('null key').r.key).toBeNull();
    expect(at('empty key').r.key).toEqual(Buffer.alloc(0));
    expect(at('tombstone (null value)').r.value).toBeNull();
    expect(at('empty value').r.value).toEqual(Buffer.alloc(0));
    const both = at('null key and null value').r;
    expect([both.key, both.value, both.headers]).toEqual([
      null,
      null,
      [{ key: 'empty', value: Buffer.alloc(0) }],
    ]);
    const bin = at('binary key, value and header');
    expect(bin.r.key!.equals(bin.s.key!)).toBe(true);
    expect(bin.r.value!.equals(bin.s.value!)).toBe(true);
    expect(bin.r.headers.map((h) => h.key)).toEqual(['bin', 'ü-ключ-🔑']);
    expect(bin.r.headers[0]!.value!.equals(bin.s.headers[0]!.value!)).toBe(true);
    expect(at('plain').r.timestamp).toBe(1_700_000_000_000);
    expect(at('timestamp far in the past').r.timestamp).toBe(1_262_304_000_000);
    expect(at('timestamp out of order').r.timestamp).toBe(1_699_999_999_999);
    expect(at('600 KiB text').r.value).toHaveLength(600 * 1024);
  });

  it('the codec topics really hold batches of that codec (DumpLogSegments)', () => {
    for (const codec of CODECS) {
      const batches = log(topic('codec', codec));
      expect(
        batches.map((b) => ({ base: b.baseOffset, last: b.lastOffset, codec: b.codec })),
        codec,
      ).toEqual([
        { base: 0, last: 9, codec },
        { base: 10, last: 13, codec },
      ]);
      expect(batches.flatMap((b) => b.records.map((r) => r.offset))).toEqual(
        Array.from({ length: 14 }, (_, i) => i),
      );
    }
    // The transactional producer compressed with lz4; its markers are control batches, never compressed.
    const tx = log(topic('transactional'));
    expect(tx.filter((b) => !b.isControl).every((b) => b.codec === 'lz4' && b.isTransactional)).toBe(true);
  });

  it('takes LogAppendTime timestamps from the broker, not the producer', () => {
    const t = topic('log-append-time');
    const want = expected(sent(t), 1);
    expect(want.every((r) => r.timestamp > 1_700_000_000_100)).toBe(true);
    expect(log(t).every((b) => b.timestampType === 'LogAppendTime')).toBe(true);
    expect(committed.get(t)!.records.map(comparable)).toEqual(want);
  });

  it('drops the aborted transaction under read_committed and shows it under read_uncommitted', () => {
    const t = topic('transactional');
    const tx = log(t);
    const markers = tx
      .filter((b) => b.isControl)
      .flatMap((b) => b.records.map((r) => ({ offset: r.offset, marker: r.endTxnMarker })));
    // commit(3 records) marker, abort(3) marker, commit(2) marker.
    expect(markers).toEqual([
      { offset: 3, marker: 'COMMIT' },
      { offset: 7, marker: 'ABORT' },
      { offset: 10, marker: 'COMMIT' },
    ]);
    expect(fx.transactional).toMatchObject({ logStart: 0, lastStable: 11, highWatermark: 11 });

    const c = committed.get(t)!;
    expect(c.offsets).toEqual({ partition: 0, logStart: 0, end: 11 });
    expect(c.records.map(comparable)).toEqual(expected(sent(t).filter((r) => r.group === 'committed')));
    expect(c.records.map((r) => r.offset)).toEqual([0, 1, 2, 8, 9]);
    expect(c.lastNextOffset).toBe(11);

    const u = uncommitted.get(t)!;
    expect(u.offsets).toEqual({ partition: 0, logStart: 0, end: 11 });
    expect(u.records.map(comparable)).toEqual(expected(sent(t)));
    expect(u.records.map((r) => r.offset)).toEqual([0, 1, 2, 4, 5, 6, 8, 9]);
    expect(u.lastNextOffset).toBe(11);
  });

  it('reads exactly the records the compacted log still holds', () => {
    const t = topic('compacted');
    const c = fx.compacted;
    // What the broker's files hold, record by record (DumpLogSegments ran after our reads).
    const inLog = log(t)
      .filter((b) => !b.isControl)
      .flatMap((b) => b.records.map((r) => r.offset));
    const bySent = new Map(sent(t).map((r) => [r.offset, r]));
    for (const read of [committed, uncommitted]) {
      const r = read.get(t)!;
      expect(r.offsets).toEqual({ partition: 0, logStart: c.logStart, end: c.highWatermark });
      const offsets = r.records.map((x) => x.offset);
      // Every record read is the one sent at that offset, byte for byte.
      expect(r.records.map(comparable)).toEqual(
        offsets.map((o) => comparable({ ...bySent.get(o)!, timestampType: 0 })),
      );
      // The last record of each key is never compacted away.
      expect(offsets).toEqual(expect.arrayContaining(c.survivors));
      expect(r.lastNextOffset).toBe(c.highWatermark);
      if (c.fullyCompacted) {
        // Stable once the cleaner has left one record per key: compare offsets, never count.
        expect(offsets).toEqual(c.survivors);
        expect(offsets).toEqual(c.heldByJavaConsumer);
        expect(offsets).toEqual(inLog);
      }
    }
    if (c.fullyCompacted) {
      // The log starts at 0 but its first record is far later: the reader started in a gap.
      expect(c.logStart).toBe(0);
      expect(c.survivors[0]).toBeGreaterThan(0);
      // The final tombstone of key-1 is kept (delete.retention.ms is a day).
      const tomb = sent(t).find((x) => x.note === 'key-1 round 2')!;
      expect(committed.get(t)!.records.find((x) => x.offset === tomb.offset)!.value).toBeNull();
    } else {
      console.error(`[java-fixtures] the cleaner had not compacted ${t} within ${c.waitedMs} ms`);
    }
  });

  it('backs up and restores every topic byte for byte, each codec kept as the producer chose it', async () => {
    const dir = tempDir('java-fixtures-');
    const names = fx.topics.map((x) => x.name);
    const id = uniqueName('javafx-backup');
    const backup = writeConfig(
      dir,
      'backup.yaml',
      `mode: backup\nbackup_id: ${id}\nsource:\n  bootstrap_servers: ["${ground().primary}"]\n  topics:\n    include: [${names.map((n) => `"${n}"`).join(', ')}]\nstorage:\n  path: ${dir}/store\n`,
    );
    const b = await runCli(['backup', '--config', backup, '--format', 'json']);
    expect(b.code, b.stderr).toBe(0);
    const v = await runCli([
      'validate',
      '--path',
      `${dir}/store`,
      '--backup-id',
      id,
      '--deep',
      '--format',
      'json',
    ]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const restore = writeConfig(
      dir,
      'restore.yaml',
      `mode: restore\nbackup_id: ${id}\ntarget:\n  bootstrap_servers: ["${ground().dr}"]\nstorage:\n  path: ${dir}/store\n`,
    );
    const r = await runCli(['restore', '--config', restore, '--format', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const dr = new KafkaCluster({ bootstrap_servers: [ground().dr] }, 'target');
    try {
      const restored = await readTopics(dr, names, 'read_committed');
      for (const name of names) {
        const source = committed.get(name)!;
        const back = restored.get(name)!;
        // Same records in the same order at offsets 0..n-1 (transaction markers and compaction holes closed).
        const kind = fx.topics.find((t) => t.name === name)!;
        // The topic is created with its configs: a LogAppendTime topic on the target stamps its own times.
        const appendTime = kind.kind === 'log-append-time';
        const strip = (x: BackupRecord) => {
          const { offset: _o, timestampType: _t, timestamp, ...rest } = comparable(x);
          return appendTime ? rest : { ...rest, timestamp };
        };
        expect(back.records.map(strip), name).toEqual(source.records.map(strip));
        expect(back.records.map((x) => x.offset)).toEqual(source.records.map((_, i) => i));
        expect(back.records.every((x) => x.timestampType === (appendTime ? 1 : 0))).toBe(true);
        if (kind.kind === 'codec') expect(new Set(back.codecs), name).toEqual(new Set([kind.codec]));
      }
    } finally {
      await dr.close();
    }
  }, 180_000);
});
