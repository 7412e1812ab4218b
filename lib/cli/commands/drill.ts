import { writeFileSync } from 'node:fs';
import { loadBackupConfig, loadRestoreConfig, type StorageConfig } from '../../config/index.ts';
import { type DrillOptions, renderDrillMarkdown, runDrill } from '../../drill/index.ts';
import type { KafkaConnectionSettings } from '../../kafka/index.ts';
import { parseStorageUrl } from '../../storage/index.ts';
import { outputFormat, parseCommandArgs, UsageError } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';
import { cliLogger } from '../logger.ts';
import { renderTable } from '../output.ts';
import { encryptionFromArgs } from '../storage-arg.ts';

const USAGE = `kafka-backup drill   the monthly DR drill: test topic -> backup -> restore -> verify -> clean up
    (--backup-config FILE --restore-config FILE      source + storage from a backup config, target (+ DR storage) from a restore config
     | --source-bootstrap H:P --target-bootstrap H:P --path URL [--key-file FILE | --kms-key-id KEY])
    [--records 10000] [--record-size 1000] [--partitions 3] [--replication-timeout-secs 900]
    [--report FILE.json|FILE.md] [--keep] [--format json|table]`;

function positiveInt(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`drill: --${name} must be a positive whole number, not "${raw}"`);
  return n;
}

function storageFromPath(path: string, values: Record<string, unknown>): StorageConfig {
  const encryption = encryptionFromArgs(values);
  const s = parseStorageUrl(path, encryption ? { encryption } : {});
  return s as StorageConfig;
}

export async function drillCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseCommandArgs(
    'drill',
    argv,
    {
      'backup-config': { type: 'string' },
      'restore-config': { type: 'string' },
      'source-bootstrap': { type: 'string' },
      'target-bootstrap': { type: 'string' },
      path: { type: 'string' },
      'key-file': { type: 'string' },
      'kms-key-id': { type: 'string' },
      records: { type: 'string' },
      'record-size': { type: 'string' },
      partitions: { type: 'string' },
      'replication-timeout-secs': { type: 'string' },
      report: { type: 'string' },
      keep: { type: 'boolean' },
      format: { type: 'string' },
      'log-format': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  let source: KafkaConnectionSettings;
  let target: KafkaConnectionSettings;
  let backupStorage: StorageConfig;
  let restoreStorage: StorageConfig | undefined;
  if (values['backup-config'] || values['restore-config']) {
    if (!values['backup-config'] || !values['restore-config'])
      throw new UsageError('drill: give both --backup-config and --restore-config');
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
        'drill: --source-bootstrap, --target-bootstrap and --path are required without configs',
        { hint: USAGE },
      );
    source = { bootstrap_servers: s.split(',') };
    target = { bootstrap_servers: t.split(',') };
    backupStorage = storageFromPath(values.path, values);
  }
  const format = outputFormat(values, 'drill');
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
  if (format === 'json') {
    out(JSON.stringify(report, null, 2));
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
}
