import { loadRestoreConfig } from '../../config/index.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { applyMetadataRestore, planMetadataRestore } from '../../metadata/index.ts';
import { openStore } from '../../storage/index.ts';
import { outputFormat, parseCommandArgs, requireOption } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';
import { cliLogger } from '../logger.ts';
import { renderMetadataReport } from '../metadata-report.ts';

const USAGE =
  'kafka-backup restore-metadata --config FILE [--apply] [--format json|table] [--log-format json|text]';

/**
 * Applies a backup's schemas, ACLs, quotas and SCRAM users (restore.metadata) to the target: prints the plan and
 * changes nothing unless --apply is given.
 */
export async function restoreMetadataCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseCommandArgs(
    'restore-metadata',
    argv,
    {
      config: { type: 'string', short: 'c' },
      apply: { type: 'boolean' },
      format: { type: 'string' },
      'log-format': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const config = loadRestoreConfig(requireOption(values, 'config', 'restore-metadata', USAGE));
  const format = outputFormat(values, 'restore-metadata');
  const logger = cliLogger({ format: values['log-format'] });
  const store = openStore(config.storage);
  const target = new KafkaCluster(config.target, 'target');
  try {
    const ctx = { config, store, target, logger };
    const plan = await planMetadataRestore(ctx);
    const report = values.apply
      ? await applyMetadataRestore(ctx, plan)
      : { backup_id: plan.backup_id, applied: false, plan };
    out(format === 'json' ? JSON.stringify(report, null, 2) : renderMetadataReport(report));
    return ExitCode.ok;
  } finally {
    await target.close();
  }
}
