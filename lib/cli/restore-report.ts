import type { GroupResetPlan, GroupResetResult } from '../offsets/index.ts';
import type { AbridgedRestoreReport } from '../restore/index.ts';
import { formatDuration, renderTable } from './output.ts';

export function renderGroupMoves(groups: (GroupResetPlan | GroupResetResult)[]): string {
  if (groups.length === 0) return 'no consumer groups moved';
  return renderTable(
    ['CONSUMER GROUP', 'STATUS', 'TOPIC', 'PARTITION', 'SOURCE OFFSET', 'FROM', 'TO'],
    groups.flatMap((g) => {
      const status = 'status' in g ? g.status : g.problem ? 'blocked' : 'planned';
      if (g.moves.length === 0)
        return [[g.group_id, g.problem ? `${status}: ${g.problem}` : status, null, null, null, null, null]];
      return g.moves.map((m, i) => [
        i === 0 ? g.group_id : '',
        i === 0 ? (g.problem ? `${status}: ${g.problem}` : status) : '',
        m.topic,
        m.partition,
        m.source_offset,
        m.current,
        m.target,
      ]);
    }),
  );
}

export function renderRestoreReport(r: AbridgedRestoreReport): string {
  const lines = [
    `${r.dry_run ? 'DRY RUN (nothing written): ' : ''}restore of backup ${r.backup_id} into cluster ${r.target_cluster_id}: ${r.ok ? 'OK' : 'FAILED'}`,
    `  restore id ${r.restore_id}; ${formatDuration(r.duration_ms)}`,
  ];
  if (r.window.start_time !== null || r.window.end_time !== null) {
    const fmt = (t: number | null) => (t === null ? 'open' : new Date(t).toISOString());
    lines.push(`  time window ${fmt(r.window.start_time)} .. ${fmt(r.window.end_time)}`);
  }
  lines.push(
    '',
    renderTable(
      [
        'SOURCE TOPIC',
        'TARGET TOPIC',
        'ACTION',
        'PARTITION',
        'FROM',
        'EXPECTED',
        'RESTORED',
        'WRITTEN NOW',
        'TARGET OFFSETS',
        'OK',
      ],
      r.topics.flatMap((t) =>
        t.partitions.map((p) => [
          t.source_topic,
          t.target_topic,
          t.action,
          p.target_partition,
          p.sources.join(' '),
          p.expected,
          p.restored,
          p.written_now,
          `${p.base_offset}..${p.end_offset}`,
          p.ok ? 'yes' : 'NO',
        ]),
      ),
    ),
    '',
    r.consumer_groups.length === 0 && r.consumer_groups_note
      ? `consumer groups: ${r.consumer_groups_note}`
      : renderGroupMoves(r.consumer_groups),
  );
  if (r.abridged) {
    const a = r.abridged;
    lines.push(
      `abridged: ${a.partitions - a.partitions_omitted} of ${a.partitions} partitions listed (those that did not verify first), ${a.groups_omitted} consumer groups and ${a.moves_omitted} offset moves left out; the whole report: ${a.location}`,
    );
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
