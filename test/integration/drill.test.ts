import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../lib/drill/index.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { primarySettings } from '../support/kafka-fixtures.ts';

describe('drill', () => {
  it('passes over SASL_SSL/SCRAM on both clusters with S3 storage, and saves a Markdown report', async () => {
    const dir = tempDir();
    const prefix = uniqueName('drill');
    const storage = `storage:
  backend: s3
  bucket: kafka-backups-dr
  region: us-east-1
  prefix: ${prefix}
  endpoint: ${ground().s3Endpoint}
`;
    const security = (user: string) => `  security:
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: ${user}
    sasl_password: \${KAFKA_PASSWORD}
    ssl_ca_location: ${ground().caPemPath}
`;
    const backupConfig = writeConfig(
      dir,
      'b.yaml',
      `mode: backup\nbackup_id: unused\nsource:\n  bootstrap_servers: ["${ground().primarySaslSsl}"]\n${security('admin')}  topics:\n    include: ["*"]\n${storage}`,
    );
    const restoreConfig = writeConfig(
      dir,
      'r.yaml',
      `mode: restore\nbackup_id: latest\ntarget:\n  bootstrap_servers: ["${ground().drSaslSsl}"]\n${security('admin')}${storage}`,
    );
    process.env['KAFKA_PASSWORD'] = 'admin-secret';
    const report = join(dir, 'drill.md');
    const r = await runCli([
      'drill',
      '--backup-config',
      backupConfig,
      '--restore-config',
      restoreConfig,
      '--records',
      '3000',
      '--record-size',
      '500',
      '--partitions',
      '2',
      '--report',
      report,
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as DrillReport;
    expect(json.ok).toBe(true);
    expect(
      json.partitions.map((p) => [p.produced, p.restored, p.digest_match, p.resumed_at_source_offset]),
    ).toEqual([
      [1500, 1500, true, 750],
      [1500, 1500, true, 750],
    ]);
    expect(json.steps.every((s) => s.ok)).toBe(true);
    const md = readFileSync(report, 'utf8');
    expect(md).toContain('# DR drill PASSED');
    expect(md).toContain(`\`${json.topic}\``);
    expect(r.stderr).not.toContain('admin-secret');
    // Cleaned up: the test topic is gone from the source.
    const primary = new KafkaCluster(primarySettings(), 'source');
    expect(await primary.listTopics()).not.toContain(json.topic);
    await primary.close();
  });

  it('fails with a non-zero exit and a report naming the failed step when the DR cluster is unreachable', async () => {
    const dir = tempDir();
    const r = await runCli([
      'drill',
      '--source-bootstrap',
      ground().primary,
      '--target-bootstrap',
      '127.0.0.1:1',
      '--path',
      join(dir, 'store'),
      '--records',
      '100',
      '--format',
      'json',
    ]);
    expect(r.code).toBe(5);
    const json = JSON.parse(r.stdout) as DrillReport;
    expect(json.ok).toBe(false);
    const failed = json.steps.find((s) => !s.ok)!;
    expect(failed.name).toBe('restore to the DR cluster and move the consumer group');
    expect(failed.detail).toMatch(/cannot reach Kafka at 127\.0\.0\.1:1/);
    const primary = new KafkaCluster(primarySettings(), 'source');
    expect(await primary.listTopics()).not.toContain(json.topic);
    await primary.close();
  });
});
