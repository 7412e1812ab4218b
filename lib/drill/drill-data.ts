import { createHash } from 'node:crypto';

/**
 * The drill's records are a pure function of their index, so any copy can be checked byte for byte without
 * keeping the originals: key `drill-<i>`, value `<i>:` followed by pseudo-random bytes (xorshift seeded by i).
 */
export function drillKey(i: number): Buffer {
  return Buffer.from(`drill-${i}`);
}

export function drillValue(i: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  const prefix = Buffer.from(`${i}:`);
  prefix.copy(out, 0, 0, Math.min(prefix.length, size));
  let x = (i + 1) * 2654435761;
  for (let p = prefix.length; p < size; p++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[p] = x & 0xff;
  }
  return out;
}

/** Which partition record i is produced to, and so its offset in a new topic. */
export function drillPartition(i: number, partitions: number): number {
  return i % partitions;
}

/** SHA-256 over (key, value) of a partition's records in order: what both sides must agree on. */
export class PartitionDigest {
  readonly #hash = createHash('sha256');
  count = 0;
  add(key: Buffer | null, value: Buffer | null): void {
    this.count++;
    for (const b of [key, value]) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(b === null ? -1 : b.length);
      this.#hash.update(len);
      if (b) this.#hash.update(b);
    }
  }
  digest(): string {
    return this.#hash.digest('hex');
  }
}
