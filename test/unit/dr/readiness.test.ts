import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { drReadinessHandler } from '../../../functions/dr-readiness.ts';
import type { LambdaContext } from '../../../functions/middleware.ts';
import { checkReadiness, MAX_AGE_ENV, type ReadinessTarget, TARGETS_ENV } from '../../../lib/dr/readiness.ts';
import { FORMAT_VERSION, Layout, type Manifest } from '../../../lib/format/manifest.ts';
import { EmfMetrics } from '../../../lib/metrics/emf.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';

function manifest(backupId: string, sourceClusterId: string, completedAt: string): Manifest {
  return {
    format_version: FORMAT_VERSION,
    backup_id: backupId,
    tool_version: 'test',
    source_cluster_id: sourceClusterId,
    kafka_cluster_id: 'kc',
    started_at: completedAt,
    completed_at: completedAt,
    isolation_level: 'read_committed',
    compression: { codec: 'zstd', level: 3 },
    based_on: null,
    include_offset_headers: true,
    topics: [],
    consumer_groups: [],
    stats: {
      records: 0,
      stored_bytes: 0,
      uploaded_bytes: 0,
      segments_uploaded: 0,
      segments_reused: 0,
      duration_ms: 0,
    },
  };
}

describe('DR readiness check', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reports each source cluster ready when its newest replicated backup is recent enough', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dr-readiness-'));
    dirs.push(root);
    const stores = new Map<string, FilesystemStore>();
    const open = (t: ReadinessTarget) => {
      const key = `${t.bucket}/${t.prefix}`;
      if (!stores.has(key)) stores.set(key, new FilesystemStore(join(root, key)));
      return stores.get(key)!;
    };
    const targets: ReadinessTarget[] = [
      { sourceClusterId: 'prod-us-west-2', bucket: 'dr', region: 'us-east-1', prefix: 'us-west-2/hourly' },
      { sourceClusterId: 'prod-us-west-2', bucket: 'dr', region: 'us-east-1', prefix: 'us-west-2/daily' },
      { sourceClusterId: 'other', bucket: 'dr', region: 'us-east-1', prefix: 'other/hourly' },
      { sourceClusterId: 'empty', bucket: 'dr', region: 'us-east-1', prefix: 'empty/hourly' },
    ];
    const put = (t: ReadinessTarget, m: Manifest) =>
      open(t).put(Layout.manifest(m.backup_id), JSON.stringify(m));
    await put(
      targets[0]!,
      manifest('primary-hourly-backup-20241201-100000', 'prod-us-west-2', '2024-12-01T10:05:00.000Z'),
    );
    await put(
      targets[0]!,
      manifest('primary-hourly-backup-20241201-110000', 'prod-us-west-2', '2024-12-01T11:04:00.000Z'),
    );
    await put(
      targets[1]!,
      manifest('primary-daily-backup-20241201-020000', 'prod-us-west-2', '2024-12-01T02:30:00.000Z'),
    );
    await put(targets[2]!, manifest('other-20241201-080000', 'other', '2024-12-01T08:10:00.000Z'));
    // A plan without a manifest is an incomplete backup: it does not count.
    await open(targets[2]!).put(Layout.plan('other-20241201-120000'), '{}');

    const lines: string[] = [];
    const results = await checkReadiness(targets, {
      now: new Date('2024-12-01T12:00:00.000Z'),
      maxAgeSeconds: 7200,
      openStore: open,
      metrics: new EmfMetrics({ write: (line) => lines.push(line), now: () => 0 }),
    });
    expect(results).toEqual([
      {
        sourceClusterId: 'prod-us-west-2',
        ready: true,
        newestBackupId: 'primary-hourly-backup-20241201-110000',
        newestCompletedAt: '2024-12-01T11:04:00.000Z',
      },
      {
        sourceClusterId: 'other',
        ready: false,
        newestBackupId: 'other-20241201-080000',
        newestCompletedAt: '2024-12-01T08:10:00.000Z',
      },
      { sourceClusterId: 'empty', ready: false, newestBackupId: null, newestCompletedAt: null },
    ]);
    // kafka_backup_dr_ready as EMF, namespace KafkaBackup, one document per cluster.
    const docs = lines.map((line) => JSON.parse(line));
    expect(docs.map((d) => [d.SourceClusterId, d.kafka_backup_dr_ready])).toEqual([
      ['prod-us-west-2', 1],
      ['other', 0],
      ['empty', 0],
    ]);
    expect(docs[0]._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'KafkaBackup',
        Dimensions: [['SourceClusterId']],
        Metrics: [{ Name: 'kafka_backup_dr_ready', Unit: 'None' }],
      },
    ]);
  });

  it('runs as a Lambda handler under the shared middleware, configured by its environment', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dr-readiness-'));
    dirs.push(root);
    const target: ReadinessTarget = {
      sourceClusterId: 'prod-us-west-2',
      bucket: 'dr',
      region: 'us-east-1',
      prefix: 'us-west-2/hourly',
    };
    const store = new FilesystemStore(join(root, 'dr'));
    const completedAt = new Date(Date.now() - 60_000).toISOString();
    await store.put(
      Layout.manifest('primary-20241201-110000'),
      JSON.stringify(manifest('primary-20241201-110000', 'prod-us-west-2', completedAt)),
    );
    const lines: string[] = [];
    const handler = drReadinessHandler({
      env: { [TARGETS_ENV]: JSON.stringify([target]), [MAX_AGE_ENV]: '7200' },
      writeMetric: (line) => lines.push(line),
      openStore: () => store,
    });
    const context: LambdaContext = {
      getRemainingTimeInMillis: () => 60_000,
      awsRequestId: 'req-1',
      functionName: 'DrReadiness',
    };
    await expect(handler({}, context)).resolves.toEqual([
      {
        sourceClusterId: 'prod-us-west-2',
        ready: true,
        newestBackupId: 'primary-20241201-110000',
        newestCompletedAt: completedAt,
      },
    ]);
    expect(lines.map((l) => JSON.parse(l).kafka_backup_dr_ready)).toEqual([1]);
  });
});
