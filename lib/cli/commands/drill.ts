import { writeFileSync } from 'node:fs';
import { loadBackupConfig, loadRestoreConfig, type StorageConfig } from '../../config/index.ts';
import { type DrillOptions, renderDrillMarkdown, runDrill } from '../../drill/index.ts';
import { ExitCode, UsageError } from '../../errors.ts';
import type { KafkaConnectionSettings } from '../../kafka/index.ts';
import { parseStorageUrl } from '../../storage/index.ts';
import { defineCommand } from '../command.ts';
import { FORMAT_FLAG, LOCATION_FLAGS, LOG_FORMAT_FLAG } from '../flags.ts';
import { cliLogger } from '../logger.ts';
import { jsonDocument, renderTable } from '../output.ts';

const USAGE_LINES = [
  '--backup-config FILE --restore-config FILE [--records N] [--record-size BYTES] [--partitions N]',
  '    [--replication-timeout-secs N] [--report FILE.md|FILE.json] [--keep] [--format table|json] [--log-format text|json]',
  '--source-bootstrap HOST:PORT --target-bootstrap HOST:PORT --path URL [the same options]',
];

function positiveInt(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`Unknown count "${raw}" for --${name}: it takes a positive whole number`, {
      hint: `For example --${name} ${fallback}.`,
    });
  return n;
}

function storageFromPath(path: string): StorageConfig {
  const s = parseStorageUrl(path);
  return s as StorageConfig;
}

export const drillCommand = defineCommand(
  {
    name: 'drill',
    summary: 'the DR drill: test topic, backup, restore, verify counts, bytes and a group, clean up',
    description: [
      "The seed's monthly drill end to end: creates dr-test-<date>-<time> on the source, produces N records of S " +
        'bytes, commits a consumer group half-way through each partition, backs up (into <location>/_drills, apart ' +
        'from your backups), waits for the backup to reach the restore location when it differs (S3 replication), ' +
        'restores to the target with the group moved, verifies per-partition counts and a SHA-256 of every key ' +
        'and value, checks that a real consumer of the group resumes at the committed record, and cleans up.',
      'Connections and storage come from a backup config (source, storage) and a restore config (target, and the DR ' +
        'storage), or from --source-bootstrap, --target-bootstrap and --path.',
    ],
    usage: USAGE_LINES,
    flags: {
      'backup-config': {
        type: 'string',
        value: 'FILE',
        description:
          "A backup config: the drill's source cluster and backup storage (its topics are not used).",
      },
      'restore-config': {
        type: 'string',
        value: 'FILE',
        description:
          'A restore config: the target cluster, and the storage the DR side reads the backup from.',
      },
      'source-bootstrap': {
        type: 'string',
        value: 'HOST:PORT',
        description: 'Without configs: the source cluster (PLAINTEXT).',
      },
      'target-bootstrap': {
        type: 'string',
        value: 'HOST:PORT',
        description: 'Without configs: the target cluster (PLAINTEXT).',
      },
      path: {
        ...LOCATION_FLAGS.path,
        description: 'Without configs: where the drill backs up (s3://bucket/prefix or a folder).',
      },
      records: {
        type: 'string',
        value: 'N',
        default: '10000',
        description: 'How many test records to produce.',
      },
      'record-size': {
        type: 'string',
        value: 'BYTES',
        default: '1000',
        description: "The size of each record's value.",
      },
      partitions: { type: 'string', value: 'N', default: '3', description: 'Partitions of the test topic.' },
      'replication-timeout-secs': {
        type: 'string',
        value: 'N',
        default: '900',
        description: 'How long to wait for the backup to reach the restore location (S3 replication).',
      },
      report: {
        type: 'string',
        value: 'FILE.md|FILE.json',
        description: 'Also save the report, as Markdown (.md) or JSON.',
      },
      keep: {
        type: 'boolean',
        description: 'Leave the test topic, group and drill backup in place for a look around.',
      },
      format: FORMAT_FLAG,
      'log-format': LOG_FORMAT_FLAG,
    },
    examples: [
      {
        command:
          'kafka-backup drill --backup-config primary-backup.yaml --restore-config dr-restore.yaml --report drill.md',
        does: "The monthly drill with the guide's configs, its report saved as Markdown.",
      },
      {
        command:
          'kafka-backup drill --source-bootstrap 127.0.0.1:19092 --target-bootstrap 127.0.0.1:29092 --path /tmp/drill',
        does: 'A drill between two local clusters through a folder.',
      },
    ],
    env: ['KAFKA_BACKUP_LOG_LEVEL', 'AWS_REGION', 'AWS_PROFILE'],
    json: '{format_version, ok, topic, consumer_group, backup_id, records, record_size, started_at, duration_ms, steps: [{name, ok, duration_ms, detail}], partitions: [{partition, produced, backed_up, restored, digest_match, committed_source_offset, resumed_at_source_offset, ok}]}',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.verificationFailed],
  },
  async ({ values }, out) => {
    let source: KafkaConnectionSettings;
    let target: KafkaConnectionSettings;
    let backupStorage: StorageConfig;
    let restoreStorage: StorageConfig | undefined;
    if (values['backup-config'] || values['restore-config']) {
      if (!values['backup-config'] || !values['restore-config'])
        throw new UsageError(
          `Missing flag ${values['backup-config'] ? '--restore-config' : '--backup-config'} for kafka-backup drill`,
          {
            hint: 'A backup config gives the source and its storage, a restore config the target: give both.',
          },
        );
      const b = loadBackupConfig(values['backup-config']);
      const r = loadRestoreConfig(values['restore-config']);
      const { topics: _topics, ...conn } = b.source;
      source = conn;
      target = r.target;
      backupStorage = b.storage;
      restoreStorage = JSON.stringify(r.storage) === JSON.stringify(b.storage) ? undefined : r.storage;
    } else {
      const s = values['source-bootstrap'];
      const t = values['target-bootstrap'];
      if (!s || !t || !values.path)
        throw new UsageError(
          'Missing flags for kafka-backup drill: --backup-config and --restore-config, or --source-bootstrap, --target-bootstrap and --path',
          { hint: `Usage: kafka-backup drill ${USAGE_LINES[0]}` },
        );
      source = { bootstrap_servers: s.split(',') };
      target = { bootstrap_servers: t.split(',') };
      backupStorage = storageFromPath(values.path);
    }
    const options: DrillOptions = {
      source,
      target,
      backupStorage,
      ...(restoreStorage ? { restoreStorage } : {}),
      records: positiveInt(values.records, 'records', 10_000),
      recordSize: positiveInt(values['record-size'], 'record-size', 1_000),
      partitions: positiveInt(values.partitions, 'partitions', 3),
      keep: Boolean(values.keep),
      replicationTimeoutMs:
        positiveInt(values['replication-timeout-secs'], 'replication-timeout-secs', 900) * 1000,
      logger: cliLogger({ format: values['log-format'] }),
    };
    const report = await runDrill(options);
    if (values.report) {
      writeFileSync(
        values.report,
        values.report.endsWith('.md') ? renderDrillMarkdown(report) : JSON.stringify(report, null, 2),
      );
    }
    if (values.format === 'json') {
      out(jsonDocument(report));
    } else {
      out(
        `DR drill ${report.ok ? 'PASSED' : 'FAILED'}: ${report.records} records x ${report.record_size} bytes via ${report.topic} (${(report.duration_ms / 1000).toFixed(1)} s)`,
      );
      out(
        renderTable(
          ['STEP', 'RESULT', 'SECONDS', 'DETAIL'],
          report.steps.map((s) => [
            s.name,
            s.ok ? 'ok' : 'FAILED',
            (s.duration_ms / 1000).toFixed(1),
            s.detail,
          ]),
        ),
      );
      out('');
      out(
        renderTable(
          [
            'PARTITION',
            'PRODUCED',
            'BACKED UP',
            'RESTORED',
            'BYTES MATCH',
            'GROUP COMMITTED',
            'GROUP RESUMES AT',
            'OK',
          ],
          report.partitions.map((p) => [
            p.partition,
            p.produced,
            p.backed_up,
            p.restored,
            p.digest_match ? 'yes' : 'NO',
            p.committed_source_offset,
            p.resumed_at_source_offset,
            p.ok ? 'yes' : 'NO',
          ]),
        ),
      );
      if (values.report) out(`\nreport saved to ${values.report}`);
    }
    return report.ok ? ExitCode.ok : ExitCode.verificationFailed;
  },
);
