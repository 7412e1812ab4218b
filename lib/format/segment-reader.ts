import { createHash } from 'node:crypto';
import binding from 'zstd-napi/binding.js';
import { CorruptDataError } from '../errors.ts';
import type { BackupRecord } from './record.ts';
import { decodeRecord } from './record-codec.ts';
import { SEGMENT_MAGIC, type SegmentExpectation } from './segment.ts';

/** Free space offered to each zstd call: its preferred output size. */
const OUT_BYTES = binding.dStreamOutSize();

/**
 * Streams the records of one segment object in offset order. Memory is bounded by the largest record plus
 * a few zstd buffers, however the body is chunked.
 *
 * Records are yielded as they decode; the checksum and counts in `expect` can only be checked once the
 * body has been read, so the generator throws CorruptDataError after the last record when they mismatch.
 * Consume it to the end before trusting what it yielded.
 */
export async function* readSegment(
  body: AsyncIterable<Uint8Array>,
  expect: SegmentExpectation = {},
): AsyncGenerator<BackupRecord> {
  const corrupt = (what: string, cause?: unknown) =>
    new CorruptDataError(`segment ${expect.key ?? '(unnamed)'} is corrupt: ${what}`, {
      hint: 'the object changed or was damaged after it was written; restore from another backup, or from an earlier object version if the bucket is versioned',
      cause,
    });
  const dctx = new binding.DCtx();
  const hash = createHash('sha256');
  const pending = new Window();
  let size = 0;
  let uncompressed = 0;
  let frameOpen = false;
  let magicSeen = false;
  let records = 0;
  let firstOffset: number | undefined;
  let lastOffset: number | undefined;

  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.length;
    let src = chunk;
    let outputFull = false;
    while (src.length > 0 || outputFull) {
      const dst = pending.freeTail(OUT_BYTES);
      let result: [number, number, number];
      try {
        result = dctx.decompressStream(dst, src);
      } catch (e) {
        throw corrupt(`zstd: ${(e as Error).message}`, e);
      }
      const [hint, produced, consumed] = result;
      pending.end += produced;
      uncompressed += produced;
      src = src.subarray(consumed);
      // A full output buffer may mean zstd holds more for us even with no input left.
      outputFull = produced === dst.length;
      frameOpen = hint !== 0;

      if (!magicSeen) {
        if (pending.length < SEGMENT_MAGIC.length) continue;
        if (
          !SEGMENT_MAGIC.equals(pending.buf.subarray(pending.start, pending.start + SEGMENT_MAGIC.length))
        ) {
          throw corrupt(
            `does not start with ${SEGMENT_MAGIC.toString('ascii')} (not a segment, or a newer format)`,
          );
        }
        pending.start += SEGMENT_MAGIC.length;
        magicSeen = true;
      }
      for (;;) {
        let decoded: ReturnType<typeof decodeRecord>;
        try {
          decoded = decodeRecord(pending.buf, pending.start, pending.end);
        } catch (e) {
          throw corrupt((e as Error).message, e);
        }
        if (!decoded) break;
        pending.start = decoded.next;
        const { offset } = decoded.record;
        if (lastOffset !== undefined && offset <= lastOffset) {
          throw corrupt(`offset ${offset} follows ${lastOffset}; offsets must strictly increase`);
        }
        firstOffset ??= offset;
        lastOffset = offset;
        records++;
        yield decoded.record;
      }
    }
  }

  if (size === 0) throw corrupt('the object is empty');
  if (frameOpen) throw corrupt('the zstd stream ends mid-frame (truncated)');
  if (!magicSeen) throw corrupt(`shorter than the ${SEGMENT_MAGIC.length}-byte magic`);
  if (pending.length > 0) throw corrupt(`ends inside a record (${pending.length} trailing bytes)`);

  const mismatches: string[] = [];
  const check = (field: string, want: string | number | undefined, got: string | number | undefined) => {
    if (want !== undefined && want !== got)
      mismatches.push(`${field} is ${got ?? 'absent'}, expected ${want}`);
  };
  check('size', expect.size, size);
  check('sha256', expect.sha256, hash.digest('hex'));
  check('uncompressed size', expect.uncompressed_size, uncompressed);
  check('record count', expect.records, records);
  check('first offset', expect.first_offset, firstOffset);
  check('last offset', expect.last_offset, lastOffset);
  if (mismatches.length > 0) throw corrupt(mismatches.join('; '));
}

/** Decompressed bytes not yet decoded: [start, end) of a buffer reused across chunks. */
class Window {
  buf = Buffer.allocUnsafe(OUT_BYTES * 2);
  start = 0;
  end = 0;

  get length(): number {
    return this.end - this.start;
  }

  /** Space after `end` of at least `min` bytes, made by sliding the undecoded bytes down or reallocating. */
  freeTail(min: number): Buffer {
    if (this.buf.length - this.end >= min) return this.buf.subarray(this.end);
    const live = this.length;
    const needed = live + min;
    // Reallocate when too small, and also when far too big: a huge record that has passed must not pin memory.
    if (needed > this.buf.length || this.buf.length > Math.max(OUT_BYTES * 2, needed * 4)) {
      const next = Buffer.allocUnsafe(Math.max(OUT_BYTES * 2, needed * 2));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
    } else {
      this.buf.copyWithin(0, this.start, this.end);
    }
    this.start = 0;
    this.end = live;
    return this.buf.subarray(this.end);
  }
}
