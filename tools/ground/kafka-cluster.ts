import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  heartbeat,
  isAlive,
  portOpen,
  readPid,
  run,
  seconds,
  startDetached,
  stopPid,
  waitUntil,
} from './processes.ts';
import { type ClusterSettings, SCRAM_USERS } from './settings.ts';

const TLS_PASSWORD = 'ground-keystore-pass';

export interface KafkaClusterPaths {
  dir: string;
  dataDir: string;
  propsPath: string;
  logPath: string;
  pidPath: string;
}

export function clusterPaths(runDir: string, name: string): KafkaClusterPaths {
  const dir = join(runDir, 'kafka', name);
  return {
    dir,
    dataDir: join(dir, 'data'),
    propsPath: join(dir, 'server.properties'),
    logPath: join(dir, 'server.log'),
    pidPath: join(dir, 'kafka.pid'),
  };
}

function java(lib: string, mainClass: string, args: string[]) {
  return run('java', ['-Xmx256m', '-cp', `${lib}/*`, mainClass, ...args]);
}

/** A self-signed certificate for localhost/127.0.0.1 in a PKCS12 keystore, plus its PEM for clients' `ssl.ca`. */
export function ensureTls(tlsDir: string): { keystore: string; caPem: string } {
  const keystore = join(tlsDir, 'server.p12');
  const caPem = join(tlsDir, 'ca.pem');
  if (existsSync(keystore) && existsSync(caPem)) return { keystore, caPem };
  mkdirSync(tlsDir, { recursive: true });
  rmSync(keystore, { force: true });
  const gen = spawnSync(
    'keytool',
    [
      '-genkeypair',
      '-alias',
      'kafka',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '3650',
      '-dname',
      'CN=localhost,O=kafka-backup test ground',
      '-ext',
      'SAN=dns:localhost,ip:127.0.0.1',
      '-ext',
      'BC=ca:true',
      '-keystore',
      keystore,
      '-storetype',
      'PKCS12',
      '-storepass',
      TLS_PASSWORD,
      '-keypass',
      TLS_PASSWORD,
    ],
    { encoding: 'utf8' },
  );
  if (gen.status !== 0) throw new Error(`keytool -genkeypair failed: ${gen.stderr}`);
  const exp = spawnSync(
    'keytool',
    [
      '-exportcert',
      '-rfc',
      '-alias',
      'kafka',
      '-keystore',
      keystore,
      '-storepass',
      TLS_PASSWORD,
      '-file',
      caPem,
    ],
    { encoding: 'utf8' },
  );
  if (exp.status !== 0) throw new Error(`keytool -exportcert failed: ${exp.stderr}`);
  return { keystore, caPem };
}

function serverProperties(c: ClusterSettings, dataDir: string, keystore: string | undefined): string {
  const listeners = [`PLAINTEXT://127.0.0.1:${c.port}`, `CONTROLLER://127.0.0.1:${c.controllerPort}`];
  const advertised = [`PLAINTEXT://127.0.0.1:${c.port}`];
  const protocolMap = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  const lines = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${c.controllerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=5',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=5',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Short enough for retention and compaction tests to see their effect within seconds.
    'log.retention.check.interval.ms=1000',
    'log.cleaner.backoff.ms=1000',
    'log.initial.task.delay.ms=1000',
    'message.max.bytes=10485760',
    // A real authorizer, so ACLs are enforced (kafka-backup backs them up and applies them). The PLAINTEXT
    // listener's principal (ANONYMOUS, also the controller's and the inter-broker one) and the SASL user `admin`
    // are super users; every other principal is allowed on a resource only while no ACL names that resource
    // (allow.everyone.if.no.acl.found), so tests that set no ACL see the cluster as before.
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users=User:ANONYMOUS;User:admin',
    'allow.everyone.if.no.acl.found=true',
  ];
  if (c.saslSslPort !== undefined && keystore !== undefined) {
    listeners.push(`SASL_SSL://127.0.0.1:${c.saslSslPort}`);
    advertised.push(`SASL_SSL://localhost:${c.saslSslPort}`);
    protocolMap.push('SASL_SSL:SASL_SSL');
    lines.push(
      'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      `ssl.keystore.location=${keystore}`,
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.password=${TLS_PASSWORD}`,
      `ssl.key.password=${TLS_PASSWORD}`,
    );
  }
  lines.push(
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    `listener.security.protocol.map=${protocolMap.join(',')}`,
  );
  return `${lines.join('\n')}\n`;
}

function loggingJvmArgs(version: string, dir: string): string[] {
  if (version.startsWith('3.')) {
    const path = join(dir, 'log4j.properties');
    writeFileSync(
      path,
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.state.change.logger=WARN',
      ].join('\n'),
    );
    return [`-Dlog4j.configuration=file:${path}`];
  }
  const path = join(dir, 'log4j2.properties');
  writeFileSync(
    path,
    [
      'status=warn',
      'appender.console.type=Console',
      'appender.console.name=STDOUT',
      'appender.console.layout.type=PatternLayout',
      'appender.console.layout.pattern=[%d] %p %m (%c)%n',
      'rootLogger.level=INFO',
      'rootLogger.appenderRef.stdout.ref=STDOUT',
      'logger.statechange.name=state.change.logger',
      'logger.statechange.level=WARN',
    ].join('\n'),
  );
  return [`-Dlog4j2.configurationFile=${path}`];
}

export interface StartedCluster {
  alreadyRunning: boolean;
}

/**
 * Starts one single-node KRaft cluster (broker and controller in one JVM) unless it already answers on its port.
 * Formats the storage once; a restart keeps the data.
 */
export async function startKafkaCluster(opts: {
  cluster: ClusterSettings;
  runDir: string;
  /** Shared by every clone (in the cache), so a ground started by another clone is usable from this one. */
  tlsDir: string;
  lib: string;
  version: string;
  log: (msg: string) => void;
}): Promise<StartedCluster> {
  const { cluster, runDir, lib, version, tlsDir } = opts;
  const p = clusterPaths(runDir, cluster.name);
  if (await portOpen(cluster.port)) {
    return { alreadyRunning: true };
  }
  const t0 = Date.now();
  mkdirSync(p.dir, { recursive: true });
  const versionMarker = join(p.dir, 'kafka-version');
  if (existsSync(versionMarker) && readFileSync(versionMarker, 'utf8') !== version) {
    // Data written by another Kafka version (e.g. after switching KAFKA_VERSION): start clean.
    rmSync(p.dataDir, { recursive: true, force: true });
  }
  const tls = cluster.saslSslPort !== undefined ? ensureTls(tlsDir) : undefined;
  writeFileSync(p.propsPath, serverProperties(cluster, p.dataDir, tls?.keystore));

  if (!existsSync(join(p.dataDir, 'meta.properties'))) {
    opts.log(`formatting ${cluster.name} cluster storage (Kafka ${version})`);
    // Kafka 3.9's tools print log4j warnings too (on stderr, which `output` holds): take the id's line.
    const generated = (await java(lib, 'kafka.tools.StorageTool', ['random-uuid'])).output;
    const uuid = generated
      .split('\n')
      .map((l) => l.trim())
      .find((l) => /^[A-Za-z0-9_-]{22}$/.test(l));
    if (!uuid) throw new Error(`kafka.tools.StorageTool random-uuid printed no cluster id:\n${generated}`);
    const scram =
      cluster.saslSslPort !== undefined
        ? SCRAM_USERS.flatMap((u) =>
            ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
              '--add-scram',
              `${m}=[name=${u.name},password=${u.password}]`,
            ]),
          )
        : [];
    const fmt = await java(lib, 'kafka.tools.StorageTool', [
      'format',
      '-t',
      uuid,
      '-c',
      p.propsPath,
      ...scram,
    ]);
    if (fmt.status !== 0) {
      throw new Error(`formatting the ${cluster.name} Kafka storage failed:\n${fmt.output}`);
    }
    writeFileSync(versionMarker, version);
  }

  opts.log(`starting Kafka ${version} cluster '${cluster.name}' on 127.0.0.1:${cluster.port}`);
  const pid = startDetached(
    'java',
    [
      '-Xms256m',
      '-Xmx512m',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      ...loggingJvmArgs(version, p.dir),
      '-cp',
      `${lib}/*`,
      'kafka.Kafka',
      p.propsPath,
    ],
    { logPath: p.logPath, pidPath: p.pidPath },
  );
  const stop = heartbeat((ms) => opts.log(`  waiting for Kafka cluster '${cluster.name}' (${seconds(ms)})`));
  try {
    await waitUntil(
      `Kafka cluster '${cluster.name}'`,
      async () => {
        if (!(await portOpen(cluster.port))) return false;
        return /Kafka Server started|KafkaServer id=1\] started/.test(readFileSync(p.logPath, 'utf8'));
      },
      { timeoutMs: 90_000, logPath: p.logPath, pid },
    );
  } finally {
    stop();
  }
  opts.log(`Kafka cluster '${cluster.name}' ready in ${seconds(Date.now() - t0)}`);
  return { alreadyRunning: false };
}

export async function stopKafkaCluster(runDir: string, name: string): Promise<boolean> {
  return stopPid(clusterPaths(runDir, name).pidPath);
}

export function kafkaClusterRunning(runDir: string, name: string): boolean {
  return isAlive(readPid(clusterPaths(runDir, name).pidPath));
}
