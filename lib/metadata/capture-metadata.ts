// Reads the cluster metadata a backup config asks for (backup.metadata) and stores it next to the manifest.
import { createHash } from 'node:crypto';
import type { BackupConfig, MetadataPart } from '../config/index.ts';
import { KafkaAccessError, SchemaRegistryAccessError, UserError } from '../errors.ts';
import { describeAcls, describeClientQuotas, describeScramUsers, type KafkaCluster } from '../kafka/index.ts';
import { mapLimit } from '../map-limit.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { parseStoredJson, readStoredJson } from '../storage/stored-json.ts';
import {
  ClusterMetadata,
  METADATA_FORMAT_VERSION,
  MetadataLayout,
  type StoredSchemas,
  type StoredSubject,
} from './metadata-format.ts';
import { SchemaRegistryClient } from './schema-registry-client.ts';

/** What reading each part needs, said the way an operator grants it. */
const NEEDS: Record<Exclude<MetadataPart, 'schemas'>, string> = {
  acls: 'DESCRIBE on the cluster (DescribeAcls)',
  quotas: 'DESCRIBE_CONFIGS on the cluster (DescribeClientQuotas)',
  users: 'DESCRIBE on the cluster (DescribeUserScramCredentials)',
};

export async function readSchemas(registry: SchemaRegistryClient): Promise<StoredSchemas> {
  const subjects = await registry.subjects();
  const stored = await mapLimit(subjects, 4, async (subject): Promise<StoredSubject> => {
    const versions = await registry.versions(subject);
    return {
      subject,
      compatibility: await registry.subjectCompatibility(subject),
      mode: await registry.subjectMode(subject),
      versions: await mapLimit(versions, 4, async (v) => {
        const sv = await registry.version(subject, v);
        return {
          version: sv.version,
          id: sv.id,
          schema_type: sv.schemaType,
          schema: sv.schema,
          references: sv.references,
        };
      }),
    };
  });
  return {
    registry_url: registry.url,
    global_compatibility: await registry.globalCompatibility(),
    global_mode: await registry.globalMode(),
    subjects: stored,
  };
}

/**
 * Reads every part of `parts`. A part that cannot be read fails the whole capture, with one error naming each
 * such part, why, and what the principal needs: a backup that silently lacked the ACLs it was asked for would be
 * found out during a failover.
 */
export async function captureMetadata(opts: {
  backupId: string;
  parts: readonly MetadataPart[];
  source: KafkaCluster;
  registry: SchemaRegistryClient | undefined;
  principal: string;
  now: Date;
}): Promise<ClusterMetadata> {
  const out: ClusterMetadata = {
    format_version: METADATA_FORMAT_VERSION,
    backup_id: opts.backupId,
    captured_at: opts.now.toISOString(),
    parts: [...opts.parts],
  };
  const failures: { part: MetadataPart; error: unknown }[] = [];
  await Promise.all(
    opts.parts.map(async (part) => {
      try {
        if (part === 'schemas') {
          if (!opts.registry) throw new UserError('no schema_registry section in the config');
          out.schemas = await readSchemas(opts.registry);
        } else if (part === 'acls') out.acls = await describeAcls(opts.source);
        else if (part === 'quotas') out.quotas = await describeClientQuotas(opts.source);
        else out.users = await describeScramUsers(opts.source);
      } catch (error) {
        failures.push({ part, error });
      }
    }),
  );
  if (failures.length === 0) return out;
  const lines = failures
    .sort((a, b) => a.part.localeCompare(b.part))
    .map(({ part, error }) => {
      const why = error instanceof Error ? error.message : String(error);
      return part === 'schemas'
        ? `schemas: ${why}`
        : `${part}: ${why} (${opts.principal} needs ${NEEDS[part]})`;
    });
  const kafka = failures.some((f) => f.part !== 'schemas');
  const message = `backup.metadata: could not read ${failures.map((f) => f.part).join(', ')} — ${lines.join('; ')}`;
  const hint = kafka
    ? `Grant the source principal what is named above (e.g. kafka-acls --bootstrap-server ... --add --allow-principal ${opts.principal} --operation Describe --operation DescribeConfigs --cluster), or remove the part from backup.metadata.`
    : 'Check schema_registry (url, credentials), or remove schemas from backup.metadata.';
  throw kafka ? new KafkaAccessError(message, { hint }) : new SchemaRegistryAccessError(message, { hint });
}

/** The principal the source connection authenticates as, for messages (`User:ANONYMOUS` without SASL). */
export function principalOf(config: Pick<BackupConfig, 'source'>): string {
  const user = config.source.security?.sasl_username;
  return user ? `User:${user}` : "User:ANONYMOUS (or the client certificate's name)";
}

/**
 * Captures the configured parts for a backup unless a run of it already did (a resumed backup keeps what its
 * first run read, taken at the same cut). Returns undefined when backup.metadata is empty.
 */
export async function captureBackupMetadata(ctx: {
  config: BackupConfig;
  store: ObjectStore;
  source: KafkaCluster;
  now?: () => Date;
}): Promise<ClusterMetadata | undefined> {
  const { config, store } = ctx;
  const parts = config.backup.metadata;
  if (parts.length === 0) return undefined;
  const key = MetadataLayout.object(config.backup_id);
  const existing = await readStoredJson(store, key, ClusterMetadata);
  if (existing) return existing;
  const metadata = await captureMetadata({
    backupId: config.backup_id,
    parts,
    source: ctx.source,
    registry: config.schema_registry ? new SchemaRegistryClient(config.schema_registry) : undefined,
    principal: principalOf(config),
    now: ctx.now ? ctx.now() : new Date(),
  });
  await store.putIfAbsent(key, JSON.stringify(metadata, null, 2));
  return metadata;
}

/** A backup's stored metadata, or undefined when it captured none. */
export async function loadBackupMetadata(
  store: ObjectStore,
  backupId: string,
): Promise<ClusterMetadata | undefined> {
  return readStoredJson(store, MetadataLayout.object(backupId), ClusterMetadata);
}

/** The manifest's pointer to a backup's metadata object (key, parts, checksum), or undefined when there is none. */
export async function storedMetadataRef(
  store: ObjectStore,
  backupId: string,
): Promise<{ key: string; parts: MetadataPart[]; sha256: string } | undefined> {
  const key = MetadataLayout.object(backupId);
  const raw = await store.getIfExists(key);
  if (!raw) return undefined;
  const metadata = parseStoredJson(store, key, raw, ClusterMetadata, 'metadata object');
  return { key, parts: metadata.parts, sha256: createHash('sha256').update(raw).digest('hex') };
}
