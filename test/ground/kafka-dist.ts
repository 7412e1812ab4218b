import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MissingPrerequisiteError, requireMaven } from './prerequisites.ts';

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

/**
 * Returns the folder holding every jar Kafka `version` needs (broker, tools, logging),
 * downloading them from Maven Central into the cache the first time.
 */
export function ensureKafkaJars(cacheDir: string, version: string, log: (msg: string) => void): string {
  const home = join(cacheDir, 'kafka', version);
  const lib = join(home, 'lib');
  if (existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('kafka_2.13-'))) return lib;

  requireMaven();
  log(`downloading Apache Kafka ${version} jars from Maven Central (first run only, ~100 MB)...`);
  mkdirSync(home, { recursive: true });
  const staging = join(home, `lib.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const pomPath = join(home, 'pom.xml');
  writeFileSync(pomPath, pom(version));
  const r = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pomPath,
      `-Dmaven.repo.local=${join(cacheDir, 'm2')}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-30).join('\n');
    throw new MissingPrerequisiteError(
      `Could not download Kafka ${version} from Maven Central (is the version right and Maven Central reachable?):\n${out}`,
    );
  }
  rmSync(lib, { recursive: true, force: true });
  renameSync(staging, lib);
  // The jars were copied out of Maven's local repository: it is not needed again.
  rmSync(join(cacheDir, 'm2'), { recursive: true, force: true });
  return lib;
}
