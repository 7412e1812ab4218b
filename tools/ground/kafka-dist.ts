import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MissingPrerequisiteError, requireMaven } from './prerequisites.ts';
import { dirBytes, heartbeat, megabytes, run, seconds } from './processes.ts';

/** Logging is not in Kafka's POM: 3.x logs through reload4j, 4.x through log4j2. */
function loggingDependencies(version: string): string[][] {
  if (version.startsWith('3.')) {
    return [
      ['ch.qos.reload4j', 'reload4j', '1.2.25'],
      ['org.slf4j', 'slf4j-reload4j', '1.7.36'],
    ];
  }
  return [
    ['org.apache.logging.log4j', 'log4j-api', '2.24.3'],
    ['org.apache.logging.log4j', 'log4j-core', '2.24.3'],
    ['org.apache.logging.log4j', 'log4j-slf4j-impl', '2.24.3'],
  ];
}

function pom(version: string): string {
  const deps = [
    ['org.apache.kafka', 'kafka_2.13', version],
    ['org.apache.kafka', 'kafka-tools', version],
    ...loggingDependencies(version),
  ]
    .map(
      ([g, a, v]) =>
        `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`,
    )
    .join('\n    ');
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-backup</groupId>
  <artifactId>kafka-ground-${version}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`;
}

interface JarsJob {
  lib: string;
  staging: string;
  /** Maven's local repository for this download only (two clones fetching at once must not share one). */
  m2: string;
  pomPath: string;
  args: string[];
}

function kafkaLib(cacheDir: string, version: string): string {
  return join(cacheDir, 'kafka', version, 'lib');
}

/** True when the jars of Kafka `version` are in the cache already (nothing to download). */
export function kafkaJarsCached(cacheDir: string, version: string): boolean {
  const lib = kafkaLib(cacheDir, version);
  return existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('kafka_2.13-'));
}

function prepare(cacheDir: string, version: string): JarsJob {
  requireMaven();
  const home = join(cacheDir, 'kafka', version);
  mkdirSync(home, { recursive: true });
  const staging = join(home, `lib.partial-${process.pid}`);
  const m2 = join(cacheDir, `m2.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const pomPath = join(home, `pom-${process.pid}.xml`);
  writeFileSync(pomPath, pom(version));
  return {
    lib: join(home, 'lib'),
    staging,
    m2,
    pomPath,
    args: [
      '-q',
      '-B',
      '-f',
      pomPath,
      `-Dmaven.repo.local=${m2}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
  };
}

function finish(job: JarsJob, version: string, status: number | null, output: string): void {
  // The jars are copied out of Maven's local repository: it is not needed again.
  rmSync(job.m2, { recursive: true, force: true });
  rmSync(job.pomPath, { force: true });
  if (status !== 0) {
    rmSync(job.staging, { recursive: true, force: true });
    const out = output.split('\n').slice(-30).join('\n');
    throw new MissingPrerequisiteError(
      `Could not download Kafka ${version} from Maven Central (is the version right and Maven Central reachable?):\n${out}`,
    );
  }
  rmSync(job.lib, { recursive: true, force: true });
  renameSync(job.staging, job.lib);
}

/**
 * Returns the folder holding every jar Kafka `version` needs (broker, tools, logging),
 * downloading them from Maven Central into the cache the first time. Blocks; `fetchKafkaJars` does not.
 */
export function ensureKafkaJars(cacheDir: string, version: string, log: (msg: string) => void): string {
  const lib = kafkaLib(cacheDir, version);
  if (kafkaJarsCached(cacheDir, version)) return lib;
  const job = prepare(cacheDir, version);
  log(`downloading Apache Kafka ${version} jars from Maven Central (first run only, ${DOWNLOAD_SIZE})...`);
  const r = spawnSync('mvn', job.args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  finish(job, version, r.status, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  return lib;
}

/** Measured on a cold cache (Kafka 4.3.1: 54 MB in 30 to 55 s, some 540 files fetched one after another). */
const DOWNLOAD_SIZE = '54 MB, under a minute';

/**
 * `ensureKafkaJars` without blocking the event loop, saying every 10 s how much has arrived and when it is done,
 * so other work (building the S3 server, say) goes on meanwhile.
 */
export async function fetchKafkaJars(
  cacheDir: string,
  version: string,
  log: (msg: string) => void,
): Promise<string> {
  const lib = kafkaLib(cacheDir, version);
  if (kafkaJarsCached(cacheDir, version)) return lib;
  const job = prepare(cacheDir, version);
  const t0 = Date.now();
  log(`downloading Apache Kafka ${version} jars from Maven Central (first run only, ${DOWNLOAD_SIZE})...`);
  const stop = heartbeat((ms) =>
    log(`  Kafka ${version} jars: ${megabytes(dirBytes(job.m2))} downloaded (${seconds(ms)})`),
  );
  try {
    const r = await run('mvn', job.args);
    finish(job, version, r.status, r.output);
  } finally {
    stop();
  }
  log(`Kafka ${version} jars: ${megabytes(dirBytes(lib))} in ${seconds(Date.now() - t0)}`);
  return lib;
}
