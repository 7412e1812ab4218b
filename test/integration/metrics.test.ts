import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { spawnCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';

const SEED_NAMES = [
  'kafka_backup_backups_total',
  'kafka_backup_last_successful_backup_timestamp',
  'kafka_backup_backup_size_bytes',
  'kafka_backup_records_total',
  'kafka_backup_dr_ready',
];

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(name) && (labels === '' || l.includes(labels)) && !l.startsWith('#'));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('CLI metrics', () => {
  it('serves the seed metric names on /metrics during and after a backup', async () => {
    const cluster = new KafkaCluster(primarySettings(), 'source');
    const topic = await createTopic(cluster, { prefix: 'metrics', partitions: 2 });
    for (let i = 0; i < 4; i++) {
      await produce(
        cluster,
        topic,
        Array.from({ length: 5_000 }, (_, j) => ({
          key: null,
          value: buf(`${i}-${j}-${'m'.repeat(500)}`),
          partition: j % 2,
        })),
      );
    }
    await cluster.close();
    const dir = tempDir();
    const config = writeConfig(
      dir,
      'b.yaml',
      `mode: backup\nbackup_id: metrics-1\nsource:\n  bootstrap_servers: ["${ground().primary}"]\n  topics:\n    include: ["${topic}"]\nstorage:\n  path: ${join(dir, 'store')}\nbackup:\n  source_cluster_id: metrics-test\nmetrics:\n  prometheus_port: 0\n  keep_serving: true\n`,
    );
    const { child, exited } = spawnCli(['backup', '--config', config, '--log-format', 'json']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let url: string | undefined;
    for (let i = 0; i < 400 && !url; i++) {
      url = /"url":"(http:[^"]+)"/.exec(stderr)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 25));
    }
    expect(url, stderr).toBeDefined();
    // Scrape while the backup runs, until it reports success.
    const scrapes: string[] = [];
    for (let i = 0; i < 600; i++) {
      const text = await (await fetch(url!)).text();
      scrapes.push(text);
      if ((sample(text, 'kafka_backup_backups_total', 'outcome="success"') ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const during = scrapes.find(
      (t) => (sample(t, 'kafka_backup_backups_total', 'outcome="success"') ?? 0) === 0,
    );
    expect(during, 'no scrape happened before the backup completed').toBeDefined();
    expect(during).toContain('kafka_backup_backups_total');
    expect(during).toContain('kafka_backup_records_total');

    const after = scrapes.at(-1)!;
    for (const name of SEED_NAMES) expect(after, name).toContain(name);
    expect(sample(after, 'kafka_backup_backups_total', 'outcome="success"')).toBe(1);
    expect(sample(after, 'kafka_backup_records_total', 'metrics-test')).toBe(20_000);
    expect(sample(after, 'kafka_backup_dr_ready', 'metrics-test')).toBe(1);
    const ts = sample(after, 'kafka_backup_last_successful_backup_timestamp', 'metrics-test')!;
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(600);
    expect(sample(after, 'kafka_backup_backup_size_bytes', 'metrics-test')).toBeGreaterThan(0);

    // keep_serving: still up after the run, until interrupted.
    expect((await fetch(url!)).status).toBe(200);
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  });
});
