import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Layout } from '../../../lib/format/manifest.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';
import { loadManifestCached } from '../../../lib/workflow/manifest-cache.ts';
import { emptyManifest } from '../../support/manifest-fixture.ts';

const manifest = (backupId: string, toolVersion: string) =>
  emptyManifest({ backup_id: backupId, completed_at: '2026-12-02T10:05:00.000Z', tool_version: toolVersion });

describe('the manifest kept between RestorePartition invocations', () => {
  const root = mkdtempSync(join(tmpdir(), 'manifest-cache-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is read once while the stored object is unchanged, again when it was written anew, per location', async () => {
    const store = new FilesystemStore(join(root, 'a'));
    await store.put(Layout.manifest('b-1'), JSON.stringify(manifest('b-1', 'v1')));
    const first = await loadManifestCached(store, 'b-1');
    expect(first.tool_version).toBe('v1');
    expect(await loadManifestCached(store, 'b-1')).toBe(first);

    // Written again under the same id (another size): read again, not served from memory.
    await store.put(Layout.manifest('b-1'), JSON.stringify(manifest('b-1', 'version-2')));
    const second = await loadManifestCached(store, 'b-1');
    expect(second.tool_version).toBe('version-2');

    // The same id in another location is that location's manifest.
    const other = new FilesystemStore(join(root, 'b'));
    await other.put(Layout.manifest('b-1'), JSON.stringify(manifest('b-1', 'v3')));
    expect((await loadManifestCached(other, 'b-1')).tool_version).toBe('v3');

    // A deleted manifest is the usual not-found error, not the copy in memory.
    await other.delete([Layout.manifest('b-1')]);
    await expect(loadManifestCached(other, 'b-1')).rejects.toThrow(`no backup b-1 in ${other.location}`);
  });
});
