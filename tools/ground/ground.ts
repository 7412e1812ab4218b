import { mkdirSync, rmSync } from 'node:fs';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startKafkaCluster, stopKafkaCluster } from './kafka-cluster.ts';
import { fetchKafkaJars } from './kafka-dist.ts';
import { requireJava } from './prerequisites.ts';
import { ensurePythonTool, type PythonTool } from './python-tools.ts';
import { ensureVersitygw, startS3Server, stopS3Server } from './s3-server.ts';
import { ensureSchemaRegistry, startSchemaRegistry, stopSchemaRegistry } from './schema-registry.ts';
import {
  type GroundEndpoints,
  type GroundSettings,
  groundEndpoints,
  groundSettings,
  tlsDir,
} from './settings.ts';

export interface GroundHandle {
  endpoints: GroundEndpoints;
  /** Services this call started (and so should stop); the others were already running. */
  started: string[];
}

export function groundS3Client(
  e: GroundEndpoints,
  region: 'us-east-1' | 'us-west-2' = 'us-east-1',
): S3Client {
  return new S3Client({
    endpoint: region === 'us-east-1' ? e.s3Endpoint : e.s3WestEndpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: e.s3AccessKey, secretAccessKey: e.s3SecretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function ensureBuckets(
  e: GroundEndpoints,
  region: 'us-east-1' | 'us-west-2',
  buckets: string[],
): Promise<void> {
  const s3 = groundS3Client(e, region);
  try {
    for (const Bucket of buckets) {
      try {
        await s3.send(new HeadBucketCommand({ Bucket }));
      } catch {
        await s3.send(new CreateBucketCommand({ Bucket }));
      }
      await s3.send(
        new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }
  } finally {
    s3.destroy();
  }
}

/** The services of a ground, by name: the two Kafka clusters, the two S3 servers, the two Schema Registries. */
export type GroundService = 'primary' | 'dr' | 's3' | 's3-west' | 'registry' | 'registry-dr';

export const ALL_SERVICES: readonly GroundService[] = [
  'primary',
  'dr',
  's3',
  's3-west',
  'registry',
  'registry-dr',
];

/**
 * Service names from a command line, comma-separated: `kafka` (both clusters), `s3-servers` (both S3 servers),
 * `registries` (both Schema Registries), or names (`s3` is the us-east-1 server alone).
 */
export function parseServices(raw: string): GroundService[] {
  const out = new Set<GroundService>();
  for (const word of raw.split(',').map((w) => w.trim())) {
    if (word === 'kafka') {
      out.add('primary').add('dr');
    } else if (word === 's3-servers') {
      out.add('s3').add('s3-west');
    } else if (word === 'registries') {
      out.add('registry').add('registry-dr');
    } else if ((ALL_SERVICES as readonly string[]).includes(word)) {
      out.add(word as GroundService);
    } else {
      throw new Error(
        `unknown ground service "${word}": give kafka, s3-servers, registries or names (${ALL_SERVICES.join(', ')})`,
      );
    }
  }
  return ALL_SERVICES.filter((s) => out.has(s));
}

/**
 * Starts the services (all by default) unless they already run. Idempotent. Only what they need is fetched: the
 * Kafka jars for a cluster, the versitygw build for an S3 server; both at once when both are needed, and each
 * service starts as soon as its own piece is there.
 */
export async function startGround(
  opts: { settings?: GroundSettings; services?: readonly GroundService[]; log?: (msg: string) => void } = {},
): Promise<GroundHandle> {
  const settings = opts.settings ?? groundSettings();
  const services = opts.services ?? ALL_SERVICES;
  const log = opts.log ?? ((m: string) => console.error(`[ground] ${m}`));
  const clusters = [settings.primary, settings.dr].filter((c) => services.includes(c.name));
  const servers = settings.s3Servers.filter((s) => services.includes(s.name));
  const registries = settings.schemaRegistries.filter((r) => services.includes(r.name));
  if (clusters.length > 0 || registries.length > 0) requireJava(settings.kafkaVersion);
  mkdirSync(settings.runDir, { recursive: true });
  const endpoints = groundEndpoints(settings);
  const started: string[] = [];

  // Each piece fetched once, however many services wait for it.
  const lib = clusters.length > 0 ? fetchKafkaJars(settings.cacheDir, settings.kafkaVersion, log) : undefined;
  const versitygw = servers.length > 0 ? ensureVersitygw(settings.cacheDir, log) : undefined;
  const registryJar = registries.length > 0 ? ensureSchemaRegistry(settings.cacheDir, log) : undefined;
  const starts = [
    ...registries.map(async (registry) => {
      const r = await startSchemaRegistry({
        jar: await registryJar!,
        runDir: settings.runDir,
        name: registry.name,
        port: registry.port,
        log,
      });
      if (!r.alreadyRunning) started.push(registry.name);
    }),
    ...servers.map(async (server) => {
      const r = await startS3Server({
        bin: await versitygw!,
        runDir: settings.runDir,
        name: server.name,
        region: server.region,
        port: server.port,
        accessKey: settings.s3AccessKey,
        secretKey: settings.s3SecretKey,
        log,
      });
      if (!r.alreadyRunning) started.push(server.name);
      await ensureBuckets(endpoints, server.region as 'us-east-1' | 'us-west-2', server.buckets);
    }),
    ...clusters.map(async (cluster) => {
      const r = await startKafkaCluster({
        cluster,
        runDir: settings.runDir,
        tlsDir: tlsDir(settings),
        lib: await lib!,
        version: settings.kafkaVersion,
        log,
      });
      if (!r.alreadyRunning) started.push(cluster.name);
    }),
  ];
  // A failure is reported once every other start has finished: nothing goes on starting in the background.
  const results = await Promise.allSettled(starts);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return { endpoints, started };
}

/**
 * Everything `npm test` downloads or builds, all at once: the Kafka jars (Maven Central), the versitygw build (Go
 * module proxy, then compiling), the Schema Registry (Maven Central, then Quarkus's build) and the Python tools (PyPI). Nothing is started. Each piece that is cached already
 * costs nothing; a failure is reported once all have finished.
 */
export async function fetchAll(
  opts: { settings?: GroundSettings; python?: readonly PythonTool[]; log?: (msg: string) => void } = {},
): Promise<void> {
  const settings = opts.settings ?? groundSettings();
  const log = opts.log ?? ((m: string) => console.error(`[ground] ${m}`));
  requireJava(settings.kafkaVersion);
  const results = await Promise.allSettled([
    fetchKafkaJars(settings.cacheDir, settings.kafkaVersion, log),
    ensureVersitygw(settings.cacheDir, log),
    ensureSchemaRegistry(settings.cacheDir, log),
    ...(opts.python ?? ['cfn-lint', 'moto']).map((tool) => ensurePythonTool(settings.cacheDir, tool, log)),
  ]);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Stops the named services (all by default). With `wipe`, deletes their data too. */
export async function stopGround(
  opts: { settings?: GroundSettings; only?: readonly string[]; wipe?: boolean } = {},
): Promise<string[]> {
  const settings = opts.settings ?? groundSettings();
  const which = opts.only ?? ALL_SERVICES;
  const stopped: string[] = [];
  await Promise.all(
    which.map(async (name) => {
      const done = name.startsWith('s3')
        ? await stopS3Server(settings.runDir, name)
        : name.startsWith('registry')
          ? await stopSchemaRegistry(settings.runDir, name)
          : await stopKafkaCluster(settings.runDir, name);
      if (done) stopped.push(name);
    }),
  );
  if (opts.wipe) rmSync(settings.runDir, { recursive: true, force: true });
  return stopped;
}
