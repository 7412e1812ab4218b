import type { SegmentRef } from './manifest.ts';

/**
 * First bytes of every segment's decompressed stream. A reader that finds anything else is looking at
 * something that is not a segment, or at a segment version it does not know (the digits are the version).
 */
export const SEGMENT_MAGIC = Buffer.from('KBSEG001', 'ascii');

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
