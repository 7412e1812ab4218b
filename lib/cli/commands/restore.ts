import { loadRestoreConfig } from '../../config/index.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { schemaIdRewriteFor } from '../../metadata/index.ts';
import { recordRestoreOutcome } from '../../metrics/index.ts';
import { runRestore } from '../../restore/index.ts';
import { openStore } from '../../storage/index.ts';
import { outputFormat, parseCommandArgs, requireOption } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';
import { cliLogger } from '../logger.ts';
import { startCliMetrics } from '../metrics-server.ts';
import { ProgressLine } from '../output.ts';
import { renderRestoreReport } from '../restore-report.ts';

function makeRestoreCommand(name: 'restore' | 'three-phase-restore') {
  const usage = `kafka-backup ${name} --config FILE [--dry-run] [--format json|table] [--log-format json|text] [--metrics-port N [--metrics-host H] [--keep-serving]]`;
  return async (argv: string[], out: (s: string) => void): Promise<number> => {
    const { values } = parseCommandArgs(
      name,
      argv,
      {
        config: { type: 'string', short: 'c' },
        format: { type: 'string' },
        'log-format': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'keep-serving': { type: 'boolean' },
      },
      usage,
    );
    if (values.help) {
      out(usage);
      return 0;
    }
    const config = loadRestoreConfig(requireOption(values, 'config', name, usage));
    if (values['dry-run']) config.restore.dry_run = true;
    const format = outputFormat(values, name);
    const logger = cliLogger({ format: values['log-format'] });
    const store = openStore(config.storage);
    const target = new KafkaCluster(config.target, 'target');
    const progress = new ProgressLine();
    let restored = 0;
    let expected = 0;
    const metrics = await startCliMetrics(
      config.metrics,
      { port: values['metrics-port'], host: values['metrics-host'], keepServing: values['keep-serving'] },
      logger,
    );
    let targetClusterId: string | undefined;
    try {
      targetClusterId = (await target.describeCluster()).clusterId;
      metrics.recorder.restoreStarted({ backupId: config.backup_id, targetClusterId });
      // restore.rewrite_schema_ids: the source -> target schema ids, looked up in the target registry first.
      const rewrite = config.restore.dry_run ? undefined : await schemaIdRewriteFor({ config, store });
      if (rewrite)
        logger.info('schema ids to rewrite', { schemas: rewrite.ids.size, remapped: rewrite.remapped });
      const report = await runRestore(
        {
          config,
          store,
          target,
          logger,
          // Only when some id changes: otherwise records go out as stored.
          ...(rewrite && rewrite.remapped > 0 ? { rewriteRecord: rewrite.rewrite } : {}),
        },
        {
          resetOffsets: name === 'three-phase-restore',
          onPlan: (plan) => {
            expected = plan.work.filter((w) => w.mode !== 'done').reduce((n, w) => n + w.backup_records, 0);
            logger.info(`restoring backup ${plan.backup_id}`, {
              restore_id: plan.restore_id,
              topics: plan.topics.length,
              partitions: plan.work.length,
            });
          },
          onRecords: (n) => {
            metrics.recorder.recordsRestored({ targetClusterId: targetClusterId!, records: n });
            restored += n;
            progress.update(`restoring: ${restored} of ~${expected} records`);
          },
        },
      );
      progress.done();
      recordRestoreOutcome(metrics.recorder, report);
      if (rewrite) logger.info('schema ids rewritten', { ...rewrite.stats });
      out(
        format === 'json'
          ? JSON.stringify(rewrite ? { ...report, schema_id_rewrite: rewrite.stats } : report, null, 2)
          : renderRestoreReport(report) +
              (rewrite
                ? `\nschema ids: ${rewrite.stats.rewritten} key(s)/value(s) rewritten, ${rewrite.stats.unknown_ids} with an id the backup's registry did not know (left as they were)`
                : ''),
      );
      return report.ok ? ExitCode.ok : ExitCode.verificationFailed;
    } catch (e) {
      metrics.recorder.restoreFailed({
        backupId: config.backup_id,
        ...(targetClusterId ? { targetClusterId } : {}),
      });
      throw e;
    } finally {
      progress.done();
      await target.close();
      await metrics.finish();
    }
  };
}

export const restoreCommand = makeRestoreCommand('restore');
export const threePhaseRestoreCommand = makeRestoreCommand('three-phase-restore');
