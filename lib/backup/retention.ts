import { backupHeaders, backupIds, mapManifests } from '../format/catalog.ts';
import { Layout, type Manifest } from '../format/manifest.ts';
import { BackupPlan, PartitionProgress } from '../format/plan.ts';
import type { Logger } from '../log.ts';
import type { ObjectStore } from '../storage/object-store.ts';

export interface RetentionResult {
  deleted_backups: string[];
  deleted_segments: number;
  deleted_bytes: number;
  /** Past `keep`, but kept: their manifest is still under Object Lock (it goes once the lock has passed). */
  kept_locked?: string[];
  /** Segments no backup needs, kept while under Object Lock. */
  locked_segments?: number;
}

/**
 * Keeps the newest `keep` complete backups (all when undefined), then deletes every segment that neither a
 * kept backup nor an unfinished one (which may still be resumed) refers to. Runs under the location's lease.
 */
export async function applyRetention(
  store: ObjectStore,
  keep: number | undefined,
  logger: Logger,
  /** Manifests the caller holds (the one just written): not read back. */
  known: readonly Manifest[] = [],
): Promise<RetentionResult> {
  // Headers first, then the kept backups' segment keys one manifest at a time: never every manifest at once.
  const manifests = await backupHeaders(store, known);
  const past =
    keep !== undefined && manifests.length > keep ? manifests.slice(0, manifests.length - keep) : [];
  // Object Lock: a backup still locked stays (a delete would only hide it behind a marker); it goes later.
  const keptLocked = new Set<string>();
  if (store.lockedUntil)
    for (const m of past)
      if ((await store.lockedUntil(Layout.manifest(m.backup_id))) !== undefined) keptLocked.add(m.backup_id);
  const expired = past.filter((m) => !keptLocked.has(m.backup_id));
  if (keptLocked.size > 0)
    logger.info('backups past retention kept: still under Object Lock', {
      backup_ids: [...keptLocked],
      keep,
    });
  for (const m of expired) {
    // The manifest goes first: from then on the backup is no longer listed, even if the rest fails.
    await store.delete([Layout.manifest(m.backup_id)]);
    await store.delete(await store.list(Layout.backupPrefix(m.backup_id)));
    logger.info('backup expired by retention', { backup_id: m.backup_id, keep });
  }
  const kept = manifests.filter((m) => !expired.includes(m));

  const referenced = new Set<string>();
  await mapManifests(
    store,
    (m) => {
      for (const t of m.topics)
        for (const p of t.partitions) for (const s of p.segments) referenced.add(s.key);
    },
    { ids: kept.map((m) => m.backup_id), known },
  );
  const { incomplete } = await backupIds(store);
  for (const id of incomplete) {
    for (const key of await store.list(Layout.backupPrefix(id))) {
      const raw = await store.getIfExists(key);
      if (!raw) continue;
      const json: unknown = JSON.parse(raw.toString('utf8'));
      if (key === Layout.plan(id)) {
        const plan = BackupPlan.safeParse(json);
        if (plan.success)
          for (const t of plan.data.topics)
            for (const p of t.partitions) for (const s of p.reused_segments) referenced.add(s.key);
      } else {
        const progress = PartitionProgress.safeParse(json);
        if (progress.success) for (const s of progress.data.segments) referenced.add(s.key);
      }
    }
  }

  let unreferenced = (await store.list(Layout.segmentsPrefix)).filter((k) => !referenced.has(k));
  let lockedSegments = 0;
  if (store.lockedUntil && unreferenced.length > 0) {
    const free: string[] = [];
    for (const key of unreferenced) {
      if ((await store.lockedUntil(key)) === undefined) free.push(key);
      else lockedSegments++;
    }
    unreferenced = free;
  }
  let bytes = 0;
  for (const key of unreferenced) bytes += (await store.head(key))?.size ?? 0;
  await store.delete(unreferenced);
  if (unreferenced.length > 0) {
    logger.info('deleted segments no backup needs', { segments: unreferenced.length, bytes });
  }
  return {
    deleted_backups: expired.map((m) => m.backup_id),
    deleted_segments: unreferenced.length,
    deleted_bytes: bytes,
    ...(keptLocked.size > 0 ? { kept_locked: [...keptLocked] } : {}),
    ...(lockedSegments > 0 ? { locked_segments: lockedSegments } : {}),
  };
}
