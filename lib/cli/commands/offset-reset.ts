import { loadConfig, parseIsoTime } from '../../config/index.ts';
import { UserError } from '../../errors.ts';
import { resolveBackupId } from '../../format/catalog.ts';
import { KafkaCluster, type KafkaConnectionSettings } from '../../kafka/index.ts';
import {
  executeOffsetReset,
  planOffsetReset,
  type ResetStrategy,
  type RestoredOffsets,
} from '../../offsets/index.ts';
import { loadRestoredOffsets } from '../../restore/index.ts';
import { outputFormat, parseCommandArgs, storageOptions, UsageError } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';
import { renderGroupMoves } from '../restore-report.ts';
import { storeFromArgs } from '../storage-arg.ts';

const USAGE = `kafka-backup offset-reset plan|execute --groups G1,G2 --strategy header-based|timestamp|earliest|latest
    (--bootstrap-servers HOST:PORT[,...] | --config FILE)   connection; a restore config's target or a backup config's source
    [--timestamp EPOCH_MS|ISO-8601]                          for --strategy timestamp
    [--path URL --backup-id ID|latest]                       the backup (and its restore mapping) for header-based
    [--key-file FILE | --kms-key-id KEY]                     its key, if the location is encrypted
    [--topics T1,T2] [--active-groups fail|skip] [--format json|table]`;

const STRATEGIES: ResetStrategy[] = ['header-based', 'timestamp', 'earliest', 'latest'];

function parseTimestamp(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const t = parseIsoTime(raw);
  if (t === undefined)
    throw new UsageError(
      `offset-reset: --timestamp "${raw}" is neither epoch milliseconds nor ISO-8601 with a zone`,
    );
  return t;
}

function connectionFrom(values: Record<string, unknown>): KafkaConnectionSettings {
  const servers = values['bootstrap-servers'] as string | undefined;
  const configPath = values['config'] as string | undefined;
  if (configPath) {
    const config = loadConfig(configPath);
    const conn = config.mode === 'restore' ? config.target : config.source;
    return servers ? { ...conn, bootstrap_servers: servers.split(',').map((s) => s.trim()) } : conn;
  }
  if (!servers)
    throw new UsageError('offset-reset: --bootstrap-servers or --config is required', {
      hint: `Usage: ${USAGE}`,
    });
  return {
    bootstrap_servers: servers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** Moves consumer groups of inactive consumers; `plan` shows the moves without committing. */
export async function offsetResetCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'offset-reset',
    argv,
    {
      ...storageOptions,
      'bootstrap-servers': { type: 'string' },
      config: { type: 'string', short: 'c' },
      strategy: { type: 'string' },
      timestamp: { type: 'string' },
      groups: { type: 'string' },
      topics: { type: 'string' },
      'active-groups': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const action = positionals[0];
  if (action !== 'plan' && action !== 'execute')
    throw new UsageError('offset-reset: say plan or execute', { hint: `Usage: ${USAGE}` });
  const strategy = (values.strategy ?? 'header-based') as ResetStrategy;
  if (!STRATEGIES.includes(strategy))
    throw new UsageError(`offset-reset: --strategy must be one of ${STRATEGIES.join(', ')}`);
  const groups = (values.groups ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const active = values['active-groups'] ?? 'fail';
  if (active !== 'fail' && active !== 'skip')
    throw new UsageError('offset-reset: --active-groups must be fail or skip');
  const timestamp = values.timestamp ? parseTimestamp(values.timestamp) : undefined;
  const format = outputFormat(values, 'offset-reset');

  const target = new KafkaCluster(connectionFrom(values), 'target');
  try {
    let restored: RestoredOffsets | undefined;
    if (values.path) {
      if (!values['backup-id']) throw new UsageError('offset-reset: --path needs --backup-id');
      const store = storeFromArgs(values, values.path);
      const backupId = await resolveBackupId(store, values['backup-id']);
      const { clusterId } = await target.describeCluster();
      restored = await loadRestoredOffsets(store, backupId, clusterId);
    } else if (strategy === 'header-based') {
      throw new UsageError(
        'offset-reset: --strategy header-based needs --path and --backup-id of the restored backup',
      );
    }
    if (groups.length === 0 && !restored)
      throw new UsageError('offset-reset: --groups is required', { hint: `Usage: ${USAGE}` });
    const plans = await planOffsetReset(target, {
      groups,
      strategy,
      timestamp,
      restored,
      topics: values.topics ? values.topics.split(',').map((t) => t.trim()) : undefined,
    });
    const results =
      action === 'execute' ? await executeOffsetReset(target, plans, { activeGroupPolicy: active }) : plans;
    if (format === 'json') out(JSON.stringify({ action, strategy, groups: results }, null, 2));
    else out(renderGroupMoves(results));
    const failed = results.filter((r) =>
      'status' in r ? r.status === 'failed' : r.problem !== null && active === 'fail',
    );
    if (failed.length > 0) {
      throw new UserError(
        `consumer group(s) ${failed.map((f) => f.group_id).join(', ')} not moved: ${failed.map((f) => f.problem).join('; ')}`,
        {
          hint: 'Stop their consumers (Kafka refuses to move a group with running members), or pass --active-groups skip.',
        },
      );
    }
    return ExitCode.ok;
  } finally {
    await target.close();
  }
}
