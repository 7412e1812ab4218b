import type { MetricsRecorder } from '../../../lib/metrics/index.ts';

/**
 * One call of every recorder method. The `satisfies` makes tsc fail when a method is added to MetricsRecorder and
 * not here, so "after calling every method" in the tests stays true.
 */
export const exercises = {
  backupStarted: (r) => r.backupStarted({ backupId: 'primary-1', sourceClusterId: 'primary' }),
  recordsBackedUp: (r) => r.recordsBackedUp({ sourceClusterId: 'primary', records: 1000 }),
  backupSucceeded: (r) =>
    r.backupSucceeded({
      backupId: 'primary-1',
      sourceClusterId: 'primary',
      records: 1000,
      storedBytes: 123_456,
      durationMs: 4_500,
      completedAt: new Date('2025-01-02T03:04:05.000Z'),
    }),
  backupFailed: (r) => r.backupFailed({ backupId: 'primary-2', sourceClusterId: 'primary' }),
  restoreStarted: (r) => r.restoreStarted({ backupId: 'primary-1', targetClusterId: 'dr' }),
  recordsRestored: (r) => r.recordsRestored({ targetClusterId: 'dr', records: 1000 }),
  restoreSucceeded: (r) =>
    r.restoreSucceeded({ backupId: 'primary-1', targetClusterId: 'dr', groupsReset: 3, durationMs: 61_000 }),
  restoreFailed: (r) => r.restoreFailed({ backupId: 'latest', targetClusterId: 'dr' }),
  drReady: (r) => r.drReady({ sourceClusterId: 'primary', ready: true }),
  drillFinished: (r) =>
    r.drillFinished({ sourceClusterId: 'primary', passed: true, rpoSeconds: 1_800, rtoSeconds: 5_400 }),
  daysSinceDrillPassed: (r) => r.daysSinceDrillPassed({ sourceClusterId: 'primary', days: 12.5 }),
} satisfies { [K in keyof MetricsRecorder]: (r: MetricsRecorder) => void };

export function exerciseAll(recorder: MetricsRecorder): void {
  for (const call of Object.values(exercises)) call(recorder);
}

/** Sample lines of a text exposition: name, labels and value (HELP and TYPE lines skipped). */
export function parseExposition(
  text: string,
): { name: string; labels: Record<string, string>; value: number }[] {
  const samples = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = parseExposition(text).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
