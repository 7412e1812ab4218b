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
  return new Encoder()
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

export const kafkajs = require('kafkajs') as typeof import('kafkajs');
export type { WireHeader };
