import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CorruptDataError } from '../../errors.ts';
import { ObjectNotEncryptedError, TamperedObjectError } from './errors.ts';

/*
 * The framing of an encrypted object (docs/format.md "Client-side encryption" is the reference):
 *
 *   header   magic "KBENC", version 1, header length, chunk size, nonce prefix, recipients (who can unwrap the
 *            object's data key: a KMS key or a key file, its id and the wrapped key)
 *   chunks   the plaintext in chunks of `chunk size` bytes (the last one 1..chunk size, or 0 for an empty object),
 *            each sealed with AES-256-GCM under the object's data key: ciphertext then the 16-byte tag
 *
 * Chunk i's nonce is the 8-byte random nonce prefix followed by i (uint32 BE), so chunks cannot be reordered; its
 * additional data is the whole header, a final flag (1 for the last chunk, else 0) and the object's key in the
 * location, so neither the header nor the end can be changed (truncation at a chunk boundary fails on the missing
 * final flag), and an object copied to another key does not open there.
 */

export const MAGIC = Buffer.from('KBENC', 'latin1');
export const FRAMING_VERSION = 1;
/** 64 KiB: 0.02% overhead (the tags), and the most a reader holds beyond what it hands on. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** What a reader may be asked to buffer per chunk; a header naming more is refused before any allocation. */
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const TAG_LENGTH = 16;
export const DATA_KEY_LENGTH = 32;
const NONCE_PREFIX_LENGTH = 8;
/** magic, version, header length, chunk size: enough to tell an object's plaintext size from its stored size. */
export const SIZE_PREFIX_LENGTH = 14;
/** The fixed fields before the recipients: the size prefix, the nonce prefix, the recipient count. */
const FIXED_LENGTH = SIZE_PREFIX_LENGTH + NONCE_PREFIX_LENGTH + 1;
const MAX_HEADER_LENGTH = 64 * 1024;
export const MAX_RECIPIENTS = 16;
/** 2^32 chunks: the counter's range (256 TiB at the default chunk size). */
const MAX_CHUNKS = 2 ** 32;

/** Who can unwrap the data key. Readers skip recipient types they do not know. */
export const RecipientType = { awsKms: 1, keyFile: 2 } as const;

export interface Recipient {
  /** RecipientType.awsKms: `keyId` is the KMS key ARN, `wrappedKey` KMS's ciphertext blob. keyFile: see key-file.ts. */
  type: number;
  keyId: string;
  wrappedKey: Buffer;
}

export interface EnvelopeHeader {
  chunkSize: number;
  noncePrefix: Buffer;
  recipients: Recipient[];
  /** The header as stored: additional data of every chunk. */
  bytes: Buffer;
}

export function encodeHeader(fields: {
  chunkSize: number;
  noncePrefix: Buffer;
  recipients: readonly Recipient[];
}): EnvelopeHeader {
  const { chunkSize, noncePrefix, recipients } = fields;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE)
    throw new RangeError(`chunk size ${chunkSize} is outside 1..${MAX_CHUNK_SIZE}`);
  if (noncePrefix.length !== NONCE_PREFIX_LENGTH) throw new RangeError('the nonce prefix must be 8 bytes');
  if (recipients.length < 1 || recipients.length > MAX_RECIPIENTS)
    throw new RangeError(`an object has 1 to ${MAX_RECIPIENTS} recipients, not ${recipients.length}`);
  const parts: Buffer[] = [];
  for (const r of recipients) {
    const id = Buffer.from(r.keyId, 'utf8');
    if (id.length > 0xffff || r.wrappedKey.length > 0xffff) throw new RangeError('recipient field too long');
    const lengths = Buffer.alloc(5);
    lengths.writeUInt8(r.type, 0);
    lengths.writeUInt16BE(id.length, 1);
    parts.push(lengths.subarray(0, 3), id, u16(r.wrappedKey.length), r.wrappedKey);
  }
  const headerLength = FIXED_LENGTH + parts.reduce((n, p) => n + p.length, 0);
  if (headerLength > MAX_HEADER_LENGTH) throw new RangeError(`header of ${headerLength} bytes is too long`);
  const fixed = Buffer.alloc(FIXED_LENGTH);
  MAGIC.copy(fixed, 0);
  fixed.writeUInt8(FRAMING_VERSION, 5);
  fixed.writeUInt32BE(headerLength, 6);
  fixed.writeUInt32BE(chunkSize, 10);
  noncePrefix.copy(fixed, 14);
  fixed.writeUInt8(recipients.length, 22);
  const bytes = Buffer.concat([fixed, ...parts]);
  return { chunkSize, noncePrefix: Buffer.from(noncePrefix), recipients: [...recipients], bytes };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** Whether stored bytes start like an encrypted object (any framing version). */
export function looksEncrypted(start: Uint8Array): boolean {
  return start.length >= MAGIC.length && MAGIC.equals(start.subarray(0, MAGIC.length));
}

/**
 * The header length and chunk size from an object's first SIZE_PREFIX_LENGTH bytes (fewer: the object is that
 * short). Throws ObjectNotEncryptedError for bytes that do not start with the magic, TamperedObjectError for an
 * encrypted object cut inside its header, CorruptDataError for a framing version this tool does not know.
 */
export function readSizePrefix(start: Buffer, where: string): { headerLength: number; chunkSize: number } {
  if (!looksEncrypted(start)) throw notEncrypted(where);
  if (start.length < SIZE_PREFIX_LENGTH) throw tampered(where, 'it ends inside its encryption header');
  const version = start.readUInt8(5);
  if (version !== FRAMING_VERSION)
    throw new CorruptDataError(
      `${where} uses encryption framing version ${version}; this kafka-backup reads version ${FRAMING_VERSION}`,
      { hint: 'Read it with the kafka-backup version that wrote it, or a newer one.' },
    );
  const headerLength = start.readUInt32BE(6);
  const chunkSize = start.readUInt32BE(10);
  if (headerLength < FIXED_LENGTH || headerLength > MAX_HEADER_LENGTH)
    throw tampered(where, `its header claims ${headerLength} bytes`);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE)
    throw tampered(where, `its header claims chunks of ${chunkSize} bytes`);
  return { headerLength, chunkSize };
}

/** Parses the complete header (its `headerLength` bytes, as readSizePrefix gave). */
export function decodeHeader(bytes: Buffer, where: string): EnvelopeHeader {
  const { headerLength, chunkSize } = readSizePrefix(bytes, where);
  if (bytes.length !== headerLength) throw tampered(where, 'it ends inside its encryption header');
  const noncePrefix = Buffer.from(bytes.subarray(14, 22));
  const count = bytes.readUInt8(22);
  const recipients: Recipient[] = [];
  let pos = FIXED_LENGTH;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw tampered(where, 'its encryption header is malformed');
  };
  for (let i = 0; i < count; i++) {
    need(3);
    const type = bytes.readUInt8(pos);
    const idLength = bytes.readUInt16BE(pos + 1);
    pos += 3;
    need(idLength + 2);
    const keyId = bytes.toString('utf8', pos, pos + idLength);
    pos += idLength;
    const wrappedLength = bytes.readUInt16BE(pos);
    pos += 2;
    need(wrappedLength);
    recipients.push({ type, keyId, wrappedKey: Buffer.from(bytes.subarray(pos, pos + wrappedLength)) });
    pos += wrappedLength;
  }
  if (count === 0 || pos !== bytes.length) throw tampered(where, 'its encryption header is malformed');
  return { chunkSize, noncePrefix, recipients, bytes: Buffer.from(bytes) };
}

/**
 * The plaintext size of an encrypted object from its stored size: every chunk adds a tag, the header its length.
 * Undefined when no sequence of chunks has that size (the object was truncated or grown).
 */
export function plaintextSize(
  storedSize: number,
  headerLength: number,
  chunkSize: number,
): number | undefined {
  const body = storedSize - headerLength;
  if (body < TAG_LENGTH) return undefined;
  const sealed = chunkSize + TAG_LENGTH;
  const chunks = Math.ceil(body / sealed);
  const last = body - (chunks - 1) * sealed;
  // Only an empty object has an empty (final) chunk.
  if (last < TAG_LENGTH || (last === TAG_LENGTH && chunks > 1)) return undefined;
  return body - chunks * TAG_LENGTH;
}

/** The additional data of an object's chunks: header, final flag, object key. */
function additionalData(header: EnvelopeHeader, objectKey: string): { middle: Buffer; final: Buffer } {
  const key = Buffer.from(objectKey, 'utf8');
  return {
    middle: Buffer.concat([header.bytes, Buffer.from([0]), key]),
    final: Buffer.concat([header.bytes, Buffer.from([1]), key]),
  };
}

function nonce(prefix: Buffer, index: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, 8);
  return n;
}

/** Seals an object's chunks in order. */
export class ChunkSealer {
  readonly #dataKey: Buffer;
  readonly #header: EnvelopeHeader;
  readonly #aad: { middle: Buffer; final: Buffer };
  #index = 0;

  constructor(dataKey: Buffer, header: EnvelopeHeader, objectKey: string) {
    if (dataKey.length !== DATA_KEY_LENGTH) throw new RangeError('a data key is 32 bytes');
    this.#dataKey = dataKey;
    this.#header = header;
    this.#aad = additionalData(header, objectKey);
  }

  seal(plain: Uint8Array, final: boolean): Buffer {
    if (this.#index >= MAX_CHUNKS) throw new RangeError('object too large for its chunk counter');
    const cipher = createCipheriv(
      'aes-256-gcm',
      this.#dataKey,
      nonce(this.#header.noncePrefix, this.#index++),
    );
    cipher.setAAD(final ? this.#aad.final : this.#aad.middle);
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }
}

/** Opens an object's chunks in order; undefined when a chunk does not authenticate as what it is asked to be. */
export class ChunkOpener {
  readonly #dataKey: Buffer;
  readonly #header: EnvelopeHeader;
  readonly #aad: { middle: Buffer; final: Buffer };
  #index = 0;

  constructor(dataKey: Buffer, header: EnvelopeHeader, objectKey: string) {
    this.#dataKey = dataKey;
    this.#header = header;
    this.#aad = additionalData(header, objectKey);
  }

  /** The index of the next chunk (for messages). */
  get index(): number {
    return this.#index;
  }

  open(sealed: Buffer, final: boolean): Buffer | undefined {
    const plain = this.#tryOpen(sealed, this.#index, final);
    if (plain !== undefined) this.#index++;
    return plain;
  }

  /** Whether the chunk would open with the other final flag: tells a truncation from other damage. */
  opensAs(sealed: Buffer, final: boolean): boolean {
    return this.#tryOpen(sealed, this.#index, final) !== undefined;
  }

  #tryOpen(sealed: Buffer, index: number, final: boolean): Buffer | undefined {
    if (sealed.length < TAG_LENGTH || index >= MAX_CHUNKS) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.#dataKey, nonce(this.#header.noncePrefix, index));
    decipher.setAAD(final ? this.#aad.final : this.#aad.middle);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH)),
        decipher.final(),
      ]);
    } catch {
      return undefined;
    }
  }
}

/**
 * Encrypts a stream: the header, then sealed chunks. Holds at most one chunk beyond the piece just read, and
 * reports the plaintext bytes it has seen through `counted`.
 */
export async function* sealStream(
  source: AsyncIterable<Uint8Array>,
  header: EnvelopeHeader,
  sealer: ChunkSealer,
  counted: (bytes: number) => void = () => {},
): AsyncGenerator<Buffer> {
  yield header.bytes;
  const pending = new ByteQueue();
  for await (const piece of source) {
    counted(piece.length);
    pending.push(piece);
    // Strictly more than a chunk: only the end of the stream tells which chunk is the final one.
    while (pending.length > header.chunkSize) yield sealer.seal(pending.take(header.chunkSize), false);
  }
  yield sealer.seal(pending.take(pending.length), true);
}

/**
 * Decrypts a stored stream. `unwrap` turns the header into the data key (a KMS call or the key file); chunks are
 * authenticated before any of their bytes are handed on, and the stream must end with the final chunk.
 */
export async function* openStream(
  source: AsyncIterable<Uint8Array>,
  where: string,
  objectKey: string,
  unwrap: (header: EnvelopeHeader) => Promise<Buffer>,
): AsyncGenerator<Buffer> {
  const pending = new ByteQueue();
  let header: EnvelopeHeader | undefined;
  let headerLength: number | undefined;
  let opener: ChunkOpener | undefined;
  for await (const piece of source) {
    pending.push(piece);
    if (opener === undefined) {
      if (headerLength === undefined) {
        if (pending.length < SIZE_PREFIX_LENGTH) {
          // An object's first bytes tell at once whether it is encrypted at all.
          if (pending.length >= MAGIC.length && !looksEncrypted(pending.peek(MAGIC.length)))
            throw notEncrypted(where);
          continue;
        }
        headerLength = readSizePrefix(pending.peek(SIZE_PREFIX_LENGTH), where).headerLength;
      }
      if (pending.length < headerLength) continue;
      header = decodeHeader(pending.take(headerLength), where);
      opener = new ChunkOpener(await unwrap(header), header, objectKey);
    }
    const sealed = header!.chunkSize + TAG_LENGTH;
    while (pending.length > sealed) {
      const chunk = pending.take(sealed);
      const plain = opener.open(chunk, false);
      if (plain === undefined) throw chunkFailed(where, opener, chunk, false);
      yield plain;
    }
  }
  if (opener === undefined) {
    const start = pending.peek(Math.min(pending.length, SIZE_PREFIX_LENGTH));
    if (!looksEncrypted(start)) throw notEncrypted(where);
    throw tampered(where, 'it ends inside its encryption header');
  }
  const last = pending.take(pending.length);
  const plain = opener.open(last, true);
  if (plain === undefined) throw chunkFailed(where, opener, last, true);
  yield plain;
}

function chunkFailed(where: string, opener: ChunkOpener, chunk: Buffer, final: boolean): TamperedObjectError {
  if (final && (chunk.length === 0 || opener.opensAs(chunk, false)))
    return tampered(
      where,
      `it is truncated: it ends after ${opener.index + 1} chunks without its final chunk`,
    );
  if (!final && opener.opensAs(chunk, true))
    return tampered(where, `it goes on after its final chunk (chunk ${opener.index})`);
  return tampered(
    where,
    `chunk ${opener.index} fails authentication (the object was changed, truncated or reordered, or copied from another key)`,
  );
}

export function tampered(where: string, why: string): TamperedObjectError {
  return new TamperedObjectError(`${where} cannot be decrypted: ${why}`, {
    hint: 'Nothing of it was used. Restore the object from the bucket version history (or the DR replica), or use another backup.',
  });
}

export function notEncrypted(where: string): ObjectNotEncryptedError {
  return new ObjectNotEncryptedError(
    `${where} is not encrypted, but storage.encryption says every object of this location is`,
    {
      hint:
        'It was written without storage.encryption (before it was turned on for this location) or by someone else. ' +
        'Read backups written without encryption with a config without storage.encryption; turn encryption on for a new location (prefix or folder).',
    },
  );
}

/** Bytes received in pieces, taken out in the sizes the framing needs without copying more than necessary. */
export class ByteQueue {
  #parts: Buffer[] = [];
  #offset = 0;
  length = 0;

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.#parts.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    this.length += piece.length;
  }

  /** The first `n` bytes, without consuming them. */
  peek(n: number): Buffer {
    return this.#read(n, false);
  }

  take(n: number): Buffer {
    return this.#read(n, true);
  }

  #read(n: number, consume: boolean): Buffer {
    if (n > this.length) throw new RangeError(`${n} bytes asked, ${this.length} held`);
    if (n === 0) return Buffer.alloc(0);
    const first = this.#parts[0]!;
    if (first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      if (consume) this.#consume(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let part = 0;
    let offset = this.#offset;
    while (filled < n) {
      const p = this.#parts[part]!;
      const count = Math.min(n - filled, p.length - offset);
      p.copy(out, filled, offset, offset + count);
      filled += count;
      offset = 0;
      part++;
    }
    if (consume) this.#consume(n);
    return out;
  }

  #consume(n: number): void {
    this.length -= n;
    let left = n;
    while (left > 0) {
      const first = this.#parts[0]!;
      const available = first.length - this.#offset;
      if (available > left) {
        this.#offset += left;
        return;
      }
      left -= available;
      this.#parts.shift();
      this.#offset = 0;
    }
  }
}
