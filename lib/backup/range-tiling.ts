import { UserError } from '../errors.ts';
import type { Gap } from '../format/manifest.ts';
import type { RangeProgress } from '../format/plan.ts';

/** A partition's planned offsets to read: [from, to) = [read_from, end_offset). */
export interface PlannedSpan {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

/**
 * The finished ranges of one partition that cover its planned [from, to) exactly, in offset order: each starts
 * where the previous one ended, the first at `from`, the last ends at `to` (an empty span needs none). Ranges are
 * compared by their bounds only, never by counting records: offsets have holes (compaction, transaction markers).
 *
 * Ranges outside the chain are left out: a resumed backup whose items were cut differently from the interrupted
 * run's leaves ranges of both cuts, and one complete chain of finished ranges is the whole partition either way
 * (their segments are then unreferenced, and retention removes them). With no such chain, the error names where
 * coverage stops: a range not finished yet, ranges that overlap, or offsets no range holds. Never a silently
 * incomplete partition.
 */
export function tileRanges(
  backupId: string,
  span: PlannedSpan,
  ranges: readonly RangeProgress[],
): RangeProgress[] {
  const where = `${span.topic}/${span.partition}`;
  for (const r of ranges) {
    if (
      r.topic !== span.topic ||
      r.partition !== span.partition ||
      r.from > r.to ||
      r.from < span.from ||
      r.to > span.to
    )
      throw new UserError(
        `backup ${backupId}: the progress of ${r.topic}/${r.partition} range [${r.from}, ${r.to}) lies outside ${where}'s planned offsets [${span.from}, ${span.to})`,
        {
          hint: 'The progress files do not belong to this plan; remove the unfinished run (its backups/<id>/ folder) and back up again.',
        },
      );
  }
  const finished = ranges.filter((r) => r.to > r.from && r.next_offset >= r.to);
  const startingAt = new Map<number, RangeProgress[]>();
  for (const r of finished) startingAt.set(r.from, [...(startingAt.get(r.from) ?? []), r]);
  // Longest first: the fewest ranges (one whole-partition range of a resumed run beats the pieces of an earlier cut).
  for (const list of startingAt.values()) list.sort((a, b) => b.to - a.to);

  // Depth-first from `from`, each offset given up at most once: linear in the number of ranges.
  const deadEnds = new Set<number>();
  let furthest = span.from;
  const chain: RangeProgress[] = [];
  const walk = (at: number): boolean => {
    if (at === span.to) return true;
    if (deadEnds.has(at)) return false;
    furthest = Math.max(furthest, at);
    for (const r of startingAt.get(at) ?? []) {
      chain.push(r);
      if (walk(r.to)) return true;
      chain.pop();
    }
    deadEnds.add(at);
    return false;
  };
  if (walk(span.from)) return chain;
  throw uncovered(backupId, span, ranges, furthest);
}

/** Why coverage stops at offset `at` (the furthest a chain of finished ranges reached). */
function uncovered(
  backupId: string,
  span: PlannedSpan,
  ranges: readonly RangeProgress[],
  at: number,
): UserError {
  const where = `${span.topic}/${span.partition}`;
  const resume = { hint: 'Run the backup again with the same backup_id to resume it.' };
  const holding = ranges.filter((r) => r.from <= at && at < r.to);
  const running = holding.filter((r) => r.next_offset < r.to).sort((a, b) => b.from - a.from)[0];
  if (running) {
    const whole = running.from === span.from && running.to === span.to;
    return new UserError(
      `backup ${backupId} is not finished: ${where} is at offset ${running.next_offset} of ${running.to}` +
        (whole ? '' : ` (its range [${running.from}, ${running.to}) of [${span.from}, ${span.to}))`),
      resume,
    );
  }
  const over = holding.find((r) => r.from < at);
  if (over) {
    const before = ranges.find((r) => r.to === at && r.next_offset >= r.to);
    return new UserError(
      `backup ${backupId}: the ranges of ${where} overlap: [${over.from}, ${over.to}) holds offset ${at}` +
        (before ? `, where [${before.from}, ${before.to}) ended` : '') +
        `; ranges of a partition must tile [${span.from}, ${span.to})`,
      {
        hint: 'The work items were cut wrongly. Run the backup again with the same backup_id: it reads the partition again as one range.',
      },
    );
  }
  const next = Math.min(span.to, ...ranges.filter((r) => r.from > at).map((r) => r.from));
  return new UserError(
    `backup ${backupId} is not finished: no range of ${where} holds offsets [${at}, ${next}) (planned [${span.from}, ${span.to}))`,
    {
      hint: 'A work item of this partition never ran or its progress was removed. Run the backup again with the same backup_id to resume it.',
    },
  );
}

/**
 * The retention gaps of a partition's tiling ranges as one list in offset order, a gap that ends where the next
 * range's first gap starts joined with it: what one worker reading the whole partition would have recorded.
 */
export function joinRangeGaps(ranges: readonly RangeProgress[]): Gap[] {
  const out: Gap[] = [];
  for (const g of ranges.flatMap((r) => r.gaps)) {
    const last = out.at(-1);
    if (last && last.reason === g.reason && last.end_offset >= g.start_offset)
      out[out.length - 1] = { ...last, end_offset: Math.max(last.end_offset, g.end_offset) };
    else out.push({ ...g });
  }
  return out;
}
