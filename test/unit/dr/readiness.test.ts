import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { drReadinessHandler } from '../../../functions/dr-readiness.ts';
import type { LambdaContext } from '../../../functions/middleware.ts';
import {
  checkDrillEvidence,
  checkReadiness,
  DRILL_EVIDENCE_ENV,
  type DrillEvidenceTarget,
  MAX_AGE_ENV,
  type ReadinessTarget,
  TARGETS_ENV,
} from '../../../lib/dr/readiness.ts';
import {
  type EvidenceReport,
  generateEvidenceKeyPair,
  keyFileSigner,
  keyFileVerifier,
  writeEvidence,
} from '../../../lib/evidence/index.ts';
import { Layout, type Manifest } from '../../../lib/format/manifest.ts';
import { EmfMetrics } from '../../../lib/metrics/emf.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';
import { emptyManifest } from '../../support/manifest-fixture.ts';

function manifest(backupId: string, sourceClusterId: string, completedAt: string) {
  return emptyManifest({
    backup_id: backupId,
    source_cluster_id: sourceClusterId,
    completed_at: completedAt,
    tool_version: 'test',
  });
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

  describe('days since the last passing drill', () => {
    const target: DrillEvidenceTarget = {
      sourceClusterId: 'prod-us-west-2',
      bucket: 'dr',
      region: 'us-east-1',
      prefix: 'us-west-2/hourly',
      keyArn: 'arn:aws:kms:us-east-1:111111111111:key/test',
    };
    const evidence = (id: string, ok: boolean, finishedAt: string): EvidenceReport => ({
      format_version: 1,
      id,
      kind: 'backup',
      ok,
      started_at: finishedAt,
      finished_at: finishedAt,
      triggered_by: { via: 'schedule', principal: 'EventBridge Scheduler schedule kafka-backup/drill' },
      versions: { kafka_backup: '0.1.0', node: 'v24.0.0', source_cluster_id: 'prod-us-west-2' },
      restored: { backup_id: 'b', location: 's3://dr/us-west-2/hourly', topics: [], records: 0, bytes: 0 },
      checks: [{ name: 'counts', ok, detail: ok ? 'match' : 'differs' }],
      rpo: { backup_age_seconds: 60, replication_delay_seconds: 5 },
      rto: {
        restore_seconds: 1,
        restored_bytes: 0,
        bytes_per_second: null,
        full_backup_bytes: 0,
        projected_full_restore_seconds: null,
      },
      steps: [],
    });

    function setUp() {
      const root = mkdtempSync(join(tmpdir(), 'dr-drill-evidence-'));
      dirs.push(root);
      const store = new FilesystemStore(join(root, 'dr', target.prefix));
      const key = generateEvidenceKeyPair(join(root, 'drill'));
      const other = generateEvidenceKeyPair(join(root, 'other'));
      const lines: string[] = [];
      const run = (now: string) =>
        checkDrillEvidence(target, {
          now: new Date(now),
          openStore: () => store,
          verifier: async () => keyFileVerifier(key.publicPath),
          metrics: new EmfMetrics({ write: (line) => lines.push(line), now: () => 0 }),
        });
      return { root, store, key, other, lines, run };
    }

    it('counts the newest passing drill whose signature verifies; failed, edited or foreign-signed ones do not count', async () => {
      const { root, store, key, other, lines, run } = setUp();
      const signer = keyFileSigner(key.privatePath);
      await writeEvidence(
        store,
        evidence('drill-20261102-040000-aaaa', true, '2026-11-02T04:10:00.000Z'),
        signer,
      );
      await writeEvidence(
        store,
        evidence('drill-20261109-040000-bbbb', true, '2026-11-09T04:10:00.000Z'),
        signer,
      );
      // Newer, but failed: not a pass.
      await writeEvidence(
        store,
        evidence('drill-20261116-040000-cccc', false, '2026-11-16T04:10:00.000Z'),
        signer,
      );
      // Newer, says passed, signed by a key the check does not trust.
      await writeEvidence(
        store,
        evidence('drill-20261123-040000-dddd', true, '2026-11-23T04:10:00.000Z'),
        keyFileSigner(other.privatePath),
      );
      // Newest, a failed drill edited to read "passed" after it was signed.
      await writeEvidence(
        store,
        evidence('drill-20261130-040000-eeee', false, '2026-11-30T04:10:00.000Z'),
        signer,
      );
      const path = join(root, 'dr', target.prefix, 'evidence', 'drill-20261130-040000-eeee', 'report.json');
      writeFileSync(path, readFileSync(path, 'utf8').replace('"ok": false', '"ok": true'));

      const r = await run('2026-12-01T04:10:00.000Z');
      expect(r.newestPassedId).toBe('drill-20261109-040000-bbbb');
      expect(r.passedAt).toBe('2026-11-09T04:10:00.000Z');
      expect(r.daysSincePassed).toBe(22);
      expect(r.unverified.map((u) => u.id)).toEqual([
        'drill-20261130-040000-eeee',
        'drill-20261123-040000-dddd',
      ]);
      expect(r.unverified[0]!.problems.join(' ')).toMatch(/report\.json was changed after signing/);
      expect(r.unverified[1]!.problems.join(' ')).toMatch(/signed with key/);
      const docs = lines.map((l) => JSON.parse(l));
      expect(docs.map((d) => [d.SourceClusterId, d.kafka_backup_days_since_drill_passed])).toEqual([
        ['prod-us-west-2', 22],
      ]);
      expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['SourceClusterId']]);
    });

    it('reports nothing when no drill ever passed (the alarm treats missing data as breaching)', async () => {
      const { store, key, lines, run } = setUp();
      await writeEvidence(
        store,
        evidence('drill-20261130-040000-ffff', false, '2026-11-30T04:10:00.000Z'),
        keyFileSigner(key.privatePath),
      );
      const r = await run('2026-12-01T04:10:00.000Z');
      expect(r).toMatchObject({ newestPassedId: null, daysSincePassed: null, unverified: [] });
      expect(lines).toEqual([]);
    });

    it('runs in the readiness handler when the drill is configured', async () => {
      const { store, key } = setUp();
      const finished = new Date(Date.now() - 3 * 86_400_000).toISOString();
      await writeEvidence(
        store,
        evidence('drill-20261128-040000-abcd', true, finished),
        keyFileSigner(key.privatePath),
      );
      const lines: string[] = [];
      const handler = drReadinessHandler({
        env: { [TARGETS_ENV]: '[]', [DRILL_EVIDENCE_ENV]: JSON.stringify(target) },
        writeMetric: (line) => lines.push(line),
        openStore: () => store,
        verifier: async () => keyFileVerifier(key.publicPath),
      });
      const context: LambdaContext = {
        getRemainingTimeInMillis: () => 60_000,
        awsRequestId: 'req-2',
        functionName: 'DrReadiness',
      };
      const out = (await handler({}, context)) as { drill: { newestPassedId: string } };
      expect(out.drill.newestPassedId).toBe('drill-20261128-040000-abcd');
      const days = lines.map((l) => JSON.parse(l).kafka_backup_days_since_drill_passed);
      expect(days).toHaveLength(1);
      expect(days[0]).toBeCloseTo(3, 2);
    });
  });
});
