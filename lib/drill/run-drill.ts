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
import { SYNTHETIC_DRILL_FOLDER } from '../storage/layout.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { drillKey, drillPartition, drillValue, PartitionDigest } from './drill-data.ts';
import { type DrillStep, DrillSteps, stamp } from './drill-steps.ts';

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
  /**
   * The test topic's and consumer group's names instead of `dr-test-<stamp>` and `dr-drill-<stamp>`: the drill
   * workflow puts them under its scratch prefix, which its clean-up step deletes after a crashed drill.
   */
  names?: { topic: string; group: string };
}

export type { DrillStep } from './drill-steps.ts';

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
    return { ...storage, path: `${storage.path.replace(/\/+$/, '')}/${SYNTHETIC_DRILL_FOLDER}` };
  return {
    ...storage,
    prefix: storage.prefix ? `${storage.prefix}/${SYNTHETIC_DRILL_FOLDER}` : SYNTHETIC_DRILL_FOLDER,
  };
}

/** What one drill knows as it goes: its names, its clusters and stores, and what each step found. */
class DrillRun {
  readonly started: Date;
  readonly topic: string;
  readonly group: string;
  readonly backupId: string;
  readonly source: KafkaCluster;
  readonly target: KafkaCluster;
  readonly backupStorage: StorageConfig;
  readonly restoreStorage: StorageConfig;
  /** The backup store, then the restore store when it differs. */
  readonly stores: ObjectStore[];
  readonly #steps: DrillSteps;
  readonly produced = new Map<number, number>();
  readonly expectedDigest = new Map<number, PartitionDigest>();
  readonly committed = new Map<number, number>();
  readonly checks: DrillPartitionCheck[] = [];
  readonly o: DrillOptions;

  constructor(o: DrillOptions) {
    this.o = o;
    this.#steps = new DrillSteps(o.logger);
    this.started = o.now ? o.now() : new Date();
    const id = stamp(this.started);
    this.topic = o.names?.topic ?? `dr-test-${id}`;
    this.group = o.names?.group ?? `dr-drill-${id}`;
    this.backupId = `drill-${id}`;
    this.source = new KafkaCluster(o.source, 'source', 'kafka-backup-drill');
    this.target = new KafkaCluster(o.target, 'target', 'kafka-backup-drill');
    this.backupStorage = drillLocation(o.backupStorage);
    this.restoreStorage = drillLocation(o.restoreStorage ?? o.backupStorage);
    this.stores = [openStore(this.backupStorage)];
    if (o.restoreStorage) this.stores.push(openStore(this.restoreStorage));
  }

  /** Runs one step, recording its outcome and time; false (and the drill failed) when it threw. */
  step(name: string, fn: () => Promise<string>): Promise<boolean> {
    return this.#steps.run(name, fn);
  }

  async createTopic(): Promise<string> {
    const { brokers } = await this.source.describeCluster();
    await this.source.createTopic({
      name: this.topic,
      partitions: this.o.partitions,
      replicationFactor: Math.min(3, brokers),
      configs: {},
    });
    return `${this.topic}: ${this.o.partitions} partitions`;
  }

  /** N records of S bytes, spread over the partitions, each partition's keys and values digested as produced. */
  async produce(): Promise<string> {
    const { records, recordSize, partitions } = this.o;
    const writer = new IdempotentWriter(this.source);
    try {
      const batch = Math.max(1, Math.floor(900_000 / (recordSize + 64)));
      const now = Date.now();
      for (let i = 0; i < records; i += batch) {
        const byPartition = new Map<number, OutgoingRecord[]>();
        for (let j = i; j < Math.min(records, i + batch); j++) {
          const p = drillPartition(j, partitions);
          const key = drillKey(j);
          const value = drillValue(j, recordSize);
          this.produced.set(p, (this.produced.get(p) ?? 0) + 1);
          const d = this.expectedDigest.get(p) ?? new PartitionDigest();
          d.add(key, value);
          this.expectedDigest.set(p, d);
          const list = byPartition.get(p) ?? [];
          list.push({ key, value, timestamp: now, headers: [] });
          byPartition.set(p, list);
        }
        await Promise.all([...byPartition].map(([p, list]) => writer.write(this.topic, p, list)));
      }
    } finally {
      await writer.close();
    }
    return `${records} records x ${recordSize} bytes`;
  }

  async commitGroupHalfWay(): Promise<string> {
    for (const [p, n] of this.produced) this.committed.set(p, Math.floor(n / 2));
    await this.source.setCommittedOffsets(
      this.group,
      this.topic,
      [...this.committed].map(([partition, offset]) => ({ partition, offset })),
    );
    return `${this.group} at ${[...this.committed].map(([p, off]) => `${p}:${off}`).join(' ')}`;
  }

  async backUp(): Promise<string> {
    const config = BackupConfig.parse({
      mode: 'backup',
      backup_id: this.backupId,
      source: { ...this.o.source, topics: { include: [this.topic] } },
      storage: this.backupStorage,
      backup: { consumer_groups: [this.group] },
    });
    const { manifest } = await runBackup({
      config,
      store: this.stores[0]!,
      source: this.source,
      logger: this.o.logger,
    });
    return `${this.backupId}: ${manifest.stats.records} records, ${manifest.stats.stored_bytes} bytes stored`;
  }

  /** Until the manifest and every segment it names are in the restore location (S3 replication has no order). */
  async waitForReplication(): Promise<string> {
    const store = this.stores[1]!;
    const deadline = Date.now() + this.o.replicationTimeoutMs;
    for (;;) {
      try {
        const m = await loadManifest(store, this.backupId);
        const segments = m.topics.flatMap((t) => t.partitions.flatMap((p) => p.segments));
        const present = await Promise.all(segments.map((s) => store.head(s.key)));
        if (present.every(Boolean)) return `${segments.length} segments present`;
      } catch {
        // not there yet
      }
      if (Date.now() > deadline)
        throw new Error(`Backup ${this.backupId} did not reach ${store.location} in time`);
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }

  async restore(): Promise<string> {
    const config = RestoreConfig.parse({
      mode: 'restore',
      backup_id: this.backupId,
      target: this.o.target,
      storage: this.restoreStorage,
      restore: {
        include_original_offset_header: true,
        consumer_group_strategy: 'header-based',
        reset_consumer_offsets: true,
        consumer_groups: [this.group],
      },
    });
    const report = await runRestore(
      { config, store: this.stores.at(-1)!, target: this.target, logger: this.o.logger },
      { resetOffsets: true },
    );
    const moved = report.consumer_groups.find((g) => g.group_id === this.group);
    if (!report.ok || moved?.status !== 'reset')
      throw new Error(`The restore did not complete: group ${moved?.status ?? 'missing'}`);
    for (const t of report.topics) {
      for (const p of t.partitions) {
        this.checks.push({
          partition: p.target_partition,
          produced: this.produced.get(p.target_partition) ?? 0,
          backed_up: p.backup_records,
          restored: p.end_offset - p.base_offset,
          digest_match: false,
          committed_source_offset: this.committed.get(p.target_partition) ?? 0,
          resumed_at_source_offset: null,
          ok: false,
        });
      }
    }
    return `${report.topics[0]?.partitions.reduce((n, p) => n + p.restored, 0) ?? 0} records restored`;
  }

  async verifyRecords(): Promise<string> {
    const digests = new Map<number, PartitionDigest>();
    const offsets = await this.target.partitionOffsets(this.topic);
    await readPartitions(
      this.target,
      offsets.map((x) => ({ topic: this.topic, partition: x.partition, from: x.logStart, to: x.end })),
      {
        isolation: 'read_committed',
        concurrency: this.o.partitions,
        onBatch: async (b) => {
          const d = digests.get(b.partition) ?? new PartitionDigest();
          for (const r of b.records) d.add(r.key, r.value);
          digests.set(b.partition, d);
        },
      },
    );
    const bad: number[] = [];
    for (const c of this.checks) {
      c.digest_match = digests.get(c.partition)?.digest() === this.expectedDigest.get(c.partition)?.digest();
      if (!c.digest_match || c.restored !== c.produced || c.backed_up !== c.produced) bad.push(c.partition);
    }
    if (bad.length > 0) throw new Error(`Partitions ${bad.join(', ')} differ from what was produced`);
    return `${this.checks.length} partitions: counts and SHA-256 match`;
  }

  /** A real consumer of the group on the target: its first record must be the one after the committed offset. */
  async verifyGroupResumes(): Promise<string> {
    const first = await firstRecordsForGroup(this.target, this.group, this.topic, this.o.partitions);
    const bad: number[] = [];
    for (const c of this.checks) {
      const r = first.get(c.partition)?.[0];
      const src = r?.headers.find((h) => h.key === OriginHeader.offset)?.value?.toString();
      c.resumed_at_source_offset = src === undefined ? null : Number(src);
      c.ok = c.digest_match && c.resumed_at_source_offset === c.committed_source_offset;
      if (!c.ok) bad.push(c.partition);
    }
    if (bad.length > 0)
      throw new Error(`Group ${this.group} resumes at the wrong record on partitions ${bad.join(', ')}`);
    return `${this.group} resumes at the committed source offset on every partition`;
  }

  /** The test topic on both clusters, the group, and the drill backup with its restore state in every store. */
  async cleanUp(): Promise<string> {
    await this.source.deleteTopics([this.topic]).catch(() => undefined);
    await this.target.deleteTopics([this.topic]).catch(() => undefined);
    await this.source.deleteGroups([this.group]);
    await this.target.deleteGroups([this.group]);
    for (const store of this.stores) {
      const manifest = await loadManifest(store, this.backupId).catch(() => undefined);
      const keys = [
        ...(manifest?.topics.flatMap((t) => t.partitions.flatMap((p) => p.segments.map((s) => s.key))) ?? []),
        ...(await store.list(Layout.backupPrefix(this.backupId))),
        ...(await store.list(`${RestoreLayout.prefix}${this.backupId}--`)),
      ];
      await store.delete(keys);
    }
    return `deleted ${this.topic} on both clusters, group ${this.group}, backup ${this.backupId}`;
  }

  report(): DrillReport {
    return {
      ok: !this.#steps.failed,
      topic: this.topic,
      consumer_group: this.group,
      backup_id: this.backupId,
      records: this.o.records,
      record_size: this.o.recordSize,
      started_at: this.started.toISOString(),
      duration_ms: Date.now() - this.started.getTime(),
      steps: this.#steps.list,
      partitions: this.checks,
    };
  }
}

/**
 * The seed's monthly DR drill, end to end: a dated test topic on the source, N records of S bytes, a consumer
 * group half-way through each partition, backup, (replication wait), restore into the target with the group
 * moved, then proof: per-partition counts, byte-exact digests, and a real consumer resuming at the right record.
 * Each step runs only when the ones before it passed; the clean-up always runs (unless `keep`).
 */
export async function runDrill(o: DrillOptions): Promise<DrillReport> {
  const d = new DrillRun(o);
  const steps: (readonly [string, () => Promise<string>])[] = [
    ['create test topic on the source', () => d.createTopic()],
    ['produce test records', () => d.produce()],
    ['commit a consumer group half-way on the source', () => d.commitGroupHalfWay()],
    ['back up', () => d.backUp()],
    ...(o.restoreStorage === undefined
      ? []
      : [['wait for the backup in the DR location (replication)', () => d.waitForReplication()] as const]),
    ['restore to the DR cluster and move the consumer group', () => d.restore()],
    ['verify records byte for byte', () => d.verifyRecords()],
    ['verify the consumer group resumes at the right record', () => d.verifyGroupResumes()],
  ];
  try {
    for (const [name, fn] of steps) if (!(await d.step(name, fn))) break;
  } finally {
    if (!o.keep) await d.step('clean up', () => d.cleanUp());
    await d.source.close();
    await d.target.close();
  }
  return d.report();
}
