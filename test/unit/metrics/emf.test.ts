import { describe, expect, it } from 'vitest';
import {
  type EmfDocument,
  EmfMetrics,
  emfDocuments,
  METRIC_NAMES,
  METRICS,
} from '../../../lib/metrics/index.ts';
import { exerciseAll, exercises } from './exercise.ts';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);

function recorder() {
  const lines: string[] = [];
  const metrics = new EmfMetrics({ write: (line) => lines.push(line), now: () => NOW });
  const docs = () => lines.map((l) => JSON.parse(l) as EmfDocument);
  return { metrics, lines, docs };
}

const units = new Map<string, string>(Object.values(METRICS).map((m) => [m.name, m.unit]));

describe('EmfMetrics', () => {
  it('writes well-formed EMF: namespace, dimensions present as strings, a number for every metric', () => {
    const { metrics, lines, docs } = recorder();
    exerciseAll(metrics);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain('\n');
    const seen = new Set<string>();
    for (const doc of docs()) {
      expect(doc._aws.Timestamp).toBe(NOW);
      expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('KafkaBackup');
      for (const directive of doc._aws.CloudWatchMetrics) {
        expect(directive.Namespace).toBe('KafkaBackup');
        for (const dim of directive.Dimensions.flat()) expect(typeof doc[dim]).toBe('string');
        for (const m of directive.Metrics) {
          expect(typeof doc[m.Name]).toBe('number');
          expect(m.Unit).toBe(units.get(m.Name));
          seen.add(m.Name);
        }
      }
    }
    // The same names as Prometheus, and every one of them reachable.
    expect([...seen].sort()).toEqual([...METRIC_NAMES].sort());
  });

  it('writes a backup success as one document: the outcome is a dimension, the backup id only a property', () => {
    const { metrics, docs } = recorder();
    exercises.backupSucceeded(metrics);
    expect(docs()).toHaveLength(1);
    const [doc] = docs();
    expect(doc).toMatchObject({
      SourceClusterId: 'primary',
      Outcome: 'success',
      BackupId: 'primary-1',
      kafka_backup_backups_total: 1,
      kafka_backup_last_successful_backup_timestamp: 1735787045,
      kafka_backup_backup_size_bytes: 123_456,
      kafka_backup_backup_records: 1000,
      kafka_backup_backup_duration_seconds: 4.5,
    });
    const directives = doc!._aws.CloudWatchMetrics;
    expect(directives.map((d) => d.Dimensions)).toEqual([
      [['SourceClusterId', 'Outcome']],
      [['SourceClusterId']],
    ]);
    expect(directives[0]!.Metrics.map((m) => m.Name)).toEqual(['kafka_backup_backups_total']);
    expect(directives.flatMap((d) => d.Dimensions.flat())).not.toContain('BackupId');
  });

  it('sends counters as deltas and skips the zero deltas that only pre-create Prometheus series', () => {
    const { metrics, docs } = recorder();
    exercises.backupStarted(metrics);
    expect(docs()).toEqual([]);
    metrics.recordsBackedUp({ sourceClusterId: 'primary', records: 10 });
    metrics.recordsBackedUp({ sourceClusterId: 'primary', records: 5 });
    expect(docs().map((d) => d['kafka_backup_records_total'])).toEqual([10, 5]);
  });

  it('splits observations that disagree on a field into separate documents', () => {
    const obs = (outcome: string) => ({
      metric: METRICS.backupsTotal,
      value: 1,
      labels: { source_cluster_id: 'p', outcome, backup_id: 'b' },
    });
    const docs = emfDocuments([obs('success'), obs('failure')], { namespace: 'N', timestamp: 1 });
    expect(docs.map((d) => d['Outcome'])).toEqual(['success', 'failure']);
  });

  it('never throws when the writer does', () => {
    const errors: unknown[] = [];
    const metrics = new EmfMetrics({
      write: () => {
        throw new Error('EPIPE');
      },
      onError: (e) => errors.push(e),
    });
    expect(() => exercises.backupFailed(metrics)).not.toThrow();
    expect(errors).toHaveLength(1);
  });
});
