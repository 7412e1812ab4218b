import { writeFileSync } from 'node:fs';
import { loadBackupConfig, loadRestoreConfig, type StorageConfig } from '../../config/index.ts';
import {
  type DrillOptions,
  renderDrillMarkdown,
  runBackupDrill,
  runDrill,
  syntheticDrillEvidence,
} from '../../drill/index.ts';
import { ExitCode, UsageError } from '../../errors.ts';
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
import type { ObjectStore } from '../../storage/object-store.ts';
import { defineCommand, type Out } from '../command.ts';
import { EVIDENCE_SIGNING_FLAGS, evidenceSigner } from '../evidence-keys.ts';
import { ENCRYPTION_FLAGS, FORMAT_FLAG, LOCATION_FLAGS, LOG_FORMAT_FLAG } from '../flags.ts';
import { cliLogger } from '../logger.ts';
import { jsonDocument, renderTable } from '../output.ts';
import { encryptionFromArgs } from '../storage-arg.ts';

const USAGE_LINES = [
  '--backup-config FILE --restore-config FILE [--records N] [--record-size BYTES] [--partitions N]',
  '    [--replication-timeout-secs N] [--report FILE.md|FILE.json] [--keep] [--format table|json] [--log-format text|json]',
  '--source-bootstrap HOST:PORT --target-bootstrap HOST:PORT --path URL [--key-file FILE | --kms-key-id KEY]',
  '    [the same options]',
  '--from-backup --restore-config FILE [--namespace PREFIX] [--topics GLOB,GLOB] [--report FILE.md|FILE.json]',
  '    [--keep] [--format table|json] [--log-format text|json]',
  'every form: [--evidence-key FILE.key | --evidence-kms-key-id ARN [--region REGION]]',
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

function storageFromPath(
  path: string,
  values: { 'key-file'?: string | undefined; 'kms-key-id'?: string | undefined },
): StorageConfig {
  const encryption = encryptionFromArgs(values);
  const s = parseStorageUrl(path, encryption ? { encryption } : {});
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
      "With --from-backup the drill uses real data instead: the newest complete backup in the restore config's " +
        'storage is restored into topics named <namespace>-<time>-<random>.<topic> on its target, checked (counts and ' +
        'a SHA-256 of keys and values per partition against the backup, and where each backed-up consumer group ' +
        'would resume, planned without moving any group) and deleted again; no other topic is written or deleted.',
      'Every drill stores an evidence report next to the backups (evidence/<id>/: report.json, report.md and, with a ' +
        'key, signature.json) with the checks, RPO (age of the newest backup, replication delay) and RTO (restore ' +
        'time, and projected for the whole newest backup); kafka-backup evidence verify checks it.',
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
      ...ENCRYPTION_FLAGS,
      'from-backup': {
        type: 'boolean',
        description:
          "Drill on real data: restore the newest complete backup of --restore-config's storage under a namespace.",
      },
      namespace: {
        type: 'string',
        value: 'PREFIX',
        default: 'kafka-backup-drill',
        description:
          'With --from-backup: the start of every scratch topic name (the time and a random tail follow).',
      },
      topics: {
        type: 'string',
        value: 'GLOB,GLOB',
        defaultText: 'every topic of the backup',
        description: 'With --from-backup: which topics of the backup to restore.',
      },
      ...EVIDENCE_SIGNING_FLAGS,
      region: { ...LOCATION_FLAGS.region, description: "The KMS key's region (--evidence-kms-key-id)." },
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
        description:
          'Leave the test topic, group and drill backup (with --from-backup: the scratch topics) in place for a look around.',
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
      {
        command:
          'kafka-backup drill --from-backup --restore-config dr-restore.yaml --topics orders,payments --evidence-key drill.key',
        does: 'Restore the newest backup of orders and payments under a scratch namespace, check, delete, sign the evidence.',
      },
    ],
    env: ['KAFKA_BACKUP_LOG_LEVEL', 'KAFKA_BACKUP_EVIDENCE_KEY', 'AWS_REGION', 'AWS_PROFILE'],
    json: 'synthetic: {format_version, ok, topic, consumer_group, backup_id, records, record_size, started_at, duration_ms, steps: [{name, ok, duration_ms, detail}], partitions: [{partition, produced, backed_up, restored, digest_match, committed_source_offset, resumed_at_source_offset, ok}], evidence: {id, location, signed, key_id, rpo_seconds, rto_seconds, projected_full_restore_seconds}}; --from-backup: the evidence report (docs/format.md) plus evidence',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.verificationFailed],
  },
  async ({ values }, out) => {
    const logger = cliLogger({ format: values['log-format'] });
    // Before any Kafka work: a key that cannot be read should stop the drill, not its last step.
    const signer = await evidenceSigner(values);
    if (values['from-backup']) return backupDrill(values, { logger, signer, out });
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
    if (values.format === 'json') {
      out(jsonDocument({ ...report, evidence: stored }));
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
      printEvidence(stored, out);
      if (values.report) out(`report saved to ${values.report}`);
    }
    return report.ok ? ExitCode.ok : ExitCode.verificationFailed;
  },
);

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
  store: ObjectStore,
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

function printEvidence(e: StoredEvidenceSummary, out: Out): void {
  const s = (v: number | null) => (v === null ? 'unknown' : `${v.toFixed(1)} s`);
  out('');
  out(
    `evidence ${e.id} in ${e.location}/evidence/${e.id}/ (${e.signed ? `signed by ${e.key_id}` : 'NOT signed'}): RPO ${s(e.rpo_seconds)}, restore ${s(e.rto_seconds)}, whole backup ${s(e.projected_full_restore_seconds)}`,
  );
}

async function backupDrill(
  values: {
    'restore-config'?: string | undefined;
    namespace: string;
    topics?: string | undefined;
    keep?: boolean | undefined;
    report?: string | undefined;
    format: string;
  },
  o: { logger: Logger; signer: EvidenceSigner | undefined; out: Out },
): Promise<number> {
  const file = values['restore-config'];
  if (!file)
    throw new UsageError('Missing flag --restore-config for kafka-backup drill --from-backup', {
      hint: 'The restore config names the DR cluster (target) and the location whose newest backup is drilled (storage).',
    });
  const r = loadRestoreConfig(file);
  const store = openStore(r.storage);
  const topics = values.topics?.split(',').filter(Boolean);
  const { evidence, scratchTopics } = await runBackupDrill({
    target: r.target,
    store,
    storage: r.storage,
    namespace: values.namespace,
    ...(topics ? { topics: { include: topics, exclude: [] } } : {}),
    keep: Boolean(values.keep),
    logger: o.logger,
  });
  const stored = await storeEvidence(store, evidence, o.signer, o.logger);
  if (values.report)
    writeFileSync(
      values.report,
      values.report.endsWith('.md') ? renderEvidenceMarkdown(evidence) : JSON.stringify(evidence, null, 2),
    );
  if (values.format === 'json') {
    o.out(jsonDocument({ ...evidence, evidence: stored }));
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
    if (values.keep && scratchTopics.length > 0) o.out(`\nkept for a look: ${scratchTopics.join(', ')}`);
    printEvidence(stored, o.out);
  }
  return evidence.ok ? ExitCode.ok : ExitCode.verificationFailed;
}
