import { loadConfig, parseIsoTime } from '../../config/index.ts';
import { ExitCode, exitCodeFor, UsageError, UserError } from '../../errors.ts';
import { resolveBackupId } from '../../format/catalog.ts';
import { KafkaCluster, type KafkaConnectionSettings } from '../../kafka/index.ts';
import {
  executeOffsetReset,
  planOffsetReset,
  type ResetStrategy,
  type RestoredOffsets,
} from '../../offsets/index.ts';
import { loadRestoredOffsets } from '../../restore/index.ts';
import { defineCommand } from '../command.ts';
import { errorJson, printError } from '../error-output.ts';
import { ENCRYPTION_FLAGS, FORMAT_FLAG, LOCATION_FLAGS } from '../flags.ts';
import { jsonDocument } from '../output.ts';
import { renderGroupMoves } from '../restore-report.ts';
import { storeFromArgs } from '../storage-arg.ts';

const STRATEGIES = ['header-based', 'timestamp', 'earliest', 'latest'] as const satisfies ResetStrategy[];

function parseTimestamp(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const t = parseIsoTime(raw);
  if (t === undefined)
    throw new UsageError(
      `Unknown time "${raw}" for --timestamp: it is neither epoch milliseconds nor ISO-8601`,
      {
        hint: 'For example --timestamp 1733054400000, or --timestamp 2024-12-01T12:00:00Z (with a zone).',
      },
    );
  return t;
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function connectionFrom(values: {
  'bootstrap-servers'?: string | undefined;
  config?: string | undefined;
}): KafkaConnectionSettings {
  const servers = values['bootstrap-servers'];
  if (values.config) {
    const config = loadConfig(values.config);
    const conn = config.mode === 'restore' ? config.target : config.source;
    return servers ? { ...conn, bootstrap_servers: splitList(servers) } : conn;
  }
  if (!servers)
    throw new UsageError('Missing flag --bootstrap-servers or --config for kafka-backup offset-reset', {
      hint: "The cluster whose groups move: --bootstrap-servers HOST:PORT, or --config FILE (a restore config's target, a backup config's source).",
    });
  return { bootstrap_servers: splitList(servers) };
}

/** Moves consumer groups of inactive consumers; `plan` shows the moves without committing. */
export const offsetResetCommand = defineCommand(
  {
    name: 'offset-reset',
    summary: 'plan or execute a consumer-group offset reset on a cluster',
    description: [
      'plan shows where each group would move, execute moves them. Kafka refuses to move a group with running ' +
        'members: such a group is reported and fails the command (or is skipped with --active-groups skip). ' +
        'header-based moves a group to the first restored record at or after its committed source offset, from ' +
        'the offset mapping a restore stored next to the backup (--path and --backup-id).',
    ],
    positionals: [
      {
        name: 'ACTION',
        choices: ['plan', 'execute'],
        description: 'plan shows the moves, execute commits them.',
      },
    ],
    usage: [
      'plan|execute --groups G1,G2 [--strategy header-based|timestamp|earliest|latest]',
      '    (--bootstrap-servers HOST:PORT[,...] | --config FILE) [--timestamp EPOCH_MS|ISO-8601]',
      '    [--path URL --backup-id ID|latest [--region REGION] [--s3-endpoint URL] [--key-file FILE | --kms-key-id KEY]]',
      '    [--topics T1,T2]',
      '    [--active-groups fail|skip] [--format table|json]',
    ],
    flags: {
      groups: {
        type: 'string',
        value: 'G1,G2',
        defaultText: 'with --path, every group the restore mapped',
        description: 'The consumer groups to move, comma-separated.',
      },
      strategy: {
        type: 'string',
        choices: STRATEGIES,
        default: 'header-based',
        description:
          "Where each group moves: by the restore's offset mapping (header-based), to the first record at or after --timestamp, or to the start or end.",
      },
      'bootstrap-servers': {
        type: 'string',
        value: 'HOST:PORT[,...]',
        description: "The cluster whose groups move (overrides the config's servers when both are given).",
      },
      config: {
        type: 'string',
        short: 'c',
        value: 'FILE',
        description:
          "A config whose connection to use: a restore config's target, or a backup config's source (security included).",
      },
      timestamp: {
        type: 'string',
        value: 'EPOCH_MS|ISO-8601',
        description: 'For --strategy timestamp: the time to move to.',
      },
      path: {
        ...LOCATION_FLAGS.path,
        description: 'The backup location whose restore mapping header-based uses (needs --backup-id).',
      },
      'backup-id': LOCATION_FLAGS['backup-id'],
      region: LOCATION_FLAGS.region,
      's3-endpoint': LOCATION_FLAGS['s3-endpoint'],
      ...ENCRYPTION_FLAGS,
      topics: {
        type: 'string',
        value: 'T1,T2',
        defaultText: 'every topic the groups have offsets on',
        description: "Move only these topics' offsets, comma-separated.",
      },
      'active-groups': {
        type: 'string',
        choices: ['fail', 'skip'],
        default: 'fail',
        description: 'What a group with running members does to the command: fail it, or be skipped.',
      },
      format: FORMAT_FLAG,
    },
    examples: [
      {
        command:
          'kafka-backup offset-reset plan --bootstrap-servers kafka-0:9092 --strategy timestamp --timestamp "$(date +%s000)" --groups order-service,payment-processor',
        does: 'Show where the two groups would move to reach the records written from now on.',
      },
      {
        command:
          'kafka-backup offset-reset execute --config dr-restore.yaml --path s3://kafka-backups-dr/us-west-2/hourly --backup-id latest --groups order-service',
        does: "Move order-service on the restore target to where it was on the source, by the restore's offset mapping.",
      },
    ],
    env: ['KAFKA_BACKUP_S3_ENDPOINT', 'AWS_REGION', 'AWS_PROFILE'],
    json: '{format_version, action, strategy, groups: [{group_id, state, members, moves: [{topic, partition, current, target, source_offset}], problem, status (execute)}], error: null | {name, message, hint, exit_code} (groups that did not move)}',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound],
  },
  async ({ values, positionals }, out) => {
    const action = positionals[0] as 'plan' | 'execute';
    const strategy = values.strategy as ResetStrategy;
    const groups = splitList(values.groups);
    const active = values['active-groups'] as 'fail' | 'skip';
    const timestamp = values.timestamp ? parseTimestamp(values.timestamp) : undefined;
    if (strategy === 'timestamp' && timestamp === undefined)
      throw new UsageError('Missing flag --timestamp for --strategy timestamp', {
        hint: 'Give the time to move to: --timestamp EPOCH_MS or an ISO-8601 time with a zone.',
      });
    if (values.path && !values['backup-id'])
      throw new UsageError('Missing flag --backup-id for --path', {
        hint: 'Name the restored backup whose offset mapping to use: --backup-id ID, or latest.',
      });
    if (!values.path && strategy === 'header-based')
      throw new UsageError(
        'Missing flags --path and --backup-id (of the restored backup) for --strategy header-based',
        {
          hint: 'The header-based strategy moves groups by the offset mapping a restore stored next to the backup; or choose --strategy timestamp, earliest or latest.',
        },
      );

    const target = new KafkaCluster(connectionFrom(values), 'target');
    try {
      let restored: RestoredOffsets | undefined;
      if (values.path) {
        const store = storeFromArgs(values, values.path);
        const backupId = await resolveBackupId(store, values['backup-id']!);
        const { clusterId } = await target.describeCluster();
        restored = await loadRestoredOffsets(store, backupId, clusterId);
      }
      if (groups.length === 0 && !restored)
        throw new UsageError('Missing flag --groups for kafka-backup offset-reset', {
          hint: 'Name the consumer groups to move, e.g. --groups order-service,payment-processor.',
        });
      const plans = await planOffsetReset(target, {
        groups,
        strategy,
        timestamp,
        restored,
        topics: values.topics ? splitList(values.topics) : undefined,
      });
      const results =
        action === 'execute' ? await executeOffsetReset(target, plans, { activeGroupPolicy: active }) : plans;
      const failed = results.filter((r) =>
        'status' in r ? r.status === 'failed' : r.problem !== null && active === 'fail',
      );
      const refused =
        failed.length === 0
          ? undefined
          : new UserError(
              `Consumer group(s) ${failed.map((f) => f.group_id).join(', ')} not moved: ${failed.map((f) => f.problem).join('; ')}`,
              {
                hint: 'Stop their consumers (Kafka refuses to move a group with running members), or pass --active-groups skip.',
              },
            );
      if (values.format !== 'json') {
        out(renderGroupMoves(results));
        if (refused) throw refused;
        return ExitCode.ok;
      }
      // One JSON document: the groups, and the error (the same shape as any command's) when some did not move.
      out(jsonDocument({ action, strategy, groups: results, error: refused ? errorJson(refused) : null }));
      if (!refused) return ExitCode.ok;
      printError(refused);
      return exitCodeFor(refused);
    } finally {
      await target.close();
    }
  },
);
