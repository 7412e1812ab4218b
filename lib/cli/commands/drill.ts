import { writeFileSync } from 'node:fs';
import { loadBackupConfig, loadRestoreConfig, type StorageConfig } from '../../config/index.ts';
import {
  type DrillOptions,
  type DrillReport,
  renderDrillMarkdown,
  runBackupDrill,
  runDrill,
  syntheticDrillEvidence,
} from '../../drill/index.ts';
import {
  EvidenceLayout,
  type EvidenceReport,
  type EvidenceSigner,
  renderEvidenceMarkdown,
  writeEvidence,
} from '../../evidence/index.ts';
import type { KafkaConnectionSettings } from '../../kafka/index.ts';
import type { Logger } from '../../log.ts';
import { openStore, parseStorageUrl } from '../../storage/index.ts';
import { outputFormat, parseCommandArgs, UsageError } from '../args.ts';
import { EVIDENCE_KEY_ENV, evidenceKeyOptions, evidenceSigner } from '../evidence-keys.ts';
import { ExitCode } from '../exit-codes.ts';
import { cliLogger } from '../logger.ts';
import { renderTable } from '../output.ts';
import { encryptionFromArgs } from '../storage-arg.ts';

const USAGE = `kafka-backup drill   the monthly DR drill, with a signed evidence report stored next to the backups
  synthetic (default): test topic -> backup -> restore -> verify -> clean up
    (--backup-config FILE --restore-config FILE      source + storage from a backup config, target (+ DR storage) from a restore config
     | --source-bootstrap H:P --target-bootstrap H:P --path URL [--key-file FILE | --kms-key-id KEY])
    [--records 10000] [--record-size 1000] [--partitions 3] [--replication-timeout-secs 900]
  on real data: --from-backup --restore-config FILE   the newest complete backup in the restore config's storage,
    restored into topics prefixed <namespace>-<time>-<random>. on the target, checked, then deleted
    [--namespace kafka-backup-drill] [--topics GLOB,GLOB]
  evidence: [--evidence-key FILE.key (or $${EVIDENCE_KEY_ENV}) | --evidence-kms-key-id ARN [--region R]]
    (unsigned without a key; \`kafka-backup evidence keygen --out NAME\` makes one)
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
      'from-backup': { type: 'boolean' },
      namespace: { type: 'string' },
      topics: { type: 'string' },
      ...evidenceKeyOptions,
      region: { type: 'string' },
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
  const format = outputFormat(values, 'drill');
  const logger = cliLogger({ format: values['log-format'] });
  // Before any Kafka work: a key that cannot be read should stop the drill, not its last step.
  const signer = await evidenceSigner(values);
  if (values['from-backup']) return backupDrill(values, { format, logger, signer, out });

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
    logger,
  };
  const report = await runDrill(options);
  const productionStore = openStore(restoreStorage ?? backupStorage);
  const evidence = await syntheticDrillEvidence(report, { productionStore });
  const stored = await storeEvidence(productionStore, evidence, signer, logger);
  if (values.report) {
    writeFileSync(
      values.report,
      values.report.endsWith('.md') ? renderDrillMarkdown(report) : JSON.stringify(report, null, 2),
    );
  }
  if (format === 'json') {
    out(JSON.stringify({ ...report, evidence: stored }, null, 2));
  } else {
    printSynthetic(report, out);
    printEvidence(stored, out);
    if (values.report) out(`report saved to ${values.report}`);
  }
  return report.ok ? ExitCode.ok : ExitCode.verificationFailed;
}

interface StoredEvidenceSummary {
  id: string;
  location: string;
  signed: boolean;
  key_id: string | null;
  rpo_seconds: number | null;
  rto_seconds: number;
  projected_full_restore_seconds: number | null;
}

async function storeEvidence(
  store: ReturnType<typeof openStore>,
  evidence: EvidenceReport,
  signer: EvidenceSigner | undefined,
  logger: Logger,
): Promise<StoredEvidenceSummary> {
  const summary = {
    id: evidence.id,
    location: store.location,
    rpo_seconds: evidence.rpo.backup_age_seconds,
    rto_seconds: evidence.rto.restore_seconds,
    projected_full_restore_seconds: evidence.rto.projected_full_restore_seconds,
  };
  if (signer) {
    const s = await writeEvidence(store, evidence, signer);
    return { ...summary, signed: true, key_id: s.signature.key_id };
  }
  // Unsigned, so an auditor cannot rely on it; still kept, as the drill's record.
  await store.putIfAbsent(EvidenceLayout.report(evidence.id), `${JSON.stringify(evidence, null, 2)}\n`);
  await store.putIfAbsent(EvidenceLayout.markdown(evidence.id), renderEvidenceMarkdown(evidence));
  logger.warn(
    `drill evidence ${evidence.id} is not signed: give --evidence-key FILE (kafka-backup evidence keygen --out NAME) or --evidence-kms-key-id ARN`,
  );
  return { ...summary, signed: false, key_id: null };
}

function printEvidence(e: StoredEvidenceSummary, out: (s: string) => void): void {
  const s = (v: number | null) => (v === null ? 'unknown' : `${v.toFixed(1)} s`);
  out('');
  out(
    `evidence ${e.id} in ${e.location}/evidence/${e.id}/ (${e.signed ? `signed by ${e.key_id}` : 'NOT signed'}): RPO ${s(e.rpo_seconds)}, restore ${s(e.rto_seconds)}, whole backup ${s(e.projected_full_restore_seconds)}`,
  );
}

async function backupDrill(
  values: Record<string, unknown>,
  o: {
    format: 'json' | 'table';
    logger: Logger;
    signer: EvidenceSigner | undefined;
    out: (s: string) => void;
  },
): Promise<number> {
  const file = values['restore-config'] as string | undefined;
  if (!file)
    throw new UsageError('drill --from-backup: give --restore-config FILE (its target and storage)', {
      hint: USAGE,
    });
  const r = loadRestoreConfig(file);
  const store = openStore(r.storage);
  const topics = (values['topics'] as string | undefined)?.split(',').filter(Boolean);
  const { evidence, scratchTopics } = await runBackupDrill({
    target: r.target,
    store,
    storage: r.storage,
    ...(values['namespace'] ? { namespace: values['namespace'] as string } : {}),
    ...(topics ? { topics: { include: topics, exclude: [] } } : {}),
    keep: Boolean(values['keep']),
    logger: o.logger,
  });
  const stored = await storeEvidence(store, evidence, o.signer, o.logger);
  const reportFile = values['report'] as string | undefined;
  if (reportFile)
    writeFileSync(
      reportFile,
      reportFile.endsWith('.md') ? renderEvidenceMarkdown(evidence) : JSON.stringify(evidence, null, 2),
    );
  if (o.format === 'json') {
    o.out(JSON.stringify({ ...evidence, evidence: stored }, null, 2));
  } else {
    o.out(
      `DR drill on backup ${evidence.restored.backup_id} ${evidence.ok ? 'PASSED' : 'FAILED'}: ${evidence.restored.records} records of ${evidence.restored.topics.length} topics restored under ${evidence.restored.namespace}`,
    );
    o.out(
      renderTable(
        ['STEP', 'RESULT', 'SECONDS', 'DETAIL'],
        evidence.steps.map((s) => [
          s.name,
          s.ok ? 'ok' : 'FAILED',
          (s.duration_ms / 1000).toFixed(1),
          s.detail,
        ]),
      ),
    );
    if (values['keep'] && scratchTopics.length > 0) o.out(`\nkept for a look: ${scratchTopics.join(', ')}`);
    printEvidence(stored, o.out);
  }
  return evidence.ok ? ExitCode.ok : ExitCode.verificationFailed;
}

function printSynthetic(report: DrillReport, out: (s: string) => void): void {
  out(
    `DR drill ${report.ok ? 'PASSED' : 'FAILED'}: ${report.records} records x ${report.record_size} bytes via ${report.topic} (${(report.duration_ms / 1000).toFixed(1)} s)`,
  );
  out(
    renderTable(
      ['STEP', 'RESULT', 'SECONDS', 'DETAIL'],
      report.steps.map((s) => [s.name, s.ok ? 'ok' : 'FAILED', (s.duration_ms / 1000).toFixed(1), s.detail]),
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
}
