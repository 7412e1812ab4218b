// Backups of format 1 (our record encoding, as kafka-backup wrote before format 2) go on restoring and
// validating, alone and as the base of an incremental format-2 backup that reuses their segments.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/index.ts';
import { loadBackupConfig } from '../../lib/config/index.ts';
import type { BackupRecord } from '../../lib/format/record.ts';
import { KafkaCluster, readPartitions } from '../../lib/kafka/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, drSettings, primarySettings, produce } from '../support/kafka-fixtures.ts';

const PARTITIONS = 2;
const START = Date.now() - 3_600_000;

async function readAll(cluster: KafkaCluster, topic: string): Promise<BackupRecord[][]> {
  const offsets = await cluster.partitionOffsets(topic);
  const out: BackupRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  await readPartitions(
    cluster,
    offsets.map((o) => ({ topic, partition: o.partition, from: o.logStart, to: o.end })),
    {
      isolation: 'read_committed',
      concurrency: 2,
      onBatch: async (b) => void out[b.partition]!.push(...b.records),
    },
  );
  return out;
}

const content = (rs: BackupRecord[]) =>
  rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }));

function manifestOf(path: string, id: string) {
  return JSON.parse(readFileSync(join(path, 'backups', id, 'manifest.json'), 'utf8')) as {
    format_version: number;
    based_on: string | null;
    topics: { partitions: { segments: { key: string }[] }[] }[];
  };
}

function segmentMagic(path: string, key: string): string {
  return zstdDecompressSync(readFileSync(join(path, key)))
    .subarray(0, 8)
    .toString('ascii');
}

describe('format 1 and format 2 backups', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  const dir = tempDir('format-versions-');
  const path = join(dir, 'store');
  let topic: string;

  const batchOf = (round: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      key: i % 4 === 0 ? null : buf(`r${round}-k${i}`),
      value:
        i % 5 === 0
          ? null
          : i % 5 === 1
            ? Buffer.alloc(0)
            : buf(`round ${round} value ${i} ${'x'.repeat(i)}`),
      headers: [
        { key: 'dup', value: buf('a') },
        { key: 'nul', value: null },
        { key: 'dup', value: buf('b') },
      ],
      // Recent: older timestamps would fall to the topic's time retention at once.
      timestamp: START + round * 1000 + i - (i % 7 === 3 ? 60_000 : 0),
      partition: i % PARTITIONS,
    }));

  const backupYaml = (id: string) =>
    `mode: backup\nbackup_id: ${id}\nsource:\n  bootstrap_servers: ["${ground().primary}"]\n  topics:\n    include: ["${topic}"]\nstorage:\n  path: ${path}\nbackup:\n  segment_max_bytes: 4096\n`;
  const restoreYaml = (id: string, target: string) =>
    `mode: restore\nbackup_id: ${id}\ntarget:\n  bootstrap_servers: ["${ground().dr}"]\nstorage:\n  path: ${path}\nrestore:\n  topic_mapping: { "${topic}": "${target}" }\n`;

  beforeAll(async () => {
    topic = await createTopic(primary, { prefix: 'fmt', partitions: PARTITIONS });
    for (let round = 0; round < 3; round++) await produce(primary, topic, batchOf(round, 40));
    // Backup 1 in format 1, through the same engine with the format-1 writer kept for this.
    const config = loadBackupConfig(writeConfig(dir, 'b1.yaml', backupYaml('fmt-v1')));
    const source = new KafkaCluster(config.source, 'source');
    try {
      await runBackup({
        config,
        store: new FilesystemStore(path),
        source,
        logger: silentLogger,
        segmentFormat: 1,
      });
    } finally {
      await source.close();
    }
    for (let round = 3; round < 6; round++) await produce(primary, topic, batchOf(round, 40));
    const b2 = await runCli(['backup', '--config', writeConfig(dir, 'b2.yaml', backupYaml('fmt-v2'))]);
    expect(b2.code, b2.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await primary.close();
    await dr.close();
  });

  it('writes a format-1 backup, then an incremental format-2 one naming segments of both formats', () => {
    const v1 = manifestOf(path, 'fmt-v1');
    expect(v1.format_version).toBe(1);
    const v1Keys = v1.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => s.key));
    expect(v1Keys.map((k) => segmentMagic(path, k))).toEqual(v1Keys.map(() => 'KBSEG001'));
    const v2 = manifestOf(path, 'fmt-v2');
    expect(v2.format_version).toBe(2);
    expect(v2.based_on).toBe('fmt-v1');
    const magics = v2.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => segmentMagic(path, s.key)));
    expect(new Set(magics)).toEqual(new Set(['KBSEG001', 'KBSEG002']));
  });

  it.each(['fmt-v1', 'fmt-v2'])('validates %s deep', async (id) => {
    const v = await runCli(['validate', '--path', path, '--backup-id', id, '--deep', '--format', 'json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, problems: [] });
  });

  it.each([
    ['fmt-v1', 3],
    ['fmt-v2', 6],
  ] as const)(
    'restores %s byte for byte: keys, values, headers in order with duplicates and nulls, timestamps',
    async (id, rounds) => {
      const target = uniqueName('fmt-restored');
      const r = await runCli([
        'restore',
        '--config',
        writeConfig(dir, `r-${id}.yaml`, restoreYaml(id, target)),
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const source = await readAll(primary, topic);
      const back = await readAll(dr, target);
      for (let p = 0; p < PARTITIONS; p++) {
        const want = source[p]!.slice(0, (rounds * 40) / PARTITIONS);
        expect(content(back[p]!)).toEqual(content(want));
      }
    },
  );
});
