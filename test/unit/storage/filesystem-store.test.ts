import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, UserError } from '../../../lib/errors.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';

let root: string;
let store: FilesystemStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kb-fs-store-'));
  store = new FilesystemStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function* pieces(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of it) chunks.push(c);
  return Buffer.concat(chunks);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

describe('FilesystemStore', () => {
  it('names its folder as the location', () => {
    expect(store.location).toBe(root);
  });

  it('puts and gets bytes and strings under nested keys, replacing whole objects', async () => {
    await store.put('backups/b1/manifest.json', '{"a":1}');
    await store.put('segments/t/0/x.kbseg.zst', Buffer.from([0, 1, 2, 255]));
    expect((await store.get('backups/b1/manifest.json')).toString()).toBe('{"a":1}');
    expect([...(await store.get('segments/t/0/x.kbseg.zst'))]).toEqual([0, 1, 2, 255]);
    expect(readFileSync(join(root, 'segments', 't', '0', 'x.kbseg.zst'))).toEqual(
      Buffer.from([0, 1, 2, 255]),
    );

    await store.put('backups/b1/manifest.json', 'v2');
    expect((await store.get('backups/b1/manifest.json')).toString()).toBe('v2');
    expect(readdirSync(join(root, 'backups', 'b1'))).toEqual(['manifest.json']);
  });

  it('getIfExists and head tell present from absent', async () => {
    await store.put('a/b', 'hello');
    expect((await store.getIfExists('a/b'))?.toString()).toBe('hello');
    expect(await store.getIfExists('a/c')).toBeUndefined();
    expect(await store.head('a/b')).toEqual({ size: 5, modifiedAt: expect.any(Date) });
    expect(await store.head('a/c')).toBeUndefined();
    expect(await store.head('a')).toBeUndefined();
    expect(await store.head('a/b/c')).toBeUndefined();
  });

  it('throws NotFoundError naming the full path for a missing object, also when streaming', async () => {
    const e = await rejection(store.get('backups/nope/manifest.json'));
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toContain(join(root, 'backups', 'nope', 'manifest.json'));

    const s = await rejection(collect(store.getStream('segments/missing')));
    expect(s).toBeInstanceOf(NotFoundError);
    expect(s.message).toContain(join(root, 'segments', 'missing'));
  });

  it('putIfAbsent writes once and then reports the object as present', async () => {
    expect(await store.putIfAbsent('lease.json', 'first')).toBe(true);
    expect(await store.putIfAbsent('lease.json', 'second')).toBe(false);
    expect((await store.get('lease.json')).toString()).toBe('first');
    expect(readdirSync(root)).toEqual(['lease.json']);
  });

  it('putIfAbsent lets exactly one of many concurrent writers win', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putIfAbsent('lease.json', `writer-${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await store.get('lease.json')).toString()).toBe(`writer-${winner}`);
  });

  it('streams an object in and out', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024 + 17);
    expect(await store.putStream('big/object', pieces('head-', big, '-tail'))).toEqual({
      size: big.length + 10,
    });
    const back = await collect(store.getStream('big/object'));
    expect(back.length).toBe(big.length + 10);
    expect(back.subarray(0, 5).toString()).toBe('head-');
    expect(back.subarray(-5).toString()).toBe('-tail');
  });

  it('leaves no object and no temp file when a stream fails midway', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('source broke');
    }
    const e = await rejection(store.putStream('dir/obj', failing()));
    expect(e.message).toBe('source broke');
    expect(await store.head('dir/obj')).toBeUndefined();
    expect(readdirSync(join(root, 'dir'))).toEqual([]);
  });

  it('lists keys recursively, sorted, filtered by prefix, skipping temp files', async () => {
    for (const k of [
      'segments/t/1/b',
      'segments/t/0/a',
      'segments/u/0/c',
      'backups/b2/manifest.json',
      'lease.json',
    ]) {
      await store.put(k, k);
    }
    writeFileSync(join(root, 'segments', 't', '0', '.a.kbtmp-0123456789abcdef'), 'in flight');
    expect(await store.list('')).toEqual([
      'backups/b2/manifest.json',
      'lease.json',
      'segments/t/0/a',
      'segments/t/1/b',
      'segments/u/0/c',
    ]);
    expect(await store.list('segments/')).toEqual(['segments/t/0/a', 'segments/t/1/b', 'segments/u/0/c']);
    expect(await store.list('segments/t/')).toEqual(['segments/t/0/a', 'segments/t/1/b']);
    expect(await store.list('segments/t')).toEqual(['segments/t/0/a', 'segments/t/1/b']);
    expect(await store.list('back')).toEqual(['backups/b2/manifest.json']);
    expect(await store.list('nothing/here/')).toEqual([]);
  });

  it('lists in UTF-8 byte order, as S3 does', async () => {
    // By UTF-16 code units U+1F600 (surrogates D83D…) sorts before U+FF5E; by UTF-8 bytes (F0… > EF…) after.
    await store.put('k/\u{1F600}', '1');
    await store.put('k/\uFF5E', '2');
    expect(await store.list('k/')).toEqual(['k/\uFF5E', 'k/\u{1F600}']);
  });

  it('lists nothing, rather than failing, when the root does not exist yet', async () => {
    const fresh = new FilesystemStore(join(root, 'not', 'yet'));
    expect(await fresh.list('')).toEqual([]);
    await fresh.put('a', 'b');
    expect(await fresh.list('')).toEqual(['a']);
  });

  it('deletes, tolerating absent keys', async () => {
    await store.put('a/1', 'x');
    await store.put('a/2', 'y');
    await store.delete(['a/1', 'a/missing', 'b/missing/deeper']);
    expect(await store.list('')).toEqual(['a/2']);
    await store.delete([]);
    expect(await store.list('')).toEqual(['a/2']);
  });

  it('rejects keys that would leave the root or are not plain keys', async () => {
    for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', 'a/./b', '', 'a\\b']) {
      const e = await rejection(store.put(key, 'x'));
      expect(e, key).toBeInstanceOf(UserError);
      expect(e.message).toContain('invalid object key');
    }
    await expect(store.get('..')).rejects.toThrow(/invalid object key/);
    await expect(store.list('../')).rejects.toThrow(/invalid object key/);
    expect(existsSync(join(root, '..', 'escape'))).toBe(false);
  });
});
