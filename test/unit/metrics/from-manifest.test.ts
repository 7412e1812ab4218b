import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../lib/format/manifest.ts';
import { backupSucceededFromManifest, drReadyFromManifest } from '../../../lib/metrics/index.ts';
import { emptyManifest } from '../../support/manifest-fixture.ts';

const manifest: Manifest = emptyManifest({
  format_version: 1,
  backup_id: 'primary-20250102',
  tool_version: '0.1.0',
  source_cluster_id: 'primary',
  kafka_cluster_id: 'kc-1',
  started_at: '2025-01-02T03:00:00.000Z',
  completed_at: '2025-01-02T03:04:05.000Z',
  stats: {
    records: 10_000,
    stored_bytes: 5_000_000,
    uploaded_bytes: 4_000_000,
    segments_uploaded: 3,
    segments_reused: 1,
    duration_ms: 245_000,
  },
});

describe('backupSucceededFromManifest', () => {
  it('takes every field from the manifest', () => {
    expect(backupSucceededFromManifest(manifest)).toEqual({
      backupId: 'primary-20250102',
      sourceClusterId: 'primary',
      records: 10_000,
      storedBytes: 5_000_000,
      durationMs: 245_000,
      completedAt: new Date('2025-01-02T03:04:05.000Z'),
    });
  });
});

describe('drReadyFromManifest', () => {
  const completed = Date.parse(manifest.completed_at);
  const at = (ms: number) => ({ sourceClusterId: 'primary', now: new Date(completed + ms) });

  it('is ready up to two hours after the newest backup completed, and not after', () => {
    expect(drReadyFromManifest(manifest, at(7_200_000))).toEqual({ sourceClusterId: 'primary', ready: true });
    expect(drReadyFromManifest(manifest, at(7_200_001)).ready).toBe(false);
    expect(drReadyFromManifest(manifest, { ...at(60_001), maxAgeSeconds: 60 }).ready).toBe(false);
  });

  it('is not ready without a backup or with an unreadable completion time', () => {
    expect(drReadyFromManifest(undefined, at(0)).ready).toBe(false);
    expect(drReadyFromManifest({ completed_at: 'yesterday' }, at(0)).ready).toBe(false);
  });
});
