import { backupIds, loadManifests } from '../format/catalog.ts';
import { Layout } from '../format/manifest.ts';
import { BackupPlan, PartitionProgress } from '../format/plan.ts';
import type { Logger } from '../log.ts';
import type { ObjectStore } from '../storage/object-store.ts';

export interface RetentionResult {
  deleted_backups: string[];
  deleted_segments: number;
  deleted_bytes: number;
}

/**
 * Keeps the newest `keep` complete backups (all when undefined), then deletes every segment that neither a
 * kept backup nor an unfinished one (which may still be resumed) refers to. Runs under the location's lease.
 */
export async function applyRetention(
  store: ObjectStore,
  keep: number | undefined,
  logger: Logger,
): Promise<RetentionResult> {
  const manifests = await loadManifests(store);
  const expired =
    keep !== undefined && manifests.length > keep ? manifests.slice(0, manifests.length - keep) : [];
  for (const m of expired) {
    // The manifest goes first: from then on the backup is no longer listed, even if the rest fails.
    await store.delete([Layout.manifest(m.backup_id)]);
    await store.delete(await store.list(Layout.backupPrefix(m.backup_id)));
    logger.info('backup expired by retention', { backup_id: m.backup_id, keep });
  }
  const kept = manifests.slice(expired.length);

  const referenced = new Set<string>();
  for (const m of kept)
    for (const t of m.topics) for (const p of t.partitions) for (const s of p.segments) referenced.add(s.key);
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

  const unreferenced = (await store.list(Layout.segmentsPrefix)).filter((k) => !referenced.has(k));
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
  };
}
