// `npm run bench [-- --quick] [--sets 1k,100b,100k,partitions] [--profile] [--keep-ground] [--node-flags "..."]`
//
// Backup and restore throughput and memory against Kafka's own tools, measured in the same run on a ground of
// its own (separate ports and folder, so it never disturbs the tests). For each data set: ProducerPerformance
// loads a topic on `primary`; ConsumerPerformance reads it (reference read); kafka-backup backs it up to a folder
// and to S3 at zstd level 3 and to a folder at level 6, each a child process measured on its own;
// ProducerPerformance writes the same data into `dr` (reference write); kafka-backup restores the folder backup
// into `dr`. Then the set's topics, backups and S3 objects are deleted. Prints a table and writes
// bench/results/bench-<time>.json. `--sets partitions` (not in the default sets) is the 10,000-partition set of
// bench/partitions.ts: planning and fan-out of the backup workflow and the CLI over many small partitions.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { KafkaCluster } from '../lib/kafka/index.ts';
import { groundS3Client, startGround, stopGround } from '../tools/ground/ground.ts';
import { clusterPaths } from '../tools/ground/kafka-cluster.ts';
import { ensureKafkaJars } from '../tools/ground/kafka-dist.ts';
import { endpointsToEnv, type GroundEndpoints, groundSettings } from '../tools/ground/settings.ts';
import { type ProfileSummary, renderProfileSummary, summariseProfile } from './cpuprofile.ts';
import { consumerPerf, producerPerf, type ToolRate } from './kafka-tools.ts';
import { type Measured, runMeasured } from './measure.ts';
import { benchPartitions, type PartitionsResult, renderPartitions } from './partitions.ts';
import { ensurePayloadFile, type PayloadSpec } from './payloads.ts';

const REPO = resolve(import.meta.dirname, '..');

/**
 * The bench's own ground: ports and folder apart from the one tests use, each overridable from the environment.
 * Set before anything reads them: the ground reads the environment when called, not when imported.
 */
const BENCH_GROUND_ENV: Record<string, string> = {
  PRIMARY_KAFKA_PORT: '49992',
  PRIMARY_CONTROLLER_PORT: '49993',
  PRIMARY_SASL_SSL_PORT: '49994',
  DR_KAFKA_PORT: '49892',
  DR_CONTROLLER_PORT: '49893',
  DR_SASL_SSL_PORT: '49894',
  S3_PORT: '47070',
  S3_WEST_PORT: '47071',
  SCHEMA_REGISTRY_PORT: '48081',
  SCHEMA_REGISTRY_DR_PORT: '48082',
  KAFKA_BACKUP_GROUND_DIR: join(REPO, '.ground', 'bench'),
};
for (const [k, v] of Object.entries(BENCH_GROUND_ENV)) {
  if (!process.env[k]) process.env[k] = v;
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sets: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'keep-ground': { type: 'boolean', default: false },
    'node-flags': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(`usage: npm run bench [-- --quick] [--sets 1k,100b,100k,partitions] [--profile] [--keep-ground] [--node-flags FLAGS]
  --quick        1/20th of each data set
  --sets         only these data sets (default 1k,100b,100k; partitions: 20 topics x 500 partitions, one record
                 each, through the backup-plan step, the backup workflow run locally and a CLI backup)
  --profile      node --cpu-prof on the folder backup (zstd 3) and the restore; the top functions by self time
                 are printed and saved with the results
  --keep-ground  leave the bench's Kafka clusters and S3 server running afterwards
  --node-flags   extra Node/V8 flags for the kafka-backup children, e.g. --node-flags=--max-semi-space-size=16`);
  process.exit(0);
}

interface DataSet {
  name: string;
  records: number;
  partitions: number;
  payload: PayloadSpec;
}

const SCALE = args.quick ? 1 / 20 : 1;
const ALL_SETS: DataSet[] = [
  { name: '1k', records: 1_000_000, partitions: 8, payload: { kind: 'order', size: 1024, count: 40_000 } },
  { name: '100b', records: 2_000_000, partitions: 8, payload: { kind: 'sensor', size: 100, count: 250_000 } },
  { name: '100k', records: 5_000, partitions: 8, payload: { kind: 'logbatch', size: 102_400, count: 400 } },
];
const wanted = args.sets?.split(',').map((s) => s.trim());
const PARTITIONS_SET = 'partitions';
const wantPartitions = wanted?.includes(PARTITIONS_SET) ?? false;
const SETS = ALL_SETS.filter((s) => !wanted || wanted.includes(s.name)).map((s) => ({
  ...s,
  records: Math.round(s.records * SCALE),
}));
const unknown = wanted?.filter((w) => w !== PARTITIONS_SET && !ALL_SETS.some((s) => s.name === w)) ?? [];
if ((SETS.length === 0 && !wantPartitions) || unknown.length > 0) {
  console.error(
    `--sets ${args.sets}: the data sets are ${[...ALL_SETS.map((s) => s.name), PARTITIONS_SET].join(', ')}`,
  );
  process.exit(2);
}

const settings = groundSettings();
const runId = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const resultsDir = join(REPO, 'bench', 'results');
const workDir = join(settings.runDir, 'bench-work');
const profileDir = join(resultsDir, `profiles-${runId}`);
const log = (m: string) => console.error(`[bench] ${m}`);
const MiB = 1024 * 1024;
const r1 = (n: number) => Math.round(n * 10) / 10;

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`;
  }
}

type Phase =
  | 'load'
  | 'ref read'
  | 'backup fs z3'
  | 'backup s3 z3'
  | 'backup fs z6'
  | 'ref write'
  | 'restore fs';

interface Row {
  set: string;
  phase: Phase;
  records: number;
  /** Key + value bytes, MiB (ConsumerPerformance's count). */
  mb: number;
  records_per_s: number;
  mb_per_s: number;
  /** Against the reference of the same set measured in this run (backup: ref read, restore: ref write). */
  vs_ref: number | null;
  wall_s: number;
  peak_rss_mb: number | null;
  /** Peaks of the child's heap, external memory and Buffers (MiB). */
  memory_mb?: Record<string, number>;
  cpu_s: number | null;
  /** CPU seconds per GiB of record data: the process's own (kafka-backup) plus the brokers'. */
  cpu_s_per_gb: number | null;
  broker_cpu_s: number | null;
  machine_busy_pct: number | null;
  load_1m: number;
  stored_mb?: number;
  compression_ratio?: number;
  /** ConsumerPerformance's rate over fetch time only (its group join excluded). */
  fetch_mb_per_s?: number;
}

const rows: Row[] = [];
const profiles: { set: string; phase: string; summary: ProfileSummary }[] = [];
const brokerGc: { set: string; primary_gc_s: number | null; dr_gc_s: number | null; wall_s: number }[] = [];
const loadLog: { at: string; uptime: string }[] = [{ at: 'start', uptime: uptime() }];
/** Environment of every kafka-backup child: the ground's endpoints and S3 credentials. */
let childEnv: Record<string, string> = {};
let partitions: PartitionsResult | undefined;

function brokerPid(name: 'primary' | 'dr'): number | undefined {
  try {
    return Number(readFileSync(clusterPaths(settings.runDir, name).pidPath, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Seconds a broker JVM spent in GC so far (jstat's GCT), to tell whether its 512 MiB heap holds it back. */
function brokerGcSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const out = execFileSync('jstat', ['-gcutil', String(pid)], { encoding: 'utf8', timeout: 10_000 });
    const [head, values] = out.trim().split('\n');
    const i = head!.trim().split(/\s+/).indexOf('GCT');
    const v = Number(values!.trim().split(/\s+/)[i]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

async function emptyS3Prefix(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  // The bucket is versioned: delete every version and delete marker, or the data stays on disk.
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId!,
    }));
    if (objects.length === 0) return;
    for (let i = 0; i < objects.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: objects.slice(i, i + 1000), Quiet: true },
        }),
      );
    }
  }
}

/**
 * Runs the CLI through its launcher (bin/kafka-backup, which execs Node 24 in the same process), measured on its
 * own. The preload that reports its resource usage, the optional CPU profiler and --node-flags reach Node through
 * NODE_OPTIONS, so what runs is exactly what a user runs.
 */
async function runCli(
  argv: string[],
  profileName: string | undefined,
  watch: Record<string, number | undefined>,
): Promise<Measured> {
  const nodeOptions = [
    process.env['NODE_OPTIONS'] ?? '',
    `--import=${join(REPO, 'bench', 'child-usage.ts')}`,
  ];
  if (args['node-flags']) nodeOptions.push(args['node-flags']);
  if (profileName) {
    mkdirSync(profileDir, { recursive: true });
    nodeOptions.push(`--cpu-prof --cpu-prof-dir=${profileDir} --cpu-prof-name=${profileName}.cpuprofile`);
  }
  const run = await runMeasured(join(REPO, 'bin', 'kafka-backup'), argv, {
    cwd: REPO,
    env: { ...childEnv, NODE_OPTIONS: nodeOptions.join(' ').trim() },
    usageFile: join(workDir, 'usage.json'),
    watch,
  });
  if (run.code !== 0) {
    throw new Error(
      `kafka-backup ${argv.join(' ')} exited with ${run.code}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`,
    );
  }
  if (profileName) {
    const file = join(profileDir, `${profileName}.cpuprofile`);
    if (existsSync(file)) {
      const [set, phase] = profileName.split('-') as [string, string];
      profiles.push({ set, phase, summary: summariseProfile(file, 20) });
    }
  }
  return run;
}

/**
 * Creates a topic, retrying a few times: right after a topic is deleted or created, a KRaft broker under load can
 * answer metadata requests with UNKNOWN_TOPIC_OR_PARTITION for a moment.
 */
async function createTopic(cluster: KafkaCluster, name: string, partitions: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.createTopic({ name, partitions, replicationFactor: 1, configs: {} });
      return;
    } catch (err) {
      if (attempt >= 5 || /already exists/i.test(String(err))) throw err;
      log(`  creating ${name} failed (${(err as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

/**
 * A broker removes a deleted topic's files a minute later (file.delete.delay.ms); one stopped before then leaves
 * them behind as `<topic>-<partition>.<id>-delete` folders, gigabytes after a full run. Stopped, they are just files.
 */
function removeDeletedTopics(stopped: string[]): void {
  for (const name of ['primary', 'dr'] as const) {
    if (!stopped.includes(name)) continue;
    const dataDir = clusterPaths(settings.runDir, name).dataDir;
    if (!existsSync(dataDir)) continue;
    for (const entry of readdirSync(dataDir)) {
      if (entry.endsWith('-delete')) rmSync(join(dataDir, entry), { recursive: true, force: true });
    }
  }
}

function brokerCpu(run: Measured): number | null {
  const v = Object.values(run.others.cpu_s).filter((x): x is number => x !== null);
  return v.length ? r1(v.reduce((a, b) => a + b, 0)) : null;
}

function perGb(cpu: number | null | undefined, mb: number): number | null {
  return cpu === null || cpu === undefined || mb <= 0 ? null : r1((cpu * 1024) / mb);
}

function toolRow(set: string, phase: Phase, t: ToolRate, mb: number): Row {
  return {
    set,
    phase,
    records: t.records,
    mb,
    records_per_s: Math.round(t.records_per_s),
    mb_per_s: r1(t.mb_per_s),
    vs_ref: null,
    wall_s: t.run.wall_s,
    peak_rss_mb: null,
    cpu_s: null,
    cpu_s_per_gb: perGb(t.run.cpu_s, mb),
    broker_cpu_s: brokerCpu(t.run),
    machine_busy_pct: t.run.others.machine_busy_pct,
    load_1m: t.run.load_avg_1m,
    ...(t.fetch_mb_per_s !== undefined ? { fetch_mb_per_s: r1(t.fetch_mb_per_s) } : {}),
  };
}

/** Our rates are over the child's whole life: Node start, config, plan and finalize included. */
function childRow(set: string, phase: Phase, records: number, mb: number, run: Measured, ref: number): Row {
  const mbps = mb / run.wall_s;
  return {
    set,
    phase,
    records,
    mb,
    records_per_s: Math.round(records / run.wall_s),
    mb_per_s: r1(mbps),
    vs_ref: Math.round((100 * mbps) / ref) / 100,
    wall_s: run.wall_s,
    peak_rss_mb: run.peak_rss_mb,
    ...(run.memory_mb ? { memory_mb: run.memory_mb } : {}),
    cpu_s: run.cpu_s,
    cpu_s_per_gb: perGb(run.cpu_s, mb),
    broker_cpu_s: brokerCpu(run),
    machine_busy_pct: run.others.machine_busy_pct,
    load_1m: run.load_avg_1m,
  };
}

async function benchSet(set: DataSet, ctx: { lib: string; e: GroundEndpoints; s3: S3Client }): Promise<void> {
  const { lib, e, s3 } = ctx;
  // Admin clients of this set only: a client caches metadata of topics it has seen, and the set deletes them.
  const primary = new KafkaCluster({ bootstrap_servers: [e.primaryBootstrap] }, 'bench-primary');
  const dr = new KafkaCluster({ bootstrap_servers: [e.drBootstrap] }, 'bench-dr');
  const payload = await ensurePayloadFile(join(settings.runDir, 'payloads'), set.payload);
  const topic = `bench-${set.name}`;
  const refTopic = `bench-${set.name}-refwrite`;
  const s3Prefix = `bench/${runId}/${set.name}`;
  const dirs = { z3: join(workDir, `${set.name}-fs-z3`), z6: join(workDir, `${set.name}-fs-z6`) };
  const watch = () => ({ primary: brokerPid('primary'), dr: brokerPid('dr') });
  const cleanup = async () => {
    await primary.deleteTopics([topic]).catch(() => undefined);
    await dr.deleteTopics([topic, refTopic]).catch(() => undefined);
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    await emptyS3Prefix(s3, 'kafka-backup-test', s3Prefix).catch((err) => log(`S3 cleanup: ${err}`));
  };
  const t0 = Date.now();
  const gc0 = { primary: brokerGcSeconds(brokerPid('primary')), dr: brokerGcSeconds(brokerPid('dr')) };
  await cleanup();
  try {
    await createTopic(primary, topic, set.partitions);

    log(`  load: ProducerPerformance → primary ${topic}`);
    const load = await producerPerf({
      lib,
      bootstrap: e.primaryBootstrap,
      topic,
      records: set.records,
      payloadFile: payload.path,
      watch: watch(),
    });
    const loaded = (await primary.partitionOffsets(topic)).reduce((n, p) => n + p.end, 0);
    if (loaded !== set.records) throw new Error(`${topic} holds ${loaded} records, expected ${set.records}`);

    log('  reference read: ConsumerPerformance');
    const read = await consumerPerf({
      lib,
      bootstrap: e.primaryBootstrap,
      topic,
      records: set.records,
      watch: watch(),
    });
    const mb = read.mb!;
    rows.push(toolRow(set.name, 'load', load, mb), toolRow(set.name, 'ref read', read, mb));

    const backups: { phase: Phase; id: string; level: number; storage: string; profile: boolean }[] = [
      {
        phase: 'backup fs z3',
        id: `bench-${set.name}-z3`,
        level: 3,
        storage: `storage:\n  backend: filesystem\n  path: ${dirs.z3}\n`,
        profile: args.profile,
      },
      {
        phase: 'backup s3 z3',
        id: `bench-${set.name}-s3`,
        level: 3,
        storage: `storage:\n  backend: s3\n  bucket: kafka-backup-test\n  region: us-east-1\n  prefix: ${s3Prefix}\n  endpoint: ${e.s3Endpoint}\n`,
        profile: false,
      },
      {
        phase: 'backup fs z6',
        id: `bench-${set.name}-z6`,
        level: 6,
        storage: `storage:\n  backend: filesystem\n  path: ${dirs.z6}\n`,
        profile: false,
      },
    ];
    for (const b of backups) {
      log(`  ${b.phase}`);
      const config = join(workDir, `${b.id}.yaml`);
      writeFileSync(
        config,
        `mode: backup\nbackup_id: ${b.id}\nsource:\n  bootstrap_servers: ["${e.primaryBootstrap}"]\n  topics:\n    include: ["${topic}"]\n${b.storage}backup:\n  compression_level: ${b.level}\n`,
      );
      const run = await runCli(
        ['backup', '--config', config, '--format', 'json'],
        b.profile ? `${set.name}-backup` : undefined,
        watch(),
      );
      const out = JSON.parse(run.stdout) as { stats: { records: number; stored_bytes: number } };
      if (out.stats.records !== set.records) {
        throw new Error(`${b.id} backed up ${out.stats.records} records, expected ${set.records}`);
      }
      rows.push({
        ...childRow(set.name, b.phase, set.records, mb, run, read.mb_per_s),
        stored_mb: r1(out.stats.stored_bytes / MiB),
        compression_ratio: Math.round((100 * mb * MiB) / out.stats.stored_bytes) / 100,
      });
    }

    log('  reference write: ProducerPerformance → dr');
    await createTopic(dr, refTopic, set.partitions);
    const write = await producerPerf({
      lib,
      bootstrap: e.drBootstrap,
      topic: refTopic,
      records: set.records,
      payloadFile: payload.path,
      watch: watch(),
    });
    rows.push(toolRow(set.name, 'ref write', write, mb));
    // dr then holds only what the restore writes.
    await dr.deleteTopics([refTopic]).catch(() => undefined);

    log('  restore: folder backup (zstd 3) → dr');
    const rconfig = join(workDir, `restore-${set.name}.yaml`);
    writeFileSync(
      rconfig,
      `mode: restore\nbackup_id: bench-${set.name}-z3\ntarget:\n  bootstrap_servers: ["${e.drBootstrap}"]\nstorage:\n  backend: filesystem\n  path: ${dirs.z3}\n`,
    );
    const rrun = await runCli(
      ['restore', '--config', rconfig, '--format', 'json'],
      args.profile ? `${set.name}-restore` : undefined,
      watch(),
    );
    const report = JSON.parse(rrun.stdout) as { ok: boolean };
    const restored = (await dr.partitionOffsets(topic)).reduce((n, p) => n + p.end, 0);
    if (!report.ok || restored !== set.records) {
      throw new Error(
        `restore of ${set.name}: ok=${report.ok}, ${restored} records in dr, expected ${set.records}`,
      );
    }
    rows.push(childRow(set.name, 'restore fs', set.records, mb, rrun, write.mb_per_s));
  } finally {
    await cleanup();
    await primary.close();
    await dr.close();
  }
  const gc1 = { primary: brokerGcSeconds(brokerPid('primary')), dr: brokerGcSeconds(brokerPid('dr')) };
  const delta = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? Math.round((b - a) * 100) / 100 : null;
  brokerGc.push({
    set: set.name,
    primary_gc_s: delta(gc0.primary, gc1.primary),
    dr_gc_s: delta(gc0.dr, gc1.dr),
    wall_s: Math.round((Date.now() - t0) / 1000),
  });
}

function printTable(list: Row[]): void {
  const head = [
    'set',
    'phase',
    'records/s',
    'MiB/s',
    'vs ref',
    'wall s',
    'peak RSS MiB',
    'CPU s',
    'CPU s/GiB',
    'broker CPU s',
    'busy %',
    'load',
    'stored MiB',
    'ratio',
  ];
  const body = list.map((r) => [
    r.set,
    r.phase,
    String(r.records_per_s),
    r.mb_per_s.toFixed(1),
    r.vs_ref === null ? '' : `${Math.round(r.vs_ref * 100)}%`,
    r.wall_s.toFixed(1),
    r.peak_rss_mb === null ? '' : String(r.peak_rss_mb),
    r.cpu_s === null ? '' : r.cpu_s.toFixed(1),
    r.cpu_s_per_gb === null ? '' : r.cpu_s_per_gb.toFixed(1),
    r.broker_cpu_s === null ? '' : r.broker_cpu_s.toFixed(1),
    r.machine_busy_pct === null ? '' : String(r.machine_busy_pct),
    r.load_1m.toFixed(1),
    r.stored_mb === undefined ? '' : r.stored_mb.toFixed(1),
    r.compression_ratio === undefined ? '' : `${r.compression_ratio.toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(head));
  console.log(
    `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const b of body) console.log(line(b));
}

function summary(): string[] {
  const out: string[] = [];
  for (const set of SETS) {
    const get = (p: Phase) => rows.find((r) => r.set === set.name && r.phase === p);
    const pct = (r: Row | undefined) => (r?.vs_ref != null ? `${Math.round(r.vs_ref * 100)}%` : 'n/a');
    const rss = rows
      .filter((r) => r.set === set.name && r.peak_rss_mb !== null)
      .map((r) => r.peak_rss_mb!)
      .reduce((a, b) => Math.max(a, b), 0);
    // Issue 13's targets: backup >= 0.9 (0.6 for 100 B) of ConsumerPerformance, restore >= 2.5 (1.5 for 100 B)
    // of ProducerPerformance, peak RSS <= 256 MiB.
    const small = set.name === '100b';
    out.push(
      `  ${set.name.padEnd(5)} backup/ref read: folder ${pct(get('backup fs z3'))}, S3 ${pct(get('backup s3 z3'))}, zstd 6 ${pct(get('backup fs z6'))} (target ≥ ${small ? 60 : 90}%); ` +
        `restore/ref write ${pct(get('restore fs'))} (target ≥ ${small ? 150 : 250}%); compression zstd 3 ${get('backup fs z3')?.compression_ratio ?? 'n/a'}x, ` +
        `zstd 6 ${get('backup fs z6')?.compression_ratio ?? 'n/a'}x; CPU s/GiB backup z3 ${get('backup fs z3')?.cpu_s_per_gb ?? 'n/a'}, z6 ${get('backup fs z6')?.cpu_s_per_gb ?? 'n/a'}, restore ${get('restore fs')?.cpu_s_per_gb ?? 'n/a'}; peak RSS ${rss} MiB (target ≤ 256)`,
    );
  }
  return out;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  log(
    `ground ${settings.runDir} (primary :${settings.primary.port}, dr :${settings.dr.port}, s3 :${settings.s3Servers[0]!.port})`,
  );
  log(loadLog[0]!.uptime);
  // The clusters and S3 servers only: the Schema Registries (two JVMs) would take CPU from what is measured.
  const ground = await startGround({
    settings,
    services: ['primary', 'dr', 's3', 's3-west'],
    log: (m) => log(`ground: ${m}`),
  });
  const e = ground.endpoints;
  childEnv = endpointsToEnv(e);
  const lib = ensureKafkaJars(settings.cacheDir, settings.kafkaVersion, log);
  const s3 = groundS3Client(e);
  mkdirSync(resultsDir, { recursive: true });
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  try {
    for (const set of SETS) {
      loadLog.push({ at: `before ${set.name}`, uptime: uptime() });
      log(
        `data set ${set.name}: ${set.records} records of ~${set.payload.size} B over ${set.partitions} partitions`,
      );
      await benchSet(set, { lib, e, s3 });
      printTable(rows.filter((r) => r.set === set.name));
    }
    if (wantPartitions) {
      loadLog.push({ at: 'before partitions', uptime: uptime() });
      log(`data set partitions: ${Math.round(10_000 * SCALE)} partitions, one small record each`);
      const prefix = `bench/${runId}/partitions`;
      try {
        partitions = await benchPartitions({
          e,
          env: childEnv,
          workDir,
          prefix,
          scale: SCALE,
          log,
          runCli: (argv) => runCli(argv, undefined, { primary: brokerPid('primary') }),
        });
      } finally {
        await emptyS3Prefix(s3, 'kafka-backup-test', prefix).catch((err) => log(`S3 cleanup: ${err}`));
      }
      for (const l of renderPartitions(partitions)) log(l);
    }
  } finally {
    s3.destroy();
    rmSync(workDir, { recursive: true, force: true });
    if (!args['keep-ground'] && ground.started.length > 0) {
      log(`stopping what the bench started: ${ground.started.join(', ')}`);
      await stopGround({ settings, only: ground.started });
      removeDeletedTopics(ground.started);
    }
  }
  loadLog.push({ at: 'end', uptime: uptime() });
  const took = Math.round((Date.now() - t0) / 1000);

  console.log(
    `\nkafka-backup benchmark ${runId}${args.quick ? ' (--quick: 1/20th of each data set)' : ''}${args['node-flags'] ? ` with node flags ${args['node-flags']}` : ''}`,
  );
  if (rows.length > 0) {
    printTable(rows);
    console.log(
      '\nvs ref: backup MiB/s over ConsumerPerformance MiB/s, restore over ProducerPerformance (into dr), same run.',
    );
    for (const l of summary()) console.log(l);
  }
  if (partitions) for (const l of renderPartitions(partitions)) console.log(`\n${l}`);
  console.log(
    `broker GC seconds per data set (512 MiB heap): ${brokerGc.map((g) => `${g.set}: primary ${g.primary_gc_s ?? '?'}, dr ${g.dr_gc_s ?? '?'} in ${g.wall_s} s`).join('; ')}`,
  );
  for (const p of profiles) console.log(`\n${renderProfileSummary(p.summary, `${p.set} ${p.phase}`)}`);
  console.log('\nload averages (uptime):');
  for (const l of loadLog) console.log(`  ${l.at.padEnd(12)} ${l.uptime}`);
  const result = {
    run_id: runId,
    quick: args.quick,
    node_flags: args['node-flags'] ?? null,
    duration_s: took,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      memory_gib: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      kafka: settings.kafkaVersion,
    },
    ground: Object.fromEntries(Object.keys(BENCH_GROUND_ENV).map((k) => [k, process.env[k]])),
    data_sets: SETS,
    load: loadLog,
    rows,
    summary: summary().map((s) => s.trim()),
    broker_gc: brokerGc,
    profiles,
    ...(partitions ? { partitions } : {}),
  };
  const out = join(resultsDir, `bench-${runId}${args.quick ? '-quick' : ''}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nresults: ${out}${profiles.length ? `\nprofiles: ${profileDir}` : ''}`);
  console.log(`took ${took} s`);
  return 0;
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  return 1;
});
