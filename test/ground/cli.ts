// The local test ground by hand: `npm run ground -- start|stop|status|env|tool <name> [args...]`.
import { spawnSync } from 'node:child_process';
import { startGround, stopGround } from './ground.ts';
import { ensureKafkaJars } from './kafka-dist.ts';
import { MissingPrerequisiteError } from './prerequisites.ts';
import { portOpen } from './processes.ts';
import { endpointsToEnv, groundEndpoints, groundSettings, SCRAM_USERS } from './settings.ts';

/** Kafka's own command-line tools, by short name; they live on the broker's classpath. */
const TOOLS: Record<string, string> = {
  'producer-perf': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf': 'org.apache.kafka.tools.ConsumerPerformance',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  topics: 'org.apache.kafka.tools.TopicCommand',
};

function usage(): never {
  console.error(`usage: npm run ground -- <command>
  start           start the primary and dr Kafka clusters and the S3 server (idempotent)
  stop [--wipe]   stop them (--wipe also deletes their data)
  status          show what runs where
  env             print the connection settings as shell variables
  tool NAME ARGS  run one of Kafka's tools: ${Object.keys(TOOLS).join(', ')}`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const settings = groundSettings();
  const endpoints = groundEndpoints(settings);
  switch (command) {
    case 'start': {
      const t0 = Date.now();
      const h = await startGround({ settings });
      console.log(
        `ground ready in ${((Date.now() - t0) / 1000).toFixed(1)}s (started: ${h.started.join(', ') || 'nothing, all were running'})`,
      );
      printStatus(endpoints);
      return 0;
    }
    case 'stop': {
      const stopped = await stopGround({ settings, wipe: rest.includes('--wipe') });
      console.log(`stopped: ${stopped.join(', ') || 'nothing was running'}`);
      return 0;
    }
    case 'status': {
      const ports = [settings.primary.port, settings.dr.port, ...settings.s3Servers.map((s) => s.port)];
      const up = await Promise.all(ports.map((p) => portOpen(p)));
      const names = ['primary', 'dr', ...settings.s3Servers.map((s) => s.name)];
      console.log(names.map((n, i) => `${n} ${up[i] ? 'up' : 'down'}`).join(', '));
      printStatus(endpoints);
      return up.every(Boolean) ? 0 : 1;
    }
    case 'env':
      for (const [k, v] of Object.entries(endpointsToEnv(endpoints))) console.log(`export ${k}=${v}`);
      return 0;
    case 'tool': {
      const [name, ...args] = rest;
      const mainClass = name ? TOOLS[name] : undefined;
      if (!mainClass) usage();
      const lib = ensureKafkaJars(settings.cacheDir, settings.kafkaVersion, (m) => console.error(m));
      const r = spawnSync('java', ['-Xmx512m', '-cp', `${lib}/*`, mainClass, ...args], { stdio: 'inherit' });
      return r.status ?? 1;
    }
    default:
      usage();
  }
}

function printStatus(e: ReturnType<typeof groundEndpoints>): void {
  console.log(`  Kafka ${e.kafkaVersion}
  primary  PLAINTEXT  ${e.primaryBootstrap}
  primary  SASL_SSL   ${e.primarySaslSslBootstrap}  (SCRAM-SHA-256/512; CA ${e.caPemPath})
           users      ${SCRAM_USERS.map((u) => `${u.name}/${u.password}`).join(', ')}
  dr       PLAINTEXT  ${e.drBootstrap}
  dr       SASL_SSL   ${e.drSaslSslBootstrap}  (same users and CA)
  s3       ${e.s3Endpoint}  us-east-1: kafka-backups-dr, kafka-backup-test
  s3-west  ${e.s3WestEndpoint}  us-west-2: kafka-backups-primary
           access key ${e.s3AccessKey}, secret ${e.s3SecretKey}; buckets are versioned`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof MissingPrerequisiteError) {
      console.error(`missing prerequisite: ${err.message}`);
    } else {
      console.error(err instanceof Error ? err.message : err);
    }
    process.exit(1);
  },
);
