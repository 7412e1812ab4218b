import { runBackup } from '../../backup/index.ts';
import { loadBackupConfig } from '../../config/index.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { backupSucceededFromManifest, drReadyFromManifest } from '../../metrics/index.ts';
import { openStore } from '../../storage/index.ts';
import { outputFormat, parseCommandArgs, requireOption } from '../args.ts';
import { cliLogger } from '../logger.ts';
import { startCliMetrics } from '../metrics-server.ts';
import { formatBytes, formatDuration, ProgressLine } from '../output.ts';
import { renderPartitionTable } from '../partition-table.ts';

const USAGE =
  'kafka-backup backup --config FILE [--format json|table] [--log-format json|text] [--metrics-port N [--metrics-host H] [--keep-serving]]';

export async function backupCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseCommandArgs(
    'backup',
    argv,
    {
      config: { type: 'string', short: 'c' },
      format: { type: 'string' },
      'log-format': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'keep-serving': { type: 'boolean' },
    },
    USAGE,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const config = loadBackupConfig(requireOption(values, 'config', 'backup', USAGE));
  const format = outputFormat(values, 'backup');
  const logger = cliLogger({ format: values['log-format'] });
  const store = openStore(config.storage);
  const source = new KafkaCluster(config.source, 'source');
  const progress = new ProgressLine();
  const perPartition = new Map<string, { records: number; bytes: number; done: boolean }>();
  const started = Date.now();
  const metrics = await startCliMetrics(
    config.metrics,
    { port: values['metrics-port'], host: values['metrics-host'], keepServing: values['keep-serving'] },
    logger,
  );
  let sourceClusterId = config.backup.source_cluster_id;
  try {
    sourceClusterId ??= (await source.describeCluster()).clusterId;
    metrics.recorder.backupStarted({ backupId: config.backup_id, sourceClusterId });
    const result = await runBackup(
      { config, store, source, logger },
      {
        onProgress: (e) => {
          const before = perPartition.get(`${e.topic}/${e.partition}`)?.records ?? 0;
          metrics.recorder.recordsBackedUp({
            sourceClusterId: sourceClusterId!,
            records: e.records - before,
          });
          perPartition.set(`${e.topic}/${e.partition}`, {
            records: e.records,
            bytes: e.bytes,
            done: e.next_offset >= e.end_offset,
          });
          let records = 0;
          let bytes = 0;
          let done = 0;
          for (const p of perPartition.values()) {
            records += p.records;
            bytes += p.bytes;
            if (p.done) done++;
          }
          const secs = Math.max(0.001, (Date.now() - started) / 1000);
          progress.update(
            `backing up ${config.backup_id}: ${done}/${perPartition.size}+ partitions done, ${records} records, ${formatBytes(bytes)} (${formatBytes(bytes / secs)}/s)`,
          );
        },
      },
    );
    progress.done();
    const m = result.manifest;
    metrics.recorder.backupSucceeded(backupSucceededFromManifest(m));
    metrics.recorder.drReady(
      drReadyFromManifest(m, { sourceClusterId: m.source_cluster_id, now: new Date() }),
    );
    if (format === 'json') {
      out(
        JSON.stringify(
          {
            backup_id: m.backup_id,
            location: store.location,
            resumed: result.resumed,
            stats: m.stats,
            retention: result.retention,
          },
          null,
          2,
        ),
      );
    } else {
      out(`backup ${m.backup_id} complete in ${store.location}${result.resumed ? ' (resumed)' : ''}`);
      out(renderPartitionTable(m));
      out(
        `${m.stats.records} records, ${formatBytes(m.stats.stored_bytes)} stored (${formatBytes(m.stats.uploaded_bytes)} uploaded now, ` +
          `${m.stats.segments_reused} segments reused), ${m.consumer_groups.length} consumer groups, ${formatDuration(m.stats.duration_ms)}`,
      );
      if (result.retention.deleted_backups.length > 0)
        out(`retention removed: ${result.retention.deleted_backups.join(', ')}`);
      if (result.retention.kept_locked?.length)
        out(`retention kept (still under Object Lock): ${result.retention.kept_locked.join(', ')}`);
    }
    return 0;
  } catch (e) {
    metrics.recorder.backupFailed({
      backupId: config.backup_id,
      ...(sourceClusterId ? { sourceClusterId } : {}),
    });
    throw e;
  } finally {
    progress.done();
    await source.close();
    await metrics.finish();
  }
}
