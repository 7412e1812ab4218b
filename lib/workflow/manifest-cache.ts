import { loadManifest } from '../format/catalog.ts';
import { Layout, type Manifest } from '../format/manifest.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/**
 * The manifest a process read last, for the steps that each read the same one: every RestorePartition invocation
 * of a restore reads its backup's manifest, megabytes for 10,000 partitions, thousands of times. A warm Lambda
 * (or a local run) keeps it; a HEAD tells whether the stored object is still the one kept (same size and time),
 * so a manifest written again under the same id is read again.
 */
let kept: { key: string; manifest: Manifest } | undefined;

export async function loadManifestCached(store: ObjectStore, backupId: string): Promise<Manifest> {
  const head = await store.head(Layout.manifest(backupId));
  // Without a modification time there is nothing to tell a rewritten manifest by: not kept.
  const key = head?.modifiedAt
    ? `${store.location}\n${backupId}\n${head.size}\n${head.modifiedAt.getTime()}`
    : undefined;
  if (key !== undefined && kept?.key === key) return kept.manifest;
  const manifest = await loadManifest(store, backupId);
  kept = key !== undefined ? { key, manifest } : undefined;
  return manifest;
}
