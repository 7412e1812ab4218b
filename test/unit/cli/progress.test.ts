import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackupProgress } from '../../../lib/cli/commands/backup.ts';
import { ProgressLine, percentAndEta, progressWanted } from '../../../lib/cli/output.ts';
import type { BackupPlan } from '../../../lib/format/plan.ts';

describe('progress', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('gives the share done and, once there is a rate, the time left', () => {
    const at = (done: number, elapsedMs: number) =>
      percentAndEta({ done, total: 1000, startedAt: 0, now: elapsedMs });
    expect(at(0, 5_000)).toBe('0%');
    expect(at(100, 500)).toBe('10%'); // under a second: no rate to go by yet
    expect(at(250, 10_000)).toBe('25%, 30.0 s left');
    expect(at(500, 60_000)).toBe('50%, 60.0 s left');
    expect(at(100, 60_000)).toBe('10%, 9 min 0 s left');
    expect(at(1000, 60_000)).toBe('100%');
    expect(percentAndEta({ done: 0, total: 0, startedAt: 0, now: 1 })).toBe('100%');
  });

  it("counts a backup against the plan's partitions and offsets", () => {
    let now = 0;
    const progress = new BackupProgress('b-1', { line: new ProgressLine(false), now: () => now });
    const partition = (p: number, read_from: number, end_offset: number) => ({
      partition: p,
      start_offset: 0,
      end_offset,
      reused_segments: [],
      reused_records: 0,
      reused_gaps: [],
      read_from,
    });
    progress.planned({
      topics: [{ name: 'orders', partitions: [partition(0, 0, 600), partition(1, 100, 500)] }],
    } as unknown as BackupPlan);
    expect(progress.text()).toBe('backing up b-1: 0/2 partitions, 0 records, 0 B (0 B/s), 0%');
    now = 10_000;
    const e = (p: number, next: number, end: number, records: number) => ({
      topic: 'orders',
      partition: p,
      records,
      bytes: records * 1024,
      next_offset: next,
      end_offset: end,
    });
    expect(progress.partition(e(0, 600, 600, 600))).toBe(600);
    expect(progress.partition(e(1, 200, 500, 100))).toBe(100);
    // 700 of 1000 offsets in 10 s: the other 300 take about 4.3 s, shown in whole seconds.
    expect(progress.text()).toBe(
      'backing up b-1: 1/2 partitions, 700 records, 700.0 KiB (70.0 KiB/s), 70%, 4.0 s left',
    );
    expect(progress.partition(e(1, 300, 500, 200))).toBe(100);
  });

  it('draws only on a terminal, never in CI or on a dumb terminal', () => {
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    try {
      Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
      vi.stubEnv('CI', '');
      vi.stubEnv('TERM', 'xterm-256color');
      expect(progressWanted()).toBe(true);
      vi.stubEnv('CI', 'true');
      expect(progressWanted()).toBe(false);
      vi.stubEnv('CI', '');
      vi.stubEnv('TERM', 'dumb');
      expect(progressWanted()).toBe(false);
      Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
      vi.stubEnv('TERM', 'xterm');
      expect(progressWanted()).toBe(false);
    } finally {
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });
});
