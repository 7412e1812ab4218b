import { runBackup } from '../../backup/index.ts';
import { loadBackupConfig } from '../../config/index.ts';
import { ExitCode } from '../../errors.ts';
import type { BackupPlan } from '../../format/plan.ts';
import { KafkaCluster } from '../../kafka/index.ts';
import { backupSucceededFromManifest, drReadyFromManifest } from '../../metrics/index.ts';
import { openStore } from '../../storage/index.ts';
import { defineCommand } from '../command.ts';
import { configFlag, FORMAT_FLAG, LOG_FORMAT_FLAG, METRICS_FLAGS } from '../flags.ts';
import { cliLogger } from '../logger.ts';
import { startCliMetrics } from '../metrics-server.ts';
import { formatBytes, formatDuration, jsonDocument, ProgressLine, percentAndEta } from '../output.ts';
import { renderPartitionTable } from '../partition-table.ts';
import { runPlanReport } from '../plan-report.ts';

export const backupCommand = defineCommand(
  {
    name: 'backup',
    summary: 'back up the topics a config selects (resumes an unfinished run of the same backup_id)',
    description: [
      'Takes a consistent cut of every selected partition, reads exactly up to it and stores the records in the ' +
        "config's storage, only what is new since the location's newest backup. A run killed at any point and " +
        'started again with the same backup_id continues where it stopped; a second concurrent backup of the ' +
        'location is refused (the lease). Retention runs after the backup completes.',
    ],
    flags: {
      config: configFlag(
        'The backup config (YAML): mode: backup, backup_id, source, storage, backup, retention.',
      ),
      'dry-run': {
        type: 'boolean',
        description:
          'Plan only and print what `kafka-backup plan` prints (the cut, the items, the estimate); write nothing.',
      },
      format: FORMAT_FLAG,
      'log-format': LOG_FORMAT_FLAG,
      ...METRICS_FLAGS,
    },
    examples: [
      {
        command: 'KAFKA_PASSWORD=… kafka-backup backup --config primary-backup.yaml',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config syntax ${VAR}, printed as is
        does: 'Back up what primary-backup.yaml selects; ${KAFKA_PASSWORD} in it comes from the environment.',
      },
      {
        command: 'TIMESTAMP=20261123-231500 kafka-backup backup --config primary-backup.yaml',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config syntax ${VAR}, printed as is
        does: 'Resume the interrupted run whose backup_id "primary-${TIMESTAMP}" had that stamp.',
      },
      {
        command: 'kafka-backup backup -c primary-backup.yaml --dry-run',
        does: 'What the next run would read and cost, writing nothing (as `kafka-backup plan`).',
      },
      {
        command: 'kafka-backup backup -c primary-backup.yaml --metrics-port 9464 --keep-serving',
        does: 'Serve its Prometheus metrics while it runs and afterwards, until Ctrl-C.',
      },
    ],
    env: [
      'TIMESTAMP',
      'KAFKA_BACKUP_LOG_LEVEL',
      'KAFKA_BACKUP_METRICS_HOST',
      'AWS_REGION',
      'AWS_PROFILE',
      'CI',
    ],
    json: '(--dry-run: as `kafka-backup plan`) {format_version, backup_id, location, resumed, stats: {records, stored_bytes, uploaded_bytes, segments_uploaded, segments_reused, duration_ms}, retention: {deleted_backups, deleted_segments, deleted_bytes, kept_locked, locked_segments}}',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
  },
  async ({ values }, out) => {
    const config = loadBackupConfig(values.config);
    const logger = cliLogger({ format: values['log-format'] });
    if (values['dry-run']) {
      // No metrics either: a dry run is no backup (no started, succeeded or failed backup to count).
      await runPlanReport(config, logger, { format: values.format === 'json' ? 'json' : 'table' }, out);
      return ExitCode.ok;
    }
    const store = openStore(config.storage);
    const source = new KafkaCluster(config.source, 'source');
    const progress = new BackupProgress(config.backup_id);
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
          onPlan: (plan) => progress.planned(plan),
          onProgress: (e) => {
            const newRecords = progress.partition(e);
            metrics.recorder.recordsBackedUp({ sourceClusterId: sourceClusterId!, records: newRecords });
          },
        },
      );
      progress.done();
      const m = result.manifest;
      metrics.recorder.backupSucceeded(backupSucceededFromManifest(m));
      metrics.recorder.drReady(
        drReadyFromManifest(m, { sourceClusterId: m.source_cluster_id, now: new Date() }),
      );
      if (values.format === 'json') {
        out(
          jsonDocument({
            backup_id: m.backup_id,
            location: store.location,
            resumed: result.resumed,
            stats: m.stats,
            retention: result.retention,
          }),
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
      return ExitCode.ok;
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
  },
);

/** The progress line of a backup: partitions done of the plan's, offsets read of those to read, rate and ETA. */
export class BackupProgress {
  readonly #line: ProgressLine;
  readonly #backupId: string;
  readonly #startedAt: number;
  readonly #now: () => number;
  /** Per partition: where reading started, where it ends, and what was reported so far. */
  readonly #partitions = new Map<
    string,
    { from: number; to: number; next: number; records: number; bytes: number }
  >();

  constructor(backupId: string, opts: { line?: ProgressLine; now?: () => number } = {}) {
    this.#backupId = backupId;
    this.#line = opts.line ?? new ProgressLine();
    this.#now = opts.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  planned(plan: BackupPlan): void {
    for (const t of plan.topics)
      for (const p of t.partitions)
        this.#partitions.set(`${t.name}/${p.partition}`, {
          from: p.read_from,
          to: p.end_offset,
          next: p.read_from,
          records: 0,
          bytes: 0,
        });
    this.#line.update(this.text(), true);
  }

  /** A partition's progress event; returns the records it added since its last one (for the records metric). */
  partition(e: {
    topic: string;
    partition: number;
    records: number;
    bytes: number;
    next_offset: number;
    end_offset: number;
  }): number {
    const key = `${e.topic}/${e.partition}`;
    const p = this.#partitions.get(key) ?? {
      from: e.next_offset,
      to: e.end_offset,
      next: e.next_offset,
      records: 0,
      bytes: 0,
    };
    const added = e.records - p.records;
    this.#partitions.set(key, {
      ...p,
      next: e.next_offset,
      to: e.end_offset,
      records: e.records,
      bytes: e.bytes,
    });
    this.#line.update(this.text());
    return added;
  }

  /** `backing up b: 3/8 partitions, 120000 records, 12.0 MiB (3.1 MiB/s), 42%, 1 min 3 s left`. */
  text(): string {
    let done = 0;
    let read = 0;
    let toRead = 0;
    let records = 0;
    let bytes = 0;
    for (const p of this.#partitions.values()) {
      if (p.next >= p.to) done++;
      read += Math.max(0, Math.min(p.next, p.to) - p.from);
      toRead += Math.max(0, p.to - p.from);
      records += p.records;
      bytes += p.bytes;
    }
    const now = this.#now();
    const secs = Math.max(0.001, (now - this.#startedAt) / 1000);
    return (
      `backing up ${this.#backupId}: ${done}/${this.#partitions.size} partitions, ${records} records, ` +
      `${formatBytes(bytes)} (${formatBytes(bytes / secs)}/s), ` +
      percentAndEta({ done: read, total: toRead, startedAt: this.#startedAt, now })
    );
  }

  done(): void {
    this.#line.done();
  }
}
