import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/index.ts';
import { loadBackupConfig } from '../../lib/config/index.ts';
import { readBackupPartition } from '../../lib/format/backup-reader.ts';
import { loadManifest } from '../../lib/format/catalog.ts';
import type { Manifest } from '../../lib/format/manifest.ts';
import { KafkaCluster, type TopicDescription } from '../../lib/kafka/index.ts';
import type { Logger } from '../../lib/log.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';

function backupConfig(id: string, path: string, topics: string[]): string {
  return `mode: backup
backup_id: "${id}"
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: [${topics.map((t) => `"${t}"`).join(', ')}]
storage:
  backend: filesystem
  path: ${path}
`;
}

async function values(path: string, m: Manifest, topic: string): Promise<string[]> {
  const store = new FilesystemStore(path);
  const out: string[] = [];
  for (const p of m.topics.find((t) => t.name === topic)!.partitions) {
    for await (const r of readBackupPartition(store, p)) out.push(r.value!.toString());
  }
  return out.sort();
}

function segmentKeys(m: Manifest, topic: string): string[] {
  return m.topics.find((t) => t.name === topic)!.partitions.flatMap((p) => p.segments.map((s) => s.key));
}

/**
 * A source that reports the topic ids the test gives it, as a client speaking Metadata v10+ does (kafkajs does
 * not): the id path runs whichever client lib/kafka uses.
 */
class IdReportingCluster extends KafkaCluster {
  readonly ids = new Map<string, string | null>();
  override async describeTopics(names: string[]): Promise<TopicDescription[]> {
    return (await super.describeTopics(names)).map((d) => ({ ...d, topicId: this.ids.get(d.name) ?? null }));
  }
}

function recordingLogger(): Logger & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  return {
    warnings,
    debug() {},
    info() {},
    warn: (message, fields) => warnings.push({ message, ...fields }),
    error() {},
  };
}

async function deleteAndRecreate(cluster: KafkaCluster, topic: string, partitions: number): Promise<void> {
  await cluster.deleteTopics([topic]);
  for (const deadline = Date.now() + 30_000; (await cluster.listTopics()).includes(topic); ) {
    if (Date.now() > deadline) throw new Error(`${topic} was not deleted within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await createTopic(cluster, { name: topic, partitions });
  expect((await cluster.partitionOffsets(topic)).every((o) => o.end === 0)).toBe(true);
}

describe('topic identity', () => {
  const cluster = new KafkaCluster(primarySettings(), 'source');
  beforeAll(() => cluster.describeCluster());
  afterAll(() => cluster.close());

  it('a topic deleted and re-created under the same name, filled past the earlier cut, is backed up in full', async () => {
    const topic = await createTopic(cluster, { prefix: 'ident', partitions: 2 });
    const stable = await createTopic(cluster, { prefix: 'ident-stable', partitions: 2 });
    const batch = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        key: buf(`k${i}`),
        value: buf(`${prefix}-${i}`),
        partition: i % 2,
      }));
    await produce(cluster, topic, batch('old', 20));
    await produce(cluster, stable, batch('stable', 20));

    const dir = tempDir();
    const path = join(dir, 'store');
    const first = await runCli([
      'backup',
      '--config',
      writeConfig(dir, 'b1.yaml', backupConfig('ident-1', path, [topic, stable])),
      '--log-format',
      'json',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const m1 = await loadManifest(new FilesystemStore(path), 'ident-1');
    expect(m1.topics.find((t) => t.name === topic)!.partitions.map((p) => p.end_offset)).toEqual([10, 10]);

    await deleteAndRecreate(cluster, topic, 2);
    // Past the earlier cut (10 per partition), with other records: offsets alone cannot tell.
    await produce(cluster, topic, batch('new', 30));
    await produce(cluster, stable, batch('stable-more', 4));

    const second = await runCli([
      'backup',
      '--config',
      writeConfig(dir, 'b2.yaml', backupConfig('ident-2', path, [topic, stable])),
      '--log-format',
      'json',
    ]);
    expect(second.code, second.stderr).toBe(0);
    const m2 = await loadManifest(new FilesystemStore(path), 'ident-2');
    const t1 = m1.topics.find((t) => t.name === topic)!;
    const t2 = m2.topics.find((t) => t.name === topic)!;

    // Nothing of the deleted topic is reused; the unchanged topic still is (incrementally).
    expect(segmentKeys(m2, topic).filter((k) => segmentKeys(m1, topic).includes(k))).toEqual([]);
    expect(t2.partitions.map((p) => [p.start_offset, p.end_offset, p.records])).toEqual([
      [0, 15, 15],
      [0, 15, 15],
    ]);
    expect(segmentKeys(m2, stable)).toEqual(expect.arrayContaining(segmentKeys(m1, stable)));
    expect(m2.based_on).toBe('ident-1');
    expect(m2.topics.find((t) => t.name === stable)!.recreated_since).toBeUndefined();

    // Today's client reports no topic id: the records below the earlier cut tell the topics apart. A client
    // that reports ids tells them apart by id.
    const bothIds = t1.topic_id !== null && t2.topic_id !== null;
    if (bothIds) expect(t2.topic_id).not.toBe(t1.topic_id);
    expect(t2.recreated_since).toMatchObject({
      backup_id: 'ident-1',
      topic_id: t1.topic_id,
      detected_by: bothIds ? 'topic_id' : 'records',
    });

    // Only the new topic's records are in the backup.
    expect(await values(path, m2, topic)).toEqual(
      batch('new', 30)
        .map((m) => m.value.toString())
        .sort(),
    );
    expect(await values(path, m2, stable)).toHaveLength(24);
    expect((await runCli(['validate', '--path', path, '--backup-id', 'ident-2', '--deep'])).code).toBe(0);

    // One warning, for the re-created topic only, naming it and both ids.
    const warnings = second.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['level'] === 'warn' && /re-created/.test(String(l['message'])));
    expect(warnings).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/re-created/),
        topic,
        old_topic_id: t1.topic_id,
        new_topic_id: t2.topic_id,
        earlier_backup: 'ident-1',
      }),
    ]);

    const text = await runCli(['describe', '--path', path, '--backup-id', 'ident-2']);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n').filter((l) => l.includes('re-created'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${topic}: another topic than in backup ident-1`);
    expect(lines[0]).toContain('backed up in full');
    const json = await runCli(['describe', '--path', path, '--backup-id', 'ident-2', '--format', 'json']);
    const described = JSON.parse(json.stdout) as Manifest;
    expect(described.topics.find((t) => t.name === topic)!.recreated_since?.backup_id).toBe('ident-1');
    expect(described.topics.find((t) => t.name === stable)!.recreated_since).toBeUndefined();
    expect((await runCli(['describe', '--path', path, '--backup-id', 'ident-1'])).stdout).not.toContain(
      're-created',
    );
  });

  it('with topic ids reported: ids decide; records decide the first time only the new backup has ids', async () => {
    const source = new IdReportingCluster(primarySettings(), 'source');
    try {
      const topic = await createTopic(cluster, { prefix: 'ident-id' });
      const stable = await createTopic(cluster, { prefix: 'ident-id-stable' });
      const batch = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({ key: buf(`k${i}`), value: buf(`${prefix}-${i}`) }));
      await produce(cluster, topic, batch('old', 10));
      await produce(cluster, stable, batch('stable', 10));
      const dir = tempDir();
      const path = join(dir, 'store');
      const store = new FilesystemStore(path);
      const backup = async (id: string, ids: Record<string, string | null>) => {
        source.ids.clear();
        for (const [name, topicId] of Object.entries(ids)) source.ids.set(name, topicId);
        const config = loadBackupConfig(
          writeConfig(dir, `${id}.yaml`, backupConfig(id, path, [topic, stable])),
        );
        const logger = recordingLogger();
        const { manifest } = await runBackup({ config, store, source, logger });
        return { manifest, warnings: logger.warnings };
      };

      // 1: no ids (a backup by a client that reports none).
      const b1 = await backup('id-1', {});
      expect(b1.manifest.topics.map((t) => t.topic_id)).toEqual([null, null]);
      expect(b1.manifest.based_on).toBeNull();

      // 2: ids now, none before: the stored records are compared, both topics match and are reused.
      const [idTopic, idStable] = [randomUUID(), randomUUID()];
      await produce(cluster, topic, batch('old-more', 2));
      const b2 = await backup('id-2', { [topic]: idTopic, [stable]: idStable });
      expect(b2.warnings).toEqual([]);
      for (const [name, id] of [
        [topic, idTopic],
        [stable, idStable],
      ] as const) {
        const t = b2.manifest.topics.find((x) => x.name === name)!;
        expect(t.topic_id).toBe(id);
        expect(t.recreated_since).toBeUndefined();
      }
      expect(segmentKeys(b2.manifest, topic)).toEqual(
        expect.arrayContaining(segmentKeys(b1.manifest, topic)),
      );
      expect(segmentKeys(b2.manifest, stable)).toEqual(segmentKeys(b1.manifest, stable));

      // 3: the topic re-created (a new id), filled past the cut: the ids tell, nothing of it is reused.
      await deleteAndRecreate(cluster, topic, 1);
      await produce(cluster, topic, batch('new', 20));
      const idNew = randomUUID();
      const b3 = await backup('id-3', { [topic]: idNew, [stable]: idStable });
      const t3 = b3.manifest.topics.find((t) => t.name === topic)!;
      expect(t3.topic_id).toBe(idNew);
      expect(t3.recreated_since).toEqual({
        backup_id: 'id-2',
        topic_id: idTopic,
        detected_by: 'topic_id',
        detail: `topic id ${idTopic} is now ${idNew}`,
      });
      expect(b3.warnings).toEqual([
        expect.objectContaining({
          topic,
          old_topic_id: idTopic,
          new_topic_id: idNew,
          earlier_backup: 'id-2',
        }),
      ]);
      expect(
        segmentKeys(b3.manifest, topic).filter((k) => segmentKeys(b2.manifest, topic).includes(k)),
      ).toEqual([]);
      expect(await values(path, b3.manifest, topic)).toEqual(
        batch('new', 20)
          .map((m) => m.value.toString())
          .sort(),
      );
      // The unchanged topic (same id) is still incremental.
      expect(segmentKeys(b3.manifest, stable)).toEqual(segmentKeys(b1.manifest, stable));
      expect(b3.manifest.based_on).toBe('id-2');
    } finally {
      await source.close();
    }
  });
});
