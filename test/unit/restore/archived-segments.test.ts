import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeFor, ObjectArchivedError } from '../../../lib/errors.ts';
import type { Manifest, SegmentRef } from '../../../lib/format/manifest.ts';
import { checkSegmentsReadable } from '../../../lib/restore/archived-segments.ts';
import type { ObjectStore } from '../../../lib/storage/object-store.ts';
import { type ObjectStorageState, storageStateOf } from '../../../lib/storage/storage-class.ts';

/** A segment of 10 offsets starting at `first`, with timestamps first*1000 .. (first+9)*1000. */
function segment(topic: string, partition: number, first: number): SegmentRef {
  return {
    key: `segments/${topic}/${partition}/${first}`,
    first_offset: first,
    last_offset: first + 9,
    records: 10,
    size: 100,
    uncompressed_size: 200,
    sha256: '0'.repeat(64),
    min_timestamp: first * 1000,
    max_timestamp: (first + 9) * 1000,
  };
}

const manifest = {
  backup_id: 'b-1',
  topics: [
    {
      name: 'orders',
      partitions: [0, 1].map((partition) => ({
        partition,
        start_offset: 0,
        end_offset: 30,
        records: 30,
        segments: [0, 10, 20].map((first) => segment('orders', partition, first)),
        gaps: [],
      })),
    },
  ],
} as unknown as Manifest;

const work = [
  { sources: [{ topic: 'orders', partition: 0 }], mode: 'new' },
  { sources: [{ topic: 'orders', partition: 1 }], mode: 'new' },
];
const allTime = { start_time: null, end_time: null };

/** A store whose objects are in the classes given (STANDARD otherwise); records what was asked. */
function storeWith(states: Record<string, Parameters<typeof storageStateOf>[0]>) {
  const asked: string[] = [];
  const store = {
    location: 's3://bucket/prefix',
    async storageState(key: string): Promise<ObjectStorageState | undefined> {
      asked.push(key);
      return storageStateOf(states[key] ?? {});
    },
  } as unknown as ObjectStore;
  return { store, asked };
}

describe('checkSegmentsReadable (a restore refused before it writes, when segments are archived)', () => {
  it('passes when every segment is in a class S3 serves at once, after asking for each segment read', async () => {
    const { store, asked } = storeWith({
      'segments/orders/0/0': { StorageClass: 'STANDARD_IA' },
      'segments/orders/0/10': { StorageClass: 'GLACIER_IR' },
      'segments/orders/1/0': { StorageClass: 'INTELLIGENT_TIERING' },
      // Retrieved: readable until the copy expires.
      'segments/orders/1/10': {
        StorageClass: 'GLACIER',
        Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2029 00:00:00 GMT"',
      },
    });
    await checkSegmentsReadable(store, { manifest, work, window: allTime });
    expect(asked.sort()).toEqual(
      manifest.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => s.key)).sort(),
    );
  });

  it('names how many segments, in which classes, the first ones, and the retrieval to ask for', async () => {
    const { store } = storeWith({
      'segments/orders/0/0': { StorageClass: 'GLACIER' },
      'segments/orders/0/10': { StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="true"' },
      'segments/orders/0/20': { StorageClass: 'GLACIER' },
      'segments/orders/1/20': { StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'ARCHIVE_ACCESS' },
    });
    const e = await checkSegmentsReadable(store, { manifest, work, window: allTime }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ObjectArchivedError);
    expect(exitCodeFor(e)).toBe(ExitCode.access);
    expect((e as ObjectArchivedError).message).toBe(
      '4 of the 6 segments this restore of backup b-1 reads need a retrieval from an archive storage class before ' +
        'S3 serves them (2 in GLACIER, 1 in DEEP_ARCHIVE, 1 in INTELLIGENT_TIERING (ARCHIVE_ACCESS tier); a ' +
        'retrieval of 1 of them is in progress): s3://bucket/prefix/segments/orders/0/0, ' +
        's3://bucket/prefix/segments/orders/0/10, s3://bucket/prefix/segments/orders/0/20, and 1 more. Nothing ' +
        'was written to the target.',
    );
    expect((e as ObjectArchivedError).hint).toContain(
      'aws s3api restore-object --bucket bucket --key prefix/segments/orders/0/0',
    );
  });

  it('asks only about segments the restore reads: not of partitions done, not outside the time window', async () => {
    const archived = { StorageClass: 'GLACIER' };
    const { store, asked } = storeWith({
      'segments/orders/0/0': archived,
      'segments/orders/1/0': archived,
      'segments/orders/1/20': archived,
    });
    await checkSegmentsReadable(store, {
      manifest,
      work: [
        { ...work[0]!, mode: 'done' },
        { ...work[1]!, mode: 'resume' },
      ],
      // Offsets 10..19 of partition 1 hold timestamps 10000..19000.
      window: { start_time: 12_000, end_time: 15_000 },
    });
    expect(asked).toEqual(['segments/orders/1/10']);
  });

  it('with a store that lists classes: one listing per topic folder, a HeadObject only where a class may need a retrieval', async () => {
    const { store, asked } = storeWith({
      'segments/orders/0/10': {
        StorageClass: 'GLACIER',
        Restore: 'ongoing-request="false", expiry-date="x"',
      },
      'segments/orders/1/0': { StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'DEEP_ARCHIVE_ACCESS' },
    });
    const listed: string[] = [];
    const listing = new Map([
      ['segments/orders/0/0', 'STANDARD_IA'],
      ['segments/orders/0/10', 'GLACIER'],
      ['segments/orders/0/20', 'GLACIER_IR'],
      ['segments/orders/1/0', 'INTELLIGENT_TIERING'],
      ['segments/orders/1/10', 'STANDARD'],
      // segments/orders/1/20 is not listed (a server that lists lazily): asked about too.
      ['segments/orders/9/0', 'DEEP_ARCHIVE'],
    ]);
    Object.assign(store, {
      async listStorageClasses(prefix: string) {
        listed.push(prefix);
        return listing;
      },
    });
    const e = await checkSegmentsReadable(store, { manifest, work, window: allTime }).catch(
      (x: unknown) => x,
    );
    expect(listed).toEqual(['segments/orders/']);
    expect(asked.sort()).toEqual(['segments/orders/0/10', 'segments/orders/1/0', 'segments/orders/1/20']);
    expect((e as ObjectArchivedError).message).toMatch(
      /^1 of the 6 segments this restore of backup b-1 reads needs a retrieval from an archive storage class before S3 serves them \(1 in INTELLIGENT_TIERING \(DEEP_ARCHIVE_ACCESS tier\)\): s3:\/\/bucket\/prefix\/segments\/orders\/1\/0\. /,
    );
  });

  it('asks nothing of a store without storage classes (a folder)', async () => {
    const store = { location: '/backups' } as unknown as ObjectStore;
    await expect(checkSegmentsReadable(store, { manifest, work, window: allTime })).resolves.toBeUndefined();
  });
});
