// `kafka-backup validate` against damaged copies of a real backup: what it finds, what it names, exit codes.
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../../lib/format/catalog.ts';
import type { Manifest, SegmentRef } from '../../lib/format/manifest.ts';
import type { ValidationReport } from '../../lib/format/validate-backup.ts';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground } from '../support/ground-env.ts';
import { buf, createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';

const ID = 'validate-1';
const RECORDS = 1_500;

/** Every file under `root` with its size, modification time and SHA-256: to prove validate changed nothing. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else {
        const st = statSync(path);
        const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
        out[relative(root, path)] = `${st.size} ${st.mtimeMs} ${sha}`;
      }
    }
  };
  walk(root);
  return out;
}

async function validate(path: string, opts: { deep: boolean; json?: boolean; id?: string }) {
  const argv = ['validate', '--path', path, '--backup-id', opts.id ?? ID];
  if (opts.deep) argv.push('--deep');
  if (opts.json) argv.push('--format', 'json');
  const before = snapshot(path);
  const run = await runCli(argv);
  // Validation only reads: every object, its bytes and its mtime are as they were.
  expect(snapshot(path)).toEqual(before);
  return run;
}

function report(stdout: string): ValidationReport {
  return JSON.parse(stdout) as ValidationReport;
}

describe('validate', () => {
  const cluster = new KafkaCluster(primarySettings(), 'source');
  let pristine: string;
  let manifest: Manifest;
  /** A segment in the middle of partition 1: the one each test damages. */
  let victim: SegmentRef;

  beforeAll(async () => {
    const topic = await createTopic(cluster, { prefix: 'validate', partitions: 3 });
    // Incompressible values in batches of 60 KiB per partition (a segment holds whole batches): several
    // segments of at most 64 KiB each.
    for (let from = 0; from < RECORDS; from += 180) {
      await produce(
        cluster,
        topic,
        Array.from({ length: Math.min(180, RECORDS - from) }, (_, j) => ({
          key: buf(`k${from + j}`),
          value: randomBytes(1024),
          partition: (from + j) % 3,
        })),
      );
    }
    const dir = tempDir();
    pristine = join(dir, 'store');
    const cfg = writeConfig(
      dir,
      'b.yaml',
      `mode: backup
backup_id: "${ID}"
source:
  bootstrap_servers: ["${ground().primary}"]
  topics:
    include: ["${topic}"]
storage:
  backend: filesystem
  path: ${pristine}
backup:
  segment_max_bytes: 65536
`,
    );
    const run = await runCli(['backup', '--config', cfg]);
    expect(run.code, run.stderr).toBe(0);
    manifest = await loadManifest(new FilesystemStore(pristine), ID);
    const segments = manifest.topics[0]!.partitions[1]!.segments;
    expect(segments.length).toBeGreaterThanOrEqual(3);
    victim = segments[1]!;
  });
  afterAll(() => cluster.close());

  /** A fresh copy of the backup location for one test to damage. */
  function copy(): string {
    const path = join(tempDir(), 'store');
    cpSync(pristine, path, { recursive: true });
    return path;
  }

  it('passes an intact backup, shallow and deep', async () => {
    const path = copy();
    const shallow = await validate(path, { deep: false, json: true });
    expect(shallow.code, shallow.stdout + shallow.stderr).toBe(0);
    const segments = manifest.topics[0]!.partitions.reduce((n, p) => n + p.segments.length, 0);
    expect(report(shallow.stdout)).toMatchObject({ ok: true, deep: false, segments_checked: segments });
    const deep = await validate(path, { deep: true, json: true });
    expect(deep.code, deep.stdout + deep.stderr).toBe(0);
    expect(report(deep.stdout)).toMatchObject({
      ok: true,
      deep: true,
      segments_checked: segments,
      records_checked: RECORDS,
      problems: [],
    });
  });

  it('a flipped byte in a segment fails --deep (exit 5, naming the segment); shallow validate checks only presence and size, so it still passes', async () => {
    const path = copy();
    const file = join(path, victim.key);
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(file, bytes);
    expect(statSync(file).size).toBe(victim.size);

    const deep = await validate(path, { deep: true });
    expect(deep.code, deep.stderr).toBe(5);
    expect(deep.stdout).toContain(`backup ${ID} is INVALID: 1 problem(s)`);
    expect(deep.stdout).toContain(`${victim.key}: segment ${victim.key} is corrupt`);
    const json = report((await validate(path, { deep: true, json: true })).stdout);
    expect(json.ok).toBe(false);
    expect(json.problems.map((p) => p.object)).toEqual([victim.key]);

    const shallow = await validate(path, { deep: false });
    expect(shallow.code, shallow.stdout + shallow.stderr).toBe(0);
    expect(shallow.stdout).toContain(`backup ${ID} is valid (shallow)`);
  });

  it('a deleted segment fails shallow and deep validation (exit 5), naming it as missing', async () => {
    const path = copy();
    rmSync(join(path, victim.key));
    for (const deep of [false, true]) {
      const run = await validate(path, { deep });
      expect(run.code, `deep=${deep}: ${run.stdout}${run.stderr}`).toBe(5);
      expect(run.stdout).toContain(`${victim.key}: missing`);
      const json = report((await validate(path, { deep, json: true })).stdout);
      expect(json.problems).toEqual([{ object: victim.key, problem: 'missing' }]);
    }
  });

  it('a truncated segment fails deep validation (exit 5), naming it', async () => {
    const path = copy();
    truncateSync(join(path, victim.key), Math.floor(victim.size / 2));
    const deep = await validate(path, { deep: true });
    expect(deep.code, deep.stdout + deep.stderr).toBe(5);
    expect(deep.stdout).toContain(
      `${victim.key}: size ${Math.floor(victim.size / 2)} bytes, manifest says ${victim.size}`,
    );
    // The size is part of the shallow check too.
    expect((await validate(path, { deep: false })).code).toBe(5);
  });

  it('a backup id that does not exist: exit 4 with a hint, no stack trace', async () => {
    const path = copy();
    const run = await validate(path, { deep: true, id: 'no-such-backup' });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`error: No backup no-such-backup in ${path}`);
    expect(run.stderr).toContain(`hint: Run \`kafka-backup list --path ${path}\``);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
  });

  it('a manifest that is not JSON: a clear error naming the file (exit 5), no stack trace', async () => {
    const path = copy();
    const file = join(path, 'backups', ID, 'manifest.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 100));
    for (const deep of [false, true]) {
      const run = await validate(path, { deep });
      expect(run.code, run.stderr).toBe(5);
      expect(run.stderr).toContain(`error: ${file} is not valid JSON`);
      expect(run.stderr).toContain('hint: ');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
