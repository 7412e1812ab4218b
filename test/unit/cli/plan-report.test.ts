import { describe, expect, it } from 'vitest';
import { renderPlanText } from '../../../lib/cli/plan-report.ts';
import { estimateBackup, type PlannedItems, packBackupItems } from '../../../lib/plan/index.ts';

function planned(topics: number, perTopic: number): PlannedItems {
  const partitions = [];
  for (let t = 0; t < topics; t++)
    for (let p = 0; p < perTopic; p++)
      partitions.push({
        topic: `topic-${String(t).padStart(2, '0')}`,
        partition: p,
        from: 0,
        to: 100 * (t + 1),
        bytes_per_offset: 1000,
        stored_ratio: 0.3,
        source: 'default' as const,
      });
  const toPack = partitions.map((p) => ({
    ...p,
    bytesPerOffset: p.bytes_per_offset,
    storedRatio: p.stored_ratio,
  }));
  const items = packBackupItems(toPack, { fargateMinOffsets: 20_000_000, maxRangesPerItem: 3 });
  const estimate = estimateBackup({
    items,
    partitions: toPack,
    segmentMaxBytes: 32 * 1024 * 1024,
    checkpointIntervalSecs: 30,
    storedBackups: 0,
    backupKeys: 0,
    segmentKeys: 0,
    metadata: false,
    region: 'eu-west-1',
  });
  return {
    items,
    estimate,
    partitions,
    bytes_per_offset_from: { previous_backup: 0, probe: 0, default: partitions.length },
  };
}

describe('the plan report', () => {
  it('lists every partition of a small plan', () => {
    const text = renderPlanText(planned(2, 3), null).join('\n');
    expect(text).toContain('cut: 2 topics, 6 partitions, 6 with offsets to read');
    expect(text.match(/^topic-0\d +\d +0 +\d+/gm)).toHaveLength(6);
    expect(text).toContain('estimate per run in eu-west-1');
    expect(text).toMatch(/Step Functions +\d+ state transitions/);
  });

  it('summarizes a large one per topic, the largest first, and the items after 20', () => {
    const text = renderPlanText(planned(30, 4), 'b-1').join('\n');
    expect(text).toContain(
      'cut: 30 topics, 120 partitions, 120 with offsets to read (the offsets before them are reused from b-1)',
    );
    expect(text).toMatch(/^TOPIC +PARTITIONS +OFFSETS +BYTES$/m);
    expect(text.indexOf('topic-29')).toBeLessThan(text.indexOf('topic-28'));
    expect(text).toContain('… and 10 more topics (--format json lists every partition)');
    expect(text).toMatch(/… and \d+ more items/);
  });
});
