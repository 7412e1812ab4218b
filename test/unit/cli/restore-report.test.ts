import { describe, expect, it } from 'vitest';
import { renderRestoreReport } from '../../../lib/cli/restore-report.ts';
import { asRestoreReport } from '../../../lib/dr/report.ts';
import type { RestoreReport } from '../../../lib/restore/index.ts';

const report: RestoreReport = {
  restore_id: 'b-1--cluster--0123456789',
  backup_id: 'b-1',
  target_cluster_id: 'cluster',
  dry_run: false,
  started_at: '2026-12-02T05:00:00.000Z',
  completed_at: '2026-12-02T05:00:01.000Z',
  duration_ms: 1000,
  window: { start_time: null, end_time: null },
  topics: [],
  consumer_groups: [],
  warnings: [],
  ok: true,
};

describe('the restore report (kafka-backup restore, dr failover)', () => {
  it('says why no consumer group moved when the restore was to move them', () => {
    const note =
      'nothing to reset: backup b-1 recorded no consumer group offsets and restore.consumer_groups names none';
    const withNote = { ...report, consumer_groups_note: note };
    expect(renderRestoreReport(withNote)).toContain(`consumer groups: ${note}`);
    expect(renderRestoreReport(report)).toContain('no consumer groups moved');
    expect(renderRestoreReport(report)).not.toContain('nothing to reset');
    // A failover execution's output keeps the note on its way to `kafka-backup dr failover`.
    expect(asRestoreReport(JSON.parse(JSON.stringify(withNote)))?.consumer_groups_note).toBe(note);
  });
});
