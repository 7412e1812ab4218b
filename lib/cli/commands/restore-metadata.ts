import { loadRestoreConfig } from '../../config/index.ts';
import { ExitCode } from '../../errors.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { applyMetadataRestore, planMetadataRestore } from '../../metadata/index.ts';
import { openStore } from '../../storage/index.ts';
import { defineCommand } from '../command.ts';
import { configFlag, FORMAT_FLAG, LOG_FORMAT_FLAG } from '../flags.ts';
import { cliLogger } from '../logger.ts';
import { renderMetadataReport } from '../metadata-report.ts';
import { jsonDocument } from '../output.ts';

/**
 * Applies a backup's schemas, ACLs, quotas and SCRAM users (restore.metadata) to the target: prints the plan and
 * changes nothing unless --apply is given.
 */
export const restoreMetadataCommand = defineCommand(
  {
    name: 'restore-metadata',
    summary:
      "print the plan for a backup's schemas, ACLs, quotas and SCRAM users on the target; --apply applies it",
    description: [
      'Plans restore.metadata (schemas into the target registry keeping their ids where free, ACLs and quotas with ' +
        'principals and topics renamed by principal_mapping and topic_mapping, SCRAM users with passwords from ' +
        'restore.scram_users) and prints it. Nothing changes without --apply.',
    ],
    flags: {
      config: configFlag('A restore config naming the backup, the target cluster and restore.metadata.'),
      apply: { type: 'boolean', description: 'Apply the plan (without it, only print it).' },
      format: FORMAT_FLAG,
      'log-format': LOG_FORMAT_FLAG,
    },
    examples: [
      {
        command: 'kafka-backup restore-metadata --config dr-restore.yaml',
        does: 'The plan, nothing applied.',
      },
      { command: 'kafka-backup restore-metadata --config dr-restore.yaml --apply', does: 'Apply it.' },
    ],
    env: ['KAFKA_BACKUP_LOG_LEVEL', 'AWS_REGION', 'AWS_PROFILE'],
    json: '{format_version, backup_id, applied, plan, ...what was applied}',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound],
  },
  async ({ values }, out) => {
    const config = loadRestoreConfig(values.config);
    const logger = cliLogger({ format: values['log-format'] });
    const store = openStore(config.storage);
    const target = new KafkaCluster(config.target, 'target');
    try {
      const ctx = { config, store, target, logger };
      const plan = await planMetadataRestore(ctx);
      const report = values.apply
        ? await applyMetadataRestore(ctx, plan)
        : { backup_id: plan.backup_id, applied: false, plan };
      out(values.format === 'json' ? jsonDocument(report) : renderMetadataReport(report));
      return ExitCode.ok;
    } finally {
      await target.close();
    }
  },
);
