import { randomBytes } from 'node:crypto';
import { createReadStream, type Dirent, statSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { NotFoundError, StorageAccessError } from '../errors.ts';
import { checkKey, checkPrefix, sortKeys, TEMP_SUFFIX } from './keys.ts';
import type { ObjectStore } from './object-store.ts';

/** Unlinks run this many at a time: enough to hide disk latency, few enough to stay clear of EMFILE. */
const DELETE_CONCURRENCY = 32;

/**
 * A backup location in a local (or mounted) folder. Every write goes to a temp file in the target's folder,
 * is fsynced, then renamed (or linked) into place, so readers never see a partial object and a crash leaves
 * at worst a temp file that `list` ignores.
 */
export class FilesystemStore implements ObjectStore {
  readonly location: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = resolve(root);
    this.location = this.#root;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.#path(key);
    const temp = await this.#writeTemp(path, single(body));
    await this.#guard('write', path, () => rename(temp.path, path)).catch(async (e: unknown) => {
      await unlink(temp.path).catch(() => {});
      throw e;
    });
    await syncDir(dirname(path));
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    const path = this.#path(key);
    const temp = await this.#writeTemp(path, single(body));
    try {
      // link() fails with EEXIST instead of replacing, and publishes the complete file in one step.
      await link(temp.path, path);
    } catch (e) {
      if (code(e) === 'EEXIST') return false;
      throw mapError(e, 'write', path, this.#root);
    } finally {
      await unlink(temp.path).catch(() => {});
    }
    await syncDir(dirname(path));
    return true;
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<{ size: number }> {
    const path = this.#path(key);
    const temp = await this.#writeTemp(path, body);
    await this.#guard('write', path, () => rename(temp.path, path)).catch(async (e: unknown) => {
      await unlink(temp.path).catch(() => {});
      throw e;
    });
    await syncDir(dirname(path));
    return { size: temp.size };
  }

  async get(key: string): Promise<Buffer> {
    const path = this.#path(key);
    return this.#guard('read', path, () => readFile(path));
  }

  async getIfExists(key: string): Promise<Buffer | undefined> {
    try {
      return await this.get(key);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  async *getStream(key: string): AsyncGenerator<Uint8Array> {
    const path = this.#path(key);
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
    } catch (e) {
      throw mapError(e, 'read', path, this.#root);
    }
  }

  async head(key: string): Promise<{ size: number; modifiedAt?: Date } | undefined> {
    const path = this.#path(key);
    try {
      const s = await stat(path);
      return s.isFile() ? { size: s.size, modifiedAt: s.mtime } : undefined;
    } catch (e) {
      const mapped = mapError(e, 'read', path, this.#root);
      if (mapped instanceof NotFoundError) return undefined;
      throw mapped;
    }
  }

  async readStart(
    key: string,
    length: number,
  ): Promise<{ size: number; bytes: Buffer; modifiedAt?: Date } | undefined> {
    const path = this.#path(key);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const mapped = mapError(e, 'read', path, this.#root);
      if (mapped instanceof NotFoundError) return undefined;
      throw mapped;
    }
    try {
      const { size, mtime } = await handle.stat();
      const bytes = Buffer.alloc(Math.min(length, size));
      let filled = 0;
      while (filled < bytes.length) {
        const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return { size, bytes: bytes.subarray(0, filled), modifiedAt: mtime };
    } catch (e) {
      throw mapError(e, 'read', path, this.#root);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    // Walk only the deepest folder the prefix names in full; the partial last segment is a filter.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    await this.#walk(folder, keys);
    return sortKeys(keys.filter((k) => k.startsWith(prefix)));
  }

  async delete(keys: string[]): Promise<void> {
    const paths = keys.map((k) => this.#path(k));
    for (let i = 0; i < paths.length; i += DELETE_CONCURRENCY) {
      await Promise.all(
        paths.slice(i, i + DELETE_CONCURRENCY).map(async (path) => {
          try {
            await unlink(path);
          } catch (e) {
            if (code(e) === 'ENOENT') return;
            throw mapError(e, 'delete', path, this.#root);
          }
        }),
      );
    }
  }

  #path(key: string): string {
    checkKey(key);
    return join(this.#root, ...key.split('/'));
  }

  async #walk(folder: string, into: string[]): Promise<void> {
    const dir = folder === '' ? this.#root : join(this.#root, ...folder.split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      // A location that is a file is no backup folder: say so rather than list nothing (or fail at the first write).
      if (code(e) === 'ENOTDIR' && isFile(this.#root)) throw locationIsAFile(this.#root, e);
      // A prefix whose folder does not exist (yet) simply has no keys, and neither does a missing root.
      if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return;
      throw mapError(e, 'list', dir, this.#root);
    }
    for (const entry of entries) {
      const key = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) await this.#walk(key, into);
      else if (entry.isFile() && !TEMP_SUFFIX.test(entry.name)) into.push(key);
      else if (entry.isSymbolicLink()) {
        const target = await stat(join(dir, entry.name)).catch(() => undefined);
        if (target?.isDirectory()) await this.#walk(key, into);
        else if (target?.isFile()) into.push(key);
      }
    }
  }

  /** Writes and fsyncs `<dir>/.<name>.kbtmp-<random>` next to `path`, so the rename stays in one folder. */
  async #writeTemp(path: string, body: AsyncIterable<Uint8Array>): Promise<{ path: string; size: number }> {
    const dir = dirname(path);
    const temp = join(dir, `.${basename(path)}.kbtmp-${randomBytes(8).toString('hex')}`);
    await this.#guard('write', path, () => mkdir(dir, { recursive: true }));
    const handle = await this.#guard('write', path, () => open(temp, 'wx'));
    let size = 0;
    try {
      for await (const chunk of body) {
        await handle.write(chunk);
        size += chunk.length;
      }
      await handle.sync();
    } catch (e) {
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw mapError(e, 'write', path, this.#root);
    }
    await this.#guard('write', path, () => handle.close());
    return { path: temp, size };
  }

  async #guard<T>(op: Op, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw mapError(e, op, path, this.#root);
    }
  }
}

type Op = 'read' | 'write' | 'list' | 'delete';

async function* single(body: Uint8Array | string): AsyncGenerator<Uint8Array> {
  yield typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Makes a rename durable: without it a power cut can forget the new name even though the data was synced. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  // Some filesystems (and Windows) refuse to fsync a directory; the rename itself has happened.
  await handle
    .sync()
    .catch(() => {})
    .finally(() => handle.close());
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function locationIsAFile(root: string, cause: unknown): StorageAccessError {
  return new StorageAccessError(`The backup location ${root} is a file, not a folder`, {
    hint: 'Point storage.path (or --path) at a folder for the backups: an empty or new one, or one that holds backups.',
    cause,
  });
}

/** Errors a user can fix become UserErrors naming the path; anything else is passed on untouched. */
function mapError(e: unknown, op: Op, path: string, root: string): unknown {
  if (e instanceof NotFoundError || e instanceof StorageAccessError) return e;
  // mkdir of a folder on the way where a file is: the location itself, or a file inside it.
  if (code(e) === 'EEXIST' && op === 'write') {
    if (isFile(root)) return locationIsAFile(root, e);
    return new StorageAccessError(`Cannot write ${path}: a file is in the way where a folder should be`, {
      hint: `Check that storage.path (${root}) is the backup folder and nothing else writes into it.`,
      cause: e,
    });
  }
  if (code(e) === 'ENOTDIR' && isFile(root)) return locationIsAFile(root, e);
  switch (code(e)) {
    case 'ENOENT':
    case 'EISDIR':
    case 'ENOTDIR':
      if (op === 'read') return new NotFoundError(`${path} does not exist`, { cause: e });
      return new StorageAccessError(
        `cannot ${op} ${path}: ${code(e) === 'EISDIR' ? 'a folder is in the way' : 'a folder on the way is missing or is a file'}`,
        {
          hint: `check that storage.path (${root}) is the backup folder and nothing else writes into it`,
          cause: e,
        },
      );
    case 'EACCES':
    case 'EPERM':
      return new StorageAccessError(`cannot ${op} ${path}: permission denied`, {
        hint: `let the user running kafka-backup read and write everything under ${root}`,
        cause: e,
      });
    case 'EROFS':
      return new StorageAccessError(`cannot ${op} ${path}: the filesystem is read-only`, {
        hint: `mount ${root} read-write, or back up to another location`,
        cause: e,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageAccessError(`cannot ${op} ${path}: no space left on the device`, {
        hint: `free space under ${root} (delete expired backups) or grow the volume`,
        cause: e,
      });
    default:
      return e;
  }
}
