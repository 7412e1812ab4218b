import { loadRestoreConfig, selectTopics } from '../../config/index.ts';
import { loadManifest, resolveBackupId } from '../../format/catalog.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { applyTopicConfigs, diffTopicConfigs } from '../../metadata/index.ts';
import { openStore } from '../../storage/index.ts';
import { outputFormat, parseCommandArgs, requireOption } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';
import { renderConfigDrift } from '../metadata-report.ts';

const USAGE = 'kafka-backup diff-configs --config FILE [--apply] [--format json|table]';

/**
 * Topic configs that differ between the backup (backup_id, storage) and the target cluster of a restore config,
 * topics chosen by restore.topics and renamed by restore.topic_mapping; --apply sets the backup's values.
 * Exit code 0 when nothing differs (or all was applied), 5 when something differs and nothing was applied.
 */
export async function diffConfigsCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseCommandArgs(
    'diff-configs',
    argv,
    { config: { type: 'string', short: 'c' }, apply: { type: 'boolean' }, format: { type: 'string' } },
    USAGE,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const config = loadRestoreConfig(requireOption(values, 'config', 'diff-configs', USAGE));
  const format = outputFormat(values, 'diff-configs');
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
      format === 'json'
        ? JSON.stringify({ ...drift, ...(applied !== undefined ? { applied } : {}) }, null, 2)
        : renderConfigDrift(drift, applied),
    );
    return drift.drifted > 0 && applied === undefined ? ExitCode.verificationFailed : ExitCode.ok;
  } finally {
    await target.close();
  }
}
