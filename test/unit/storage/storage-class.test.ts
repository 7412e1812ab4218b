import { describe, expect, it } from 'vitest';
import { ObjectArchivedError, StorageAccessError } from '../../../lib/errors.ts';
import { mapS3Error } from '../../../lib/storage/s3-errors.ts';
import { describeStorageState, storageStateOf } from '../../../lib/storage/storage-class.ts';

describe('storageStateOf (HeadObject StorageClass, ArchiveStatus, Restore)', () => {
  it('reads STANDARD when S3 names no class, and every directly readable class as readable', () => {
    expect(storageStateOf({})).toEqual({
      storageClass: 'STANDARD',
      needsRetrieval: false,
      retrievalInProgress: false,
    });
    for (const c of ['STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR'])
      expect(storageStateOf({ StorageClass: c }).needsRetrieval).toBe(false);
  });

  it('needs a retrieval for GLACIER, DEEP_ARCHIVE and the Intelligent-Tiering archive tiers until one is done', () => {
    expect(storageStateOf({ StorageClass: 'GLACIER' }).needsRetrieval).toBe(true);
    expect(storageStateOf({ StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="true"' })).toEqual({
      storageClass: 'DEEP_ARCHIVE',
      needsRetrieval: true,
      retrievalInProgress: true,
    });
    expect(
      storageStateOf({
        StorageClass: 'GLACIER',
        Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2029 00:00:00 GMT"',
      }).needsRetrieval,
    ).toBe(false);
    const tiered = storageStateOf({
      StorageClass: 'INTELLIGENT_TIERING',
      ArchiveStatus: 'DEEP_ARCHIVE_ACCESS',
    });
    expect(tiered.needsRetrieval).toBe(true);
    expect(describeStorageState(tiered)).toBe('INTELLIGENT_TIERING (DEEP_ARCHIVE_ACCESS tier)');
  });
});

describe('mapS3Error on InvalidObjectState', () => {
  const invalidState = Object.assign(new Error('The operation is not valid for the object storage class'), {
    name: 'InvalidObjectState',
    $metadata: { httpStatusCode: 403 },
    StorageClass: 'GLACIER',
  });

  it('is an ObjectArchivedError naming the object and its class, not a refused credential (it is a 403)', () => {
    const e = mapS3Error(invalidState, { bucket: 'b', key: 'p/segments/t/0/x.kbseg.zst' });
    expect(e).toBeInstanceOf(ObjectArchivedError);
    expect(e).not.toBeInstanceOf(StorageAccessError);
    expect((e as ObjectArchivedError).message).toBe(
      's3://b/p/segments/t/0/x.kbseg.zst is in GLACIER: S3 serves it only once it has been retrieved',
    );
    expect((e as ObjectArchivedError).hint).toMatch(/^Retrieve the objects first with S3 RestoreObject/);
  });

  it('names the Intelligent-Tiering tier when S3 gives one', () => {
    const e = mapS3Error(
      Object.assign(invalidState, { StorageClass: 'INTELLIGENT_TIERING', AccessTier: 'ARCHIVE_ACCESS' }),
      { bucket: 'b', key: 'k' },
    );
    expect((e as ObjectArchivedError).message).toBe(
      's3://b/k is in INTELLIGENT_TIERING (ARCHIVE_ACCESS tier): S3 serves it only once it has been retrieved',
    );
  });
});
