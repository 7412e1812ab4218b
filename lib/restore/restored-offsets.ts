import { NotFoundError } from '../errors.ts';
import { loadManifest } from '../format/catalog.ts';
import { RestoreLayout, RestorePartitionState, RestorePlanState } from '../format/restore-state.ts';
import type { RestoredOffsets } from '../offsets/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { readStoredJson } from '../storage/stored-json.ts';

/**
 * The offset mapping of the newest restore of `backupId` into the cluster `targetClusterId`, as stored next to
 * the backup: what a later `offset-reset --strategy header-based` needs, from any machine.
 */
export async function loadRestoredOffsets(
  store: ObjectStore,
  backupId: string,
  targetClusterId: string,
): Promise<RestoredOffsets> {
  const prefix = `${RestoreLayout.prefix}${backupId}--${targetClusterId}--`;
  const planKeys = (await store.list(prefix)).filter((k) => k.endsWith('/plan.json'));
  const plans: RestorePlanState[] = [];
  for (const key of planKeys) {
    const plan = await readStoredJson(store, key, RestorePlanState);
    if (plan) plans.push(plan);
  }
  const newest = plans.sort((a, b) => a.started_at.localeCompare(b.started_at)).at(-1);
  if (!newest) {
    throw new NotFoundError(
      `no restore of backup ${backupId} into cluster ${targetClusterId} is recorded in ${store.location}`,
      {
        hint: 'Restore the backup first (restore or three-phase-restore), or use --strategy timestamp.',
      },
    );
  }
  const partitions: RestorePartitionState[] = [];
  for (const key of await store.list(`${RestoreLayout.prefix}${newest.restore_id}/partitions/`)) {
    const state = await readStoredJson(store, key, RestorePartitionState);
    if (state) partitions.push(state);
  }
  return { manifest: await loadManifest(store, backupId), topics: newest.topics, partitions };
}
