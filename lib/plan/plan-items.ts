import type { BackupContext } from '../backup/context.ts';
import { type BackupHeader, backupHeaders, loadManifest } from '../format/catalog.ts';
import { Layout } from '../format/manifest.ts';
import type { BackupPlan } from '../format/plan.ts';
import {
  addToHistory,
  type BytesPerOffsetSource,
  estimateBytesPerOffset,
  type History,
  partitionKey,
} from './bytes-per-offset.ts';
import { type BackupEstimate, estimateBackup } from './estimate.ts';
import { type BackupItem, packBackupItems } from './packing.ts';

/** A partition of the plan as the items and the estimate saw it. */
export interface PartitionEstimate {
  topic: string;
  partition: number;
  from: number;
  to: number;
  bytes_per_offset: number;
  stored_ratio: number;
  source: BytesPerOffsetSource;
  /** The backup the record size comes from (source previous_backup). */
  based_on?: string;
}

export interface PlannedItems {
  items: BackupItem[];
  estimate: BackupEstimate;
  partitions: PartitionEstimate[];
  /** How many partitions to read took their bytes per offset from where. */
  bytes_per_offset_from: Record<BytesPerOffsetSource, number>;
}

export interface PlanItemsOptions {
  fargateMinOffsets: number;
  targetBytes?: number;
  maxRangesPerItem?: number;
  /** Probe partitions without history (default true). */
  probe?: boolean;
  /** The price table's region; default storage.region. */
  region?: string;
  /** The location's complete backups, when the caller just read them (planBackup): not read again. */
  headers?: readonly BackupHeader[];
  mapConcurrency?: number;
}

/**
 * From a plan (stored or not) to the work items and the estimate of the run: bytes per offset from the
 * location's earlier backups or a probe (bytes-per-offset.ts), packed (packing.ts), counted and priced
 * (estimate.ts). Reads only: the location's manifests and keys, and a probe fetch from the source.
 */
export async function planItemsAndEstimate(
  ctx: BackupContext,
  plan: BackupPlan,
  opts: PlanItemsOptions,
): Promise<PlannedItems> {
  const { config, store } = ctx;
  const all = plan.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partition, from: p.read_from, to: p.end_offset })),
  );
  const backupKeys = (await store.list(Layout.backupsPrefix)).length;
  const segmentKeys = (await store.list(Layout.segmentsPrefix)).length;
  // Record sizes from the newest backup that has each partition: manifests read newest first, one at a time,
  // until every planned partition has one (the newest backup usually has them all).
  const history: History = { partitions: new Map(), topics: new Map() };
  const headers = opts.headers ?? (await backupHeaders(store));
  for (const h of [...headers].reverse()) {
    if (all.every((p) => history.partitions.has(partitionKey(p.topic, p.partition)))) break;
    addToHistory(history, await loadManifest(store, h.backup_id));
  }
  const estimates = await estimateBytesPerOffset(all, {
    history,
    ...(opts.probe === false ? {} : { source: ctx.source }),
    isolation: plan.isolation_level,
    logger: ctx.logger,
  });
  const partitions: PartitionEstimate[] = all.map((p) => {
    const e = estimates.get(partitionKey(p.topic, p.partition))!;
    return {
      ...p,
      bytes_per_offset: Math.round(e.bytesPerOffset * 10) / 10,
      stored_ratio: Math.round(e.storedRatio * 1000) / 1000,
      source: e.source,
      ...(e.backupId ? { based_on: e.backupId } : {}),
    };
  });
  const exact = (p: (typeof all)[number]) => estimates.get(partitionKey(p.topic, p.partition))!;
  const items = packBackupItems(
    all.map((p) => ({ ...p, bytesPerOffset: exact(p).bytesPerOffset })),
    {
      fargateMinOffsets: opts.fargateMinOffsets,
      ...(opts.targetBytes !== undefined ? { targetBytes: opts.targetBytes } : {}),
      ...(opts.maxRangesPerItem !== undefined ? { maxRangesPerItem: opts.maxRangesPerItem } : {}),
    },
  );
  const storage = config.storage;
  const estimate = estimateBackup({
    items,
    partitions: all.map((p) => ({
      ...p,
      bytesPerOffset: exact(p).bytesPerOffset,
      storedRatio: exact(p).storedRatio,
    })),
    segmentMaxBytes: config.backup.segment_max_bytes,
    checkpointIntervalSecs: config.backup.checkpoint_interval_secs,
    storedBackups: headers.length,
    backupKeys,
    segmentKeys,
    metadata: config.backup.metadata.length > 0,
    region: opts.region ?? (storage.backend === 's3' ? storage.region : undefined),
    ...(opts.mapConcurrency !== undefined ? { mapConcurrency: opts.mapConcurrency } : {}),
  });
  const from: Record<BytesPerOffsetSource, number> = { previous_backup: 0, probe: 0, default: 0 };
  for (const p of partitions) if (p.to > p.from) from[p.source]++;
  return { items, estimate, partitions, bytes_per_offset_from: from };
}
