import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLease } from '../../../../lib/backup/lease.ts';
import { ConfigError, ExitCode, exitCodeFor } from '../../../../lib/errors.ts';
import { EncryptingStore } from '../../../../lib/storage/encryption/encrypting-store.ts';
import {
  EncryptionKeyNotFoundError,
  EncryptionKeyRequiredError,
  ObjectNotEncryptedError,
  TamperedObjectError,
  WrongEncryptionKeyError,
} from '../../../../lib/storage/encryption/errors.ts';
import { KeyFileKeySource, keyFileId } from '../../../../lib/storage/encryption/key-file.ts';
import { PlaintextStore } from '../../../../lib/storage/encryption/plaintext-store.ts';
import { FilesystemStore } from '../../../../lib/storage/filesystem-store.ts';
import type { ObjectStore } from '../../../../lib/storage/object-store.ts';
import { openStore } from '../../../../lib/storage/open-store.ts';
import {
  type ObjectStorageState,
  type PutOptions,
  storageStateOf,
} from '../../../../lib/storage/storage-class.ts';

let root: string;
let keyPath: string;
let keyText: string;
let raw: FilesystemStore;
let store: EncryptingStore;

function newKeyFile(path: string): string {
  const text = `${randomBytes(32).toString('base64')}\n`;
  writeFileSync(path, text, { mode: 0o600 });
  return text.trim();
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kb-encrypted-'));
  keyPath = join(root, 'backup.key');
  keyText = newKeyFile(keyPath);
  raw = new FilesystemStore(join(root, 'store'));
  // Small chunks: the objects of these tests span several.
  store = new EncryptingStore(raw, new KeyFileKeySource(keyPath), { chunkSize: 1024 });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function* pieces(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as Error,
  );
}

/** A record value that must never be found in what is stored. */
const SECRET_VALUE = Buffer.from('{"card":"4111-1111-1111-1111","holder":"Ada Lovelace"}');

function storedBytes(key: string): Buffer {
  return readFileSync(join(root, 'store', ...key.split('/')));
}

describe('EncryptingStore', () => {
  it('round-trips put/get, putIfAbsent, putStream/getStream; head and putStream report the plaintext size', async () => {
    const data = Buffer.concat([randomBytes(3000), SECRET_VALUE, randomBytes(2000)]);
    await store.put('backups/b1/manifest.json', data);
    expect((await store.get('backups/b1/manifest.json')).equals(data)).toBe(true);
    expect(await store.putIfAbsent('backups/b1/manifest.json', 'other')).toBe(false);
    expect(await store.putIfAbsent('backups/b2/manifest.json', '{"a":1}')).toBe(true);
    expect((await store.getIfExists('backups/b2/manifest.json'))?.toString()).toBe('{"a":1}');
    expect(await store.getIfExists('backups/none/manifest.json')).toBeUndefined();

    const key = 'segments/t/0/00000000000000000000-00000000000000000009-00000000.kbseg.zst';
    expect(await store.putStream(key, pieces(data, 700))).toEqual({ size: data.length });
    expect((await collect(store.getStream(key))).equals(data)).toBe(true);
    expect(await store.head(key)).toEqual({ size: data.length, modifiedAt: expect.any(Date) });
    expect(await store.head('segments/none')).toBeUndefined();
    // Header plus a tag per chunk: what is stored is larger than what was put.
    expect((await raw.head(key))!.size).toBeGreaterThan(data.length + 5 * 16);

    expect(await store.list('segments/')).toEqual([key]);
    await store.delete([key]);
    expect(await store.head(key)).toBeUndefined();
  });

  it('stores no plaintext: a known record value is in no stored object', async () => {
    await store.put('backups/b1/manifest.json', SECRET_VALUE);
    await store.putStream(
      'segments/t/0/s.kbseg.zst',
      pieces(Buffer.concat([SECRET_VALUE, SECRET_VALUE]), 10),
    );
    for (const key of await raw.list('')) {
      const bytes = storedBytes(key);
      expect(bytes.includes(SECRET_VALUE.subarray(0, 16)), key).toBe(false);
      expect(bytes.includes(Buffer.from('Ada Lovelace')), key).toBe(false);
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('KBENC');
    }
    // The same plaintext twice is stored differently (a data key and nonce per object).
    await store.put('a', SECRET_VALUE);
    await store.put('b', SECRET_VALUE);
    expect(storedBytes('a').subarray(30).equals(storedBytes('b').subarray(30))).toBe(false);
  });

  it('keeps leases plaintext (they name only the holder)', async () => {
    const lease = await acquireLease(store, { backupId: 'b1', ttlMs: 60_000 });
    const json = JSON.parse(storedBytes('lease.json').toString('utf8')) as { backup_id: string };
    expect(json.backup_id).toBe('b1');
    await lease.release();
    expect(await raw.head('lease.json')).toBeUndefined();
  });

  it('a wrong key file is refused naming the object and both key ids, never the key', async () => {
    await store.put('backups/b1/manifest.json', SECRET_VALUE);
    const otherPath = join(root, 'other.key');
    const otherText = newKeyFile(otherPath);
    const other = new EncryptingStore(raw, new KeyFileKeySource(otherPath));
    for (const attempt of [
      () => other.get('backups/b1/manifest.json'),
      () => collect(other.getStream('backups/b1/manifest.json')),
    ]) {
      const e = await failure(attempt());
      expect(e).toBeInstanceOf(WrongEncryptionKeyError);
      expect(exitCodeFor(e)).toBe(ExitCode.access);
      expect(e.message).toContain(`${raw.location}/backups/b1/manifest.json`);
      expect(e.message).toContain(keyFileId(Buffer.from(keyText, 'base64')));
      expect(e.message).toContain(keyFileId(Buffer.from(otherText, 'base64')));
      expect(e.message).toContain(otherPath);
      for (const secret of [keyText, otherText])
        expect(`${e.message} ${(e as ConfigError).hint}`).not.toContain(secret);
    }
  });

  it('a missing key file is refused naming the file, the object and how to make a key; a malformed one without quoting it', async () => {
    await store.put('backups/b1/manifest.json', SECRET_VALUE);
    const missing = new EncryptingStore(raw, new KeyFileKeySource(join(root, 'nope.key')));
    const e = await failure(missing.get('backups/b1/manifest.json'));
    expect(e).toBeInstanceOf(EncryptionKeyNotFoundError);
    expect(exitCodeFor(e)).toBe(ExitCode.access);
    expect(e.message).toContain(join(root, 'nope.key'));
    expect(e.message).toContain('backups/b1/manifest.json');
    expect((e as EncryptionKeyNotFoundError).hint).toContain('openssl rand -base64 32');

    const badPath = join(root, 'bad.key');
    writeFileSync(badPath, 'hunter2-is-not-a-key\n');
    const bad = await failure(new EncryptingStore(raw, new KeyFileKeySource(badPath)).put('x', 'y'));
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.message).toContain(badPath);
    expect(bad.message).not.toContain('hunter2');
    expect(await raw.head('x')).toBeUndefined();
  });

  it('an object copied to another key does not open there', async () => {
    await store.put('backups/b1/manifest.json', SECRET_VALUE);
    const from = join(root, 'store', 'backups', 'b1', 'manifest.json');
    const to = join(root, 'store', 'backups', 'b2', 'manifest.json');
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    const e = await failure(store.get('backups/b2/manifest.json'));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toContain(`${raw.location}/backups/b2/manifest.json`);
    expect(e.message).toMatch(/copied or renamed/);
  });

  it('a changed stored byte is refused by get, getStream and (for a size change) head', async () => {
    const key = 'segments/t/0/s.kbseg.zst';
    await store.putStream(key, pieces(randomBytes(5000), 999));
    const path = join(root, 'store', ...key.split('/'));
    const bytes = readFileSync(path);
    bytes[bytes.length - 2000]! ^= 1;
    writeFileSync(path, bytes);
    expect(await failure(store.get(key))).toBeInstanceOf(TamperedObjectError);
    expect(await failure(collect(store.getStream(key)))).toBeInstanceOf(TamperedObjectError);
    // Cut 5 bytes into the final chunk (904 bytes + tag): no chunk is that short.
    writeFileSync(path, bytes.subarray(0, bytes.length - (904 + 16) + 5));
    const e = await failure(store.head(key));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toContain(key);
  });

  it('an unencrypted object in an encrypted location is refused by get, getStream and head, naming it', async () => {
    await raw.put('backups/old/manifest.json', '{"format_version":1}');
    for (const attempt of [
      () => store.get('backups/old/manifest.json'),
      () => store.getIfExists('backups/old/manifest.json'),
      () => collect(store.getStream('backups/old/manifest.json')),
      () => store.head('backups/old/manifest.json'),
    ]) {
      const e = await failure(attempt());
      expect(e).toBeInstanceOf(ObjectNotEncryptedError);
      expect(exitCodeFor(e)).toBe(ExitCode.verificationFailed);
      expect(e.message).toContain(`${raw.location}/backups/old/manifest.json is not encrypted`);
      expect((e as ObjectNotEncryptedError).hint).toMatch(/new location/);
    }
  });
});

describe('PlaintextStore (a location without storage.encryption)', () => {
  it('passes plaintext through, and refuses an encrypted object naming it and its key', async () => {
    const plain: ObjectStore = new PlaintextStore(raw);
    await plain.put('backups/p/manifest.json', '{"a":1}');
    expect((await plain.get('backups/p/manifest.json')).toString()).toBe('{"a":1}');
    const data = randomBytes(10_000);
    await plain.putStream('segments/p', pieces(data, 3000));
    expect((await collect(plain.getStream('segments/p'))).equals(data)).toBe(true);
    await plain.put('tiny', 'KB');
    expect((await collect(plain.getStream('tiny'))).toString()).toBe('KB');
    await plain.put('empty', '');
    expect((await collect(plain.getStream('empty'))).length).toBe(0);

    await store.put('backups/e/manifest.json', SECRET_VALUE);
    await store.putStream('segments/e', pieces(data, 3000));
    for (const attempt of [
      () => plain.get('backups/e/manifest.json'),
      () => plain.getIfExists('backups/e/manifest.json'),
      () => collect(plain.getStream('segments/e')),
    ]) {
      const e = await failure(attempt());
      expect(e).toBeInstanceOf(EncryptionKeyRequiredError);
      expect(exitCodeFor(e)).toBe(ExitCode.usage);
      expect(e.message).toMatch(
        /is encrypted \(with key file keyfile:[0-9a-f]{16}\), but the config has no storage.encryption/,
      );
      expect((e as EncryptionKeyRequiredError).hint).toMatch(/--key-file/);
    }
  });
});

describe('openStore with storage.encryption', () => {
  it('opens an encrypting store for key_file, a guarded plaintext store without', async () => {
    const path = join(root, 'store');
    const enc = openStore({ backend: 'filesystem', path, encryption: { key_file: keyPath } });
    expect(enc).toBeInstanceOf(EncryptingStore);
    await enc.put('backups/x/manifest.json', SECRET_VALUE);
    expect(storedBytes('backups/x/manifest.json').includes(SECRET_VALUE)).toBe(false);
    expect((await store.get('backups/x/manifest.json')).equals(SECRET_VALUE)).toBe(true);
    const plain = openStore({ backend: 'filesystem', path });
    expect(plain).toBeInstanceOf(PlaintextStore);
    expect(await failure(plain.get('backups/x/manifest.json'))).toBeInstanceOf(EncryptionKeyRequiredError);
  });
});

describe('storage classes through the encrypting and plaintext stores', () => {
  /** A folder that remembers the class each write asked for, and answers storageState with it. */
  class ClassedStore extends FilesystemStore {
    readonly classes = new Map<string, string | undefined>();
    override put(key: string, body: Uint8Array | string, options?: PutOptions) {
      this.classes.set(key, options?.storageClass);
      return super.put(key, body);
    }
    override putStream(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions) {
      this.classes.set(key, options?.storageClass);
      return super.putStream(key, body);
    }
    async storageState(key: string): Promise<ObjectStorageState | undefined> {
      return this.classes.has(key) ? storageStateOf({ StorageClass: this.classes.get(key) }) : undefined;
    }
  }

  it('hands the class of put and putStream to the store below, and asks it for an object state', async () => {
    const inner = new ClassedStore(join(root, 'classed'));
    for (const outer of [
      new EncryptingStore(inner, new KeyFileKeySource(keyPath)),
      new PlaintextStore(inner),
    ]) {
      const tag = outer instanceof EncryptingStore ? 'enc' : 'plain';
      await outer.putStream(`${tag}/seg`, pieces(randomBytes(5000), 700), { storageClass: 'GLACIER_IR' });
      await outer.put(`${tag}/small`, 'x', { storageClass: 'ONEZONE_IA' });
      await outer.put(`${tag}/manifest`, '{}');
      expect(await outer.storageState!(`${tag}/seg`)).toMatchObject({
        storageClass: 'GLACIER_IR',
        needsRetrieval: false,
      });
      expect(await outer.storageState!(`${tag}/absent`)).toBeUndefined();
    }
    expect(Object.fromEntries(inner.classes)).toEqual({
      'enc/seg': 'GLACIER_IR',
      'enc/small': 'ONEZONE_IA',
      'enc/manifest': undefined,
      'plain/seg': 'GLACIER_IR',
      'plain/small': 'ONEZONE_IA',
      'plain/manifest': undefined,
    });
  });

  it('has no storageState over a store without classes', () => {
    expect(store.storageState).toBeUndefined();
    expect(new PlaintextStore(raw).storageState).toBeUndefined();
  });
});
