import type { OffsetRun } from '../format/restore-state.ts';

/** Builds offset runs as records are restored, one source partition at a time. */
export class OffsetRunBuilder {
  readonly runs: OffsetRun[] = [];
  records = 0;

  add(sourceOffset: number, targetOffset: number): void {
    this.records++;
    const last = this.runs.at(-1);
    if (last && last[0] + last[2] === sourceOffset && last[1] + last[2] === targetOffset) {
      last[2]++;
      return;
    }
    this.runs.push([sourceOffset, targetOffset, 1]);
  }

  /** `count` records at consecutive source offsets from `sourceOffset`, restored to consecutive target offsets. */
  addRun(sourceOffset: number, targetOffset: number, count: number): void {
    this.records += count;
    const last = this.runs.at(-1);
    if (last && last[0] + last[2] === sourceOffset && last[1] + last[2] === targetOffset) {
      last[2] += count;
      return;
    }
    this.runs.push([sourceOffset, targetOffset, count]);
  }
}

/**
 * The target offset a consumer should resume at, given the offset it had committed on the source (the next
 * record it would have read): the target offset of the first restored record whose source offset is >= it,
 * or `endOffset` (after the last restored record) when there is none.
 */
export function mapCommittedOffset(
  runs: OffsetRun[],
  committedSourceOffset: number,
  endOffset: number,
): number {
  // Runs are in source-offset order: binary search for the first run that ends after the committed offset.
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const [s, , n] = runs[mid]!;
    if (s + n <= committedSourceOffset) lo = mid + 1;
    else hi = mid;
  }
  const run = runs[lo];
  if (!run) return endOffset;
  const [s, t] = run;
  return committedSourceOffset <= s ? t : t + (committedSourceOffset - s);
}
