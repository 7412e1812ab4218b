import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import type { BackupEstimate, PartitionEstimate } from '../../lib/plan/index.ts';
import { PRICES_AS_OF } from '../../lib/plan/index.ts';
import { openStoreFromUrl } from '../../lib/storage/index.ts';
import type { BackupItem } from '../../lib/workflow/events.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';

interface PlanJson {
  format_version: number;
  backup_id: string;
  written: false;
  based_on: string | null;
  partitions: PartitionEstimate[];
  bytes_per_offset_from: { previous_backup: number; probe: number; default: number };
  items: BackupItem[];
  estimate: BackupEstimate;
}

/** Every file under `dir` with its size and modification time: what "nothing written" is checked against. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(d, n);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out.push(`${p.slice(dir.length)} ${s.size} ${s.mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

describe('kafka-backup plan and backup --dry-run', () => {
  const cluster = new KafkaCluster(primarySettings(), 'source');
  let topic: string;
  const dir = tempDir();
  const location = join(dir, 'location');
  const config = () =>
    writeConfig(
      dir,
      'backup.yaml',
      `mode: backup
backup_id: "plan-\${TIMESTAMP}"
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: ["${topic}"]
storage:
  backend: filesystem
  path: ${location}
backup:
  compression: zstd
  compression_level: 3
`,
    );

  beforeAll(async () => {
    topic = await createTopic(cluster, { prefix: 'plan', partitions: 3 });
    // 500-byte values on partitions 0 and 1, nothing on 2.
    for (const partition of [0, 1])
      await produce(
        cluster,
        topic,
        Array.from({ length: 400 }, (_, i) => ({
          key: buf(`k${i}`),
          value: Buffer.alloc(500, 97 + (i % 26)),
          partition,
        })),
      );
  }, 60_000);
  afterAll(() => cluster.close());

  it('prints the cut, the items and the estimate, probing record sizes, and writes nothing', async () => {
    const cfg = config();
    const run = await runCli(['plan', '--config', cfg, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const plan = JSON.parse(run.stdout) as PlanJson;
    expect(plan.format_version).toBe(1);
    expect(plan.written).toBe(false);
    expect(plan.partitions.map((p) => [p.partition, p.from, p.to])).toEqual([
      [0, 0, 400],
      [1, 0, 400],
      [2, 0, 0],
    ]);
    // No earlier backup: one probe fetch stands for the topic; a 500-byte value with its key and the batch framing.
    expect(plan.bytes_per_offset_from).toEqual({ previous_backup: 0, probe: 2, default: 0 });
    for (const p of plan.partitions.slice(0, 2)) {
      expect(p.source).toBe('probe');
      expect(p.bytes_per_offset).toBeGreaterThan(500);
      expect(p.bytes_per_offset).toBeLessThan(600);
    }
    // Both partitions in one item (the empty one in none).
    expect(plan.items).toHaveLength(1);
    expect(plan.items[0]!.ranges.map((r) => [r.partition, r.from, r.to])).toEqual([
      [0, 0, 400],
      [1, 0, 400],
    ]);
    expect(plan.items[0]).toMatchObject({ offsets: 800, runner: 'lambda' });
    const e = plan.estimate;
    expect(e.read).toMatchObject({ partitions: 3, items: 1, offsets: 800, on_fargate: 0 });
    expect(e.read.bytes).toBe(plan.items[0]!.bytes);
    expect(e.s3.put).toBeGreaterThan(0);
    expect(e.lambda.invocations).toBe(3);
    expect(e.step_functions.state_transitions).toBe(5 + 4);
    expect(e.total_usd).toBeGreaterThan(0);
    expect(e.prices).toMatchObject({ region: 'us-east-1', as_of: PRICES_AS_OF });
    // Nothing stored: no lease, no plan, no metadata, not even the folder's files.
    expect(snapshot(location)).toEqual([]);

    const text = await runCli(['plan', '--config', cfg]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('nothing written');
    expect(text.stdout).toMatch(/cut: 1 topics, 3 partitions, 2 with offsets to read/);
    expect(text.stdout).toContain('items: 1 (0 on Fargate); to read: 800 offsets');
    expect(text.stdout).toMatch(/S3 requests +\d+ PUT, \d+ GET, \d+ LIST/);
    expect(text.stdout).toContain(
      `at the price table of ${PRICES_AS_OF} (list prices, on demand, USD, no free tier; unverified`,
    );
    expect(text.stdout).toContain('expected duration:');

    const dry = await runCli(['backup', '--config', cfg, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('nothing written');
    expect(dry.stdout).toContain('items: 1 (0 on Fargate)');
    const dryJson = await runCli(['backup', '--config', cfg, '--dry-run', '--format', 'json']);
    expect((JSON.parse(dryJson.stdout) as PlanJson).items).toEqual(plan.items);
    expect(snapshot(location)).toEqual([]);
  }, 120_000);

  it("after a backup, plans from its cut with the previous backup's record sizes, and writes nothing", async () => {
    const cfg = config();
    process.env['TIMESTAMP'] = '20261202-010000';
    const first = await runCli(['backup', '--config', cfg, '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const firstId = (JSON.parse(first.stdout) as { backup_id: string }).backup_id;
    await produce(
      cluster,
      topic,
      Array.from({ length: 100 }, (_, i) => ({
        key: null,
        value: Buffer.alloc(2000, 65 + (i % 26)),
        partition: 2,
      })),
    );
    await produce(cluster, topic, [{ key: buf('late'), value: Buffer.alloc(500, 98), partition: 0 }]);
    process.env['TIMESTAMP'] = '20261202-020000';
    const before = snapshot(location);
    try {
      const run = await runCli(['plan', '--config', cfg, '--format', 'json']);
      expect(run.code, run.stderr).toBe(0);
      const plan = JSON.parse(run.stdout) as PlanJson;
      expect(plan.backup_id).toBe('plan-20261202-020000');
      expect(plan.partitions.map((p) => [p.partition, p.from, p.to])).toEqual([
        [0, 400, 401],
        [1, 400, 400],
        [2, 0, 100],
      ]);
      // Partition 0: the first backup's own record size; partition 2 had no segment: its topic's.
      expect(plan.partitions[0]).toMatchObject({ source: 'previous_backup', based_on: firstId });
      expect(plan.partitions[2]).toMatchObject({ source: 'previous_backup', based_on: firstId });
      expect(plan.bytes_per_offset_from).toEqual({ previous_backup: 2, probe: 0, default: 0 });
      expect(plan.partitions[0]!.bytes_per_offset).toBeGreaterThan(500);
      expect(plan.partitions[0]!.bytes_per_offset).toBeLessThan(600);
      expect(plan.partitions[0]!.stored_ratio).toBeLessThan(0.5);
      expect(plan.estimate.read.offsets).toBe(101);
      expect(snapshot(location)).toEqual(before);
    } finally {
      delete process.env['TIMESTAMP'];
    }
  }, 120_000);

  it('takes the seed primary-backup.yaml unchanged but for its addresses, and writes nothing to S3', async () => {
    const selected = ['orders', 'payments', 'inventory', 'customers', 'events-clicks', 'events-views'];
    const existing = await cluster.listTopics();
    for (const name of selected) {
      if (!existing.includes(name)) await createTopic(cluster, { name, partitions: 2 });
      await produce(cluster, name, [{ key: buf('k'), value: buf(`${name} record`) }]);
    }
    const prefix = `${uniqueName('plan-seed')}/us-west-2/hourly`;
    const seed = readFileSync(
      join(import.meta.dirname, '..', 'fixtures', 'config', 'primary-backup.yaml'),
      'utf8',
    );
    const text = seed
      .replace(/kafka-\d\.us-west-2\.example\.com:9092/g, ground().primarySaslSsl)
      .replace('/certs/ca.crt', ground().caPemPath)
      .replace('prefix: us-west-2/hourly', `prefix: ${prefix}`);
    const cfg = writeConfig(tempDir(), 'primary-backup.yaml', text);
    process.env['KAFKA_PASSWORD'] = 'backup-secret';
    process.env['AWS_ENDPOINT_URL_S3'] = ground().s3WestEndpoint;
    const run = await runCli(['plan', '--config', cfg, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('backup-secret');
    const plan = JSON.parse(run.stdout) as PlanJson;
    expect(plan.backup_id).toMatch(/^primary-\d{8}-\d{6}$/);
    expect(new Set(plan.partitions.map((p) => p.topic))).toEqual(new Set(selected));
    expect(plan.estimate.prices.region).toBe('us-west-2');
    const dry = await runCli(['backup', '--config', cfg, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const store = openStoreFromUrl(`s3://kafka-backups-primary/${prefix}`, { region: 'us-west-2' });
    expect(await store.list('')).toEqual([]);
  }, 120_000);
});
