import type { TopicManifest } from '../format/manifest.ts';

/** Kafka's default retention.ms (log.retention.hours=168), assumed where neither topic nor backup sets one. */
export const KAFKA_DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * Records keep their original timestamps when restored, and a broker deletes a record whose timestamp is older
 * than the topic's retention.ms within minutes of writing it: a restore of old data into a topic with ordinary
 * retention loses it right after it lands, while every offset check passes. Returns the warning to show, or
 * undefined when nothing restored is older than the target's retention (or the topic only compacts, or keeps
 * forever).
 */
export function oldRecordsWarning(o: {
  targetTopic: string;
  /** The target's effective configs as far as known: retention.ms and cleanup.policy. */
  retentionMs: number | undefined;
  cleanupPolicy: string | undefined;
  /** Defaulted retention: say so in the warning. */
  retentionAssumed: boolean;
  source: Pick<TopicManifest, 'partitions'>;
  window: { start_time: number | null; end_time: number | null };
  now: number;
}): string | undefined {
  if (o.cleanupPolicy !== undefined && !o.cleanupPolicy.split(',').includes('delete')) return undefined;
  const retention = o.retentionMs ?? KAFKA_DEFAULT_RETENTION_MS;
  if (retention < 0) return undefined;
  const cutoff = o.now - retention;
  let older = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const p of o.source.partitions) {
    for (const s of p.segments) {
      if (o.window.end_time !== null && s.min_timestamp >= o.window.end_time) continue;
      if (o.window.start_time !== null && s.max_timestamp < o.window.start_time) continue;
      const from = Math.max(s.min_timestamp, o.window.start_time ?? s.min_timestamp);
      if (from < cutoff) {
        older++;
        oldest = Math.min(oldest, from);
      }
    }
  }
  if (older === 0) return undefined;
  const days = (ms: number) => `${(ms / 86_400_000).toFixed(1)} days`;
  return (
    `${o.targetTopic}: ${older} segment(s) hold records older than the target's retention.ms (${days(retention)}` +
    `${o.retentionAssumed ? ', Kafka default assumed' : ''}; oldest ${new Date(oldest).toISOString()}): the broker deletes ` +
    'them soon after they are written. Raise retention.ms on the target topic (or restore.topic configs) first to keep them'
  );
}
