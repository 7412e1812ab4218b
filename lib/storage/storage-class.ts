/**
 * S3 storage classes: which ones kafka-backup writes segments in (storage.storage_class), and which ones a read has
 * to wait for. Only segments take the configured class; manifests, plans, progress, leases, restore state and
 * evidence stay STANDARD: they are tiny and read often, and the infrequent-access classes bill every object as at
 * least 128 KiB and every read by the GB.
 */

/**
 * Classes whose objects S3 serves straight away (GetObject works), so a backup written in one restores without
 * waiting. GLACIER_IR: millisecond reads, 90-day minimum; the *_IA classes: 30-day minimum; INTELLIGENT_TIERING
 * moves objects between its frequent and infrequent tiers by itself (its opt-in archive tiers are not readable
 * directly: see `storageStateOf`).
 */
export const READABLE_STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
] as const;
export type SegmentStorageClass = (typeof READABLE_STORAGE_CLASSES)[number];

/**
 * Classes whose objects must be retrieved (RestoreObject, minutes to 48 hours) before a GetObject: S3 answers
 * InvalidObjectState until then. kafka-backup does not write in them (a restore would wait on a retrieval of every
 * segment, and an incremental backup reads its predecessor's segments); objects a bucket lifecycle rule moved there
 * are detected before a restore writes anything.
 */
export const ARCHIVE_STORAGE_CLASSES = ['GLACIER', 'DEEP_ARCHIVE'] as const;

export function isSegmentStorageClass(value: string): value is SegmentStorageClass {
  return (READABLE_STORAGE_CLASSES as readonly string[]).includes(value);
}

/** Options of a write (ObjectStore.put, putStream). */
export interface PutOptions {
  /** S3 storage class of the object written; absent: the bucket's default, STANDARD. Stores without classes ignore it. */
  storageClass?: SegmentStorageClass | undefined;
}

/** Where an object's bytes are, from HeadObject: whether a read works now. */
export interface ObjectStorageState {
  /** The object's S3 storage class (STANDARD when S3 names none). */
  storageClass: string;
  /**
   * Intelligent-Tiering's archive tier (ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS) the object is in, if any: those
   * tiers, opted into by a bucket's Intelligent-Tiering configuration, need a retrieval like GLACIER.
   */
  archiveTier?: string;
  /** Whether GetObject would be refused (InvalidObjectState) until the object is retrieved. */
  needsRetrieval: boolean;
  /** A retrieval was asked for and is not finished yet (RestoreObject's ongoing-request="true"). */
  retrievalInProgress: boolean;
}

/**
 * The state of an object from HeadObject's StorageClass, ArchiveStatus and Restore. An archived object with a
 * finished retrieval (`ongoing-request="false", expiry-date=...`) reads like any other until the copy expires.
 */
export function storageStateOf(head: {
  StorageClass?: string | undefined;
  ArchiveStatus?: string | undefined;
  Restore?: string | undefined;
}): ObjectStorageState {
  const storageClass = head.StorageClass ?? 'STANDARD';
  const archived =
    (ARCHIVE_STORAGE_CLASSES as readonly string[]).includes(storageClass) || head.ArchiveStatus !== undefined;
  const restore = head.Restore ?? '';
  const retrieved = /ongoing-request="false"/.test(restore);
  return {
    storageClass,
    ...(head.ArchiveStatus !== undefined ? { archiveTier: head.ArchiveStatus } : {}),
    needsRetrieval: archived && !retrieved,
    retrievalInProgress: archived && /ongoing-request="true"/.test(restore),
  };
}

/** "GLACIER", or "INTELLIGENT_TIERING (ARCHIVE_ACCESS tier)": how a message names where an object is. */
export function describeStorageState(state: ObjectStorageState): string {
  return state.archiveTier !== undefined
    ? `${state.storageClass} (${state.archiveTier} tier)`
    : state.storageClass;
}
