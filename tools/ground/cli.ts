// The local test ground by hand: `npm run ground -- start|stop|status|env|tool <name> [args...]|drill`.
import { spawnSync } from 'node:child_process';
import { drill } from './drill.ts';
import {
  ALL_SERVICES,
  fetchAll,
  type GroundService,
  parseServices,
  startGround,
  stopGround,
} from './ground.ts';
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
  start [--only S]         start the Kafka clusters, S3 servers and Schema Registries (idempotent)
  stop [--only S] [--wipe] stop them (--wipe also deletes their data)
  status [--only S]        show what runs where
  env                      print the connection settings as shell variables
  tool NAME ARGS           run one of Kafka's tools: ${Object.keys(TOOLS).join(', ')}
  fetch                    download and build what \`npm test\` needs, all at once, starting nothing
  drill [--s3] [ARGS]      what \`npm run drill\` runs: start the clusters, run the DR drill on them
  S: kafka (both clusters), s3-servers (both S3 servers), registries (both Schema Registries) or names (${ALL_SERVICES.join(', ')}), comma-separated`);
  process.exit(2);
}

/** `--only S` (or `--only=S`) among the arguments; all services without it. */
function onlyServices(args: string[]): readonly GroundService[] {
  const i = args.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i === -1) return ALL_SERVICES;
  const raw = args[i]!.startsWith('--only=') ? args[i]!.slice('--only='.length) : args[i + 1];
  if (!raw) usage();
  return parseServices(raw);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const settings = groundSettings();
  const endpoints = groundEndpoints(settings);
  switch (command) {
    case 'start': {
      const services = onlyServices(rest);
      const t0 = Date.now();
      const h = await startGround({ settings, services });
      console.log(
        `ground ready in ${((Date.now() - t0) / 1000).toFixed(1)}s (started: ${h.started.join(', ') || 'nothing, all were running'})`,
      );
      printStatus(endpoints, services);
      return 0;
    }
    case 'stop': {
      const stopped = await stopGround({ settings, only: onlyServices(rest), wipe: rest.includes('--wipe') });
      console.log(`stopped: ${stopped.join(', ') || 'nothing was running'}`);
      return 0;
    }
    case 'status': {
      const services = onlyServices(rest);
      const ports: Record<GroundService, number> = {
        primary: settings.primary.port,
        dr: settings.dr.port,
        s3: settings.s3Servers[0]!.port,
        's3-west': settings.s3Servers[1]!.port,
        registry: settings.schemaRegistries[0]!.port,
        'registry-dr': settings.schemaRegistries[1]!.port,
      };
      const up = await Promise.all(services.map((s) => portOpen(ports[s])));
      console.log(services.map((n, i) => `${n} ${up[i] ? 'up' : 'down'}`).join(', '));
      printStatus(endpoints, services);
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
    case 'fetch': {
      const t0 = Date.now();
      await fetchAll({ settings });
      console.error(`[ground] downloads and builds done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      return 0;
    }
    case 'drill':
      return drill(settings, rest);
    default:
      usage();
  }
}

function printStatus(e: ReturnType<typeof groundEndpoints>, services: readonly GroundService[]): void {
  const lines: string[] = [];
  if (services.includes('primary') || services.includes('dr')) lines.push(`  Kafka ${e.kafkaVersion}`);
  if (services.includes('primary')) {
    lines.push(
      `  primary  PLAINTEXT  ${e.primaryBootstrap}`,
      `  primary  SASL_SSL   ${e.primarySaslSslBootstrap}  (SCRAM-SHA-256/512; CA ${e.caPemPath})`,
      `           users      ${SCRAM_USERS.map((u) => `${u.name}/${u.password}`).join(', ')}`,
    );
  }
  if (services.includes('dr')) {
    lines.push(
      `  dr       PLAINTEXT  ${e.drBootstrap}`,
      `  dr       SASL_SSL   ${e.drSaslSslBootstrap}  (same users and CA)`,
    );
  }
  if (services.includes('s3'))
    lines.push(`  s3       ${e.s3Endpoint}  us-east-1: kafka-backups-dr, kafka-backup-test`);
  if (services.includes('s3-west'))
    lines.push(`  s3-west  ${e.s3WestEndpoint}  us-west-2: kafka-backups-primary`);
  if (services.includes('s3') || services.includes('s3-west')) {
    lines.push(`           access key ${e.s3AccessKey}, secret ${e.s3SecretKey}; buckets are versioned`);
  }
  if (services.includes('registry'))
    lines.push(
      `  registry     ${e.schemaRegistryUrl}  (Apicurio Registry, Confluent-compatible API, in memory)`,
    );
  if (services.includes('registry-dr')) lines.push(`  registry-dr  ${e.schemaRegistryDrUrl}`);
  console.log(lines.join('\n'));
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
