import type { EvidenceReport } from './report.ts';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function seconds(s: number | null): string {
  if (s === null) return 'unknown';
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/**
 * The evidence report for people: the same facts as report.json, in the order an auditor reads them. It is signed
 * with the JSON (both files' digests are in signature.json), so an edit of either fails `evidence verify`.
 */
export function renderEvidenceMarkdown(r: EvidenceReport): string {
  const lines = [
    `# DR drill evidence ${r.id}: ${r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    `- kind: ${r.kind === 'synthetic' ? 'synthetic (a test topic made for the drill)' : 'restore of the newest complete backup into a scratch namespace'}`,
    `- started ${r.started_at}, finished ${r.finished_at}`,
    `- triggered by: ${r.triggered_by.via}, ${r.triggered_by.principal}${r.triggered_by.execution ? ` (${r.triggered_by.execution})` : ''}`,
    `- versions: kafka-backup ${r.versions.kafka_backup}, Node ${r.versions.node}` +
      (r.versions.source_cluster_id ? `, source cluster ${r.versions.source_cluster_id}` : '') +
      (r.versions.target_cluster_id ? `, target cluster ${r.versions.target_cluster_id}` : ''),
    '',
    '## Recovery point and recovery time',
    '',
    '| measure | value |',
    '|---|---|',
    `| RPO: age of the newest complete backup in the DR location | ${seconds(r.rpo.backup_age_seconds)} |`,
    `| RPO: replication delay of that backup | ${seconds(r.rpo.replication_delay_seconds)} |`,
    `| RTO: this drill's restore | ${seconds(r.rto.restore_seconds)} for ${bytes(r.rto.restored_bytes)}${r.rto.bytes_per_second === null ? '' : ` (${bytes(Math.round(r.rto.bytes_per_second))}/s)`} |`,
    `| RTO: the whole backup (${bytes(r.rto.full_backup_bytes)}) at that rate | ${seconds(r.rto.projected_full_restore_seconds)} |`,
    '',
    '## What was restored',
    '',
    `Backup \`${r.restored.backup_id}\` from \`${r.restored.location}\`${r.restored.namespace ? `, into topics prefixed \`${r.restored.namespace}\`` : ''}: ${r.restored.records} records, ${bytes(r.restored.bytes)}.`,
    '',
    '| source topic | restored as | partitions | records | bytes |',
    '|---|---|---:|---:|---:|',
    ...r.restored.topics.map(
      (t) =>
        `| ${cell(t.source_topic)} | ${cell(t.target_topic)} | ${t.partitions} | ${t.records} | ${t.bytes} |`,
    ),
    '',
    '## Checks',
    '',
    '| check | result | detail |',
    '|---|---|---|',
    ...r.checks.map((c) => `| ${cell(c.name)} | ${c.ok ? 'passed' : '**FAILED**'} | ${cell(c.detail)} |`),
    '',
    '## Steps',
    '',
    '| step | result | time | detail |',
    '|---|---|---:|---|',
    ...r.steps.map(
      (s) =>
        `| ${cell(s.name)} | ${s.ok ? 'ok' : '**FAILED**'} | ${(s.duration_ms / 1000).toFixed(1)} s | ${cell(s.detail)} |`,
    ),
    '',
    'Signed: `signature.json` beside this file holds the SHA-256 of report.json and report.md and a signature over',
    'both; `kafka-backup evidence verify` checks them against your key.',
  ];
  return `${lines.join('\n')}\n`;
}
