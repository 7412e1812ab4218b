import { runBackup } from '../backup/index.ts';
import { BackupConfig, RestoreConfig, type StorageConfig } from '../config/index.ts';
import { loadManifest } from '../format/catalog.ts';
import { Layout } from '../format/manifest.ts';
import { RestoreLayout } from '../format/restore-state.ts';
import {
  firstRecordsForGroup,
  IdempotentWriter,
  KafkaCluster,
  type KafkaConnectionSettings,
  type OutgoingRecord,
  readPartitions,
} from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import { OriginHeader, runRestore } from '../restore/index.ts';
import { openStore } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { drillKey, drillPartition, drillValue, PartitionDigest } from './drill-data.ts';

export interface DrillOptions {
  source: KafkaConnectionSettings;
  target: KafkaConnectionSettings;
  /** Where the drill backs up; the drill uses its own sub-location `_drills` so production backups are untouched. */
  backupStorage: StorageConfig;
  /** Where the DR side reads it (e.g. the replica bucket); the same as backupStorage when omitted. */
  restoreStorage?: StorageConfig;
  records: number;
  recordSize: number;
  partitions: number;
  /** Leave the topic, group and drill backup in place for inspection. */
  keep: boolean;
  /** How long to wait for the backup to appear in restoreStorage (S3 replication). */
  replicationTimeoutMs: number;
  logger: Logger;
  now?: () => Date;
}

export interface DrillStep {
  name: string;
  ok: boolean;
  duration_ms: number;
  detail: string;
}

export interface DrillPartitionCheck {
  partition: number;
  produced: number;
  backed_up: number;
  restored: number;
  digest_match: boolean;
  /** The group's committed offset on the source, and the source offset of the first record it got on the target. */
  committed_source_offset: number;
  resumed_at_source_offset: number | null;
  ok: boolean;
}

export interface DrillReport {
  ok: boolean;
  topic: string;
  consumer_group: string;
  backup_id: string;
  records: number;
  record_size: number;
  started_at: string;
  duration_ms: number;
  steps: DrillStep[];
  partitions: DrillPartitionCheck[];
}

function drillLocation(storage: StorageConfig): StorageConfig {
  if (storage.backend === 'filesystem')
    return { ...storage, path: `${storage.path.replace(/\/+$/, '')}/_drills` };
  return { ...storage, prefix: storage.prefix ? `${storage.prefix}/_drills` : '_drills' };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * The seed's monthly DR drill, end to end: a dated test topic on the source, N records of S bytes, a consumer
 * group half-way through each partition, backup, (replication wait), restore into the target with the group
 * moved, then proof: per-partition counts, byte-exact digests, and a real consumer resuming at the right record.
 */
export async function runDrill(o: DrillOptions): Promise<DrillReport> {
  const started = o.now ? o.now() : new Date();
  const id = stamp(started);
  const topic = `dr-test-${id}`;
  const group = `dr-drill-${id}`;
  const backupId = `drill-${id}`;
  const steps: DrillStep[] = [];
  const source = new KafkaCluster(o.source, 'source', 'kafka-backup-drill');
  const target = new KafkaCluster(o.target, 'target', 'kafka-backup-drill');
  const backupStorage = drillLocation(o.backupStorage);
  const restoreStorage = drillLocation(o.restoreStorage ?? o.backupStorage);
  const stores: ObjectStore[] = [openStore(backupStorage)];
  if (o.restoreStorage) stores.push(openStore(restoreStorage));
  const produced = new Map<number, number>();
  const expectedDigest = new Map<number, PartitionDigest>();
  const committed = new Map<number, number>();
  const checks: DrillPartitionCheck[] = [];
  let failed = false;

  const step = async (name: string, fn: () => Promise<string>): Promise<boolean> => {
    const t0 = Date.now();
    o.logger.info(`drill: ${name}`);
    try {
      const detail = await fn();
      steps.push({ name, ok: true, duration_ms: Date.now() - t0, detail });
      return true;
    } catch (e) {
      failed = true;
      steps.push({
        name,
        ok: false,
        duration_ms: Date.now() - t0,
        detail: e instanceof Error ? e.message : String(e),
      });
      o.logger.error(`drill step failed: ${name}`, { error: e instanceof Error ? e.message : String(e) });
      return false;
    }
  };

  try {
    const ok =
      (await step('create test topic on the source', async () => {
        const { brokers } = await source.describeCluster();
        await source.createTopic({
          name: topic,
          partitions: o.partitions,
          replicationFactor: Math.min(3, brokers),
          configs: {},
        });
        return `${topic}: ${o.partitions} partitions`;
      })) &&
      (await step('produce test records', async () => {
        const writer = new IdempotentWriter(source);
        try {
          const batch = Math.max(1, Math.floor(900_000 / (o.recordSize + 64)));
          const now = Date.now();
          for (let i = 0; i < o.records; i += batch) {
            const byPartition = new Map<number, OutgoingRecord[]>();
            for (let j = i; j < Math.min(o.records, i + batch); j++) {
              const p = drillPartition(j, o.partitions);
              const key = drillKey(j);
              const value = drillValue(j, o.recordSize);
              produced.set(p, (produced.get(p) ?? 0) + 1);
              const d = expectedDigest.get(p) ?? new PartitionDigest();
              d.add(key, value);
              expectedDigest.set(p, d);
              const list = byPartition.get(p) ?? [];
              list.push({ key, value, timestamp: now, headers: [] });
              byPartition.set(p, list);
            }
            await Promise.all([...byPartition].map(([p, records]) => writer.write(topic, p, records)));
          }
        } finally {
          await writer.close();
        }
        return `${o.records} records x ${o.recordSize} bytes`;
      })) &&
      (await step('commit a consumer group half-way on the source', async () => {
        for (const [p, n] of produced) committed.set(p, Math.floor(n / 2));
        await source.setCommittedOffsets(
          group,
          topic,
          [...committed].map(([partition, offset]) => ({ partition, offset })),
        );
        return `${group} at ${[...committed].map(([p, off]) => `${p}:${off}`).join(' ')}`;
      })) &&
      (await step('back up', async () => {
        const config = BackupConfig.parse({
          mode: 'backup',
          backup_id: backupId,
          source: { ...o.source, topics: { include: [topic] } },
          storage: backupStorage,
          backup: { consumer_groups: [group] },
        });
        const { manifest } = await runBackup({ config, store: stores[0]!, source, logger: o.logger });
        return `${backupId}: ${manifest.stats.records} records, ${manifest.stats.stored_bytes} bytes stored`;
      })) &&
      (o.restoreStorage === undefined ||
        (await step('wait for the backup in the DR location (replication)', async () => {
          const deadline = Date.now() + o.replicationTimeoutMs;
          for (;;) {
            try {
              const m = await loadManifest(stores[1]!, backupId);
              const segments = m.topics.flatMap((t) => t.partitions.flatMap((p) => p.segments));
              const present = await Promise.all(segments.map((s) => stores[1]!.head(s.key)));
              if (present.every(Boolean)) return `${segments.length} segments present`;
            } catch {
              // not there yet
            }
            if (Date.now() > deadline)
              throw new Error(`backup ${backupId} did not reach ${stores[1]!.location} in time`);
            await new Promise((r) => setTimeout(r, 5_000));
          }
        }))) &&
      (await step('restore to the DR cluster and move the consumer group', async () => {
        const config = RestoreConfig.parse({
          mode: 'restore',
          backup_id: backupId,
          target: o.target,
          storage: restoreStorage,
          restore: {
            include_original_offset_header: true,
            consumer_group_strategy: 'header-based',
            reset_consumer_offsets: true,
            consumer_groups: [group],
          },
        });
        const report = await runRestore(
          { config, store: stores.at(-1)!, target, logger: o.logger },
          { resetOffsets: true },
        );
        const moved = report.consumer_groups.find((g) => g.group_id === group);
        if (!report.ok || moved?.status !== 'reset')
          throw new Error(`restore did not complete: group ${moved?.status ?? 'missing'}`);
        for (const t of report.topics) {
          for (const p of t.partitions) {
            checks.push({
              partition: p.target_partition,
              produced: produced.get(p.target_partition) ?? 0,
              backed_up: p.backup_records,
              restored: p.end_offset - p.base_offset,
              digest_match: false,
              committed_source_offset: committed.get(p.target_partition) ?? 0,
              resumed_at_source_offset: null,
              ok: false,
            });
          }
        }
        return `${report.topics[0]?.partitions.reduce((n, p) => n + p.restored, 0) ?? 0} records restored`;
      })) &&
      (await step('verify records byte for byte', async () => {
        const digests = new Map<number, PartitionDigest>();
        const offsets = await target.partitionOffsets(topic);
        await readPartitions(
          target,
          offsets.map((x) => ({ topic, partition: x.partition, from: x.logStart, to: x.end })),
          {
            isolation: 'read_committed',
            concurrency: o.partitions,
            onBatch: async (b) => {
              const d = digests.get(b.partition) ?? new PartitionDigest();
              for (const r of b.records) d.add(r.key, r.value);
              digests.set(b.partition, d);
            },
          },
        );
        const bad: number[] = [];
        for (const c of checks) {
          c.digest_match = digests.get(c.partition)?.digest() === expectedDigest.get(c.partition)?.digest();
          if (!c.digest_match || c.restored !== c.produced || c.backed_up !== c.produced)
            bad.push(c.partition);
        }
        if (bad.length > 0) throw new Error(`partitions ${bad.join(', ')} differ from what was produced`);
        return `${checks.length} partitions: counts and SHA-256 match`;
      })) &&
      (await step('verify the consumer group resumes at the right record', async () => {
        const first = await firstRecordsForGroup(target, group, topic, o.partitions);
        const bad: number[] = [];
        for (const c of checks) {
          const r = first.get(c.partition)?.[0];
          const src = r?.headers.find((h) => h.key === OriginHeader.offset)?.value?.toString();
          c.resumed_at_source_offset = src === undefined ? null : Number(src);
          c.ok = c.digest_match && c.resumed_at_source_offset === c.committed_source_offset;
          if (!c.ok) bad.push(c.partition);
        }
        if (bad.length > 0)
          throw new Error(`group ${group} resumes at the wrong record on partitions ${bad.join(', ')}`);
        return `${group} resumes at the committed source offset on every partition`;
      }));
    void ok;
  } finally {
    if (!o.keep) {
      await step('clean up', async () => {
        await source.deleteTopics([topic]).catch(() => undefined);
        await target.deleteTopics([topic]).catch(() => undefined);
        await source.deleteGroups([group]);
        await target.deleteGroups([group]);
        for (const store of stores) {
          const manifest = await loadManifest(store, backupId).catch(() => undefined);
          const keys = [
            ...(manifest?.topics.flatMap((t) => t.partitions.flatMap((p) => p.segments.map((s) => s.key))) ??
              []),
            ...(await store.list(Layout.backupPrefix(backupId))),
            ...(await store.list(`${RestoreLayout.prefix}${backupId}--`)),
          ];
          await store.delete(keys);
        }
        return `deleted ${topic} on both clusters, group ${group}, backup ${backupId}`;
      });
    }
    await source.close();
    await target.close();
  }
  return {
    ok: !failed,
    topic,
    consumer_group: group,
    backup_id: backupId,
    records: o.records,
    record_size: o.recordSize,
    started_at: started.toISOString(),
    duration_ms: Date.now() - started.getTime(),
    steps,
    partitions: checks,
  };
}
