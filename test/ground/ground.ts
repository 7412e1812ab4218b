import { mkdirSync, rmSync } from 'node:fs';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startKafkaCluster, stopKafkaCluster } from './kafka-cluster.ts';
import { ensureKafkaJars } from './kafka-dist.ts';
import { requireJava } from './prerequisites.ts';
import { ensureVersitygw, startS3Server, stopS3Server } from './s3-server.ts';
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

/** Starts the two Kafka clusters and the S3 server unless they already run. Idempotent. */
export async function startGround(
  opts: { settings?: GroundSettings; log?: (msg: string) => void } = {},
): Promise<GroundHandle> {
  const settings = opts.settings ?? groundSettings();
  const log = opts.log ?? ((m: string) => console.error(`[ground] ${m}`));
  requireJava(settings.kafkaVersion);
  mkdirSync(settings.runDir, { recursive: true });
  const lib = ensureKafkaJars(settings.cacheDir, settings.kafkaVersion, log);
  const versitygw = ensureVersitygw(settings.cacheDir, log);
  const started: string[] = [];

  const s3 = settings.s3Servers.map(async (server) => {
    const r = await startS3Server({
      bin: versitygw,
      runDir: settings.runDir,
      name: server.name,
      region: server.region,
      port: server.port,
      accessKey: settings.s3AccessKey,
      secretKey: settings.s3SecretKey,
      log,
    });
    if (!r.alreadyRunning) started.push(server.name);
  });
  const clusters = [settings.primary, settings.dr].map(async (cluster) => {
    const r = await startKafkaCluster({
      cluster,
      runDir: settings.runDir,
      tlsDir: tlsDir(settings),
      lib,
      version: settings.kafkaVersion,
      log,
    });
    if (!r.alreadyRunning) started.push(cluster.name);
  });
  await Promise.all([...s3, ...clusters]);
  const endpoints = groundEndpoints(settings);
  for (const server of settings.s3Servers) {
    await ensureBuckets(endpoints, server.region as 'us-east-1' | 'us-west-2', server.buckets);
  }
  return { endpoints, started };
}

/** Stops the named services (all by default). With `wipe`, deletes their data too. */
export async function stopGround(
  opts: { settings?: GroundSettings; only?: string[]; wipe?: boolean } = {},
): Promise<string[]> {
  const settings = opts.settings ?? groundSettings();
  const which = opts.only ?? ['primary', 'dr', ...settings.s3Servers.map((s) => s.name)];
  const stopped: string[] = [];
  await Promise.all(
    which.map(async (name) => {
      const done = name.startsWith('s3')
        ? await stopS3Server(settings.runDir, name)
        : await stopKafkaCluster(settings.runDir, name);
      if (done) stopped.push(name);
    }),
  );
  if (opts.wipe) rmSync(settings.runDir, { recursive: true, force: true });
  return stopped;
}
