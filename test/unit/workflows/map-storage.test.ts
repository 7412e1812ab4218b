import { describe, expect, it } from 'vitest';
import { CorruptDataError, InvalidEventError } from '../../../lib/errors.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';
import { WorkflowLayout } from '../../../lib/storage/layout.ts';
import { BackupItem, RestoreItem } from '../../../lib/workflow/events.ts';
import { loadMapItems, loadMapResults, storeMapItems } from '../../../lib/workflow/map-storage.ts';
import { tempDir } from '../../support/cli.ts';

/** Step Functions' execution state (input and output of a state) is capped at 256 KiB. */
const STATE_LIMIT = 256 * 1024;
const s3 = { backend: 's3' as const, bucket: 'kafka-backups-primary', prefix: '/us-west-2/hourly/' };
const backupItem = (p: number): BackupItem => ({
  ranges: [
    {
      topic: `events-${String(Math.floor(p / 500)).padStart(3, '0')}`,
      partition: p % 500,
      from: 0,
      to: 1_234_567,
    },
  ],
  offsets: 1_234_567,
  bytes: 1_264_196_608,
  runner: 'lambda',
});
const restoreItem = (p: number) => ({
  work: {
    target_topic: 'orders',
    target_partition: p,
    sources: [{ topic: 'orders', partition: p }],
    backup_records: 10,
    base_offset: 0,
    mode: 'new' as const,
  },
  bytes: 100,
  runner: 'lambda' as const,
});

describe('Distributed Map items and results in the location (lib/workflow/map-storage.ts)', () => {
  it('10,000 items go to the location; the pointer in the state stays a few hundred bytes', async () => {
    const store = new FilesystemStore(tempDir('kb-map-'));
    const items = Array.from({ length: 10_000 }, (_, p) => backupItem(p));
    const inline = JSON.stringify({ items });
    // What the state would have carried: far over the limit (the test would prove nothing otherwise).
    expect(inline.length).toBeGreaterThan(STATE_LIMIT);
    const keys = {
      items: WorkflowLayout.backupItems('b-1'),
      resultsPrefix: WorkflowLayout.backupResultsPrefix('b-1'),
    };
    const map = await storeMapItems(store, s3, keys, items);
    expect(map).toEqual({
      items: { bucket: 'kafka-backups-primary', key: 'us-west-2/hourly/backups/b-1/workflow/items.json' },
      results: { bucket: 'kafka-backups-primary', prefix: 'us-west-2/hourly/backups/b-1/workflow/results' },
      count: 10_000,
    });
    expect(JSON.stringify(map).length).toBeLessThan(1024);
    // The object is the plain JSON array ItemReader (InputType JSON) iterates over.
    const stored = JSON.parse((await store.get(keys.items)).toString());
    expect(stored).toHaveLength(10_000);
    expect(await loadMapItems(store, keys.items, BackupItem)).toEqual(items);
  });

  it('a location at the bucket root, and a folder location (its path as the bucket)', async () => {
    const path = tempDir('kb-map-');
    const store = new FilesystemStore(path);
    const keys = {
      items: WorkflowLayout.restoreItems('r-1'),
      resultsPrefix: WorkflowLayout.restoreResultsPrefix('r-1'),
    };
    expect((await storeMapItems(store, { backend: 's3', bucket: 'b', prefix: '' }, keys, [])).items.key).toBe(
      'restores/r-1/workflow/items.json',
    );
    expect(await storeMapItems(store, { backend: 'filesystem', path }, keys, [restoreItem(0)])).toMatchObject(
      {
        items: { bucket: path, key: 'restores/r-1/workflow/items.json' },
        count: 1,
      },
    );
  });

  it('reads a Map Run’s outputs from its ResultWriter manifest and result files, only from this run’s folder', async () => {
    const store = new FilesystemStore(tempDir('kb-map-'));
    const folder = `${WorkflowLayout.restoreResultsPrefix('r-1')}6dbfba93-bcff-410b-9b5c-abf41ae9eddb/`;
    const child = (p: number) => ({
      ExecutionArn: `arn:aws:states:us-east-1:123456789012:execution:m/RestorePartitions:x:${p}`,
      Input: JSON.stringify({ item: restoreItem(p) }),
      Name: String(p),
      Output: JSON.stringify({ target_topic: 'orders', target_partition: p, written: 10 }),
      Status: 'SUCCEEDED',
    });
    await store.put(`${folder}SUCCEEDED_0.json`, JSON.stringify([child(0), child(1)]));
    await store.put(`${folder}SUCCEEDED_1.json`, JSON.stringify([child(2)]));
    const manifest = (files: Record<string, { Key: string }[]>) =>
      store.put(
        `${folder}manifest.json`,
        JSON.stringify({ DestinationBucket: 'kafka-backups-primary', MapRunArn: 'arn', ResultFiles: files }),
      );
    const key = (k: string) => ({ Key: `us-west-2/hourly/${folder}${k}`, Size: 1 });
    await manifest({
      SUCCEEDED: [key('SUCCEEDED_0.json'), key('SUCCEEDED_1.json')],
      FAILED: [],
      PENDING: [],
    });
    const results = {
      MapRunArn: 'arn',
      ResultWriterDetails: {
        Bucket: 'kafka-backups-primary',
        Key: `us-west-2/hourly/${folder}manifest.json`,
      },
    };
    const prefix = WorkflowLayout.restoreResultsPrefix('r-1');
    expect(await loadMapResults(store, s3, results, prefix)).toEqual(
      [0, 1, 2].map((p) => ({
        target_topic: 'orders',
        target_partition: p,
        written: 10,
      })),
    );

    // Another restore's results, another bucket: refused before anything is read.
    await expect(
      loadMapResults(store, s3, results, WorkflowLayout.restoreResultsPrefix('r-2')),
    ).rejects.toBeInstanceOf(InvalidEventError);
    await expect(
      loadMapResults(
        store,
        s3,
        { ...results, ResultWriterDetails: { ...results.ResultWriterDetails, Bucket: 'other' } },
        prefix,
      ),
    ).rejects.toThrow(/is not in this run's location/);
    // A Map Run with failed items: its results are not taken as the restore's.
    await store.put(`${folder}FAILED_0.json`, '[]');
    await manifest({ SUCCEEDED: [key('SUCCEEDED_0.json')], FAILED: [key('FAILED_0.json')], PENDING: [] });
    await expect(loadMapResults(store, s3, results, prefix)).rejects.toBeInstanceOf(CorruptDataError);
  });

  it('refuses an items object that does not hold work items, naming it', async () => {
    const store = new FilesystemStore(tempDir('kb-map-'));
    await store.put('restores/r-1/workflow/items.json', JSON.stringify([{ work: {} }]));
    await expect(loadMapItems(store, 'restores/r-1/workflow/items.json', RestoreItem)).rejects.toThrow(
      /restores\/r-1\/workflow\/items\.json does not hold the work items/,
    );
  });
});
