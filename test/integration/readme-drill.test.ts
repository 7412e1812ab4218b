// The README's first command as a new user runs it: `npm run drill` (the package.json script, same command line)
// in a fresh `git clone` of this repository's HEAD, on a brand-new ground folder and brand-new ports, so its two
// Kafka brokers are brand-new clusters (formatted, `__consumer_offsets` not created yet). It must pass the first
// time, start nothing it does not use (no S3 server, no versitygw build), and its printed stop command must stop
// the clusters. The shared ground of the other integration tests is not touched.
//
// Not a second `npm ci`: the clone's node_modules is a symlink to this checkout's (same package-lock; Node resolves
// through the link, and `npm run` finds node@24 in node_modules/.bin). The Kafka jars are not downloaded again
// either: the clone gets a cache folder of its own holding only a link to the shared cache's Kafka jars (no
// versitygw binary, no TLS files), so a build of the S3 server would show there.
//
// HEAD means committed files only. README_DRILL_OVERLAY="package.json tools/ground" copies those working-tree paths
// over the clone first, to try an uncommitted change.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterPaths, stopKafkaCluster } from '../../tools/ground/kafka-cluster.ts';
import { isAlive, portOpen, readPid } from '../../tools/ground/processes.ts';
import { groundSettings } from '../../tools/ground/settings.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Ports nobody listens on now: all bound at once (so they differ), then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((ok, fail) => {
          const s = createServer();
          s.once('error', fail);
          s.listen(0, '127.0.0.1', () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

function sh(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('README quick start: npm run drill', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kafka-backup-readme-drill-'));
  const clone = join(tmp, 'kafka-backup');
  const groundDir = join(tmp, 'ground');
  const cache = join(tmp, 'cache');
  const env: NodeJS.ProcessEnv = {};
  let ports: Record<string, number> = {};

  beforeAll(async () => {
    execFileSync('git', ['clone', '--quiet', repoRoot, clone], { stdio: 'pipe' });
    for (const path of (process.env['README_DRILL_OVERLAY'] ?? '').split(/\s+/).filter(Boolean)) {
      cpSync(join(repoRoot, path), join(clone, path), { recursive: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(clone, 'node_modules'));
    const shared = groundSettings();
    mkdirSync(cache);
    symlinkSync(join(shared.cacheDir, 'kafka'), join(cache, 'kafka'));

    const [p1, p2, p3, p4, p5, p6, p7, p8] = await freePorts(8);
    ports = {
      PRIMARY_KAFKA_PORT: p1!,
      PRIMARY_CONTROLLER_PORT: p2!,
      PRIMARY_SASL_SSL_PORT: p3!,
      DR_KAFKA_PORT: p4!,
      DR_CONTROLLER_PORT: p5!,
      DR_SASL_SSL_PORT: p6!,
      S3_PORT: p7!,
      S3_WEST_PORT: p8!,
    };
    // A user's shell: none of the settings the integration project or npm put in our environment.
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(GROUND_|AWS_|npm_|VITEST|KAFKA_BACKUP_|NODE_OPTIONS$|INIT_CWD$)/.test(k)) env[k] = v;
    }
    Object.assign(env, {
      KAFKA_BACKUP_GROUND_DIR: groundDir,
      KAFKA_BACKUP_CACHE: cache,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    });
  });

  afterAll(async () => {
    // Whatever happened above, the brand-new clusters go.
    await Promise.all(['primary', 'dr'].map((name) => stopKafkaCluster(groundDir, name)));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('passes the first time on brand-new clusters, starts only the two Kafka clusters, and its stop command stops them', async () => {
    const t0 = Date.now();
    const r = await sh('npm', ['run', 'drill'], { cwd: clone, env, timeoutMs: 540_000 });
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    const out = `npm run drill: exit ${r.code} after ${seconds} s\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    expect(r.code, out).toBe(0);
    expect(r.stdout, out).toContain('DR drill PASSED');
    expect(readFileSync(join(groundDir, 'drill-report.md'), 'utf8')).toMatch(/^# DR drill PASSED/m);
    // The clusters and nothing else: no S3 server, no versitygw build.
    expect(r.stderr, out).toMatch(/started: (primary, dr|dr, primary)\)/);
    expect(r.stderr, out).not.toMatch(/versitygw/);
    expect(readdirSync(groundDir)).not.toContain('s3');
    expect(readdirSync(cache).filter((f) => f === 'bin' || f.startsWith('go'))).toEqual([]);
    expect(await portOpen(ports['S3_PORT']!)).toBe(false);

    // The output ends with the commands to look around and to stop the clusters, for this ground's settings.
    const lines = r.stdout.trimEnd().split('\n');
    const exportLine = /first: (export .*)\):$/.exec(
      r.stdout.match(/^The clusters keep running\..*$/m)?.[0] ?? '',
    )?.[1];
    expect(exportLine, out).toContain(`KAFKA_BACKUP_GROUND_DIR=${groundDir}`);
    expect(exportLine, out).toContain(`PRIMARY_KAFKA_PORT=${ports['PRIMARY_KAFKA_PORT']}`);
    expect(lines.at(-2)).toBe('Stop them:');
    const stop = lines.at(-1)!.replace(/#.*/, '').trim();
    expect(stop).toBe('npm run ground -- stop');
    const list = lines.find((l) => l.includes('tool topics'))!.trim();

    // The drill cleaned up after itself: its test topic is gone from both clusters.
    for (const command of [
      list,
      list.replace(`:${ports['PRIMARY_KAFKA_PORT']}`, `:${ports['DR_KAFKA_PORT']}`),
    ]) {
      const topics = await sh('bash', ['-c', `${exportLine}; ${command}`], {
        cwd: clone,
        env,
        timeoutMs: 60_000,
      });
      expect(topics.code, topics.stderr).toBe(0);
      expect(topics.stdout).not.toMatch(/dr-test-/);
    }

    // The printed stop command stops both clusters.
    const pids = ['primary', 'dr'].map((name) => readPid(clusterPaths(groundDir, name).pidPath));
    expect(pids.every((p) => isAlive(p))).toBe(true);
    const stopped = await sh('bash', ['-c', `${exportLine}; ${stop}`], {
      cwd: clone,
      env,
      timeoutMs: 60_000,
    });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/stopped: (primary, dr|dr, primary)$/m);
    expect(pids.some((p) => isAlive(p))).toBe(false);
    expect(await portOpen(ports['PRIMARY_KAFKA_PORT']!)).toBe(false);
    expect(await portOpen(ports['DR_KAFKA_PORT']!)).toBe(false);
    expect(existsSync(clusterPaths(groundDir, 'primary').pidPath)).toBe(false);
  }, 720_000);
});
