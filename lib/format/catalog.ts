import { NotFoundError } from '../errors.ts';
import { mapLimit } from '../map-limit.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { parseStoredJson } from '../storage/stored-json.ts';
import { Layout, Manifest } from './manifest.ts';

export interface BackupListing {
  backup_id: string;
  status: 'complete' | 'incomplete';
  started_at: string;
  completed_at: string | null;
  source_cluster_id: string | null;
  topics: number;
  partitions: number;
  records: number | null;
  stored_bytes: number | null;
  based_on: string | null;
  gaps: number;
}

export async function loadManifest(store: ObjectStore, backupId: string): Promise<Manifest> {
  const key = Layout.manifest(backupId);
  const raw = await store.getIfExists(key);
  if (!raw) {
    const incomplete = await store.head(Layout.plan(backupId));
    throw new NotFoundError(
      incomplete
        ? `backup ${backupId} in ${store.location} is incomplete (it has a plan but no manifest)`
        : `no backup ${backupId} in ${store.location}`,
      {
        hint: incomplete
          ? 'Run the same backup config again to resume it, or pick a complete backup from `kafka-backup list`.'
          : `Run \`kafka-backup list --path ${store.location}\` to see the backups there.`,
      },
    );
  }
  return parseStoredJson(store, key, raw, Manifest, 'manifest');
}

/** The ids of every backup folder in the location, with or without a manifest. */
export async function backupIds(store: ObjectStore): Promise<{ complete: string[]; incomplete: string[] }> {
  const keys = await store.list(Layout.backupsPrefix);
  const complete = new Set<string>();
  const incomplete = new Set<string>();
  for (const key of keys) {
    const [, id, file] = key.split('/');
    if (!id || !file) continue;
    if (file === 'manifest.json') complete.add(id);
    else if (file === 'plan.json') incomplete.add(id);
  }
  for (const id of complete) incomplete.delete(id);
  return { complete: [...complete], incomplete: [...incomplete] };
}

/** Manifests read at once by the walks over every backup of a location. */
const MANIFEST_READ_CONCURRENCY = 4;

/** A complete backup as the walks over all of them need it to order and pick backups: not its partitions. */
export interface BackupHeader {
  backup_id: string;
  completed_at: string;
  kafka_cluster_id: string;
  source_cluster_id: string;
}

const byCompletion = (a: BackupHeader, b: BackupHeader) =>
  a.completed_at.localeCompare(b.completed_at) || a.backup_id.localeCompare(b.backup_id);

/**
 * Every complete backup's manifest, read MANIFEST_READ_CONCURRENCY at a time and handed to `visit`, keeping only
 * its header and what `visit` returns; oldest first. A location of 168 hourly backups of 10,000 partitions holds
 * gigabytes of manifests: they are never in memory at once (see loadManifests).
 */
export async function mapManifests<T>(
  store: ObjectStore,
  visit: (m: Manifest) => T,
  opts: {
    /** Only these backups (default: every complete one). */
    ids?: readonly string[];
    /** Manifests the caller holds already (the one finalize just wrote): not read again. */
    known?: readonly Manifest[];
  } = {},
): Promise<{ header: BackupHeader; value: T }[]> {
  const list = opts.ids ?? (await backupIds(store)).complete;
  const known = new Map((opts.known ?? []).map((m) => [m.backup_id, m]));
  const out = await mapLimit([...list], MANIFEST_READ_CONCURRENCY, async (id) => {
    const m = known.get(id) ?? (await loadManifest(store, id));
    return { header: headerOf(m), value: visit(m) };
  });
  return out.sort((a, b) => byCompletion(a.header, b.header));
}

/** Every complete backup's header, oldest first. */
export async function backupHeaders(
  store: ObjectStore,
  known?: readonly Manifest[],
): Promise<BackupHeader[]> {
  return (await mapManifests(store, () => undefined, known ? { known } : {})).map((x) => x.header);
}

function headerOf(m: Manifest): BackupHeader {
  return {
    backup_id: m.backup_id,
    completed_at: m.completed_at,
    kafka_cluster_id: m.kafka_cluster_id,
    source_cluster_id: m.source_cluster_id,
  };
}

/**
 * Every complete backup's whole manifest at once, oldest first: for tests and small locations only. The engine
 * walks them with mapManifests and loads the one it picked with loadManifest.
 */
export async function loadManifests(store: ObjectStore): Promise<Manifest[]> {
  return (await mapManifests(store, (m) => m)).map((x) => x.value);
}

/** `latest` is the newest complete backup. */
export async function resolveBackupId(store: ObjectStore, backupId: string): Promise<string> {
  if (backupId !== 'latest') return backupId;
  const newest = (await backupHeaders(store)).at(-1);
  if (!newest) {
    throw new NotFoundError(`no complete backup in ${store.location}`, {
      hint: 'Check the storage location (bucket, prefix or path), or run a backup first.',
    });
  }
  return newest.backup_id;
}

export function listingOf(m: Manifest): BackupListing {
  const partitions = m.topics.flatMap((t) => t.partitions);
  return {
    backup_id: m.backup_id,
    status: 'complete',
    started_at: m.started_at,
    completed_at: m.completed_at,
    source_cluster_id: m.source_cluster_id,
    topics: m.topics.length,
    partitions: partitions.length,
    records: m.stats.records,
    stored_bytes: m.stats.stored_bytes,
    based_on: m.based_on,
    gaps: partitions.reduce((n, p) => n + p.gaps.length, 0),
  };
}
