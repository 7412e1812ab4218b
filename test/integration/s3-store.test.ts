// S3Store against the ground's real S3 server (versitygw, versioned bucket).
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { NotFoundError, StorageAccessError } from '../../lib/errors.ts';
import { S3Store } from '../../lib/storage/s3-store.ts';
import { groundS3Client } from '../../tools/ground/ground.ts';
import { groundEndpoints } from '../../tools/ground/settings.ts';
import { ground, uniqueName } from '../support/ground-env.ts';

const BUCKET = 'kafka-backup-test';
const MiB = 1024 * 1024;

describe('S3Store on the ground S3 server', () => {
  const g = ground();
  const prefix = uniqueName('s3-store');
  // Credentials come from the environment (AWS_ACCESS_KEY_ID, …) as the global setup exports them: the default chain.
  const store = new S3Store({ bucket: BUCKET, prefix, endpoint: g.s3Endpoint });
  const raw = groundS3Client(groundEndpoints());

  afterAll(async () => {
    await store.delete(await store.list(''));
    store.destroy();
    raw.destroy();
  });

  async function rejection(p: Promise<unknown>): Promise<Error> {
    return p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e as Error,
    );
  }

  async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    for await (const c of it) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async function* chunked(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  }

  it('names its bucket and prefix as the location', () => {
    expect(store.location).toBe(`s3://${BUCKET}/${prefix}`);
  });

  it('puts, gets, heads and overwrites objects under its prefix', async () => {
    await store.put('backups/b1/manifest.json', '{"v":1}');
    await store.put('segments/t/0/a.kbseg.zst', Buffer.from([0, 1, 254, 255]));
    expect((await store.get('backups/b1/manifest.json')).toString()).toBe('{"v":1}');
    expect([...(await store.get('segments/t/0/a.kbseg.zst'))]).toEqual([0, 1, 254, 255]);
    expect(await store.head('segments/t/0/a.kbseg.zst')).toEqual({ size: 4, modifiedAt: expect.any(Date) });
    expect(await store.head('segments/t/0/missing')).toBeUndefined();
    expect((await store.getIfExists('backups/b1/manifest.json'))?.toString()).toBe('{"v":1}');
    expect(await store.getIfExists('backups/b1/missing.json')).toBeUndefined();

    await store.put('backups/b1/manifest.json', '{"v":2}');
    expect((await store.get('backups/b1/manifest.json')).toString()).toBe('{"v":2}');
    // Stored where the prefix says, as seen by a plain client.
    const head = await raw.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/backups/b1/manifest.json` }),
    );
    expect(head.ContentLength).toBe(7);
  });

  it('throws NotFoundError naming s3://bucket/key for a missing object, also when streaming', async () => {
    const e = await rejection(store.get('backups/nope/manifest.json'));
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toContain(`s3://${BUCKET}/${prefix}/backups/nope/manifest.json`);
    const s = await rejection(collect(store.getStream('segments/nope')));
    expect(s).toBeInstanceOf(NotFoundError);
    expect(s.message).toContain(`s3://${BUCKET}/${prefix}/segments/nope`);
  });

  it('putIfAbsent writes once: the server honours If-None-Match: *', async () => {
    expect(await store.putIfAbsent('lease.json', 'first')).toBe(true);
    expect(await store.putIfAbsent('lease.json', 'second')).toBe(false);
    expect((await store.get('lease.json')).toString()).toBe('first');
    // Deleted (a delete marker: the bucket is versioned), the key is free again, as a released lease must be.
    await store.delete(['lease.json']);
    expect(await store.putIfAbsent('lease.json', 'third')).toBe(true);
    expect((await store.get('lease.json')).toString()).toBe('third');
  });

  it('putIfAbsent lets exactly one of many concurrent writers win a fresh key', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.putIfAbsent('race/lease.json', `writer-${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.get('race/lease.json')).toString()).toBe(`writer-${results.indexOf(true)}`);
  });

  it('measures: versitygw refuses If-None-Match over a delete marker (why putIfAbsent has a fallback)', async () => {
    // If this starts failing, the server was fixed and S3Store.putIfAbsent's fallback may go.
    const Key = `${prefix}/quirk/lease.json`;
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'a', IfNoneMatch: '*' }));
    await raw.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
    const refused = await rejection(
      raw.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'b', IfNoneMatch: '*' })),
    );
    expect(refused.name).toBe('PreconditionFailed');
    expect(await store.head('quirk/lease.json')).toBeUndefined();
  });

  it('putStream uploads ~20 MiB as a multipart object and streams it back intact', async () => {
    const data = randomBytes(20 * MiB + 12_345);
    expect(await store.putStream('big/object.bin', chunked(data, 1_000_000))).toEqual({ size: data.length });
    const back = await collect(store.getStream('big/object.bin'));
    expect(back.length).toBe(data.length);
    expect(createHash('sha256').update(back).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    // A multipart ETag ends in -<part count>: 8 MiB parts make three.
    const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/big/object.bin` }));
    expect(head.ETag).toMatch(/-3"$/);
  });

  it('putStream sends a body of one part or less as a single PutObject', async () => {
    const data = randomBytes(3 * MiB);
    expect(await store.putStream('small/object.bin', chunked(data, 65_536))).toEqual({ size: data.length });
    expect((await store.get('small/object.bin')).equals(data)).toBe(true);
    const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/small/object.bin` }));
    expect(head.ETag).not.toContain('-');
  });

  it('lists with pagination and deletes in batches, more than 1000 keys', async () => {
    const many = new S3Store({ bucket: BUCKET, prefix: `${prefix}/many`, endpoint: g.s3Endpoint });
    const keys = Array.from({ length: 1003 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => many.put(k, k)));
    }
    // Default page size: the server returns at most 1000 per page.
    expect(await many.list('k/')).toEqual(keys);
    expect(await many.list('k/100')).toEqual(['k/1000', 'k/1001', 'k/1002']);
    await many.delete([...keys, 'k/never-existed']);
    expect(await many.list('')).toEqual([]);
    many.destroy();
  });

  it('lists across small pages in sorted order with a prefix', async () => {
    const paged = new S3Store({
      bucket: BUCKET,
      prefix: `${prefix}/paged`,
      endpoint: g.s3Endpoint,
      listPageSize: 2,
    });
    const keys = ['segments/b/1', 'segments/a/0', 'segments/a/1', 'backups/x/manifest.json', 'segments/c/0'];
    for (const k of keys) await paged.put(k, 'x');
    expect(await paged.list('segments/')).toEqual([
      'segments/a/0',
      'segments/a/1',
      'segments/b/1',
      'segments/c/0',
    ]);
    expect(await paged.list('')).toEqual([
      'backups/x/manifest.json',
      'segments/a/0',
      'segments/a/1',
      'segments/b/1',
      'segments/c/0',
    ]);
    await paged.delete(keys);
    expect(await paged.list('')).toEqual([]);
    paged.destroy();
  });

  it('throws NotFoundError naming the bucket when it does not exist', async () => {
    const nowhere = new S3Store({
      bucket: 'kafka-backup-no-such-bucket',
      prefix: 'p',
      endpoint: g.s3Endpoint,
    });
    for (const attempt of [() => nowhere.get('x'), () => nowhere.list(''), () => nowhere.put('x', 'y')]) {
      const e = await rejection(attempt());
      expect(e).toBeInstanceOf(NotFoundError);
      expect(e.message).toContain('"kafka-backup-no-such-bucket"');
    }
    nowhere.destroy();
  });

  it('throws StorageAccessError naming the bucket for unknown keys and wrong secrets, never echoing the secret', async () => {
    const wrongSecret = 'wrong-secret-Zq9xV7';
    const cases = [
      { accessKeyId: 'no-such-access-key', secretAccessKey: wrongSecret },
      { accessKeyId: groundEndpoints().s3AccessKey, secretAccessKey: wrongSecret },
    ];
    for (const credentials of cases) {
      const denied = new S3Store({ bucket: BUCKET, prefix, endpoint: g.s3Endpoint, credentials });
      for (const attempt of [
        () => denied.list(''),
        () => denied.get('lease.json'),
        () => denied.put('x', 'y'),
      ]) {
        const e = await rejection(attempt());
        expect(e, credentials.accessKeyId).toBeInstanceOf(StorageAccessError);
        expect(e.message).toContain(`"${BUCKET}"`);
        expect(e.message).not.toContain(wrongSecret);
        expect((e as StorageAccessError).hint).toMatch(/AWS credentials/);
      }
      denied.destroy();
    }
    // Nothing was written by the refused put.
    expect(await store.head('x')).toBeUndefined();
  });
});
