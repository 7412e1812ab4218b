import type { ObjectLockInfo, ObjectStore } from '../object-store.ts';
import type { ObjectStorageState, PutOptions } from '../storage-class.ts';
import { EncryptionKeyRequiredError } from './errors.ts';
import {
  ByteQueue,
  decodeHeader,
  looksEncrypted,
  MAGIC,
  readSizePrefix,
  SIZE_PREFIX_LENGTH,
} from './framing.ts';
import { describeRecipients } from './key-source.ts';

/**
 * A location without storage.encryption. Objects pass through unchanged, but one that is encrypted (written with
 * storage.encryption) is refused with an error naming it and its keys, instead of handing ciphertext to a reader
 * that would report it as damaged data. Costs nothing but a look at the first bytes read.
 */
export class PlaintextStore implements ObjectStore {
  readonly location: string;
  readonly lockedUntil?: (key: string) => Promise<Date | undefined>;
  readonly objectLock?: () => Promise<ObjectLockInfo | null>;
  readonly readStart?: (
    key: string,
    length: number,
  ) => Promise<{ size: number; bytes: Buffer; modifiedAt?: Date } | undefined>;
  readonly storageState?: (key: string) => Promise<ObjectStorageState | undefined>;
  readonly listStorageClasses?: (prefix: string) => Promise<Map<string, string>>;
  readonly #inner: ObjectStore;

  constructor(inner: ObjectStore) {
    this.location = inner.location;
    this.#inner = inner;
    if (inner.lockedUntil) this.lockedUntil = (key) => inner.lockedUntil!(key);
    if (inner.objectLock) this.objectLock = () => inner.objectLock!();
    if (inner.readStart) this.readStart = (key, length) => inner.readStart!(key, length);
    if (inner.storageState) this.storageState = (key) => inner.storageState!(key);
    if (inner.listStorageClasses) this.listStorageClasses = (prefix) => inner.listStorageClasses!(prefix);
  }

  /** The store this one guards (what tests and short-lived processes may need, e.g. to close its sockets). */
  get inner(): ObjectStore {
    return this.#inner;
  }

  plaintext(): ObjectStore {
    return this;
  }

  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<void> {
    return this.#inner.put(key, body, options);
  }

  putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    return this.#inner.putIfAbsent(key, body);
  }

  putStream(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<{ size: number }> {
    return this.#inner.putStream(key, body, options);
  }

  async get(key: string): Promise<Buffer> {
    return this.#check(key, await this.#inner.get(key));
  }

  async getIfExists(key: string): Promise<Buffer | undefined> {
    const body = await this.#inner.getIfExists(key);
    return body === undefined ? undefined : this.#check(key, body);
  }

  async *getStream(key: string): AsyncGenerator<Uint8Array> {
    // Hold back only until the magic's length is known: then pass everything on as it comes.
    const start = new ByteQueue();
    let checked = false;
    for await (const chunk of this.#inner.getStream(key)) {
      if (checked) {
        yield chunk;
        continue;
      }
      start.push(chunk);
      if (start.length < MAGIC.length) continue;
      this.#check(key, start.peek(start.length));
      checked = true;
      yield start.take(start.length);
    }
    if (!checked) {
      const rest = start.take(start.length);
      this.#check(key, rest);
      if (rest.length > 0) yield rest;
    }
  }

  head(key: string): Promise<{ size: number; modifiedAt?: Date } | undefined> {
    return this.#inner.head(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.#inner.list(prefix);
  }

  delete(keys: string[]): Promise<void> {
    return this.#inner.delete(keys);
  }

  #check(key: string, body: Buffer): Buffer {
    if (!looksEncrypted(body)) return body;
    const where = `${this.location}/${key}`;
    let keys = 'a key';
    try {
      const { headerLength } = readSizePrefix(body.subarray(0, SIZE_PREFIX_LENGTH), where);
      if (body.length >= headerLength)
        keys = describeRecipients(decodeHeader(body.subarray(0, headerLength), where).recipients);
    } catch {
      // A damaged header still says "encrypted"; the key ids are a courtesy.
    }
    throw new EncryptionKeyRequiredError(
      `${where} is encrypted (with ${keys}), but the config has no storage.encryption`,
      {
        hint: `Set storage.encryption (kms_key_id or key_file) to the key the backup was written with${keys === 'a key' ? '' : ` (${keys})`}; on the command line --kms-key-id or --key-file.`,
      },
    );
  }
}
