import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backupHeaders, mapManifests, resolveBackupId } from '../../../lib/format/catalog.ts';
import { Layout } from '../../../lib/format/manifest.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';
import type { ObjectStore } from '../../../lib/storage/object-store.ts';
import { emptyManifest } from '../../support/manifest-fixture.ts';

const manifest = (id: string, completedAt: string, cluster: string) =>
  emptyManifest({
    backup_id: id,
    completed_at: completedAt,
    source_cluster_id: cluster,
    kafka_cluster_id: `kc-${cluster}`,
  });

/** Counts the manifest reads in flight at once. */
function counting(inner: ObjectStore) {
  let inFlight = 0;
  let most = 0;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'getIfExists' || typeof v !== 'function')
        return typeof v === 'function' ? v.bind(target) : v;
      return async (key: string) => {
        most = Math.max(most, ++inFlight);
        try {
          return await v.call(target, key);
        } finally {
          inFlight--;
        }
      };
    },
  });
  return { store, most: () => most };
}

describe('walking every backup of a location', () => {
  const root = mkdtempSync(join(tmpdir(), 'manifest-walk-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  // 168 hourly backups of 10,000 partitions are gigabytes of manifests: a walk reads a few at a time and keeps
  // only what it asks of each.
  it('reads a few manifests at a time, keeps what the visitor returns, oldest first', async () => {
    const fs = new FilesystemStore(root);
    const hours = Array.from({ length: 30 }, (_, h) => h);
    // Written out of order, two source clusters.
    for (const h of [...hours].reverse()) {
      const completedAt = new Date(Date.UTC(2026, 11, 1, h)).toISOString();
      await fs.put(
        Layout.manifest(`b-${h}`),
        JSON.stringify(manifest(`b-${h}`, completedAt, h % 2 ? 'a' : 'b')),
      );
    }
    const { store, most } = counting(fs);
    const walked = await mapManifests(store, (m) => m.source_cluster_id);
    expect(walked.map((x) => x.header.backup_id)).toEqual(hours.map((h) => `b-${h}`));
    expect(walked.map((x) => x.value)).toEqual(hours.map((h) => (h % 2 ? 'a' : 'b')));
    expect(most()).toBeGreaterThan(1);
    expect(most()).toBeLessThanOrEqual(4);
    expect((await backupHeaders(store)).at(-1)).toEqual({
      backup_id: 'b-29',
      completed_at: '2026-12-02T05:00:00.000Z',
      kafka_cluster_id: 'kc-a',
      source_cluster_id: 'a',
    });
    expect(await resolveBackupId(store, 'latest')).toBe('b-29');
    // A manifest the caller holds (the one finalize just wrote) is used as it is, not read back.
    const held = { ...manifest('b-3', '2026-12-01T03:00:00.000Z', 'a'), tool_version: 'held' };
    expect(
      (await mapManifests(store, (m) => m.tool_version, { ids: ['b-3'], known: [held] })).map((x) => x.value),
    ).toEqual(['held']);
    // A walk over some backups reads only those.
    expect(
      (await mapManifests(store, () => 1, { ids: ['b-3', 'b-1'] })).map((x) => x.header.backup_id),
    ).toEqual(['b-1', 'b-3']);
  });
});
