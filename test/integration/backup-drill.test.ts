import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/index.ts';
import { BackupConfig } from '../../lib/config/index.ts';
import { runBackupDrill } from '../../lib/drill/backup-drill.ts';
import { EvidenceReport } from '../../lib/evidence/index.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { silentLogger } from '../../lib/log.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import type { ObjectStore } from '../../lib/storage/object-store.ts';
import { uniqueName } from '../support/ground-env.ts';
import {
  buf,
  createTopic,
  drSettings,
  primarySettings,
  produce,
  produceTransaction,
} from '../support/kafka-fixtures.ts';

/** A real store whose reads a test may alter on the way out. */
function tamperedStore(
  store: ObjectStore,
  t: {
    stream?: (key: string, chunk: Buffer, first: boolean) => void;
    json?: (key: string, value: unknown) => unknown;
  },
): ObjectStore {
  const alter = (key: string, b: Buffer | undefined) =>
    b && t.json && key.endsWith('.json')
      ? Buffer.from(JSON.stringify(t.json(key, JSON.parse(b.toString('utf8')))))
      : b;
  return {
    location: store.location,
    put: (k, b) => store.put(k, b),
    putIfAbsent: (k, b) => store.putIfAbsent(k, b),
    putStream: (k, b) => store.putStream(k, b),
    get: async (k) => alter(k, await store.get(k))!,
    getIfExists: async (k) => alter(k, await store.getIfExists(k)),
    head: (k) => store.head(k),
    list: (p) => store.list(p),
    delete: (k) => store.delete(k),
    getStream(key: string) {
      const inner = store.getStream(key);
      if (!t.stream) return inner;
      const stream = t.stream;
      return (async function* () {
        let first = true;
        for await (const chunk of inner) {
          const c = Buffer.from(chunk);
          stream(key, c, first);
          first = false;
          yield c;
        }
      })();
    },
  };
}

describe('backup drill: the newest backup restored into a scratch namespace', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  const root = mkdtempSync(join(tmpdir(), 'kb-backup-drill-'));
  const store = new FilesystemStore(root);
  const topic = uniqueName('drill-src');
  const group = uniqueName('drill-group');

  beforeAll(async () => {
    await createTopic(primary, { name: topic, partitions: 2 });
    await produce(
      primary,
      topic,
      Array.from({ length: 60 }, (_, i) => ({
        key: i % 7 === 0 ? null : buf(`k${i}`),
        value: buf(`value ${i}`),
        headers: [
          { key: 'h', value: buf('1') },
          { key: 'h', value: null },
        ],
        partition: i % 2,
      })),
    );
    await produceTransaction(
      primary,
      topic,
      [{ key: buf('aborted'), value: buf('x'), partition: 0 }],
      'abort',
    );
    await produce(primary, topic, [
      { key: buf('after'), value: buf('after abort'), partition: 0 },
      { key: buf('after'), value: buf('after abort'), partition: 1 },
    ]);
    // Partition 0's committed offset points at the aborted record: a consumer resumes at the next real one.
    await primary.setCommittedOffsets(group, topic, [
      { partition: 0, offset: 30 },
      { partition: 1, offset: 12 },
    ]);
    const config = BackupConfig.parse({
      mode: 'backup',
      backup_id: uniqueName('drill-backup'),
      source: { ...primarySettings(), topics: { include: [topic] } },
      storage: { backend: 'filesystem', path: root },
      backup: { consumer_groups: [group] },
    });
    await runBackup({ config, store, source: primary, logger: silentLogger });
    // A topic of the same name on the DR cluster, with data of its own: the drill must not touch it.
    await createTopic(dr, { name: topic, partitions: 1 });
    await produce(dr, topic, [{ key: buf('dr'), value: buf('mine'), partition: 0 }]);
  });
  afterAll(async () => {
    await primary.deleteTopics([topic]).catch(() => undefined);
    await dr.deleteTopics([topic]).catch(() => undefined);
    await primary.close();
    await dr.close();
  });

  it('restores, checks counts, digests and resume points, measures RPO/RTO, and deletes only its scratch topics', async () => {
    const topicsBefore = await dr.listTopics();
    const { evidence, scratchTopics } = await runBackupDrill({
      target: drSettings(),
      store,
      storage: { backend: 'filesystem', path: root },
      topics: { include: [topic], exclude: [] },
      keep: false,
      logger: silentLogger,
    });
    expect(EvidenceReport.parse(evidence)).toEqual(evidence);
    expect(evidence.steps.filter((s) => !s.ok)).toEqual([]);
    expect(evidence.ok).toBe(true);
    expect(evidence.checks.map((c) => [c.name, c.ok])).toEqual([
      ['restore completed', true],
      ['counts and SHA-256 of keys and values', true],
      ['consumer-group resume points', true],
    ]);
    expect(evidence.checks[2]!.detail).toBe(
      '1 groups, 2 partitions: each would resume at its committed source offset',
    );
    expect(scratchTopics).toEqual([`${evidence.restored.namespace}${topic}`]);
    expect(evidence.restored.topics).toEqual([
      expect.objectContaining({
        source_topic: topic,
        target_topic: scratchTopics[0],
        partitions: 2,
        records: 62,
      }),
    ]);
    expect(evidence.rpo.backup_age_seconds).toBeGreaterThanOrEqual(0);
    expect(evidence.rpo.replication_delay_seconds).not.toBeNull();
    expect(evidence.rto.restored_bytes).toBeGreaterThan(0);
    expect(evidence.rto.projected_full_restore_seconds).not.toBeNull();
    // Nothing outside the namespace changed: the same topics as before, the DR topic of that name untouched.
    expect(await dr.listTopics()).toEqual(topicsBefore);
    expect((await dr.partitionOffsets(topic)).map((o) => o.end)).toEqual([1]);
    // No group was moved: the backed-up group has no offsets on the DR cluster.
    expect(await dr.committedOffsets(group)).toEqual([]);
  });

  it('fails with what did not match when stored data differs, and still cleans up', async () => {
    // The real store, with every segment read after the restore handing back one flipped byte.
    let corrupt = false;
    const damaged = tamperedStore(store, {
      stream: (key, chunk, first) => {
        if (corrupt && first && key.startsWith('segments/') && chunk.length > 40) chunk[40]! ^= 0xff;
      },
    });
    const logger = {
      ...silentLogger,
      info: (m: string) => {
        if (m.startsWith('drill: verify counts')) corrupt = true;
      },
    };
    const topicsBefore = await dr.listTopics();
    const { evidence } = await runBackupDrill({
      target: drSettings(),
      store: damaged,
      storage: { backend: 'filesystem', path: root },
      topics: { include: [topic], exclude: [] },
      keep: false,
      logger,
    });
    expect(evidence.ok).toBe(false);
    const failed = evidence.steps.find((s) => !s.ok);
    expect(failed?.name).toBe('verify counts and SHA-256 of keys and values');
    expect(failed?.detail, JSON.stringify(evidence.steps)).toMatch(/segments\//);
    expect(evidence.steps.at(-1)).toMatchObject({ name: 'delete the scratch topics', ok: true });
    expect(await dr.listTopics()).toEqual(topicsBefore);
  });

  it('fails naming the group and partition when a resume point is off', async () => {
    // The offset mapping the restore stored, read back two records late: a consumer would skip two records.
    let shift = false;
    const damaged = tamperedStore(store, {
      json: (key, value) => {
        if (!shift || !key.includes('/partitions/')) return value;
        const state = value as { mappings: { runs: [number, number, number][] }[] };
        for (const m of state.mappings) for (const run of m.runs) run[1] += 2;
        return state;
      },
    });
    const logger = {
      ...silentLogger,
      info: (m: string) => {
        if (m.startsWith('drill: verify consumer-group')) shift = true;
      },
    };
    const { evidence } = await runBackupDrill({
      target: drSettings(),
      store: damaged,
      storage: { backend: 'filesystem', path: root },
      topics: { include: [topic], exclude: [] },
      keep: false,
      logger,
    });
    expect(evidence.ok).toBe(false);
    const check = evidence.checks.find((c) => c.name === 'consumer-group resume points');
    expect(check?.ok, JSON.stringify(evidence.steps)).toBe(false);
    expect(check?.detail).toMatch(
      new RegExp(`${group} on ${evidence.restored.namespace}${topic}/[01]: committed source offset`),
    );
    expect(evidence.steps.at(-1)).toMatchObject({ name: 'delete the scratch topics', ok: true });
  });
});
