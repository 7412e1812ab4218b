import { describe, expect, it } from 'vitest';
import { KAFKA_DEFAULT_RETENTION_MS, oldRecordsWarning } from '../../../lib/restore/retention-check.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const seg = (min: number, max: number) => ({ min_timestamp: min, max_timestamp: max });
const source = (...segments: ReturnType<typeof seg>[]) => ({ partitions: [{ segments }] }) as never;
const base = {
  targetTopic: 'orders',
  cleanupPolicy: 'delete',
  retentionAssumed: false,
  window: { start_time: null, end_time: null },
  now: NOW,
};

describe('old records against the target retention', () => {
  it('warns when restored records are older than retention.ms, naming the topic, count and oldest', () => {
    const w = oldRecordsWarning({
      ...base,
      retentionMs: 7 * DAY,
      source: source(seg(NOW - 30 * DAY, NOW - 29 * DAY), seg(NOW - DAY, NOW)),
    });
    expect(w).toMatch(
      /^orders: 1 segment\(s\) hold records older than the target's retention\.ms \(7\.0 days;/,
    );
    expect(w).toContain(new Date(NOW - 30 * DAY).toISOString());
    expect(w).toMatch(/Raise retention\.ms/);
  });

  it('is silent for recent records, retention -1, compact-only topics, and windows after the cutoff', () => {
    const old = source(seg(NOW - 30 * DAY, NOW - 29 * DAY), seg(NOW - DAY, NOW));
    expect(
      oldRecordsWarning({ ...base, retentionMs: 7 * DAY, source: source(seg(NOW - DAY, NOW)) }),
    ).toBeUndefined();
    expect(oldRecordsWarning({ ...base, retentionMs: -1, source: old })).toBeUndefined();
    expect(
      oldRecordsWarning({ ...base, cleanupPolicy: 'compact', retentionMs: 7 * DAY, source: old }),
    ).toBeUndefined();
    expect(
      oldRecordsWarning({
        ...base,
        retentionMs: 7 * DAY,
        source: old,
        window: { start_time: NOW - 2 * DAY, end_time: null },
      }),
    ).toBeUndefined();
    // compact,delete still deletes by time.
    expect(
      oldRecordsWarning({ ...base, cleanupPolicy: 'compact,delete', retentionMs: 7 * DAY, source: old }),
    ).toBeDefined();
  });

  it("assumes Kafka's default retention when neither side sets one, and says so", () => {
    const w = oldRecordsWarning({
      ...base,
      retentionMs: undefined,
      cleanupPolicy: undefined,
      retentionAssumed: true,
      source: source(seg(NOW - KAFKA_DEFAULT_RETENTION_MS - DAY, NOW)),
    });
    expect(w).toMatch(/7\.0 days, Kafka default assumed/);
  });
});
