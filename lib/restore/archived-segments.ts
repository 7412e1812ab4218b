import { ObjectArchivedError } from '../errors.ts';
import { segmentsToRead } from '../format/backup-reader.ts';
import type { Manifest } from '../format/manifest.ts';
import { mapLimit } from '../map-limit.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { archivedHint } from '../storage/s3-errors.ts';
import {
  ARCHIVE_STORAGE_CLASSES,
  describeStorageState,
  type ObjectStorageState,
} from '../storage/storage-class.ts';

/** HeadObjects in flight: a restore of thousands of segments checks them in seconds. */
const HEAD_CONCURRENCY = 32;
/** Topic folders listed at once. */
const LIST_CONCURRENCY = 8;
/**
 * Classes whose objects a listing cannot clear: GLACIER and DEEP_ARCHIVE may have been retrieved, an
 * Intelligent-Tiering object may sit in an archive tier. Each such segment is asked about with a HeadObject.
 */
const ASK_EACH = new Set<string>([...ARCHIVE_STORAGE_CLASSES, 'INTELLIGENT_TIERING']);
/** Objects a message names (the count says how many there are). */
const NAMED_OBJECTS = 3;

export interface SegmentsToCheck {
  manifest: Manifest;
  /** The target partitions still to write, with their source partitions. */
  work: readonly { sources: readonly { topic: string; partition: number }[]; mode: string }[];
  window: { start_time: number | null; end_time: number | null };
}

/**
 * Refuses a restore whose segments S3 will not serve until they are retrieved (GLACIER, DEEP_ARCHIVE, an
 * Intelligent-Tiering archive tier: a bucket lifecycle rule may have moved them there), before anything is written
 * to the target. It lists the segment folder of each topic read (ListObjectsV2 names every object's class, a
 * thousand a request), then asks S3 with a HeadObject only about the segments in a class that may need a
 * retrieval (and any a listing did not show); work already done is skipped. The error names how many segments,
 * in which classes, and the first few. Stores without storage classes (a folder) are not asked.
 */
export async function checkSegmentsReadable(store: ObjectStore, plan: SegmentsToCheck): Promise<void> {
  const storageState = store.storageState?.bind(store);
  if (!storageState) return;
  const window = {
    ...(plan.window.start_time !== null ? { startTime: plan.window.start_time } : {}),
    ...(plan.window.end_time !== null ? { endTime: plan.window.end_time } : {}),
  };
  const partitions = new Map(
    plan.manifest.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partition}`, p] as const)),
  );
  const keys = new Set<string>();
  for (const w of plan.work) {
    if (w.mode === 'done') continue;
    for (const source of w.sources) {
      const p = partitions.get(`${source.topic}/${source.partition}`);
      if (p) for (const s of segmentsToRead(p, window)) keys.add(s.key);
    }
  }
  const checked = [...keys];
  const toHead = await mayNeedRetrieval(store, checked);
  const states = await mapLimit(toHead, HEAD_CONCURRENCY, storageState);
  const archived = toHead
    .map((key, i) => ({ key, state: states[i] }))
    .filter((x): x is { key: string; state: ObjectStorageState } => x.state?.needsRetrieval === true);
  if (archived.length === 0) return;

  const byClass = new Map<string, number>();
  for (const { state } of archived) {
    const name = describeStorageState(state);
    byClass.set(name, (byClass.get(name) ?? 0) + 1);
  }
  const classes = [...byClass].map(([name, n]) => `${n} in ${name}`).join(', ');
  const inProgress = archived.filter((a) => a.state.retrievalInProgress).length;
  const url = (key: string) => `${store.location}/${key}`;
  const named = archived.slice(0, NAMED_OBJECTS).map((a) => url(a.key));
  const more = archived.length > NAMED_OBJECTS ? `, and ${archived.length - NAMED_OBJECTS} more` : '';
  throw new ObjectArchivedError(
    `${archived.length} of the ${checked.length} segments this restore of backup ${plan.manifest.backup_id} reads ` +
      `${archived.length === 1 ? 'needs' : 'need'} a retrieval from an archive storage class before S3 serves them (${classes}` +
      `${inProgress > 0 ? `; a retrieval of ${inProgress} of them is in progress` : ''}): ${named.join(', ')}${more}. ` +
      'Nothing was written to the target.',
    { hint: archivedHint(named[0]!) },
  );
}

/**
 * The segments whose class a listing of their topic folders (`segments/<topic>/`) does not clear: all of them when
 * the store cannot list classes.
 */
async function mayNeedRetrieval(store: ObjectStore, keys: string[]): Promise<string[]> {
  const listClasses = store.listStorageClasses?.bind(store);
  if (!listClasses) return keys;
  const folderOf = (key: string) => /^segments\/[^/]+\//.exec(key)?.[0];
  const folders = [...new Set(keys.map(folderOf).filter((f) => f !== undefined))];
  const classes = new Map<string, string>();
  await mapLimit(folders, LIST_CONCURRENCY, async (folder) => {
    for (const [key, storageClass] of await listClasses(folder)) classes.set(key, storageClass);
  });
  return keys.filter((key) => {
    const storageClass = classes.get(key);
    return storageClass === undefined || ASK_EACH.has(storageClass);
  });
}
