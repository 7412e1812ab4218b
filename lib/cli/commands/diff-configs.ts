import { loadRestoreConfig, selectTopics } from '../../config/index.ts';
import { ExitCode } from '../../errors.ts';
import { loadManifest, resolveBackupId } from '../../format/catalog.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { applyTopicConfigs, diffTopicConfigs } from '../../metadata/index.ts';
import { openStore } from '../../storage/index.ts';
import { defineCommand } from '../command.ts';
import { configFlag, FORMAT_FLAG } from '../flags.ts';
import { renderConfigDrift } from '../metadata-report.ts';
import { jsonDocument } from '../output.ts';

/**
 * Topic configs that differ between the backup (backup_id, storage) and the target cluster of a restore config,
 * topics chosen by restore.topics and renamed by restore.topic_mapping; --apply sets the backup's values.
 * Exit code 0 when nothing differs (or all was applied), 5 when something differs and nothing was applied.
 */
export const diffConfigsCommand = defineCommand(
  {
    name: 'diff-configs',
    summary: "topic configs that differ between a backup and a cluster; --apply sets the backup's values",
    description: [
      "Compares each backed-up topic's configs (restore.topics selects them, restore.topic_mapping renames them) " +
        "with the target cluster's. Exits 0 when nothing differs (or everything was applied), 5 when something " +
        'differs and --apply was not given.',
    ],
    flags: {
      config: configFlag(
        'A restore config: the backup (backup_id, storage) and the cluster to compare (target).',
      ),
      apply: { type: 'boolean', description: "Set the backup's values on the target's drifted topics." },
      format: FORMAT_FLAG,
    },
    examples: [
      {
        command: 'kafka-backup diff-configs --config dr-restore.yaml',
        does: 'What drifted since the backup.',
      },
      {
        command: 'kafka-backup diff-configs --config dr-restore.yaml --apply',
        does: "Set the backup's topic configs on the DR cluster.",
      },
    ],
    env: ['AWS_REGION', 'AWS_PROFILE'],
    json: '{format_version, ...the drift report, applied (with --apply)}',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
  },
  async ({ values }, out) => {
    const config = loadRestoreConfig(values.config);
    const store = openStore(config.storage);
    const manifest = await loadManifest(store, await resolveBackupId(store, config.backup_id));
    const { selected } = selectTopics(
      manifest.topics.map((t) => t.name),
      config.restore.topics.include,
      config.restore.topics.exclude,
    );
    const target = new KafkaCluster(config.target, 'target');
    try {
      const drift = await diffTopicConfigs(manifest, target, {
        topics: selected,
        mapping: config.restore.topic_mapping,
      });
      const applied = values.apply ? await applyTopicConfigs(target, drift) : undefined;
      out(
        values.format === 'json'
          ? jsonDocument({ ...drift, ...(applied !== undefined ? { applied } : {}) })
          : renderConfigDrift(drift, applied),
      );
      return drift.drifted > 0 && applied === undefined ? ExitCode.verificationFailed : ExitCode.ok;
    } finally {
      await target.close();
    }
  },
);
