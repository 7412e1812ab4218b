import type { ObjectStorageState, PutOptions } from './storage-class.ts';

/**
 * Where backups live: a flat namespace of keys under one location (a folder, or an S3 bucket + prefix).
 * Keys use '/' separators and never start with one; implementations map them below their root.
 */
export interface ObjectStore {
  /** Human-readable location, e.g. `s3://bucket/prefix` or `/var/backups`; never carries credentials. */
  readonly location: string;

  /**
   * Writes the whole object; visible to readers only once complete (atomic replace). `options.storageClass`: the
   * S3 storage class (stores without classes ignore it).
   */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  /**
   * Writes only if no object exists at `key` (S3 If-None-Match: *, O_EXCL on disk).
   * Returns false when one already exists.
   */
  putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean>;
  /** Streams a large object in (multipart on S3); visible only once complete. Options as for `put`. */
  putStream(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<{ size: number }>;
  /** Throws NotFoundError naming the location and key when absent. */
  get(key: string): Promise<Buffer>;
  /** Undefined when absent. */
  getIfExists(key: string): Promise<Buffer | undefined>;
  /** Streams an object in chunks (bounded memory). Throws NotFoundError when absent. */
  getStream(key: string): AsyncIterable<Uint8Array>;
  /**
   * The object's size. In an encrypted location (storage.encryption) the size of the plaintext that was put, as
   * callers compare it with what they wrote (a segment's manifest size); the stored object is larger.
   * modifiedAt: when the object was written here (S3 LastModified: for a replica, when it arrived).
   */
  head(key: string): Promise<{ size: number; modifiedAt?: Date } | undefined>;
  /**
   * The first `length` bytes of an object (all of it when shorter) and its stored size, in one ranged read;
   * undefined when absent. Lets the encrypting store size an object from its header without a second request.
   */
  readStart?(
    key: string,
    length: number,
  ): Promise<{ size: number; bytes: Buffer; modifiedAt?: Date } | undefined>;
  /**
   * The same location without client-side encryption, for objects that carry no backup data and stay plaintext
   * (leases). Stores that do not encrypt need not have it.
   */
  plaintext?(): ObjectStore;
  /** How the location is encrypted on the client, for `describe` (absent: it is not). Never key material. */
  describeEncryption?(): string;
  /**
   * The object's storage class and whether it must be retrieved before it can be read (S3 only: one HeadObject,
   * which S3 answers for archived objects too). Undefined when absent. Stores without classes need not have it:
   * their objects are always readable.
   */
  storageState?(key: string): Promise<ObjectStorageState | undefined>;
  /**
   * The storage class of every object under `prefix` (S3 only: ListObjectsV2, a thousand objects a request), keys
   * as `list` gives them. A class says whether an object may need a retrieval, not whether it does (a retrieved
   * GLACIER object reads, an Intelligent-Tiering one may sit in an archive tier): `storageState` tells.
   */
  listStorageClasses?(prefix: string): Promise<Map<string, string>>;
  /** Every key starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deleting an absent key is not an error. */
  delete(keys: string[]): Promise<void>;
  /**
   * Until when the current version of `key` is under Object Lock (S3 only; undefined when not locked, absent, or
   * the store has no locks). Retention keeps what is still locked.
   */
  lockedUntil?(key: string): Promise<Date | undefined>;
  /** The bucket's Object Lock default retention (S3 only): what `describe` shows. Null: Object Lock off. */
  objectLock?(): Promise<ObjectLockInfo | null>;
}

export interface ObjectLockInfo {
  /** The bucket's default retention, if it has one. */
  default_retention?: { mode: string; days?: number; years?: number };
  /** The retention this store gives every object it writes (storage.object_lock). */
  on_write?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
}
