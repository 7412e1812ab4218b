// A real Schema Registry speaking Confluent's REST API for the ground: Apicurio Registry (Apache-2.0) with its
// in-memory (H2) storage, serving the Confluent-compatible API under /apis/ccompat/v7.
//
// Why this one, and why 2.4.2.Final: no Confluent Schema Registry, Karapace or AxonOps registry is served by the
// registries this machine reaches; Apicurio is on Maven Central, but only as a Quarkus application's plain jar
// (it needs Quarkus's build step), and of its releases only 2.4.2.Final resolves: 3.x and 2.6.x depend on modules
// Maven Central does not serve (apicurio-registry-schema-util-provider, apicurio-registry-contracts-rules). Two
// gaps of 2.4.2.Final are filled here: its JSON-Schema validator comes from JitPack (left out: the ground
// registers Avro), and the build step of its small config-index extension is not on Maven Central either (a
// one-class producer of the same bean, with no dynamic properties, stands in for it).
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireMaven } from './prerequisites.ts';
import {
  dirBytes,
  heartbeat,
  megabytes,
  portOpen,
  run,
  seconds,
  startDetached,
  stopPid,
  waitUntil,
} from './processes.ts';

export const APICURIO_VERSION = '2.4.2.Final';
/** Apicurio 2.4's Quarkus, which builds the runnable application. */
const QUARKUS_VERSION = '2.16.4.Final';
/** Where the Confluent-compatible API lives on an Apicurio server. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

function appDir(cacheDir: string): string {
  return join(cacheDir, 'schema-registry', `apicurio-${APICURIO_VERSION}`);
}

function runnerJar(cacheDir: string): string {
  return join(appDir(cacheDir), 'schema-registry-ground-1-runner.jar');
}

export function schemaRegistryCached(cacheDir: string): boolean {
  return existsSync(runnerJar(cacheDir));
}

function pom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-backup</groupId>
  <artifactId>schema-registry-ground</artifactId>
  <version>1</version>
  <packaging>jar</packaging>
  <properties><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>io.apicurio</groupId><artifactId>apicurio-registry</artifactId><version>${APICURIO_VERSION}</version><type>pom</type><scope>import</scope></dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>${APICURIO_VERSION}</version>
      <exclusions>
        <exclusion><groupId>com.github.everit-org.json-schema</groupId><artifactId>org.everit.json.schema</artifactId></exclusion>
        <exclusion><groupId>io.apicurio</groupId><artifactId>apicurio-common-app-components-config-index</artifactId></exclusion>
      </exclusions>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.11.0</version>
        <configuration><release>17</release></configuration>
      </plugin>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.6.1</version>
        <executions><execution>
          <id>app-properties</id><phase>process-resources</phase><goals><goal>unpack</goal></goals>
          <configuration><artifactItems><artifactItem>
            <groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>${APICURIO_VERSION}</version>
            <includes>application.properties</includes><outputDirectory>\${project.build.outputDirectory}</outputDirectory>
          </artifactItem></artifactItems></configuration>
        </execution></executions>
      </plugin>
      <plugin>
        <groupId>io.quarkus</groupId><artifactId>quarkus-maven-plugin</artifactId><version>${QUARKUS_VERSION}</version>
        <executions><execution><goals><goal>build</goal></goals></execution></executions>
        <configuration><properties>
          <quarkus.index-dependency.registry.group-id>io.apicurio</quarkus.index-dependency.registry.group-id>
          <quarkus.index-dependency.registry.artifact-id>apicurio-registry-app</quarkus.index-dependency.registry.artifact-id>
        </properties></configuration>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

const PRODUCER = `package local.ground;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.inject.Produces;
import javax.inject.Singleton;

/** The bean the config-index extension's build step would make (its deployment jar is not on Maven Central). */
public class DynamicConfigPropertyListProducer {
    @Produces
    @Singleton
    DynamicConfigPropertyList dynamicConfigPropertyList() {
        return new DynamicConfigPropertyList(List.of());
    }
}
`;

/** Measured on this machine: 2 minutes with part of the jars cached; 140 MB of application kept. */
const BUILD_TIME = '2 to 4 minutes, some 250 MB downloaded';

/**
 * Builds the runnable Apicurio Registry once into the shared cache (Maven Central, then Quarkus's build step),
 * without blocking the event loop. Only the application is kept (runner jar and lib/, about 130 MB).
 */
export async function ensureSchemaRegistry(cacheDir: string, log: (msg: string) => void): Promise<string> {
  const jar = runnerJar(cacheDir);
  if (existsSync(jar)) return jar;
  requireMaven();
  const t0 = Date.now();
  const work = join(cacheDir, `schema-registry.partial-${process.pid}`);
  const m2 = join(work, 'm2');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'src', 'main', 'java', 'local', 'ground'), { recursive: true });
  writeFileSync(join(work, 'pom.xml'), pom());
  writeFileSync(
    join(work, 'src', 'main', 'java', 'local', 'ground', 'DynamicConfigPropertyListProducer.java'),
    PRODUCER,
  );
  log(
    `building Apicurio Registry ${APICURIO_VERSION} (Maven Central, Quarkus build; first run only, ${BUILD_TIME})...`,
  );
  const stop = heartbeat((ms) =>
    log(`  Apicurio Registry: ${megabytes(dirBytes(m2))} downloaded (${seconds(ms)})`),
  );
  try {
    const r = await run('mvn', [
      '-q',
      '-B',
      '-f',
      join(work, 'pom.xml'),
      `-Dmaven.repo.local=${m2}`,
      'package',
      '-DskipTests',
    ]);
    const built = join(work, 'target', 'schema-registry-ground-1-runner.jar');
    if (r.status !== 0 || !existsSync(built)) {
      throw new Error(
        `building Apicurio Registry ${APICURIO_VERSION} failed (is Maven Central reachable?):\n${r.output.split('\n').slice(-30).join('\n')}`,
      );
    }
    const dest = appDir(cacheDir);
    if (!existsSync(jar)) {
      const staging = `${dest}.partial-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      renameSync(built, join(staging, 'schema-registry-ground-1-runner.jar'));
      renameSync(join(work, 'target', 'lib'), join(staging, 'lib'));
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(join(cacheDir, 'schema-registry'), { recursive: true });
      renameSync(staging, dest);
    }
  } finally {
    stop();
    rmSync(work, { recursive: true, force: true });
  }
  log(`Apicurio Registry ${APICURIO_VERSION} built in ${seconds(Date.now() - t0)}`);
  return jar;
}

export function schemaRegistryPaths(runDir: string, name: string) {
  const dir = join(runDir, name);
  return { dir, logPath: join(dir, 'registry.log'), pidPath: join(dir, 'registry.pid') };
}

/** Starts one registry (in-memory: a restart empties it) unless its port answers already. */
export async function startSchemaRegistry(opts: {
  jar: string;
  runDir: string;
  name: string;
  port: number;
  log: (msg: string) => void;
}): Promise<{ alreadyRunning: boolean }> {
  if (await portOpen(opts.port)) return { alreadyRunning: true };
  const p = schemaRegistryPaths(opts.runDir, opts.name);
  mkdirSync(p.dir, { recursive: true });
  const t0 = Date.now();
  opts.log(`starting Apicurio Registry '${opts.name}' on http://127.0.0.1:${opts.port}${CCOMPAT_PATH}`);
  const pid = startDetached(
    'java',
    [
      '-Xms64m',
      '-Xmx320m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dquarkus.http.port=${opts.port}`,
      '-Dquarkus.http.host=127.0.0.1',
      // Every subject in one Confluent-style namespace, ids unique across subjects, as Confluent's.
      '-Dregistry.ccompat.legacy-id-mode.enabled=false',
      '-Dquarkus.log.level=WARN',
      '-jar',
      opts.jar,
    ],
    { logPath: p.logPath, pidPath: p.pidPath },
  );
  await waitUntil(
    `Apicurio Registry '${opts.name}'`,
    async () => {
      if (!(await portOpen(opts.port))) return false;
      try {
        const res = await fetch(`http://127.0.0.1:${opts.port}${CCOMPAT_PATH}/subjects`);
        return res.ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 90_000, logPath: p.logPath, pid },
  );
  opts.log(`Apicurio Registry '${opts.name}' ready in ${seconds(Date.now() - t0)}`);
  return { alreadyRunning: false };
}

export async function stopSchemaRegistry(runDir: string, name: string): Promise<boolean> {
  return stopPid(schemaRegistryPaths(runDir, name).pidPath, 5_000);
}
