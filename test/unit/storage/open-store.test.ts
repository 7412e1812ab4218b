import { describe, expect, it } from 'vitest';
import { UserError } from '../../../lib/errors.ts';
import { EncryptingStore } from '../../../lib/storage/encryption/encrypting-store.ts';
import { PlaintextStore } from '../../../lib/storage/encryption/plaintext-store.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';
import { openStore, openStoreFromUrl, parseStorageUrl } from '../../../lib/storage/open-store.ts';
import { S3Store } from '../../../lib/storage/s3-store.ts';

describe('parseStorageUrl', () => {
  it('reads s3://bucket/prefix, with or without a prefix or trailing slash', () => {
    expect(parseStorageUrl('s3://my-bucket/team/kafka/')).toEqual({
      backend: 's3',
      bucket: 'my-bucket',
      prefix: 'team/kafka',
    });
    expect(parseStorageUrl('s3://my-bucket')).toEqual({ backend: 's3', bucket: 'my-bucket' });
    expect(
      parseStorageUrl('S3://my-bucket/', { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000' }),
    ).toEqual({
      backend: 's3',
      bucket: 'my-bucket',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
    });
  });

  it('reads local paths and file:// URLs', () => {
    expect(parseStorageUrl('/var/backups/kafka')).toEqual({
      backend: 'filesystem',
      path: '/var/backups/kafka',
    });
    expect(parseStorageUrl('./backups')).toEqual({ backend: 'filesystem', path: './backups' });
    expect(parseStorageUrl('file:///var/backups/with%20space')).toEqual({
      backend: 'filesystem',
      path: '/var/backups/with space',
    });
  });

  it('rejects what it cannot open, as a UserError', () => {
    for (const bad of ['s3://', 's3:///prefix', 'gs://bucket/x', 'https://example.com/x', '']) {
      expect(() => parseStorageUrl(bad), bad).toThrow(UserError);
    }
  });
});

describe('openStore', () => {
  // Without storage.encryption a store is guarded (PlaintextStore refuses encrypted objects) around the backend.
  it('opens a folder as a FilesystemStore', () => {
    const store = openStore({ backend: 'filesystem', path: '/tmp/kb' });
    expect(store).toBeInstanceOf(PlaintextStore);
    expect((store as PlaintextStore).inner).toBeInstanceOf(FilesystemStore);
    expect(store.location).toBe('/tmp/kb');
  });

  it('opens a bucket as an S3Store whose location carries no credentials', () => {
    const store = openStore({ backend: 's3', bucket: 'b', prefix: '/p/q/', region: 'us-east-1' });
    const s3 = (store as PlaintextStore).inner;
    expect(s3).toBeInstanceOf(S3Store);
    expect(store.location).toBe('s3://b/p/q');
    (s3 as S3Store).destroy();
  });

  it('opens from a URL, encrypted with --key-file / --kms-key-id', () => {
    const s3 = openStoreFromUrl('s3://b/x', { region: 'us-east-1' });
    expect(s3.location).toBe('s3://b/x');
    ((s3 as PlaintextStore).inner as S3Store).destroy();
    expect(openStoreFromUrl('file:///tmp/kb').location).toBe('/tmp/kb');
    expect(openStoreFromUrl('/tmp/kb', { encryption: { key_file: '/tmp/kb.key' } })).toBeInstanceOf(
      EncryptingStore,
    );
    expect(parseStorageUrl('s3://b/x', { encryption: { kms_key_id: 'alias/kb' } })).toEqual({
      backend: 's3',
      bucket: 'b',
      prefix: 'x',
      encryption: { kms_key_id: 'alias/kb' },
    });
  });

  it('refuses a prefix that climbs out with ..', () => {
    expect(() => openStore({ backend: 's3', bucket: 'b', prefix: 'a/../b', region: 'us-east-1' })).toThrow(
      /invalid object key/,
    );
  });
});
