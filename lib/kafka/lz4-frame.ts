// Kafka's LZ4 codec is the LZ4 frame format with independent blocks (the broker refuses dependent block
// streams). lz4js decodes any frame but encodes dependent ones, so frames are written here around its block
// compressor, with a fresh hash table per block so no block refers back to another.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Lz4js {
  compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
  compressBound(n: number): number;
  decompress(src: Uint8Array): Uint8Array | number[];
}
const lz4 = require('lz4js') as Lz4js;
const xxh32 = (
  require('lz4js/xxh32.js') as { hash(seed: number, b: Uint8Array, i: number, n: number): number }
).hash;

const MAGIC = 0x184d2204;
/** FLG: version 01, block independence. */
const FLAGS = 0x60;
/** BD: 64 KiB maximum block size, what Kafka's own producer uses. */
const BLOCK_DESCRIPTOR = 0x40;
const BLOCK_SIZE = 64 * 1024;
const UNCOMPRESSED_BIT = 0x80000000;

export function lz4FrameCompress(src: Uint8Array): Buffer {
  const blocks = Math.ceil(src.length / BLOCK_SIZE);
  const out = Buffer.allocUnsafe(7 + blocks * (4 + lz4.compressBound(BLOCK_SIZE)) + 4);
  let o = 0;
  out.writeUInt32LE(MAGIC, o);
  o += 4;
  out[o++] = FLAGS;
  out[o++] = BLOCK_DESCRIPTOR;
  out[o] = (xxh32(0, out, 4, 2) >> 8) & 0xff;
  o += 1;
  const scratch = new Uint8Array(lz4.compressBound(BLOCK_SIZE));
  for (let s = 0; s < src.length; s += BLOCK_SIZE) {
    const n = Math.min(BLOCK_SIZE, src.length - s);
    const size = lz4.compressBlock(src, scratch, s, n, new Uint32Array(1 << 16));
    if (size === 0 || size >= n) {
      out.writeUInt32LE((UNCOMPRESSED_BIT | n) >>> 0, o);
      o += 4;
      out.set(src.subarray(s, s + n), o);
      o += n;
    } else {
      out.writeUInt32LE(size, o);
      o += 4;
      out.set(scratch.subarray(0, size), o);
      o += size;
    }
  }
  out.writeUInt32LE(0, o);
  o += 4;
  return out.subarray(0, o);
}

export function lz4FrameDecompress(src: Uint8Array): Buffer {
  return Buffer.from(lz4.decompress(src));
}
