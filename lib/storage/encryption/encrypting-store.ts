import { randomBytes } from 'node:crypto';
import type { ObjectLockInfo, ObjectStore } from '../object-store.ts';
import type { ObjectStorageState, PutOptions } from '../storage-class.ts';
import {
  ChunkSealer,
  DEFAULT_CHUNK_SIZE,
  encodeHeader,
  openStream,
  plaintextSize,
  readSizePrefix,
  SIZE_PREFIX_LENGTH,
  sealStream,
  tampered,
} from './framing.ts';
import type { KeySource } from './key-source.ts';

/**
 * A location whose objects are encrypted on the client (storage.encryption): every object is sealed before it
 * reaches `inner` and opened after it is read, so everything above (backup, restore, validate, describe, list,
 * retention, the workflows) works unchanged on plaintext. Each object gets its own data key from `keys`; the
 * framing (framing.ts, docs/format.md) authenticates every chunk, so a changed, truncated, reordered or renamed
 * object is refused before any of its bytes are used. Streams stay streams: memory is a chunk or two per stream.
 *
 * What is not encrypted: object keys (topic names and offsets are in segment keys), sizes, the lease objects
 * (`plaintext()`, they name only the holder) and S3 metadata.
 */
export class EncryptingStore implements ObjectStore {
  readonly location: string;
  readonly lockedUntil?: (key: string) => Promise<Date | undefined>;
  readonly objectLock?: () => Promise<ObjectLockInfo | null>;
  /** The stored object's class: encryption changes its bytes, not where S3 keeps them. */
  readonly storageState?: (key: string) => Promise<ObjectStorageState | undefined>;
  readonly listStorageClasses?: (prefix: string) => Promise<Map<string, string>>;
  readonly #inner: ObjectStore;
  readonly #keys: KeySource;
  readonly #chunkSize: number;

  constructor(inner: ObjectStore, keys: KeySource, options: { chunkSize?: number } = {}) {
    this.location = inner.location;
    this.#inner = inner;
    this.#keys = keys;
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (inner.lockedUntil) this.lockedUntil = (key) => inner.lockedUntil!(key);
    if (inner.objectLock) this.objectLock = () => inner.objectLock!();
    if (inner.storageState) this.storageState = (key) => inner.storageState!(key);
    if (inner.listStorageClasses) this.listStorageClasses = (prefix) => inner.listStorageClasses!(prefix);
  }

  /** What encrypts this location, for `describe` and messages (never key material). */
  describeEncryption(): string {
    return `client-side, AES-256-GCM with a data key per object from the ${this.#keys.describe()}`;
  }

  plaintext(): ObjectStore {
    return this.#inner.plaintext?.() ?? this.#inner;
  }

  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<void> {
    await this.#inner.put(key, await this.#sealWhole(key, body), options);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    return this.#inner.putIfAbsent(key, await this.#sealWhole(key, body));
  }

  async putStream(
    key: string,
    body: AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<{ size: number }> {
    const { header, sealer } = await this.#begin(key);
    let size = 0;
    await this.#inner.putStream(
      key,
      sealStream(body, header, sealer, (n) => {
        size += n;
      }),
      options,
    );
    return { size };
  }

  async get(key: string): Promise<Buffer> {
    return this.#openWhole(key, await this.#inner.get(key));
  }

  async getIfExists(key: string): Promise<Buffer | undefined> {
    const stored = await this.#inner.getIfExists(key);
    return stored === undefined ? undefined : this.#openWhole(key, stored);
  }

  getStream(key: string): AsyncIterable<Uint8Array> {
    return openStream(this.#inner.getStream(key), this.#where(key), key, (header) =>
      this.#keys.openDataKey(header.recipients, key, this.#where(key)),
    );
  }

  /** The plaintext size, from the stored size and the header's first bytes (one ranged read, no key needed). */
  async head(key: string): Promise<{ size: number; modifiedAt?: Date } | undefined> {
    const start = await this.#readStart(key);
    if (!start) return undefined;
    const where = this.#where(key);
    const { headerLength, chunkSize } = readSizePrefix(start.bytes, where);
    const size = plaintextSize(start.size, headerLength, chunkSize);
    if (size === undefined)
      throw tampered(where, `its stored size (${start.size} bytes) is not that of whole chunks`);
    return { size, ...(start.modifiedAt ? { modifiedAt: start.modifiedAt } : {}) };
  }

  list(prefix: string): Promise<string[]> {
    return this.#inner.list(prefix);
  }

  delete(keys: string[]): Promise<void> {
    return this.#inner.delete(keys);
  }

  async #readStart(key: string): Promise<{ size: number; bytes: Buffer; modifiedAt?: Date } | undefined> {
    if (this.#inner.readStart) return this.#inner.readStart(key, SIZE_PREFIX_LENGTH);
    const head = await this.#inner.head(key);
    if (!head) return undefined;
    const parts: Buffer[] = [];
    let read = 0;
    for await (const chunk of this.#inner.getStream(key)) {
      parts.push(Buffer.from(chunk));
      read += chunk.length;
      if (read >= SIZE_PREFIX_LENGTH) break;
    }
    return {
      size: head.size,
      bytes: Buffer.concat(parts).subarray(0, SIZE_PREFIX_LENGTH),
      ...(head.modifiedAt ? { modifiedAt: head.modifiedAt } : {}),
    };
  }

  async #begin(key: string) {
    const { dataKey, recipients } = await this.#keys.newDataKey(key, this.#where(key));
    const header = encodeHeader({ chunkSize: this.#chunkSize, noncePrefix: randomBytes(8), recipients });
    return { header, sealer: new ChunkSealer(dataKey, header, key) };
  }

  async #sealWhole(key: string, body: Uint8Array | string): Promise<Buffer> {
    const { header, sealer } = await this.#begin(key);
    return collect(
      sealStream(once(typeof body === 'string' ? Buffer.from(body, 'utf8') : body), header, sealer),
    );
  }

  async #openWhole(key: string, stored: Buffer): Promise<Buffer> {
    const where = this.#where(key);
    return collect(
      openStream(once(stored), where, key, (header) => this.#keys.openDataKey(header.recipients, key, where)),
    );
  }

  #where(key: string): string {
    return `${this.location}/${key}`;
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
