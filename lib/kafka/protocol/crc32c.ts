// CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches: every batch fetched is checked with it, every
// batch a restore joins is sealed with it. In JavaScript (slicing by 8 below) it was 15% of a restore's CPU at
// about a tenth of the speed of @node-rs/crc32, which uses the CPU's CRC32 instruction (SSE 4.2, ARMv8); that is
// used where its prebuilt binary loads (npm installs the one for the platform; the Lambda assets ship the
// x86_64 one). Elsewhere (another platform, a bundle without it) the JavaScript below gives the same values.
type Crc32c = (buf: Uint8Array, initial?: number) => number;
const native: Crc32c | undefined = await import('@node-rs/crc32').then(
  (m) => m.crc32c as Crc32c,
  () => undefined,
);

/** Which implementation `crc32c` runs: what the bench prints and the bundle tests check. */
export const crc32cImplementation: 'native' | 'javascript' = native ? 'native' : 'javascript';

// Slicing by 8: T[k][b] is the CRC of byte b followed by k zero bytes.
const TABLES = Array.from({ length: 8 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLES[0]![n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLES[0]![n]!;
  for (let k = 1; k < 8; k++) {
    c = TABLES[0]![c & 0xff]! ^ (c >>> 8);
    TABLES[k]![n] = c;
  }
}
const [C0, C1, C2, C3, C4, C5, C6, C7] = TABLES as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

export const crc32c: (buf: Uint8Array) => number = native ? (buf) => native(buf) : crc32cJs;

/** The JavaScript CRC-32C (exported for the tests that compare both). */
export function crc32cJs(buf: Uint8Array): number {
  let crc = -1;
  let i = 0;
  for (const end = buf.length - 8; i <= end; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      C7[a & 0xff]! ^
      C6[(a >>> 8) & 0xff]! ^
      C5[(a >>> 16) & 0xff]! ^
      C4[a >>> 24]! ^
      C3[buf[i + 4]!]! ^
      C2[buf[i + 5]!]! ^
      C1[buf[i + 6]!]! ^
      C0[buf[i + 7]!]!;
  }
  for (; i < buf.length; i++) crc = C0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// CRC arithmetic for changing a few bytes of a checksummed message without reading the rest: CRC-32C is
// linear, so for two messages of equal length crc(a) ^ crc(b) = raw(a ^ b), the CRC of their difference with no
// initial or final inversion, and the difference of some leading bytes followed by n zero bytes is raw(leading
// difference) multiplied by x^(8n) modulo the polynomial (as zlib's crc32_combine does).
const POLY = 0x82f63b78;

/** The CRC register over `buf` from 0, without inversions. */
function rawCrc(buf: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < buf.length; i++) crc = C0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

/** a * b modulo the polynomial (bit-reflected). */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N: number[] = [];
{
  let p = 1 << 30; // x^1
  X2N.push(p);
  for (let n = 1; n < 32; n++) {
    p = multModP(p, p);
    X2N.push(p);
  }
}

/** x^(n * 2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/**
 * The CRC-32C of a message of which only bytes [0, before.length) changed, from the old message's CRC: `before`
 * and `after` are those bytes, `rest` the number of unchanged bytes after them. A wrong old CRC stays wrong.
 */
export function crc32cAfterChange(
  oldCrc: number,
  before: Uint8Array,
  after: Uint8Array,
  rest: number,
): number {
  const diff = new Uint8Array(before.length);
  for (let i = 0; i < diff.length; i++) diff[i] = before[i]! ^ after[i]!;
  return (oldCrc ^ multModP(x2nModP(rest, 3), rawCrc(diff))) >>> 0;
}
