import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { RestoreConfig, type StorageConfig } from '../config/index.ts';
import { selectTopics } from '../config/topic-selector.ts';
import type { EvidenceReport } from '../evidence/index.ts';
import { readBackupPartition } from '../format/backup-reader.ts';
import { loadManifest } from '../format/catalog.ts';
import { Layout, type Manifest } from '../format/manifest.ts';
import { KafkaCluster, type KafkaConnectionSettings, readPartitions } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import { planOffsetReset } from '../offsets/index.ts';
import { findRestorableBackup, loadRestoredOffsets, OriginHeader, runRestore } from '../restore/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { TOOL_VERSION } from '../version.ts';
import { PartitionDigest } from './drill-data.ts';
import { DrillSteps, stamp } from './drill-steps.ts';
import { scratchPrefixOf } from './scratch-namespace.ts';

/** Kafka's limit on a topic name's length. */
const MAX_TOPIC_NAME = 249;

export interface BackupDrillOptions {
  /** The DR cluster the backup is restored into, under `namespace`. */
  target: KafkaConnectionSettings;
  /** The DR location (the replica bucket): the drill reads the newest complete backup there. */
  store: ObjectStore;
  storage: StorageConfig;
  /**
   * Prefix of every topic the drill creates, before the drill's stamp: `<namespace>-<stamp>-<random>.<source topic>`.
   * The drill creates, writes and deletes only topics under it, and moves no consumer group.
   * @default 'kafka-backup-drill'
   */
  namespace?: string;
  /**
   * The exact prefix of every scratch topic, instead of `<namespace>-<stamp>-<random>.`: the drill workflow's
   * `<namespace>-<execution name>.`, which its clean-up step knows too (see scratchPrefixOf).
   */
  scratchPrefix?: string;
  /** Only backups of this source cluster (a location holding backups of several). */
  sourceClusterId?: string;
  /** Which topics of the backup to restore (globs). @default every topic */
  topics?: { include: string[]; exclude: string[] };
  /** Leave the scratch topics in place for a look. */
  keep: boolean;
  triggeredBy?: EvidenceReport['triggered_by'];
  logger: Logger;
  now?: () => Date;
}

export interface BackupDrillResult {
  evidence: EvidenceReport;
  scratchTopics: string[];
}

export function cliPrincipal(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return `${user}@${hostname()}`;
}

/** Uncompressed bytes of a backup's partitions (all, or those of the given topics). */
export function backupBytes(m: Manifest, topics?: Set<string>): number {
  let n = 0;
  for (const t of m.topics) {
    if (topics && !topics.has(t.name)) continue;
    for (const p of t.partitions) for (const s of p.segments) n += s.uncompressed_size;
  }
  return n;
}

/**
 * A drill on real data: the newest complete backup in the DR location is restored into a scratch namespace of
 * the DR cluster, then checked (counts, SHA-256 of keys and values per partition against the backup, and every
 * backed-up consumer group's resume point, computed without moving any group), measured (RPO: the backup's age
 * and replication delay; RTO: the restore's time and the projection to the whole backup) and cleaned up, also when
 * a step failed. Nothing outside the namespace is written or deleted.
 */
export async function runBackupDrill(o: BackupDrillOptions): Promise<BackupDrillResult> {
  const now = o.now ?? (() => new Date());
  const started = now();
  // A random tail too: two drills in one second (a retried schedule) must not share topics or evidence.
  const unique = `${stamp(started)}-${randomBytes(2).toString('hex')}`;
  const id = `drill-${unique}`;
  const namespace =
    o.scratchPrefix !== undefined
      ? scratchPrefixOf(o.scratchPrefix)
      : `${o.namespace ?? 'kafka-backup-drill'}-${unique}.`;
  const target = new KafkaCluster(o.target, 'target', 'kafka-backup-drill');
  const steps = new DrillSteps(o.logger);
  const created: string[] = [];
  let manifest: Manifest | undefined;
  let restoredTopics: EvidenceReport['restored']['topics'] = [];
  let restoreSeconds = 0;
  let restoredBytes = 0;
  let backupAge: number | null = null;
  let replicationDelay: number | null = null;
  let targetClusterId: string | undefined;
  const checks: EvidenceReport['checks'] = [];
  try {
    await steps.run('find the newest complete backup in the DR location', async () => {
      const found = await findRestorableBackup(
        o.store,
        o.sourceClusterId !== undefined ? { sourceClusterId: o.sourceClusterId } : {},
      );
      manifest = await loadManifest(o.store, found.backup_id);
      backupAge = Math.max(0, (started.getTime() - Date.parse(found.completed_at)) / 1000);
      const arrived = (await o.store.head(Layout.manifest(found.backup_id)))?.modifiedAt;
      if (arrived)
        replicationDelay = Math.max(0, (arrived.getTime() - Date.parse(found.completed_at)) / 1000);
      return `${found.backup_id}, completed ${found.completed_at}${found.skipped.length ? `; passed over ${found.skipped.map((s) => s.backup_id).join(', ')} (objects missing)` : ''}`;
    });
    const m = manifest;
    const ok =
      m !== undefined &&
      (await steps.run('restore into the scratch namespace', async () => {
        const names = m.topics.map((t) => t.name);
        const chosen = o.topics ? selectTopics(names, o.topics.include, o.topics.exclude).selected : names;
        if (chosen.length === 0)
          throw new Error(`no topic of ${m.backup_id} matches the drill's topic selection`);
        const mapping = Object.fromEntries(chosen.map((t) => [t, `${namespace}${t}`]));
        const tooLong = Object.values(mapping).find((t) => t.length > MAX_TOPIC_NAME);
        if (tooLong)
          throw new Error(
            `scratch topic ${tooLong} is longer than Kafka's ${MAX_TOPIC_NAME} characters: choose a shorter namespace`,
          );
        const existing = new Set(await target.listTopics());
        const clash = Object.values(mapping).filter((t) => existing.has(t));
        if (clash.length > 0)
          throw new Error(`scratch topics exist already on the target: ${clash.join(', ')}`);
        targetClusterId = (await target.describeCluster()).clusterId;
        const config = RestoreConfig.parse({
          mode: 'restore',
          backup_id: m.backup_id,
          target: o.target,
          storage: o.storage,
          restore: {
            include_original_offset_header: true,
            topics: { include: chosen.map(globLiteral), exclude: [] },
            topic_mapping: mapping,
            create_topics: true,
            on_existing_data: 'fail',
          },
        });
        const t0 = Date.now();
        created.push(...Object.values(mapping));
        const report = await runRestore(
          { config, store: o.store, target, logger: o.logger },
          { resetOffsets: false },
        );
        restoreSeconds = (Date.now() - t0) / 1000;
        if (!report.ok)
          throw new Error('the restore report is not ok: some partition holds other than the restored count');
        const chosenSet = new Set(chosen);
        restoredBytes = backupBytes(m, chosenSet);
        restoredTopics = report.topics.map((t) => ({
          source_topic: t.source_topic,
          target_topic: t.target_topic,
          partitions: t.partitions.length,
          records: t.partitions.reduce((n, p) => n + p.restored, 0),
          bytes: backupBytes(m, new Set([t.source_topic])),
        }));
        return `${restoredTopics.reduce((n, t) => n + t.records, 0)} records of ${chosen.length} topics in ${restoreSeconds.toFixed(1)} s`;
      }));
    if (ok && m) {
      await steps.run('verify counts and SHA-256 of keys and values', async () => {
        const check = await verifyDigests(o.store, target, m, restoredTopics);
        checks.push(check);
        if (!check.ok) throw new Error(check.detail);
        return check.detail;
      });
      await steps.run('verify consumer-group resume points', async () => {
        const check = await verifyResumePoints(o.store, target, m, restoredTopics, targetClusterId!);
        checks.push(check);
        if (!check.ok) throw new Error(check.detail);
        return check.detail;
      });
    }
  } finally {
    if (!o.keep && created.length > 0) {
      await steps.run('delete the scratch topics', async () => {
        const existing = new Set(await target.listTopics());
        // Only what this drill created, and only inside its namespace: never another topic.
        const mine = created.filter((t) => t.startsWith(namespace) && existing.has(t));
        if (mine.length > 0) await target.deleteTopics(mine);
        return mine.length > 0 ? `deleted ${mine.join(', ')}` : 'nothing to delete';
      });
    }
    await target.close();
  }
  const finished = now();
  const rate = restoreSeconds > 0 ? restoredBytes / restoreSeconds : null;
  const full = manifest ? backupBytes(manifest) : 0;
  checks.unshift({
    name: 'restore completed',
    ok: steps.list.some((s) => s.name === 'restore into the scratch namespace' && s.ok),
    detail: steps.list.find((s) => s.name === 'restore into the scratch namespace')?.detail ?? 'not run',
  });
  const evidence: EvidenceReport = {
    format_version: 1,
    id,
    kind: 'backup',
    ok: !steps.failed && checks.every((c) => c.ok),
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    triggered_by: o.triggeredBy ?? { via: 'cli', principal: cliPrincipal() },
    versions: {
      kafka_backup: TOOL_VERSION,
      node: process.version,
      ...(manifest ? { source_cluster_id: manifest.source_cluster_id } : {}),
      ...(targetClusterId ? { target_cluster_id: targetClusterId } : {}),
    },
    restored: {
      backup_id: manifest?.backup_id ?? 'none',
      location: o.store.location,
      namespace,
      topics: restoredTopics,
      records: restoredTopics.reduce((n, t) => n + t.records, 0),
      bytes: restoredBytes,
    },
    checks,
    rpo: { backup_age_seconds: backupAge, replication_delay_seconds: replicationDelay },
    rto: {
      restore_seconds: restoreSeconds,
      restored_bytes: restoredBytes,
      bytes_per_second: rate,
      full_backup_bytes: full,
      projected_full_restore_seconds: rate ? full / rate : null,
    },
    steps: steps.list,
  };
  return { evidence, scratchTopics: created };
}

/** A topic name as a glob that matches only itself. */
function globLiteral(name: string): string {
  return name.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

async function verifyDigests(
  store: ObjectStore,
  target: KafkaCluster,
  m: Manifest,
  topics: EvidenceReport['restored']['topics'],
): Promise<EvidenceReport['checks'][number]> {
  const bad: string[] = [];
  let partitions = 0;
  for (const t of topics) {
    const topic = m.topics.find((x) => x.name === t.source_topic)!;
    const expected = new Map<number, { digest: PartitionDigest; records: number }>();
    for (const p of topic.partitions) {
      const d = { digest: new PartitionDigest(), records: 0 };
      for await (const r of readBackupPartition(store, p)) {
        d.digest.add(r.key, r.value);
        d.records++;
      }
      expected.set(p.partition, d);
    }
    const actual = new Map<number, { digest: PartitionDigest; records: number }>();
    const offsets = await target.partitionOffsets(t.target_topic);
    await readPartitions(
      target,
      offsets.map((x) => ({ topic: t.target_topic, partition: x.partition, from: x.logStart, to: x.end })),
      {
        isolation: 'read_committed',
        concurrency: 4,
        onBatch: async (b) => {
          const d = actual.get(b.partition) ?? { digest: new PartitionDigest(), records: 0 };
          for (const r of b.records) {
            d.digest.add(r.key, r.value);
            d.records++;
          }
          actual.set(b.partition, d);
        },
      },
    );
    for (const [partition, e] of expected) {
      partitions++;
      const a = actual.get(partition);
      const records = a?.records ?? 0;
      if (records !== e.records)
        bad.push(`${t.target_topic}/${partition}: ${records} records, backup has ${e.records}`);
      else if (e.records > 0 && a?.digest.digest() !== e.digest.digest())
        bad.push(`${t.target_topic}/${partition}: SHA-256 of keys and values differs from the backup`);
    }
  }
  return {
    name: 'counts and SHA-256 of keys and values',
    ok: bad.length === 0,
    detail: bad.length === 0 ? `${partitions} partitions match the backup` : bad.join('; '),
  };
}

/**
 * For every group the backup recorded on the restored topics: where a header-based reset would put it (planned,
 * never committed), and whether the record there is the first one at or after the group's committed source
 * offset (the record before it, before that offset): a consumer would resume exactly where it was.
 */
async function verifyResumePoints(
  store: ObjectStore,
  target: KafkaCluster,
  m: Manifest,
  topics: EvidenceReport['restored']['topics'],
  targetClusterId: string,
): Promise<EvidenceReport['checks'][number]> {
  const sources = new Set(topics.map((t) => t.source_topic));
  const groups = m.consumer_groups
    .filter((g) => g.offsets.some((x) => sources.has(x.topic)))
    .map((g) => g.group_id);
  if (groups.length === 0)
    return {
      name: 'consumer-group resume points',
      ok: true,
      detail: 'the backup recorded no group on these topics',
    };
  const restored = await loadRestoredOffsets(store, m.backup_id, targetClusterId);
  const mapping = Object.fromEntries(topics.map((t) => [t.source_topic, t.target_topic]));
  const plans = await planOffsetReset(target, {
    groups,
    strategy: 'header-based',
    restored: { ...restored, topics: mapping },
    topics: topics.map((t) => t.target_topic),
  });
  const bad: string[] = [];
  let checked = 0;
  for (const plan of plans) {
    for (const move of plan.moves) {
      if (move.source_offset === null) continue;
      checked++;
      const around = await originOffsets(
        target,
        move.topic,
        move.partition,
        move.target - 1,
        move.target + 1,
      );
      const at = around.get(move.target);
      const before = around.get(move.target - 1);
      const atOk = at === undefined || at >= move.source_offset;
      const beforeOk = before === undefined || before < move.source_offset;
      if (!atOk || !beforeOk)
        bad.push(
          `${plan.group_id} on ${move.topic}/${move.partition}: committed source offset ${move.source_offset}, would resume at target ${move.target} holding source offset ${at ?? 'none'}`,
        );
    }
  }
  return {
    name: 'consumer-group resume points',
    ok: bad.length === 0,
    detail:
      bad.length === 0
        ? `${groups.length} groups, ${checked} partitions: each would resume at its committed source offset`
        : bad.join('; '),
  };
}

/** target offset -> the source offset its origin header names, for target offsets in [from, to). */
async function originOffsets(
  target: KafkaCluster,
  topic: string,
  partition: number,
  from: number,
  to: number,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const [range] = (await target.partitionOffsets(topic)).filter((x) => x.partition === partition);
  if (!range) return out;
  const start = Math.max(from, range.logStart);
  const end = Math.min(to, range.end);
  if (start >= end) return out;
  await readPartitions(target, [{ topic, partition, from: start, to: end }], {
    isolation: 'read_committed',
    concurrency: 1,
    onBatch: async (b) => {
      for (const r of b.records) {
        const h = r.headers.find((x) => x.key === OriginHeader.offset)?.value;
        if (h) out.set(r.offset, Number(h.toString()));
      }
    },
  });
  return out;
}
