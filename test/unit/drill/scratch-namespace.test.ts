import { describe, expect, it } from 'vitest';
import { deleteScratchTopics, scratchPrefixOf } from '../../../lib/drill/index.ts';
import type { KafkaCluster } from '../../../lib/kafka/index.ts';
import { parseEvent } from '../../../lib/workflow/events.ts';

describe('a drill scratch prefix', () => {
  it('is the state machine text as is when Kafka can take it', () => {
    const name = 'kafka-backup-drill-6f1c0e9a-0b6f-4bd1-9a3e-0c6a4b7d2e11.';
    expect(scratchPrefixOf(name)).toBe(name);
    expect(scratchPrefixOf(name.slice(0, -1))).toBe(name);
  });

  it('replaces what a topic name cannot hold, with a hash so that names differing there stay apart', () => {
    const a = scratchPrefixOf("kafka-backup-drill-alice's drill!.");
    const b = scratchPrefixOf('kafka-backup-drill-alice_s drill?.');
    expect(a).toMatch(/^kafka-backup-drill-alice_s_drill_-[0-9a-f]{8}\.$/);
    expect(b).toMatch(/^kafka-backup-drill-alice_s_drill_-[0-9a-f]{8}\.$/);
    expect(a).not.toBe(b);
    // The same text gives the same prefix (the drill and its clean-up run in two invocations), and again.
    expect(scratchPrefixOf("kafka-backup-drill-alice's drill!.")).toBe(a);
    expect(scratchPrefixOf(a)).toBe(a);
  });

  it('refuses a prefix short enough to be part of anyone’s topic names, or too long', () => {
    expect(() => scratchPrefixOf('orders.')).toThrow(/must be 8 to 160 characters/);
    expect(() => scratchPrefixOf(`${'x'.repeat(200)}.`)).toThrow(/must be 8 to 160 characters/);
    expect(() => scratchPrefixOf('-kafka-backup-drill.')).toThrow(/start with a letter or digit/);
  });

  it('deletes only the topics under it', async () => {
    const deleted: string[][] = [];
    const cluster = {
      listTopics: async () => [
        'orders',
        'kafka-backup-drill-x1.orders',
        'kafka-backup-drill-x1.payments',
        'kafka-backup-drill-x10.orders',
        'kafka-backup-drill-x1',
      ],
      deleteTopics: async (names: string[]) => {
        deleted.push(names);
      },
    } as unknown as KafkaCluster;
    await expect(deleteScratchTopics(cluster, 'kafka-backup-drill-x1.')).resolves.toEqual([
      'kafka-backup-drill-x1.orders',
      'kafka-backup-drill-x1.payments',
    ]);
    expect(deleted).toEqual([['kafka-backup-drill-x1.orders', 'kafka-backup-drill-x1.payments']]);
    await expect(deleteScratchTopics(cluster, 'kafka backup.')).rejects.toThrow(/not a drill scratch prefix/);
  });
});

describe('the drill steps’ events', () => {
  it('name what is missing, with the state machine as the likely cause', () => {
    expect(() => parseEvent('drill-run', { drill: { kind: 'backup' }, execution: { id: 'x' } })).toThrow(
      /step drill-run: the event does not fit: drill\.config: .*; scratch_prefix: .*; execution\.name/,
    );
    const e = parseEvent('drill-run', {
      drill: { config: { storage: {} } },
      scratch_prefix: 'kafka-backup-drill-1.',
      execution: { id: 'arn:aws:states:us-east-1:1:execution:m:1', name: '1' },
    });
    expect(e.drill).toMatchObject({
      kind: 'backup',
      namespace: 'kafka-backup-drill',
      max_backup_age_seconds: 7200,
    });
    expect(e.trigger).toEqual({ via: 'workflow' });
  });
});
