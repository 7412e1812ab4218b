// restore.metadata as one operation: a plan of every change on the target (printed, nothing applied), then,
// when asked, applying it: schemas first (records need their ids), then ACLs, quotas and SCRAM users.
import type { MetadataPart, RestoreConfig } from '../config/index.ts';
import { NotFoundError, UserError } from '../errors.ts';
import { resolveBackupId } from '../format/catalog.ts';
import type { KafkaCluster } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { loadBackupMetadata } from './capture-metadata.ts';
import type { ClusterMetadata } from './metadata-format.ts';
import type { Renames } from './renames.ts';
import {
  applySchemaRestore,
  planSchemaRestore,
  type SchemaRestorePlan,
  type SchemaRestoreReport,
  schemaIdMap,
} from './restore-schemas.ts';
import {
  type AclPlan,
  applyAcls,
  applyQuotas,
  applyUsers,
  planAcls,
  planQuotas,
  planUsers,
  type QuotaPlan,
  type UserPlan,
} from './restore-security.ts';
import { SchemaRegistryClient } from './schema-registry-client.ts';
import { type RecordRewrite, type SchemaIdRewriteStats, schemaIdRewriter } from './wire-format.ts';

export interface MetadataRestoreContext {
  config: RestoreConfig;
  store: ObjectStore;
  target: KafkaCluster;
  logger: Logger;
}

export interface MetadataRestorePlan {
  backup_id: string;
  parts: MetadataPart[];
  schemas?: SchemaRestorePlan;
  acls?: AclPlan;
  quotas?: QuotaPlan;
  users?: UserPlan;
}

export interface MetadataRestoreReport {
  backup_id: string;
  applied: boolean;
  plan: MetadataRestorePlan;
  /** Set once applied. */
  schemas?: SchemaRestoreReport;
}

export function renamesOf(config: RestoreConfig): Renames {
  return { topics: config.restore.topic_mapping, principals: config.restore.principal_mapping };
}

async function metadataOf(ctx: Pick<MetadataRestoreContext, 'config' | 'store'>): Promise<ClusterMetadata> {
  const backupId = await resolveBackupId(ctx.store, ctx.config.backup_id);
  const metadata = await loadBackupMetadata(ctx.store, backupId);
  if (!metadata) {
    throw new NotFoundError(`backup ${backupId} in ${ctx.store.location} captured no cluster metadata`, {
      hint: 'List the parts in backup.metadata of the backup config ([schemas, acls, quotas, users]); later backups capture them.',
    });
  }
  const missing = ctx.config.restore.metadata.filter((p) => !metadata.parts.includes(p));
  if (missing.length > 0) {
    throw new UserError(
      `restore.metadata lists ${missing.join(', ')}, which backup ${backupId} did not capture (it has: ${metadata.parts.join(', ') || 'nothing'})`,
      { hint: 'Remove them from restore.metadata, or add them to backup.metadata for later backups.' },
    );
  }
  return metadata;
}

function registryOf(config: RestoreConfig): SchemaRegistryClient {
  if (!config.schema_registry) throw new UserError('schema_registry: required for schemas');
  return new SchemaRegistryClient(config.schema_registry);
}

/** What applying restore.metadata would change on the target. Reads only. */
export async function planMetadataRestore(ctx: MetadataRestoreContext): Promise<MetadataRestorePlan> {
  const { config, target } = ctx;
  const parts = config.restore.metadata;
  if (parts.length === 0) {
    throw new UserError('restore.metadata lists nothing to restore', {
      hint: 'Set restore.metadata to the parts to apply, e.g. [schemas, acls, quotas, users].',
    });
  }
  const metadata = await metadataOf(ctx);
  const renames = renamesOf(config);
  const plan: MetadataRestorePlan = { backup_id: metadata.backup_id, parts: [...parts] };
  if (parts.includes('schemas'))
    plan.schemas = await planSchemaRestore(metadata.schemas!, registryOf(config), renames);
  if (parts.includes('acls')) plan.acls = await planAcls(metadata.acls ?? [], target, renames);
  if (parts.includes('quotas')) plan.quotas = await planQuotas(metadata.quotas ?? [], target, renames);
  if (parts.includes('users')) plan.users = await planUsers(metadata.users ?? [], target, config, renames);
  return plan;
}

/** Applies a plan made by planMetadataRestore, in order: schemas, ACLs, quotas, users. */
export async function applyMetadataRestore(
  ctx: MetadataRestoreContext,
  plan: MetadataRestorePlan,
): Promise<MetadataRestoreReport> {
  const { config, target, logger } = ctx;
  const metadata = await metadataOf(ctx);
  const report: MetadataRestoreReport = { backup_id: plan.backup_id, applied: true, plan };
  if (plan.schemas) {
    report.schemas = await applySchemaRestore(
      plan.schemas,
      metadata.schemas!,
      registryOf(config),
      renamesOf(config),
    );
    for (const s of report.schemas.subjects)
      logger.info('schemas restored', {
        subject: s.target_subject,
        kept: s.kept,
        remapped: s.remapped,
      });
  }
  if (plan.acls) {
    await applyAcls(target, plan.acls);
    logger.info('ACLs created', { created: plan.acls.create.length, present: plan.acls.present });
  }
  if (plan.quotas) {
    await applyQuotas(target, plan.quotas);
    logger.info('client quotas set', { changed: plan.quotas.change.length, present: plan.quotas.present });
  }
  if (plan.users) {
    await applyUsers(target, plan.users, config);
    logger.info('SCRAM users created', {
      created: plan.users.create.length,
      present: plan.users.present.length,
      skipped: plan.users.skipped.length,
    });
  }
  return report;
}

/**
 * The record rewrite of restore.rewrite_schema_ids for the restore path (undefined when off): maps each source id
 * to the id of the same schema in the target registry.
 */
export async function schemaIdRewriteFor(
  ctx: Pick<MetadataRestoreContext, 'config' | 'store'>,
): Promise<
  | { rewrite: RecordRewrite; stats: SchemaIdRewriteStats; ids: Map<number, number>; remapped: number }
  | undefined
> {
  if (!ctx.config.restore.rewrite_schema_ids) return undefined;
  const backupId = await resolveBackupId(ctx.store, ctx.config.backup_id);
  const metadata = await loadBackupMetadata(ctx.store, backupId);
  if (!metadata?.schemas) {
    throw new UserError(
      `restore.rewrite_schema_ids: backup ${backupId} captured no schemas, so it is not known which ids its records carry`,
      { hint: 'Back up with schemas in backup.metadata, or turn rewrite_schema_ids off.' },
    );
  }
  const ids = await schemaIdMap(metadata.schemas, registryOf(ctx.config), renamesOf(ctx.config));
  const r = schemaIdRewriter(ids);
  const remapped = [...ids].filter(([from, to]) => from !== to).length;
  return { rewrite: r.rewrite, stats: r.stats, ids, remapped };
}
