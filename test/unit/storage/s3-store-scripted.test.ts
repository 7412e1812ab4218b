// S3Store against a scripted HTTP server: proves retries (parts included), aborts and error mapping
// without depending on a real server misbehaving on cue.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ObjectArchivedError, StorageAccessError } from '../../../lib/errors.ts';
import { S3Store } from '../../../lib/storage/s3-store.ts';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  ifNoneMatch: string | undefined;
  storageClass: string | undefined;
  bytes: number;
}

type Script = (
  req: Seen,
  attempt: number,
) => { status: number; body?: string; etag?: string; headers?: Record<string, string> } | undefined;

let server: Server;
let endpoint: string;
let seen: Seen[] = [];
let script: Script = () => undefined;

const xmlError = (code: string) =>
  `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;

function respond(req: IncomingMessage, res: ServerResponse, bytes: number): void {
  const url = new URL(req.url!, 'http://x');
  const s: Seen = {
    method: req.method!,
    path: url.pathname,
    query: url.searchParams,
    ifNoneMatch: req.headers['if-none-match'],
    storageClass: req.headers['x-amz-storage-class'] as string | undefined,
    bytes,
  };
  const attempt =
    seen.filter((o) => o.method === s.method && o.path === s.path && sameQuery(o.query, s.query)).length + 1;
  seen.push(s);
  const scripted = script(s, attempt);
  if (scripted) {
    res.writeHead(scripted.status, {
      'content-type': 'application/xml',
      ...(scripted.etag ? { etag: scripted.etag } : {}),
      ...scripted.headers,
    });
    res.end(scripted.body ?? '');
    return;
  }
  if (s.method === 'POST' && s.query.has('uploads')) {
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>',
    );
  } else if (s.method === 'POST' && s.query.has('uploadId')) {
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end('<CompleteMultipartUploadResult><ETag>"done"</ETag></CompleteMultipartUploadResult>');
  } else {
    res.writeHead(s.method === 'DELETE' ? 204 : 200, {
      etag: `"etag-${s.query.get('partNumber') ?? 'put'}"`,
    });
    res.end();
  }
}

function sameQuery(a: URLSearchParams, b: URLSearchParams): boolean {
  return a.toString() === b.toString();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => respond(req, res, bytes));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

beforeEach(() => {
  seen = [];
  script = () => undefined;
});

function store(): S3Store {
  return new S3Store({
    bucket: 'b',
    prefix: 'p',
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' },
    partSize: 5 * 1024 * 1024,
  });
}

async function* body(total: number, chunk = 1024 * 1024): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += chunk) yield Buffer.alloc(Math.min(chunk, total - sent), 1);
}

const MiB = 1024 * 1024;

describe('S3Store putIfAbsent', () => {
  const put = (r: Seen) => r.method === 'PUT';

  it('returns false on 412 when the object is there, without writing', async () => {
    script = (r) => (put(r) ? { status: 412, body: xmlError('PreconditionFailed') } : undefined);
    const s = store();
    expect(await s.putIfAbsent('lease.json', 'mine')).toBe(false);
    s.destroy();
    expect(seen.map((r) => [r.method, r.ifNoneMatch])).toEqual([
      ['PUT', '*'],
      ['HEAD', undefined],
    ]);
  });

  it('retries the conditional put when refused for an object that HEAD cannot see', async () => {
    script = (r, attempt) => {
      if (put(r) && attempt === 1) return { status: 412, body: xmlError('PreconditionFailed') };
      if (r.method === 'HEAD') return { status: 404 };
      return undefined;
    };
    const s = store();
    expect(await s.putIfAbsent('lease.json', 'mine')).toBe(true);
    s.destroy();
    expect(seen.filter(put).map((r) => r.ifNoneMatch)).toEqual(['*', '*']);
  });

  it('falls back to put-and-confirm when a server keeps counting a delete marker as an object', async () => {
    let stored = '';
    script = (r) => {
      if (put(r) && r.ifNoneMatch === '*') return { status: 412, body: xmlError('PreconditionFailed') };
      if (put(r)) {
        stored = 'mine';
        return undefined;
      }
      if (r.method === 'HEAD') return { status: 404 };
      if (r.method === 'GET') return { status: 200, body: stored };
      return undefined;
    };
    const s = store();
    expect(await s.putIfAbsent('lease.json', 'mine')).toBe(true);
    // Lost the race: someone else's body is what reads back.
    stored = '';
    script = (r) => {
      if (put(r) && r.ifNoneMatch === '*') return { status: 412, body: xmlError('PreconditionFailed') };
      if (r.method === 'HEAD') return { status: 404 };
      if (r.method === 'GET') return { status: 200, body: 'theirs' };
      return undefined;
    };
    expect(await s.putIfAbsent('lease.json', 'mine')).toBe(false);
    s.destroy();
  });

  it('retries 409 ConditionalRequestConflict, then honours the 412', async () => {
    script = (r, attempt) => {
      if (put(r))
        return attempt === 1
          ? { status: 409, body: xmlError('ConditionalRequestConflict') }
          : { status: 412 };
      return undefined;
    };
    const s = store();
    expect(await s.putIfAbsent('lease.json', 'mine')).toBe(false);
    s.destroy();
    expect(seen.filter(put)).toHaveLength(2);
  });
});

describe('S3Store storage class (storage.storage_class)', () => {
  const kind = (r: Seen) =>
    r.query.has('partNumber')
      ? 'UploadPart'
      : r.query.has('uploads')
        ? 'CreateMultipartUpload'
        : r.query.has('uploadId')
          ? 'CompleteMultipartUpload'
          : 'PutObject';
  const classes = () => seen.map((r) => [kind(r), r.storageClass ?? '-']);

  it('sends the class with a PutObject and a CreateMultipartUpload, not with parts or the completion', async () => {
    const s = store();
    await s.put('small', 'hello', { storageClass: 'STANDARD_IA' });
    expect(await s.putStream('one-part', body(MiB), { storageClass: 'GLACIER_IR' })).toEqual({ size: MiB });
    expect(await s.putStream('big', body(11 * MiB), { storageClass: 'ONEZONE_IA' })).toEqual({
      size: 11 * MiB,
    });
    s.destroy();
    expect(classes()).toEqual([
      ['PutObject', 'STANDARD_IA'],
      ['PutObject', 'GLACIER_IR'],
      ['CreateMultipartUpload', 'ONEZONE_IA'],
      ['UploadPart', '-'],
      ['UploadPart', '-'],
      ['UploadPart', '-'],
      ['CompleteMultipartUpload', '-'],
    ]);
  });

  it('sends none without options, and none for STANDARD (the default, which not every server takes)', async () => {
    const s = store();
    await s.put('a', 'x');
    await s.put('b', 'x', { storageClass: 'STANDARD' });
    await s.putStream('c', body(11 * MiB), { storageClass: 'STANDARD' });
    s.destroy();
    expect(seen.every((r) => r.storageClass === undefined)).toBe(true);
    expect(seen.length).toBeGreaterThan(3);
  });

  it('reads the class from HeadObject, and turns a GET refused with InvalidObjectState into ObjectArchivedError', async () => {
    script = (r) => {
      if (r.method === 'HEAD' && r.path === '/b/p/cold') return { status: 200, headers: COLD };
      if (r.method === 'HEAD' && r.path === '/b/p/warm') return { status: 200 };
      if (r.method === 'HEAD') return { status: 404 };
      if (r.method === 'GET')
        return {
          status: 403,
          body: '<?xml version="1.0"?><Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object\'s storage class</Message><StorageClass>DEEP_ARCHIVE</StorageClass></Error>',
        };
      return undefined;
    };
    const s = store();
    expect(await s.storageState('cold')).toEqual({
      storageClass: 'DEEP_ARCHIVE',
      needsRetrieval: true,
      retrievalInProgress: true,
    });
    expect(await s.storageState('warm')).toEqual({
      storageClass: 'STANDARD',
      needsRetrieval: false,
      retrievalInProgress: false,
    });
    expect(await s.storageState('absent')).toBeUndefined();
    const read = await s.get('cold').catch((e: unknown) => e);
    s.destroy();
    expect(read).toBeInstanceOf(ObjectArchivedError);
    expect((read as ObjectArchivedError).message).toBe(
      's3://b/p/cold is in DEEP_ARCHIVE: S3 serves it only once it has been retrieved',
    );
    expect((read as ObjectArchivedError).hint).toContain('aws s3api restore-object --bucket b --key p/cold');
  });
});

const COLD = { 'x-amz-storage-class': 'DEEP_ARCHIVE', 'x-amz-restore': 'ongoing-request="true"' };

describe('S3Store retries and aborts', () => {
  it('retries each multipart part that fails with 503 SlowDown or 500, then completes in order', async () => {
    script = (r, attempt) => {
      if (r.method !== 'PUT' || !r.query.has('partNumber') || attempt > 1) return undefined;
      return {
        status: r.query.get('partNumber') === '2' ? 500 : 503,
        body: xmlError(r.query.get('partNumber') === '2' ? 'InternalError' : 'SlowDown'),
      };
    };
    const s = store();
    expect(await s.putStream('big', body(11 * MiB))).toEqual({ size: 11 * MiB });
    s.destroy();

    const parts = seen.filter((r) => r.method === 'PUT' && r.query.has('partNumber'));
    const attemptsPerPart = Object.fromEntries(
      ['1', '2', '3'].map((n) => [n, parts.filter((p) => p.query.get('partNumber') === n).length]),
    );
    expect(attemptsPerPart).toEqual({ '1': 2, '2': 2, '3': 2 });
    // The resent part carried its whole body again.
    expect(parts.filter((p) => p.query.get('partNumber') === '1').map((p) => p.bytes)).toEqual([
      5 * MiB,
      5 * MiB,
    ]);
    expect(parts.filter((p) => p.query.get('partNumber') === '3').map((p) => p.bytes)).toEqual([MiB, MiB]);
    const complete = seen.filter((r) => r.method === 'POST' && r.query.has('uploadId'));
    expect(complete).toHaveLength(1);
    expect(seen.every((r) => r.path === '/b/p/big')).toBe(true);
  });

  it('retries a single PutObject on 500', async () => {
    script = (r, attempt) =>
      r.method === 'PUT' && attempt === 1 ? { status: 500, body: xmlError('InternalError') } : undefined;
    const s = store();
    await s.put('small', 'hello');
    s.destroy();
    expect(seen.filter((r) => r.method === 'PUT').map((r) => r.bytes)).toEqual([5, 5]);
  });

  it('aborts the multipart upload when a part is refused, and reports access denied', async () => {
    script = (r) =>
      r.method === 'PUT' && r.query.get('partNumber') === '2'
        ? { status: 403, body: xmlError('AccessDenied') }
        : undefined;
    const s = store();
    const e = await s.putStream('big', body(12 * MiB)).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    s.destroy();
    expect(e).toBeInstanceOf(StorageAccessError);
    expect(e!.message).toContain('"b"');
    expect(e!.message).not.toContain('not-a-real-secret');
    expect(seen.filter((r) => r.method === 'DELETE' && r.query.get('uploadId') === 'up-1')).toHaveLength(1);
    expect(seen.filter((r) => r.method === 'POST' && r.query.has('uploadId'))).toHaveLength(0);
  });

  it('aborts the multipart upload when the source stream fails after it started', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield* body(12 * MiB);
      throw new Error('source broke');
    }
    const s = store();
    await expect(s.putStream('big', broken())).rejects.toThrow('source broke');
    s.destroy();
    expect(seen.filter((r) => r.method === 'POST' && r.query.has('uploads'))).toHaveLength(1);
    expect(seen.filter((r) => r.method === 'DELETE' && r.query.get('uploadId') === 'up-1')).toHaveLength(1);
    expect(seen.filter((r) => r.method === 'POST' && r.query.has('uploadId'))).toHaveLength(0);
  });

  it('starts nothing when the source fails before a second part exists', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield* body(7 * MiB);
      throw new Error('source broke');
    }
    const s = store();
    await expect(s.putStream('big', broken())).rejects.toThrow('source broke');
    s.destroy();
    expect(seen).toEqual([]);
  });
});

describe('S3Store errors before any answer', () => {
  it('turns a credentials provider failure into StorageAccessError naming the bucket', async () => {
    const s = new S3Store({
      bucket: 'b',
      endpoint,
      region: 'us-east-1',
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        });
      },
    });
    const e = await s.put('k', 'v').then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    s.destroy();
    expect(e).toBeInstanceOf(StorageAccessError);
    expect(e!.message).toMatch(/no AWS credentials found to access S3 bucket "b"/);
    expect((e as StorageAccessError).hint).toMatch(/AWS_ACCESS_KEY_ID/);
    expect(seen).toEqual([]);
  });

  it('turns an unreachable endpoint into StorageAccessError naming bucket and endpoint', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const s = new S3Store({
      bucket: 'b',
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 's' },
      maxAttempts: 1,
    });
    const e = await s.list('').then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    s.destroy();
    expect(e).toBeInstanceOf(StorageAccessError);
    expect(e!.message).toContain(`S3 bucket "b" at http://127.0.0.1:${port}`);
    expect(e!.message).toContain('ECONNREFUSED');
  });
});
