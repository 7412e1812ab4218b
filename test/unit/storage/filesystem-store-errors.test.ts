// Permission and disk errors, injected: the tests may run as root, which no chmod can lock out.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NotFoundError, StorageAccessError } from '../../../lib/errors.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';

const inject = vi.hoisted(() => ({ code: undefined as string | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const failing =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      if (inject.code === undefined) return fn(...args);
      const err = Object.assign(new Error(`${inject.code}: injected, ${String(args[0])}`), {
        code: inject.code,
      });
      return Promise.reject(err);
    };
  return {
    ...real,
    readFile: failing(real.readFile),
    open: failing(real.open),
    mkdir: failing(real.mkdir),
    readdir: failing(real.readdir),
    unlink: failing(real.unlink),
    stat: failing(real.stat),
  };
});

let root: string;
let store: FilesystemStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kb-fs-errors-'));
  store = new FilesystemStore(root);
  await store.put('segments/t/0/a', 'x');
});
afterEach(() => {
  inject.code = undefined;
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failure(run: () => Promise<unknown>, code: string): Promise<Error> {
  inject.code = code;
  try {
    await run();
  } catch (e) {
    return e as Error;
  } finally {
    inject.code = undefined;
  }
  throw new Error('expected a failure');
}

describe('FilesystemStore error mapping', () => {
  const ops: [string, () => Promise<unknown>, string][] = [
    ['get', () => store.get('segments/t/0/a'), join('segments', 't', '0', 'a')],
    ['put', () => store.put('backups/b/manifest.json', '{}'), join('backups', 'b', 'manifest.json')],
    ['putIfAbsent', () => store.putIfAbsent('lease.json', '{}'), 'lease.json'],
    ['list', () => store.list('segments/'), 'segments'],
    ['delete', () => store.delete(['segments/t/0/a']), join('segments', 't', '0', 'a')],
    ['head', () => store.head('segments/t/0/a'), join('segments', 't', '0', 'a')],
  ];

  for (const [name, run, path] of ops) {
    it(`${name}: EACCES becomes StorageAccessError naming the path, with a hint`, async () => {
      const e = await failure(run, 'EACCES');
      expect(e).toBeInstanceOf(StorageAccessError);
      expect(e.message).toContain(join(root, path));
      expect(e.message).toContain('permission denied');
      expect((e as StorageAccessError).hint).toContain(root);
    });
  }

  it('ENOSPC and EROFS on write become StorageAccessError', async () => {
    expect((await failure(() => store.put('a', 'b'), 'ENOSPC')).message).toMatch(/no space left/);
    expect((await failure(() => store.put('a', 'b'), 'EROFS')).message).toMatch(/read-only/);
  });

  it('an unexpected error passes through untouched', async () => {
    const e = await failure(() => store.get('segments/t/0/a'), 'EIO');
    expect(e).not.toBeInstanceOf(StorageAccessError);
    expect(e.message).toMatch(/^EIO: injected/);
  });

  it('without injected errors the store works (the mock is transparent)', async () => {
    expect((await store.get('segments/t/0/a')).toString()).toBe('x');
    await expect(store.get('segments/t/0/zzz')).rejects.toBeInstanceOf(NotFoundError);
  });
});
