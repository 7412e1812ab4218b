import type { DrillReport } from './run-drill.ts';

/** The drill report as Markdown: the artefact a team files as proof of its monthly drill. */
export function renderDrillMarkdown(r: DrillReport): string {
  const lines = [
    `# DR drill ${r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    `- started: ${r.started_at}, took ${(r.duration_ms / 1000).toFixed(1)} s`,
    `- test topic: \`${r.topic}\`, consumer group \`${r.consumer_group}\`, backup \`${r.backup_id}\``,
    `- data: ${r.records} records x ${r.record_size} bytes`,
    '',
    '| step | result | time | detail |',
    '|---|---|---|---|',
    ...r.steps.map(
      (s) =>
        `| ${s.name} | ${s.ok ? 'ok' : '**FAILED**'} | ${(s.duration_ms / 1000).toFixed(1)} s | ${s.detail.replace(/\|/g, '\\|')} |`,
    ),
    '',
    '| partition | produced | backed up | restored | bytes match | group committed (source) | group resumes at (source) | ok |',
    '|---|---|---|---|---|---|---|---|',
    ...r.partitions.map(
      (p) =>
        `| ${p.partition} | ${p.produced} | ${p.backed_up} | ${p.restored} | ${p.digest_match ? 'yes' : 'NO'} | ${p.committed_source_offset} | ${p.resumed_at_source_offset ?? '-'} | ${p.ok ? 'yes' : '**NO**'} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
