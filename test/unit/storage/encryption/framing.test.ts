import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeFor } from '../../../../lib/errors.ts';
import { TamperedObjectError } from '../../../../lib/storage/encryption/errors.ts';
import {
  ChunkSealer,
  decodeHeader,
  encodeHeader,
  openStream,
  plaintextSize,
  RecipientType,
  sealStream,
  TAG_LENGTH,
} from '../../../../lib/storage/encryption/framing.ts';

const KEY = 'segments/orders/0/00000000000000000000-00000000000000000099-0a1b2c3d.kbseg.zst';
const WHERE = `/backups/${KEY}`;

function headerFor(chunkSize: number) {
  return encodeHeader({
    chunkSize,
    noncePrefix: randomBytes(8),
    recipients: [
      { type: RecipientType.keyFile, keyId: 'keyfile:0011223344556677', wrappedKey: randomBytes(60) },
    ],
  });
}

async function* pieces(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  if (data.length === 0) return;
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

/** Seals `data` with a fresh data key; returns the stored bytes and how to open them. */
async function seal(data: Buffer, chunkSize: number, pieceSize = 7) {
  const dataKey = randomBytes(32);
  const header = headerFor(chunkSize);
  let counted = 0;
  const stored = await collect(
    sealStream(pieces(data, pieceSize), header, new ChunkSealer(dataKey, header, KEY), (n) => {
      counted += n;
    }),
  );
  return {
    stored,
    header,
    counted,
    open: (bytes: Buffer, key = KEY, pieceSize2 = 5) =>
      collect(openStream(pieces(bytes, pieceSize2), WHERE, key, async () => dataKey)),
  };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected the object to be refused');
    },
    (e: unknown) => e as Error,
  );
}

describe('the encryption framing', () => {
  it('round-trips every size around the chunk boundaries, in any piece sizes, with the size derivable from the stored size', async () => {
    const chunk = 16;
    for (const size of [0, 1, 15, 16, 17, 31, 32, 33, 48, 100]) {
      const data = randomBytes(size);
      for (const pieceSize of [1, 7, 16, 64]) {
        const { stored, header, counted, open } = await seal(data, chunk, pieceSize);
        expect(counted).toBe(size);
        const chunks = Math.max(1, Math.ceil(size / chunk));
        expect(stored.length, `size ${size}`).toBe(header.bytes.length + size + chunks * TAG_LENGTH);
        expect(plaintextSize(stored.length, header.bytes.length, chunk)).toBe(size);
        expect((await open(stored, KEY, pieceSize)).equals(data), `size ${size} pieces ${pieceSize}`).toBe(
          true,
        );
      }
    }
  });

  it('an empty object is a header and one empty final chunk (its tag)', async () => {
    const { stored, header, open } = await seal(Buffer.alloc(0), 64);
    expect(stored.length).toBe(header.bytes.length + TAG_LENGTH);
    expect((await open(stored)).length).toBe(0);
  });

  it('sizes that no sequence of chunks has are not a plaintext size', () => {
    // 100-byte header, 16-byte chunks (32 stored each): 8 bytes of body cannot be even one tag.
    expect(plaintextSize(108, 100, 16)).toBeUndefined();
    // Two full chunks plus a lone tag: only an empty object has an empty final chunk.
    expect(plaintextSize(100 + 2 * 32 + 16, 100, 16)).toBeUndefined();
    expect(plaintextSize(100 + 2 * 32 + 17, 100, 16)).toBe(33);
  });

  it('the header round-trips and is bound into every chunk', async () => {
    const { stored, header, open } = await seal(randomBytes(40), 16);
    const decoded = decodeHeader(stored.subarray(0, header.bytes.length), WHERE);
    expect(decoded.chunkSize).toBe(16);
    expect(decoded.recipients).toEqual(header.recipients);
    // A changed recipient id, nonce prefix byte: the first chunk no longer authenticates.
    for (const offset of [15, header.bytes.length - 3]) {
      const changed = Buffer.from(stored);
      changed[offset]! ^= 0x01;
      const e = await failure(open(changed));
      expect(e, `offset ${offset}`).toBeInstanceOf(TamperedObjectError);
      expect(e.message).toContain(WHERE);
    }
  });

  it('refuses a truncation at a chunk boundary (the final flag is missing), inside a chunk, and inside the header', async () => {
    const { stored, header, open } = await seal(randomBytes(48), 16);
    const sealed = 16 + TAG_LENGTH;
    const atBoundary = await failure(open(stored.subarray(0, header.bytes.length + 2 * sealed)));
    expect(atBoundary).toBeInstanceOf(TamperedObjectError);
    expect(atBoundary.message).toMatch(/truncated: it ends after 2 chunks without its final chunk/);
    expect(exitCodeFor(atBoundary)).toBe(ExitCode.verificationFailed);

    const inside = await failure(open(stored.subarray(0, stored.length - 5)));
    expect(inside).toBeInstanceOf(TamperedObjectError);
    expect(inside.message).toMatch(/chunk 2 fails authentication/);

    const inHeader = await failure(open(stored.subarray(0, 20)));
    expect(inHeader).toBeInstanceOf(TamperedObjectError);
    expect(inHeader.message).toMatch(/ends inside its encryption header/);
  });

  it('refuses swapped chunks, a flipped bit in a chunk or a tag, and bytes after the final chunk', async () => {
    const { stored, header, open } = await seal(randomBytes(48), 16);
    const h = header.bytes.length;
    const sealed = 16 + TAG_LENGTH;
    const swapped = Buffer.concat([
      stored.subarray(0, h),
      stored.subarray(h + sealed, h + 2 * sealed),
      stored.subarray(h, h + sealed),
      stored.subarray(h + 2 * sealed),
    ]);
    expect((await failure(open(swapped))).message).toMatch(/chunk 0 fails authentication/);

    for (const offset of [h + 3, h + sealed - 1, stored.length - 1]) {
      const flipped = Buffer.from(stored);
      flipped[offset]! ^= 0x80;
      expect(await failure(open(flipped)), `offset ${offset}`).toBeInstanceOf(TamperedObjectError);
    }

    // Appending a copy of the final chunk: the final chunk is then not last.
    const grown = Buffer.concat([stored, stored.subarray(stored.length - sealed)]);
    expect((await failure(open(grown))).message).toMatch(/goes on after its final chunk \(chunk 2\)/);
  });

  it('does not open under another object key (an object copied or renamed)', async () => {
    const { stored, open } = await seal(randomBytes(20), 16);
    const e = await failure(open(stored, 'segments/orders/0/another.kbseg.zst'));
    expect(e).toBeInstanceOf(TamperedObjectError);
  });

  it('does not open with another data key', async () => {
    const data = randomBytes(20);
    const { stored } = await seal(data, 16);
    const e = await failure(collect(openStream(pieces(stored, 9), WHERE, KEY, async () => randomBytes(32))));
    expect(e).toBeInstanceOf(TamperedObjectError);
  });

  it('streams with bounded memory: the first plaintext comes out after about two chunks were read', async () => {
    const chunk = 1024;
    const data = randomBytes(200 * chunk);
    const dataKey = randomBytes(32);
    const header = headerFor(chunk);
    const big = await collect(sealStream(pieces(data, 65536), header, new ChunkSealer(dataKey, header, KEY)));
    let pulled = 0;
    async function* countingBig(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < big.length; i += 100) {
        pulled += Math.min(100, big.length - i);
        yield big.subarray(i, i + 100);
      }
    }
    const reader = openStream(countingBig(), WHERE, KEY, async () => dataKey)[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(first.value?.length).toBe(chunk);
    expect(pulled).toBeLessThanOrEqual(header.bytes.length + 2 * (chunk + TAG_LENGTH) + 100);
    await reader.return?.(undefined);

    // Sealing too: the first sealed chunk is out before the source is read past two chunks.
    let read = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < data.length; i += 100) {
        read += Math.min(100, data.length - i);
        yield data.subarray(i, i + 100);
      }
    }
    const writer = sealStream(source(), header, new ChunkSealer(dataKey, header, KEY))[
      Symbol.asyncIterator
    ]();
    await writer.next(); // the header
    await writer.next(); // chunk 0
    expect(read).toBeLessThanOrEqual(chunk + 100);
    await writer.return?.(undefined);
  });
});
