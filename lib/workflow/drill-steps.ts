import type { BackupConfig, RestoreConfig } from '../config/index.ts';
import {
  type DrillReport,
  deleteScratchTopics,
  runBackupDrill,
  runDrill,
  scratchPrefixOf,
  syntheticDrillEvidence,
} from '../drill/index.ts';
import { ConfigError, InvalidEventError } from '../errors.ts';
import {
  type EvidenceReport,
  type EvidenceSigner,
  keyFileSigner,
  kmsSigner,
  writeEvidence,
} from '../evidence/index.ts';
import { KafkaCluster, type KafkaConnectionSettings } from '../kafka/index.ts';
import { UNKNOWN_CLUSTER } from '../metrics/index.ts';
import { openStore } from '../storage/index.ts';
import { assertNoLiteralSecrets, parseBackupInput, parseRestoreInput, type RawConfig } from './config.ts';
import type { DrillInput, StepEvent } from './events.ts';
import { STEP_ENV } from './names.ts';
import { configVariables, policyFromEnv } from './policy.ts';
import type { StepRuntime } from './runtime.ts';

/**
 * The drill workflow's two steps (lib/infra/workflows/drill-workflow.ts): RunDrill runs a drill (the newest backup
 * restored into a scratch namespace of the DR cluster, or the synthetic drill), signs its evidence and stores it
 * next to the backups; CleanUpDrill, after a drill that failed without returning (a Lambda timeout, a crash),
 * deletes what it may have left: the topics under the execution's scratch prefix, and nothing else.
 */

const now = (rt: StepRuntime) => (rt.now ? rt.now() : new Date());

/** A drill's clusters and location, parsed as every step parses a config: policy checked, secret merged. */
interface DrillConfigs {
  restore: RestoreConfig;
  /** The source cluster of a synthetic drill. */
  source: KafkaConnectionSettings | undefined;
}

async function drillConfigs(rt: StepRuntime, drill: DrillInput): Promise<DrillConfigs> {
  const where = 'execution input "drill.config"';
  const o = {
    env: configVariables(rt.env),
    policy: policyFromEnv(rt.env),
    now: now(rt),
    secret: await rt.secret(),
  };
  assertNoLiteralSecrets(drill.config, 'target', where);
  const restore = parseRestoreInput({ ...drill.config, backup_id: 'latest' }, { source: where, ...o });
  if (drill.kind !== 'synthetic') return { restore, source: undefined };
  const sourceWhere = 'execution input "drill.source_config"';
  if (!drill.source_config)
    throw new InvalidEventError(
      `${sourceWhere}: a synthetic drill needs the source cluster's backup config`,
      {
        hint: 'The deployment file names it: dr[].drill.synthetic.backup (a KafkaBackup of the primary).',
      },
    );
  assertNoLiteralSecrets(drill.source_config, 'source', sourceWhere);
  // The synthetic drill backs up into the DR location (`_drills` of it): the only bucket this stack writes.
  const raw: RawConfig = { ...drill.source_config, storage: drill.config['storage'] };
  const backup: BackupConfig = parseBackupInput(raw, { source: sourceWhere, ...o });
  const { topics: _topics, ...source } = backup.source;
  return { restore, source };
}

async function withCluster<T>(
  settings: KafkaConnectionSettings,
  role: 'source' | 'target',
  fn: (c: KafkaCluster) => Promise<T>,
): Promise<T> {
  const cluster = new KafkaCluster(settings, role, 'kafka-backup-drill');
  try {
    return await fn(cluster);
  } finally {
    await cluster.close().catch(() => undefined);
  }
}

/** The synthetic drill's topic and group, under the scratch prefix (so that the clean-up finds them). */
function syntheticNames(prefix: string) {
  return { topic: `${prefix}dr-test`, group: `${prefix}dr-drill` };
}

/**
 * Deletes what a drill of this execution left on the clusters: topics under the prefix (and the synthetic drill's
 * group). Before a drill, that is an earlier attempt of the same execution; after one, what it did not clean up.
 */
async function clearScratch(
  configs: DrillConfigs,
  prefix: string,
): Promise<{ target: string[]; source: string[] }> {
  const group = syntheticNames(prefix).group;
  const target = await withCluster(configs.restore.target, 'target', async (c) => {
    const deleted = await deleteScratchTopics(c, prefix);
    if (configs.source) await c.deleteGroups([group]);
    return deleted;
  });
  const source = configs.source
    ? await withCluster(configs.source, 'source', async (c) => {
        const deleted = await deleteScratchTopics(c, prefix);
        await c.deleteGroups([group]);
        return deleted;
      })
    : [];
  return { target, source };
}

/** The key the evidence is signed with: the drill stack's KMS key, or (outside AWS) a key file. */
async function evidenceSigner(rt: StepRuntime): Promise<EvidenceSigner> {
  const kms = rt.env[STEP_ENV.evidenceKmsKey];
  if (kms) return kmsSigner({ keyId: kms });
  const file = rt.env[STEP_ENV.evidenceKeyFile];
  if (file) return keyFileSigner(file);
  throw new ConfigError(
    `drill-run: no key to sign the evidence with: set ${STEP_ENV.evidenceKmsKey} (a KMS key ARN) or ${STEP_ENV.evidenceKeyFile} (a key file)`,
    {
      hint: 'The DR stack sets the KMS key on its drill function; for `kafka-backup step drill-run`, make a key with `kafka-backup evidence keygen --out NAME`.',
    },
  );
}

function triggeredBy(e: StepEvent<'drill-run'>): EvidenceReport['triggered_by'] {
  const principal =
    e.trigger.principal ??
    (e.trigger.via === 'schedule'
      ? 'EventBridge Scheduler'
      : 'StartExecution by hand (CloudTrail names the caller)');
  return { via: e.trigger.via, principal, execution: e.execution.id };
}

export async function drillRunStep(e: StepEvent<'drill-run'>, rt: StepRuntime) {
  // Before any Kafka work: a drill whose evidence cannot be signed proves nothing to an auditor.
  const signer = await evidenceSigner(rt);
  const prefix = scratchPrefixOf(e.scratch_prefix);
  rt.appendKeys?.({ drill_kind: e.drill.kind, scratch_prefix: prefix });
  const configs = await drillConfigs(rt, e.drill);
  const store = openStore(configs.restore.storage);
  const leftovers = await clearScratch(configs, prefix);
  if (leftovers.target.length + leftovers.source.length > 0)
    rt.logger.warn('deleted the scratch topics of an earlier attempt of this execution', leftovers);
  let evidence: EvidenceReport;
  if (e.drill.kind === 'backup') {
    ({ evidence } = await runBackupDrill({
      target: configs.restore.target,
      store,
      storage: configs.restore.storage,
      scratchPrefix: prefix,
      ...(e.drill.topics ? { topics: e.drill.topics } : {}),
      ...(e.drill.source_cluster_id ? { sourceClusterId: e.drill.source_cluster_id } : {}),
      keep: false,
      triggeredBy: triggeredBy(e),
      logger: rt.logger,
      ...(rt.now ? { now: rt.now } : {}),
    }));
  } else {
    const report: DrillReport = await runDrill({
      source: configs.source!,
      target: configs.restore.target,
      backupStorage: configs.restore.storage,
      records: e.drill.synthetic.records,
      recordSize: e.drill.synthetic.record_size,
      partitions: e.drill.synthetic.partitions,
      keep: false,
      replicationTimeoutMs: 0,
      logger: rt.logger,
      names: syntheticNames(prefix),
      ...(rt.now ? { now: rt.now } : {}),
    });
    evidence = await syntheticDrillEvidence(report, { productionStore: store, triggeredBy: triggeredBy(e) });
  }
  const stored = await writeEvidence(store, evidence, signer, now(rt));
  const sourceClusterId = e.drill.source_cluster_id ?? evidence.versions.source_cluster_id ?? UNKNOWN_CLUSTER;
  const rpo = evidence.rpo.backup_age_seconds;
  rt.metrics.drillFinished({
    sourceClusterId,
    passed: evidence.ok,
    rpoSeconds: rpo,
    rtoSeconds: evidence.rto.projected_full_restore_seconds,
  });
  // A passing drill is the strongest proof of readiness there is; a failing one, of the opposite.
  rt.metrics.drReady({
    sourceClusterId,
    ready: evidence.ok && rpo !== null && rpo <= e.drill.max_backup_age_seconds,
  });
  const failed = evidence.steps.filter((s) => !s.ok);
  const outcome = { evidence_id: evidence.id, failed_steps: failed.map((s) => `${s.name}: ${s.detail}`) };
  if (evidence.ok) rt.logger.info('drill passed', outcome);
  else rt.logger.error('drill failed', outcome);
  return {
    evidence_id: evidence.id,
    ok: evidence.ok,
    kind: evidence.kind,
    location: store.location,
    evidence_keys: stored.keys,
    key_id: stored.signature.key_id,
    scratch_prefix: prefix,
    backup_id: evidence.restored.backup_id,
    source_cluster_id: sourceClusterId,
    rpo_seconds: rpo,
    replication_delay_seconds: evidence.rpo.replication_delay_seconds,
    restore_seconds: evidence.rto.restore_seconds,
    rto_seconds: evidence.rto.projected_full_restore_seconds,
    checks: evidence.checks.map((c) => ({ name: c.name, ok: c.ok })),
    failed_steps: failed.map((s) => ({ name: s.name, detail: s.detail })),
  };
}

export async function drillCleanupStep(e: StepEvent<'drill-cleanup'>, rt: StepRuntime) {
  const prefix = scratchPrefixOf(e.scratch_prefix);
  rt.appendKeys?.({ drill_kind: e.drill.kind, scratch_prefix: prefix });
  rt.logger.error('drill failed before storing its evidence', { error: e.error });
  const configs = await drillConfigs(rt, e.drill);
  const deleted = await clearScratch(configs, prefix);
  rt.logger.info('scratch namespace cleaned up', deleted);
  // No evidence, so no verdict the readiness check could read: the failed drill is counted here.
  rt.metrics.drillFinished({
    sourceClusterId: e.drill.source_cluster_id ?? UNKNOWN_CLUSTER,
    passed: false,
    rpoSeconds: null,
    rtoSeconds: null,
  });
  return { scratch_prefix: prefix, deleted };
}
