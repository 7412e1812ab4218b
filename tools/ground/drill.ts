// `npm run drill`: the README's local DR drill. Starts only what the drill uses (the two Kafka clusters; the S3
// server too with --s3), runs `kafka-backup drill` against them and ends with the commands to look around and to
// stop the clusters, which keep running.
import { spawn } from 'node:child_process';
import { join, relative, resolve } from 'node:path';
import { type GroundService, startGround } from './ground.ts';
import { seconds } from './processes.ts';
import { type GroundSettings, groundEndpoints } from './settings.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');

/** The settings a user may have moved; the printed commands repeat them so they reach the same ground. */
const GROUND_VARIABLES = [
  'KAFKA_BACKUP_GROUND_DIR',
  'KAFKA_BACKUP_CACHE',
  'KAFKA_VERSION',
  'PRIMARY_KAFKA_PORT',
  'PRIMARY_CONTROLLER_PORT',
  'PRIMARY_SASL_SSL_PORT',
  'DR_KAFKA_PORT',
  'DR_CONTROLLER_PORT',
  'DR_SASL_SSL_PORT',
  'S3_PORT',
  'S3_WEST_PORT',
];

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The ground variables set here, as one `export` line (empty when all are defaults). */
function exportLine(): string {
  const vars = GROUND_VARIABLES.filter((v) => process.env[v]).map(
    (v) => `${v}=${shellWord(process.env[v]!)}`,
  );
  return vars.length > 0 ? `export ${vars.join(' ')}` : '';
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

export const DRILL_USAGE = `usage: npm run drill [-- [--s3] [kafka-backup drill options: --records N --record-size S --partitions P --keep]]
  starts the primary and dr Kafka clusters (and with --s3 the S3 server, to back up into its bucket
  kafka-backups-dr instead of a folder), runs the DR drill on them and leaves them running`;

export async function drill(settings: GroundSettings, argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(DRILL_USAGE);
    return 0;
  }
  const s3 = argv.includes('--s3');
  const drillArgs = argv.filter((a) => a !== '--s3');
  const services: GroundService[] = s3 ? ['primary', 'dr', 's3'] : ['primary', 'dr'];
  const e = groundEndpoints(settings);
  const t0 = Date.now();
  console.error(
    `[ground] starting ${s3 ? 'the primary and dr Kafka clusters and the S3 server' : 'the primary and dr Kafka clusters'} for the drill`,
  );
  const h = await startGround({ settings, services });
  console.error(
    `[ground] ready in ${seconds(Date.now() - t0)} (started: ${h.started.join(', ') || 'nothing, all were running'})`,
  );

  const backups = join(settings.runDir, 'drill-backups');
  const report = join(settings.runDir, 'drill-report.md');
  const location = s3 ? 's3://kafka-backups-dr/drill' : backups;
  const env: NodeJS.ProcessEnv = s3
    ? {
        ...process.env,
        AWS_ENDPOINT_URL_S3: e.s3Endpoint,
        AWS_ACCESS_KEY_ID: e.s3AccessKey,
        AWS_SECRET_ACCESS_KEY: e.s3SecretKey,
        AWS_REGION: 'us-east-1',
      }
    : process.env;
  const args = [
    join(repoRoot, 'bin', 'kafka-backup.ts'),
    'drill',
    '--source-bootstrap',
    e.primaryBootstrap,
    '--target-bootstrap',
    e.drBootstrap,
    '--path',
    location,
    '--report',
    report,
    ...drillArgs,
  ];
  console.error(`[drill] kafka-backup drill --source-bootstrap ${e.primaryBootstrap} --target-bootstrap ${e.drBootstrap} \\
    --path ${s3 ? location : shown(location)} --report ${shown(report)}${drillArgs.length ? ` ${drillArgs.join(' ')}` : ''}`);
  const code = await new Promise<number>((done) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', env });
    child.once('error', (err) => {
      console.error(`could not run kafka-backup drill: ${err.message}`);
      done(1);
    });
    child.once('close', (status, signal) => done(status ?? (signal ? 128 : 1)));
  });

  const only = s3 ? 'kafka,s3' : 'kafka';
  const exports = exportLine();
  const lines = [
    '',
    exports
      ? `The clusters keep running. Look around (in another shell, first: ${exports}):`
      : 'The clusters keep running. Look around:',
    `  npm run ground -- status --only ${only}`,
    `  npm run ground -- tool topics --bootstrap-server ${e.primaryBootstrap} --list`,
    `  npm run ground -- tool consumer-groups --bootstrap-server ${e.drBootstrap} --list`,
    `  cat ${shellWord(shown(report))}`,
    drillArgs.includes('--keep')
      ? s3
        ? `  (the drill's backup is under s3://kafka-backups-dr/drill/_drills on ${e.s3Endpoint})`
        : `  ls ${shellWord(shown(join(backups, '_drills')))}`
      : `  npm run drill -- ${s3 ? '--s3 ' : ''}--keep    # keeps the test topic, group and backup to look at`,
    'Stop them:',
    '  npm run ground -- stop    # add --wipe to delete their data too',
  ];
  console.log(lines.join('\n'));
  return code;
}
