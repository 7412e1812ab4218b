import { describe, expect, it } from 'vitest';
import { renderRestoreReport } from '../../../lib/cli/restore-report.ts';
import { asRestoreReport } from '../../../lib/dr/report.ts';
import { abridgeReport, type RestoreReport } from '../../../lib/restore/index.ts';

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

  // 10,000 partitions and a group moving on each would be megabytes: more than a Step Functions state holds.
  it('is abridged for the execution state when large: what did not verify first, counts of the rest, where the whole is', () => {
    const partitions = Array.from({ length: 10_000 }, (_, i) => ({
      target_partition: i % 500,
      sources: [`t${Math.floor(i / 500)}/${i % 500}`],
      backup_records: 1,
      expected: 1,
      restored: i === 7_321 ? 0 : 1,
      written_now: 1,
      base_offset: 0,
      end_offset: 1,
      ok: i !== 7_321,
    }));
    const topics = Array.from({ length: 20 }, (_, t) => ({
      source_topic: `t${t}`,
      target_topic: `t${t}`,
      action: 'create' as const,
      partitions: partitions.slice(t * 500, (t + 1) * 500),
    }));
    const moves = partitions.map((p, i) => ({
      topic: `t${Math.floor(i / 500)}`,
      partition: p.target_partition,
      current: null,
      target: 1,
      source_offset: 1,
    }));
    const big: RestoreReport = {
      ...report,
      ok: false,
      topics,
      consumer_groups: [{ group_id: 'g', state: 'Empty', members: 0, moves, problem: null, status: 'reset' }],
    };
    const location = 's3://bucket/dr/restores/r-1/report.json';
    expect(JSON.stringify(big).length).toBeGreaterThan(256 * 1024);
    const small = abridgeReport(big, 64 * 1024, location);
    expect(JSON.stringify(small).length).toBeLessThan(64 * 1024);
    expect(small.ok).toBe(false);
    expect(small.abridged).toEqual({
      partitions: 10_000,
      partitions_omitted: 9_900,
      topics_omitted: 18,
      groups_omitted: 0,
      moves_omitted: 10_000,
      location,
    });
    // The partition that did not verify is listed first of all, then the first 99 that did; the topics with
    // nothing left in are not listed.
    expect(small.topics.map((t) => [t.target_topic, t.partitions.length])).toEqual([
      ['t0', 99],
      ['t14', 1],
    ]);
    expect(small.topics[1]!.partitions[0]).toMatchObject({ target_partition: 321, ok: false });
    expect(small.consumer_groups).toEqual([{ ...big.consumer_groups[0]!, moves: [] }]);
    // Still a report to `kafka-backup dr failover`, which says it is abridged and where the whole is.
    const parsed = asRestoreReport(JSON.parse(JSON.stringify(small)));
    expect(parsed).toBeDefined();
    expect(renderRestoreReport(parsed!)).toContain(
      `abridged: 100 of 10000 partitions listed (those that did not verify first), 0 consumer groups and 10000 offset moves left out; the whole report: ${location}`,
    );
    // A small report is carried whole.
    expect(abridgeReport(report, 64 * 1024, location)).toBe(report);
  });
});
