// CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches. Slicing by 8: T[k][b] is the CRC of byte b
// followed by k zero bytes. A byte-at-a-time loop was ~17% of a restore's CPU (bench/).
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

export function crc32c(buf: Uint8Array): number {
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
