import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decideTopicIdentity,
  normalizeTopicId,
  offsetsContinue,
  type PartitionSample,
  type RecordPrint,
  recordPrint,
  storedTail,
  type TopicIdentityInput,
} from '../../../lib/backup/topic-identity.ts';
import type { PartitionManifest, SegmentRef } from '../../../lib/format/manifest.ts';
import { type BackupRecord, TimestampType } from '../../../lib/format/record.ts';
import { SegmentWriterV1 as SegmentWriter } from '../../../lib/format/segment-writer-v1.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';

const ID_A = '3f1c2b0e-6a4d-4b8e-9c1f-0d2e3a4b5c6d';
const ID_B = 'a7e9d1c3-2b4f-4e6a-8c0d-1f3e5a7b9c0e';

function record(offset: number, value: string, over: Partial<BackupRecord> = {}): BackupRecord {
  return {
    offset,
    timestamp: 1_700_000_000_000 + offset,
    timestampType: TimestampType.CreateTime,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(value),
    headers: [{ key: 'h', value: Buffer.from('x') }],
    ...over,
  };
}

function prints(records: BackupRecord[]): RecordPrint[] {
  return records.map(recordPrint);
}

function input(over: Partial<TopicIdentityInput> = {}): TopicIdentityInput {
  return {
    previousId: null,
    currentId: null,
    previousPartitionCount: 1,
    currentPartitionCount: 1,
    samples: [],
    ...over,
  };
}

const stored = [record(7, 'old-7'), record(9, 'old-9'), record(10, 'old-10')];

describe('topic identity', () => {
  it('same topic id: the same topic, whatever the records say', () => {
    const different: PartitionSample = {
      partition: 0,
      stored: prints(stored),
      source: prints([record(10, 'new')]),
    };
    expect(decideTopicIdentity(input({ previousId: ID_A, currentId: ID_A, samples: [different] }))).toEqual({
      recreated: false,
      by: 'topic_id',
    });
  });

  it('different topic id: re-created', () => {
    expect(decideTopicIdentity(input({ previousId: ID_A, currentId: ID_B }))).toMatchObject({
      recreated: true,
      by: 'topic_id',
      detail: `topic id ${ID_A} is now ${ID_B}`,
    });
  });

  it('no id, the records below the earlier cut unchanged on the source: the same topic', () => {
    const sample = { partition: 0, stored: prints(stored), source: prints(stored) };
    expect(decideTopicIdentity(input({ samples: [sample] }))).toEqual({ recreated: false, by: 'records' });
    // An id on one side only (the first backup after a client that reports ids) still compares records.
    expect(decideTopicIdentity(input({ currentId: ID_A, samples: [sample] }))).toEqual({
      recreated: false,
      by: 'records',
    });
  });

  it('no id, some stored records compacted away since: the remaining ones decide', () => {
    const sample = { partition: 0, stored: prints(stored), source: prints([stored[2]!]) };
    expect(decideTopicIdentity(input({ samples: [sample] }))).toEqual({ recreated: false, by: 'records' });
  });

  it('no id, a record differs: re-created', () => {
    const sample = {
      partition: 2,
      stored: prints(stored),
      source: prints([stored[0]!, stored[1]!, record(10, 'new-10')]),
    };
    expect(decideTopicIdentity(input({ previousId: ID_A, samples: [sample] }))).toEqual({
      recreated: true,
      by: 'records',
      detail: 'partition 2: the record at offset 10 differs from the one the earlier backup stored',
    });
  });

  it('no id, the source holds a record where the earlier backup had none (e.g. a transaction marker then): re-created', () => {
    const sample = { partition: 0, stored: prints(stored), source: prints([record(8, 'x'), stored[1]!]) };
    expect(decideTopicIdentity(input({ samples: [sample] }))).toMatchObject({
      recreated: true,
      by: 'records',
      detail: 'partition 0 holds a record at offset 8 where the earlier backup stored none',
    });
  });

  it('no id and nothing left to compare: offsets decide', () => {
    expect(decideTopicIdentity(input())).toEqual({ recreated: false, by: 'offsets' });
    const gone = { partition: 0, stored: prints(stored), source: [] };
    expect(decideTopicIdentity(input({ samples: [gone] }))).toEqual({ recreated: false, by: 'offsets' });
  });

  it('no id and fewer partitions than before: re-created', () => {
    expect(decideTopicIdentity(input({ previousPartitionCount: 3, currentPartitionCount: 2 }))).toMatchObject(
      { recreated: true, by: 'partition_count' },
    );
  });

  it('the all-zero UUID is no id', () => {
    expect(normalizeTopicId('00000000-0000-0000-0000-000000000000')).toBeNull();
    expect(normalizeTopicId('AAAAAAAAAAAAAAAAAAAAAA')).toBeNull();
    expect(normalizeTopicId('')).toBeNull();
    expect(normalizeTopicId(ID_A)).toBe(ID_A);
    const sample = { partition: 0, stored: prints(stored), source: prints([record(10, 'new')]) };
    expect(
      decideTopicIdentity(
        input({ previousId: '00000000-0000-0000-0000-000000000000', currentId: ID_A, samples: [sample] }),
      ),
    ).toMatchObject({ recreated: true, by: 'records' });
  });

  it('compares key, value, headers and timestamp exactly', () => {
    const base = record(5, 'v');
    const same = (r: BackupRecord) => recordPrint(r).print === recordPrint(base).print;
    expect(same({ ...base, timestampType: TimestampType.LogAppendTime })).toBe(true);
    expect(same({ ...base, key: Buffer.from(base.key!) })).toBe(true);
    expect(same({ ...base, key: null })).toBe(false);
    expect(same({ ...base, key: Buffer.alloc(0) })).toBe(false);
    expect(same({ ...base, value: null })).toBe(false);
    expect(same({ ...base, timestamp: base.timestamp + 1 })).toBe(false);
    expect(same({ ...base, headers: [] })).toBe(false);
    expect(same({ ...base, headers: [{ key: 'h', value: null }] })).toBe(false);
    const two = [
      { key: 'a', value: Buffer.from('1') },
      { key: 'b', value: Buffer.from('2') },
    ];
    expect(recordPrint({ ...base, headers: two }).print).not.toBe(
      recordPrint({ ...base, headers: [two[1]!, two[0]!] }).print,
    );
  });

  it('offsetsContinue: reuse only when offsets go on from the earlier cut', () => {
    const p = { partition: 0, start_offset: 0, end_offset: 100, records: 100, segments: [], gaps: [] };
    expect(offsetsContinue(p, { partition: 0, logStart: 0, end: 150 })).toBe(true);
    expect(offsetsContinue(p, { partition: 0, logStart: 0, end: 50 })).toBe(false);
    expect(offsetsContinue(p, { partition: 0, logStart: 100, end: 150 })).toBe(false);
  });

  it('storedTail reads the last records below the cut from the last segment, with offset gaps', async () => {
    const store = new FilesystemStore(mkdtempSync(join(tmpdir(), 'kafka-backup-identity-')));
    const segments: SegmentRef[] = [];
    for (const [i, offsets] of [
      [0, 1, 2],
      [4, 6, 9, 10, 12],
    ].entries()) {
      const w = new SegmentWriter({ level: 1 });
      for (const o of offsets) w.add(record(o, `v${o}`));
      const done = w.finish();
      const key = `segments/t/0/seg-${i}.kbseg.zst`;
      await store.put(key, done.body);
      const { chunks: _c, body: _b, ...summary } = done;
      segments.push({ key, ...summary });
    }
    // The cut at 12: offset 12 lies past it (a reader never sees it).
    const p: PartitionManifest = {
      partition: 0,
      start_offset: 0,
      end_offset: 12,
      records: 7,
      segments,
      gaps: [],
    };
    expect((await storedTail(store, p, 3)).map((r) => r.offset)).toEqual([6, 9, 10]);
    expect((await storedTail(store, p)).map((r) => r.offset)).toEqual([4, 6, 9, 10]);
    expect((await storedTail(store, p, 1))[0]).toEqual(recordPrint(record(10, 'v10')));
    expect(await storedTail(store, { ...p, segments: [] })).toEqual([]);
  });
});
