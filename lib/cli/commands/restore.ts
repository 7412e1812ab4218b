import { loadRestoreConfig } from '../../config/index.ts';
import { ExitCode } from '../../errors.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { schemaIdRewriteFor } from '../../metadata/index.ts';
import { recordRestoreOutcome } from '../../metrics/index.ts';
import { runRestore } from '../../restore/index.ts';
import { openStore } from '../../storage/index.ts';
import { defineCommand } from '../command.ts';
import { configFlag, FORMAT_FLAG, LOG_FORMAT_FLAG, METRICS_FLAGS } from '../flags.ts';
import { cliLogger } from '../logger.ts';
import { startCliMetrics } from '../metrics-server.ts';
import { jsonDocument, ProgressLine, percentAndEta } from '../output.ts';
import { renderRestoreReport } from '../restore-report.ts';

const REPORT_JSON =
  '{format_version, restore_id, backup_id, target_cluster_id, dry_run, started_at, completed_at, duration_ms, window, topics: [{source_topic, target_topic, action, partitions: [{target_partition, sources, backup_records, expected, restored, written_now, base_offset, end_offset, ok}]}], consumer_groups: [{group_id, state, members, moves, problem, status}], warnings, ok} (also stored as restores/<restore_id>/report.json, without format_version)';

function makeRestoreCommand(name: 'restore' | 'three-phase-restore') {
  const threePhase = name === 'three-phase-restore';
  return defineCommand(
    {
      name,
      summary: threePhase
        ? 'restore the data, store the offset mapping, reset the consumer groups'
        : 'restore a backup into a cluster (resumes an interrupted restore)',
      description: [
        threePhase
          ? "The seed's three phases in one run: 1 the data (as restore), 2 the source-to-target offset mapping, " +
            'stored next to the backup, 3 the consumer groups moved by restore.consumer_group_strategy. It resets ' +
            'the groups whatever restore.reset_consumer_offsets says.'
          : 'Restores the backup the config names (backup_id, or latest) into the target cluster: missing topics ' +
            'are created, records keep partition, key, value, headers and timestamps, and each target partition ' +
            'is written exactly once through an idempotent producer; a restore killed at any point and run again ' +
            'skips exactly what the target holds. With restore.reset_consumer_offsets the consumer groups are moved too.',
      ],
      flags: {
        config: configFlag('The restore config (YAML): mode: restore, backup_id, target, storage, restore.'),
        'dry-run': {
          type: 'boolean',
          description: 'Plan and report what would be restored, write nothing (restore.dry_run: true).',
        },
        format: FORMAT_FLAG,
        'log-format': LOG_FORMAT_FLAG,
        ...METRICS_FLAGS,
      },
      examples: [
        {
          command: `BACKUP_ID=latest kafka-backup ${name} --config dr-restore.yaml`,
          does: 'Restore the newest complete backup of the location in dr-restore.yaml.',
        },
        {
          command: `kafka-backup ${name} --config dr-restore.yaml --dry-run --format json`,
          does: 'Show, as JSON, what the restore would write, without writing.',
        },
      ],
      env: ['KAFKA_BACKUP_LOG_LEVEL', 'KAFKA_BACKUP_METRICS_HOST', 'AWS_REGION', 'AWS_PROFILE', 'CI'],
      json: REPORT_JSON,
      exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
    },
    async ({ values }, out) => {
      const config = loadRestoreConfig(values.config);
      if (values['dry-run']) config.restore.dry_run = true;
      const logger = cliLogger({ format: values['log-format'] });
      const store = openStore(config.storage);
      const target = new KafkaCluster(config.target, 'target');
      const progress = new ProgressLine();
      const startedAt = Date.now();
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
            resetOffsets: threePhase,
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
              progress.update(
                `restoring: ${restored} of ~${expected} records, ${percentAndEta({ done: restored, total: expected, startedAt, now: Date.now() })}`,
              );
            },
          },
        );
        progress.done();
        recordRestoreOutcome(metrics.recorder, report);
        if (rewrite) logger.info('schema ids rewritten', { ...rewrite.stats });
        out(
          values.format === 'json'
            ? jsonDocument(rewrite ? { ...report, schema_id_rewrite: rewrite.stats } : report)
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
    },
  );
}

export const restoreCommand = makeRestoreCommand('restore');
export const threePhaseRestoreCommand = makeRestoreCommand('three-phase-restore');
