import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NotFoundError } from '../errors.ts';
import { checkKey, checkPrefix, sortKeys } from './keys.ts';
import type { ObjectLockInfo, ObjectStore } from './object-store.ts';
import { mapS3Error, s3ErrorCode, s3Status } from './s3-errors.ts';
import { type ObjectStorageState, type PutOptions, storageStateOf } from './storage-class.ts';

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** S3's smallest allowed part (all but the last). */
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Parts in flight at once: memory is (this + 1) × part size. */
const PART_CONCURRENCY = 4;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

export interface S3StoreOptions {
  bucket: string;
  /** Folder inside the bucket; keys live under `prefix/`. Empty or absent: the bucket's root. */
  prefix?: string;
  region?: string;
  /** An S3-compatible server (MinIO, versitygw, …). Defaults to AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Defaults to true with a custom endpoint (most S3-compatible servers want it), false on AWS. */
  forcePathStyle?: boolean;
  /** Explicit credentials; by default the SDK's chain (env, profile, SSO, container/instance role). */
  credentials?: S3ClientConfig['credentials'];
  /** SDK attempts per request (first try included) for throttling, 5xx and network errors. */
  maxAttempts?: number;
  /** A ready-made client: region, endpoint, credentials and retry options above are then ignored. */
  client?: S3Client;
  /** Multipart part size for putStream; at least 5 MiB. */
  partSize?: number;
  /** Keys per ListObjectsV2 page (S3 returns at most 1000); small values let tests exercise pagination. */
  listPageSize?: number;
  /**
   * Put every object written under Object Lock for `days` (the bucket must have Object Lock enabled). Requests
   * then carry a CRC32 checksum, which S3 requires with Object Lock parameters.
   */
  objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
}

/** A backup location in an S3 bucket (or an S3-compatible server) under a key prefix. */
export class S3Store implements ObjectStore {
  readonly location: string;
  readonly bucket: string;
  readonly #prefix: string;
  readonly #client: S3Client;
  readonly #endpoint: string | undefined;
  readonly #partSize: number;
  readonly #listPageSize: number | undefined;
  readonly #objectLock: S3StoreOptions['objectLock'];

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.#prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.#prefix !== '') checkKey(this.#prefix);
    this.location = `s3://${this.bucket}${this.#prefix ? `/${this.#prefix}` : ''}`;
    this.#endpoint =
      options.endpoint ?? process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
    this.#partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (this.#partSize < MIN_PART_SIZE)
      throw new RangeError(`partSize ${this.#partSize} is below S3's 5 MiB`);
    this.#listPageSize = options.listPageSize;
    this.#objectLock = options.objectLock;
    this.#client = options.client ?? createClient(options, this.#endpoint);
  }

  /** The Object Lock parameters of a write (none without storage.object_lock). */
  #lock(): {
    ObjectLockMode?: 'GOVERNANCE' | 'COMPLIANCE';
    ObjectLockRetainUntilDate?: Date;
    ChecksumAlgorithm?: 'CRC32';
  } {
    if (!this.#objectLock) return {};
    return {
      ObjectLockMode: this.#objectLock.mode,
      ObjectLockRetainUntilDate: new Date(Date.now() + this.#objectLock.days * 86_400_000),
      ChecksumAlgorithm: 'CRC32',
    };
  }

  async lockedUntil(key: string): Promise<Date | undefined> {
    const Key = this.#key(key);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      const until = out.ObjectLockRetainUntilDate;
      return until && until.getTime() > Date.now() ? until : undefined;
    } catch (e) {
      if (s3Status(e) === 404) return undefined;
      throw this.#map(e, Key);
    }
  }

  async objectLock(): Promise<ObjectLockInfo | null> {
    let info: ObjectLockInfo | null = null;
    try {
      const out = await this.#client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }));
      const c = out.ObjectLockConfiguration;
      if (c?.ObjectLockEnabled === 'Enabled') {
        const d = c.Rule?.DefaultRetention;
        info = d
          ? {
              default_retention: {
                mode: d.Mode ?? 'GOVERNANCE',
                ...(d.Days !== undefined ? { days: d.Days } : {}),
                ...(d.Years !== undefined ? { years: d.Years } : {}),
              },
            }
          : {};
      }
    } catch (e) {
      if (s3ErrorCode(e) !== 'ObjectLockConfigurationNotFoundError') throw this.#map(e, undefined);
    }
    if (this.#objectLock) info = { ...(info ?? {}), on_write: this.#objectLock };
    return info;
  }

  /** Closes the client's sockets; only needed by short-lived processes that want to exit promptly. */
  destroy(): void {
    this.#client.destroy();
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const Key = this.#key(key);
    await this.#send(Key, () =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: body,
          ...this.#lock(),
          ...storageClassOf(options),
        }),
      ),
    );
  }

  /**
   * PutObject with If-None-Match: *. A 412 is trusted only when the object is really there: versitygw 1.8
   * (versioned buckets) also refuses when the current version is a delete marker, i.e. for any key that
   * ever existed, which would make a released lease impossible to take again. When refused twice for an
   * object HEAD cannot see, this falls back to a plain put read back to confirm it stuck: not atomic (two
   * writers racing inside that window can both win), so the fallback is only for servers with that quirk;
   * AWS S3 treats a delete marker as absent and never reaches it but in a create/delete race.
   */
  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    const Key = this.#key(key);
    let refusedButAbsent = 0;
    let conflicts = 0;
    for (;;) {
      try {
        await this.#client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, IfNoneMatch: '*', ...this.#lock() }),
        );
        return true;
      } catch (e) {
        if (s3Status(e) === 412 || s3ErrorCode(e) === 'PreconditionFailed') {
          if ((await this.head(key)) !== undefined) return false;
          // Deleted between the two calls, or the server counts a delete marker: the retry tells them apart.
          if (++refusedButAbsent < 2) continue;
          return this.#putAndConfirm(Key, body);
        }
        // 409: another conditional write to the key is in flight; S3 asks for a retry, which then sees 412.
        if (s3Status(e) === 409 && ++conflicts < 5) {
          await sleep(100 * 2 ** conflicts);
          continue;
        }
        throw this.#map(e, Key);
      }
    }
  }

  async #putAndConfirm(Key: string, body: Uint8Array | string): Promise<boolean> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    await this.#send(Key, () =>
      this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ...this.#lock() })),
    );
    const stored = await this.#getBody(Key);
    return stored?.equals(bytes) === true;
  }

  async putStream(
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<{ size: number }> {
    const Key = this.#key(key);
    const parts = partsOf(body, this.#partSize);
    const first = await parts.next();
    const firstPart = first.done ? Buffer.alloc(0) : first.value;
    const second = first.done ? first : await parts.next();
    if (second.done) {
      await this.#send(Key, () =>
        this.#client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: firstPart,
            ...this.#lock(),
            ...storageClassOf(options),
          }),
        ),
      );
      return { size: firstPart.length };
    }
    return this.#multipart(Key, prepend([firstPart, second.value], parts), options);
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.#key(key);
    const body = await this.#getBody(Key);
    if (body === undefined) throw this.#notFound(Key);
    return body;
  }

  async getIfExists(key: string): Promise<Buffer | undefined> {
    return this.#getBody(this.#key(key));
  }

  async *getStream(key: string): AsyncGenerator<Uint8Array> {
    const Key = this.#key(key);
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      // In Node the body is an http.IncomingMessage: async-iterable Buffers, read as the consumer pulls.
      for await (const chunk of out.Body as AsyncIterable<Uint8Array>) yield chunk;
    } catch (e) {
      throw this.#map(e, Key);
    }
  }

  async head(key: string): Promise<{ size: number; modifiedAt?: Date } | undefined> {
    const Key = this.#key(key);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: out.ContentLength ?? 0, ...(out.LastModified ? { modifiedAt: out.LastModified } : {}) };
    } catch (e) {
      // HEAD has no error body: a missing bucket also shows as a bare 404, and reads as "no object".
      if (s3Status(e) === 404) return undefined;
      throw this.#map(e, Key);
    }
  }

  async storageState(key: string): Promise<ObjectStorageState | undefined> {
    const Key = this.#key(key);
    try {
      return storageStateOf(await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })));
    } catch (e) {
      if (s3Status(e) === 404) return undefined;
      throw this.#map(e, Key);
    }
  }

  async readStart(
    key: string,
    length: number,
  ): Promise<{ size: number; bytes: Buffer; modifiedAt?: Date } | undefined> {
    const Key = this.#key(key);
    let out: GetObjectCommandOutput;
    try {
      out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=0-${Math.max(0, length - 1)}` }),
      );
    } catch (e) {
      if (s3ErrorCode(e) === 'NoSuchKey') return undefined;
      // An empty object has no byte 0: S3 answers 416.
      if (s3Status(e) === 416 || s3ErrorCode(e) === 'InvalidRange') {
        const head = await this.head(key);
        return head && { ...head, bytes: Buffer.alloc(0) };
      }
      throw this.#map(e, Key);
    }
    const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
    const bytes: Buffer[] = [];
    let read = 0;
    // A server that ignores the range sends the whole object: stop reading (and drop the connection) past `length`.
    const body = out.Body as AsyncIterable<Uint8Array> & { destroy?: () => void };
    try {
      for await (const chunk of body) {
        bytes.push(Buffer.from(chunk));
        read += chunk.length;
        if (read >= length) break;
      }
    } catch (e) {
      throw this.#map(e, Key);
    } finally {
      if (read >= length && total === undefined) body.destroy?.();
    }
    const all = Buffer.concat(bytes);
    return {
      size: total !== undefined ? Number(total) : (out.ContentLength ?? all.length),
      bytes: all.subarray(0, length),
      ...(out.LastModified ? { modifiedAt: out.LastModified } : {}),
    };
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const o of this.#listed(prefix)) keys.push(o.key);
    // S3 already lists in this order; S3-compatible servers are not all so careful.
    return sortKeys(keys);
  }

  async listStorageClasses(prefix: string): Promise<Map<string, string>> {
    const classes = new Map<string, string>();
    for await (const o of this.#listed(prefix)) classes.set(o.key, o.storageClass ?? 'STANDARD');
    return classes;
  }

  /** Every object under `prefix` (keys relative to the location), page by page. */
  async *#listed(prefix: string): AsyncGenerator<{ key: string; storageClass: string | undefined }> {
    checkPrefix(prefix);
    const Prefix = this.#prefix ? `${this.#prefix}/${prefix}` : prefix;
    const strip = this.#prefix ? this.#prefix.length + 1 : 0;
    let ContinuationToken: string | undefined;
    do {
      const page = await this.#send(undefined, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix,
            ContinuationToken,
            ...(this.#listPageSize ? { MaxKeys: this.#listPageSize } : {}),
          }),
        ),
      );
      for (const o of page.Contents ?? [])
        if (o.Key) yield { key: o.Key.slice(strip), storageClass: o.StorageClass };
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(keys: string[]): Promise<void> {
    const full = keys.map((k) => this.#key(k));
    for (let i = 0; i < full.length; i += DELETE_BATCH) {
      const batch = full.slice(i, i + DELETE_BATCH);
      const out = await this.#send(undefined, () =>
        this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      // Deleting an absent key succeeds in S3; a few compatible servers report it, which is fine too.
      const failed = (out.Errors ?? []).filter((err) => err.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const f = failed[0]!;
        const e = Object.assign(new Error(`DeleteObjects: ${f.Code}`), { name: f.Code ?? 'DeleteFailed' });
        throw this.#map(e, f.Key, `${failed.length} of ${batch.length} deletes failed, first ${f.Key}`);
      }
    }
  }

  async #getBody(Key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      const bytes = await out.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      if (s3ErrorCode(e) === 'NoSuchKey') return undefined;
      throw this.#map(e, Key);
    }
  }

  /** Parts go up a few at a time; each is a Buffer, so the SDK can resend it when it retries. */
  async #multipart(
    Key: string,
    parts: AsyncIterable<Buffer>,
    options: PutOptions,
  ): Promise<{ size: number }> {
    // Object Lock parameters need checksums on every request of the upload.
    const checksums = this.#objectLock !== undefined || (await this.#wantsChecksums());
    const algorithm = checksums ? ({ ChecksumAlgorithm: 'CRC32' } as const) : {};
    const created = await this.#send(Key, () =>
      this.#client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key,
          ...this.#lock(),
          ...algorithm,
          // The upload's class is set here, once: the parts and the completion take none.
          ...storageClassOf(options),
        }),
      ),
    );
    const UploadId = created.UploadId!;
    const completed: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let size = 0;
    let PartNumber = 0;
    try {
      for await (const Body of parts) {
        if (failure !== undefined) break;
        PartNumber++;
        if (PartNumber > MAX_PARTS) throw new RangeError(`${Key} needs more than ${MAX_PARTS} parts`);
        size += Body.length;
        const n = PartNumber;
        const upload = this.#client
          .send(
            new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber: n, Body, ...algorithm }),
          )
          .then(
            (out) => {
              completed.push({
                PartNumber: n,
                ETag: out.ETag,
                ...(checksums ? { ChecksumCRC32: out.ChecksumCRC32 } : {}),
              });
            },
            (e: unknown) => {
              failure ??= e;
            },
          )
          .finally(() => inFlight.delete(upload));
        inFlight.add(upload);
        if (inFlight.size >= PART_CONCURRENCY) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
      completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: completed },
        }),
      );
      return { size };
    } catch (e) {
      await Promise.allSettled(inFlight);
      // Left behind, the parts would be billed until a lifecycle rule clears them.
      await this.#client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }))
        .catch(() => {});
      throw this.#map(e, Key);
    }
  }

  /** Part checksums only when the client sends them unasked (AWS); S3-compatible servers often reject them. */
  async #wantsChecksums(): Promise<boolean> {
    const setting = this.#client.config.requestChecksumCalculation;
    return (typeof setting === 'function' ? await setting() : setting) === 'WHEN_SUPPORTED';
  }

  #key(key: string): string {
    checkKey(key);
    return this.#prefix ? `${this.#prefix}/${key}` : key;
  }

  async #send<T>(Key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.#map(e, Key);
    }
  }

  #map(e: unknown, Key: string | undefined, detail?: string): unknown {
    const mapped = mapS3Error(e, {
      bucket: this.bucket,
      ...(Key !== undefined ? { key: Key } : {}),
      ...(this.#endpoint ? { endpoint: this.#endpoint } : {}),
    });
    if (detail && mapped instanceof Error && mapped !== e) mapped.message += ` (${detail})`;
    return mapped;
  }

  #notFound(Key: string): NotFoundError {
    return new NotFoundError(`s3://${this.bucket}/${Key} does not exist`);
  }
}

function createClient(options: S3StoreOptions, endpoint: string | undefined): S3Client {
  return new S3Client({
    ...(options.region ? { region: options.region } : endpoint ? { region: regionOrDefault() } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 10,
    // Adaptive: exponential backoff plus client-side rate limiting once S3 starts throttling (503 SlowDown).
    retryMode: 'adaptive',
    // Without timeouts a half-open connection hangs a run forever; a timed-out request is retried like a 5xx.
    // requestTimeout bounds the wait for an answer (a whole part or segment upload included), socketTimeout
    // any silence, also mid-download: a consumer that stops reading a getStream for longer loses the stream.
    requestHandler: {
      connectionTimeout: 10_000,
      requestTimeout: 300_000,
      throwOnRequestTimeout: true,
      socketTimeout: 120_000,
    },
    ...(endpoint
      ? {
          endpoint,
          forcePathStyle: options.forcePathStyle ?? true,
          // S3-compatible servers vary in their support of the newer CRC checksums; send them only when required.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : { forcePathStyle: options.forcePathStyle ?? false, followRegionRedirects: true }),
  });
}

/** The StorageClass parameter of a write: none for STANDARD, the default, which not every S3-compatible server takes. */
function storageClassOf(options: PutOptions): { StorageClass?: PutOptions['storageClass'] } {
  const storageClass = options.storageClass;
  return storageClass !== undefined && storageClass !== 'STANDARD' ? { StorageClass: storageClass } : {};
}

/** S3-compatible servers rarely care about the region, but the SDK will not sign without one. */
function regionOrDefault(): string {
  return process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

/**
 * The body in parts of exactly `size` bytes (the last one shorter, never empty). Chunks are gathered and copied once per part, at its
 * size: a body smaller than a part (a small partition's segment, most of them in a large estate) costs a buffer
 * of its own size, not a part-sized one held while it uploads.
 */
export async function* partsOf(body: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Uint8Array[] = [];
  let filled = 0;
  for await (const chunk of body) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(size - filled, chunk.length - offset);
      pending.push(offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n));
      filled += n;
      offset += n;
      if (filled === size) {
        yield Buffer.concat(pending, size);
        pending = [];
        filled = 0;
      }
    }
  }
  if (filled > 0) yield Buffer.concat(pending, filled);
}

async function* prepend<T>(first: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
