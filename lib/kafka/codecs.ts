// Registers the compression codecs kafkajs lacks, so topics produced with any of Kafka's codecs can be read
// (and written back with the same codec).
import { createRequire } from 'node:module';
import * as zstd from 'zstd-napi';
import { kafkajs } from './kafkajs-patched.ts';
import { lz4FrameCompress, lz4FrameDecompress } from './lz4-frame.ts';

const require = createRequire(import.meta.url);

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const zstdCodec: Codec = {
  async compress(encoder) {
    return zstd.compress(encoder.buffer, { compressionLevel: 3 });
  },
  async decompress(buffer) {
    return zstd.decompress(buffer);
  },
};

const lz4Codec: Codec = {
  async compress(encoder) {
    return lz4FrameCompress(encoder.buffer);
  },
  async decompress(buffer) {
    return lz4FrameDecompress(buffer);
  },
};

/** Kafka's Java client writes Snappy in xerial framing; kafkajs-snappy handles both framings. */
const snappyCodec = (require('kafkajs-snappy') as () => Codec)();

const { CompressionCodecs, CompressionTypes } = kafkajs;
CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
