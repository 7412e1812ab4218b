import type { Manifest } from '../format/manifest.ts';
import { renderTable } from './output.ts';

function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/**
 * One row per backed-up partition: its cut, records, gaps, and the time span of its records (what a
 * point-in-time restore's start_time/end_time choose from; segments reused from an earlier backup may stretch it
 * a little before start_offset).
 */
export function renderPartitionTable(m: Manifest): string {
  return renderTable(
    [
      'TOPIC',
      'PARTITION',
      'START',
      'END (CUT)',
      'RECORDS',
      'SEGMENTS',
      'FIRST RECORD',
      'LAST RECORD',
      'GAPS',
    ],
    m.topics.flatMap((t) =>
      t.partitions.map((p) => [
        t.name,
        p.partition,
        p.start_offset,
        p.end_offset,
        p.records,
        p.segments.length,
        p.segments.length > 0 ? isoOrNull(Math.min(...p.segments.map((s) => s.min_timestamp))) : null,
        p.segments.length > 0 ? isoOrNull(Math.max(...p.segments.map((s) => s.max_timestamp))) : null,
        p.gaps.map((g) => `${g.start_offset}-${g.end_offset} ${g.reason}`).join(', ') || null,
      ]),
    ),
  );
}
