// kafkajs, loaded with two patches that a backup tool cannot do without. Every other module gets kafkajs from
// here; loading kafkajs anywhere first would bypass the patches, so that is detected and refused.
//
// 1. Header order. kafkajs folds a record's headers into an object (`{a: [1, 3], b: 2}`), which loses the order
//    of different keys (a, b, a) and moves integer-like keys first; its encoder can only write that object back
//    and throws on null header values. The patched decoder also returns `headerList` in wire order, and the
//    patched encoder writes `headerList` when a message carries one.
// 2. Compression codecs. Only GZIP is built in; ZSTD, LZ4 and Snappy are registered in codecs.ts.
// 3. A negative timer. Its request queue schedules `throttledUntil - now` with throttledUntil starting at -1,
//    which Node >= 23 reports as a TimeoutNegativeWarning on every connection; the delay is clamped at 0.
// 4. Quadratic grouping. The producer groups a send's messages by partition copying the partition's array for
//    every message (`[...current, message]`): for a restore batch of 2,000 records that is 2 million element
//    copies and ~16 MB of garbage arrays per send. Replaced by a linear push.
// 5. Producer CPU (restore throughput, measured by bench/): each record is encoded into a buffer of its exact size
//    taken from Node's pool (kafkajs allocates a zeroed 512-byte buffer per record and reallocates it for any
//    value larger), and record batches are checksummed with a slicing-by-8 CRC-32C (kafkajs' byte-at-a-time
//    loop was ~17% of a restore's CPU).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface WireHeader {
  key: string;
  value: Buffer | null;
}

const kafkajsEntry = require.resolve('kafkajs');
if (require.cache[kafkajsEntry]) {
  throw new Error(
    'kafkajs was loaded before lib/kafka/kafkajs-patched.ts: import Kafka only through lib/kafka',
  );
}

const base = 'kafkajs/src/protocol/recordBatch';
const decoderPath = require.resolve(`${base}/record/v0/decoder`);
const encoderPath = require.resolve(`${base}/record/v0/index`);
const HeaderDecoder = require(`${base}/header/v0/decoder`) as (decoder: unknown) => WireHeader;
const HeaderEncoder = require(`${base}/header/v0/index`) as (header: WireHeader) => unknown;
const Encoder = require('kafkajs/src/protocol/encoder') as {
  new (): KafkajsEncoder;
  sizeOfVarInt(n: number): number;
  sizeOfVarLong(n: number | bigint | string): number;
  sizeOfVarIntBytes(b: Buffer | string | null): number;
};

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  writeVarInt(n: number): KafkajsEncoder;
  writeInt8(n: number): KafkajsEncoder;
  writeVarLong(n: unknown): KafkajsEncoder;
  writeVarIntBytes(b: Buffer | string | null | undefined): KafkajsEncoder;
  writeVarIntArray(a: unknown[]): KafkajsEncoder;
}

interface KafkajsDecoder {
  readVarIntArray<T>(fn: (d: KafkajsDecoder) => T): T[];
}

type RecordDecoderFn = (decoder: KafkajsDecoder, batchContext?: unknown) => Record<string, unknown>;
const originalDecoder = require(decoderPath) as RecordDecoderFn;

// The original reads headers itself; run it on a decoder whose header-array read we capture.
const orderedDecoder: RecordDecoderFn = (decoder, batchContext) => {
  let headerList: WireHeader[] = [];
  const readVarIntArray = decoder.readVarIntArray;
  decoder.readVarIntArray = function captureHeaders<T>(
    this: KafkajsDecoder,
    fn: (d: KafkajsDecoder) => T,
  ): T[] {
    const items = readVarIntArray.call(this, fn) as T[];
    if (fn === (HeaderDecoder as unknown)) headerList = items as unknown as WireHeader[];
    return items;
  };
  try {
    const record = originalDecoder(decoder, batchContext);
    record['headerList'] = headerList;
    return record;
  } finally {
    decoder.readVarIntArray = readVarIntArray;
  }
};
require.cache[decoderPath]!.exports = orderedDecoder;

interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number | string;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, unknown>;
  headerList?: WireHeader[];
}
type RecordEncoderFn = (r: RecordInput) => unknown;

/** An Encoder over a buffer of exactly `size` bytes (pooled when small) instead of a zeroed, growing one. */
function exactEncoder(size: number): KafkajsEncoder {
  const encoder = Object.create(Encoder.prototype) as KafkajsEncoder;
  encoder.buf = Buffer.allocUnsafe(size);
  encoder.offset = 0;
  return encoder;
}
const originalEncoder = require(encoderPath) as RecordEncoderFn;

const orderedEncoder: RecordEncoderFn = (record) => {
  if (!record.headerList) return originalEncoder(record);
  const { offsetDelta = 0, timestampDelta = 0, key, value, headerList } = record;
  let headersSize = Encoder.sizeOfVarInt(headerList.length);
  for (const h of headerList) {
    headersSize += Encoder.sizeOfVarIntBytes(h.key) + Encoder.sizeOfVarIntBytes(h.value);
  }
  const sizeOfBody =
    1 +
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    headersSize;
  return exactEncoder(Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody)
    .writeVarInt(sizeOfBody)
    .writeInt8(0)
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(headerList.map(HeaderEncoder));
};
require.cache[encoderPath]!.exports = orderedEncoder;

interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index') as {
  prototype: RequestQueueInternals & { scheduleCheckPendingRequests(): void };
};
RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
  this: RequestQueueInternals,
) {
  if (this.throttleCheckTimeoutId) return;
  let delay = this.throttledUntil - Date.now();
  if (this.pending.length > 0 && delay <= 0) delay = 10;
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    Math.max(0, delay),
  );
};

type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
const groupPath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition');
require(groupPath);
require.cache[groupPath]!.exports = ({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: Partitioner;
}): Record<number, unknown[]> => {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list) list.push(message);
    else result[partition] = [message];
  }
  return result;
};

/** CRC-32C (Castagnoli), slicing by 8: T[k][b] is the CRC of byte b followed by k zero bytes. */
const CRC32C = Array.from({ length: 8 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C[0]![n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = CRC32C[0]![n]!;
  for (let k = 1; k < 8; k++) {
    c = CRC32C[0]![c & 0xff]! ^ (c >>> 8);
    CRC32C[k]![n] = c;
  }
}
const [C0, C1, C2, C3, C4, C5, C6, C7] = CRC32C as [
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
const crcPath = require.resolve('kafkajs/src/protocol/recordBatch/crc32C');
require(crcPath);
require.cache[crcPath]!.exports = crc32c;

export const kafkajs = require('kafkajs') as typeof import('kafkajs');
export type { WireHeader };
