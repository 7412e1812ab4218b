import type { SegmentRef } from './manifest.ts';

/**
 * First bytes of every segment's decompressed stream: the digits are the segment's format. A reader that finds
 * anything else is looking at something that is not a segment, or at a version it does not know.
 * Format 1: records in our own encoding (record-codec.ts). Format 2: Kafka's own record batches as the broker
 * returned them, each behind a small index entry (docs/format.md).
 */
export const SEGMENT_MAGIC_V1 = Buffer.from('KBSEG001', 'ascii');
export const SEGMENT_MAGIC_V2 = Buffer.from('KBSEG002', 'ascii');
export const SEGMENT_MAGIC_BYTES = 8;

/** Bytes of the index entry in front of each batch of a format-2 segment: first and last offset, min timestamp. */
export const BATCH_ENTRY_BYTES = 24;

/** What a finished segment knows about itself: a SegmentRef minus the key it will be stored under. */
export type SegmentSummary = Omit<SegmentRef, 'key'>;

/** Checks a reader makes against the manifest's view of a segment; pass the SegmentRef itself. */
export interface SegmentExpectation {
  /** Names the segment in error messages. */
  key?: string;
  sha256?: string;
  size?: number;
  uncompressed_size?: number;
  records?: number;
  first_offset?: number;
  last_offset?: number;
}
