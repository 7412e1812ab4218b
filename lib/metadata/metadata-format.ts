// The stored form of a backup's cluster metadata: `backups/<id>/metadata.json` (docs/format.md).
import { z } from 'zod';
import { ACL_OPERATIONS, ACL_RESOURCE_TYPES, QUOTA_ENTITY_TYPES, SCRAM_MECHANISMS } from '../kafka/index.ts';
import { BackupLayout } from '../storage/layout.ts';

export const METADATA_FORMAT_VERSION = 1;

export const StoredReference = z.object({
  name: z.string(),
  subject: z.string(),
  version: z.number().int().positive(),
});

export const StoredSchemaVersion = z.object({
  version: z.number().int().positive(),
  /** The schema's id in the source registry: what records in Confluent's wire format carry. */
  id: z.number().int().nonnegative(),
  schema_type: z.string(),
  schema: z.string(),
  references: z.array(StoredReference),
});
export type StoredSchemaVersion = z.infer<typeof StoredSchemaVersion>;

export const StoredSubject = z.object({
  subject: z.string(),
  /** Set on the subject itself; null = follows the global level. */
  compatibility: z.string().nullable(),
  mode: z.string().nullable(),
  versions: z.array(StoredSchemaVersion),
});
export type StoredSubject = z.infer<typeof StoredSubject>;

export const StoredSchemas = z.object({
  registry_url: z.string(),
  global_compatibility: z.string().nullable(),
  global_mode: z.string().nullable(),
  subjects: z.array(StoredSubject),
});
export type StoredSchemas = z.infer<typeof StoredSchemas>;

export const StoredAcl = z.object({
  resource_type: z.enum(ACL_RESOURCE_TYPES),
  resource_name: z.string(),
  pattern_type: z.enum(['LITERAL', 'PREFIXED']),
  principal: z.string(),
  host: z.string(),
  operation: z.enum(ACL_OPERATIONS),
  permission: z.enum(['ALLOW', 'DENY']),
});

export const StoredQuota = z.object({
  entity: z.array(z.object({ type: z.enum(QUOTA_ENTITY_TYPES), name: z.string().nullable() })),
  values: z.record(z.string(), z.number()),
});

export const StoredScramUser = z.object({
  name: z.string(),
  mechanisms: z.array(
    z.object({ mechanism: z.enum(SCRAM_MECHANISMS), iterations: z.number().int().positive() }),
  ),
});

export const ClusterMetadata = z.object({
  format_version: z.literal(METADATA_FORMAT_VERSION),
  backup_id: z.string(),
  captured_at: z.string(),
  /** Parts captured (backup.metadata); a part not listed is absent, not empty. */
  parts: z.array(z.enum(['schemas', 'acls', 'quotas', 'users'])),
  schemas: StoredSchemas.optional(),
  acls: z.array(StoredAcl).optional(),
  quotas: z.array(StoredQuota).optional(),
  /** Names and mechanisms only: a SCRAM user's salt and salted password are never read. */
  users: z.array(StoredScramUser).optional(),
});
export type ClusterMetadata = z.infer<typeof ClusterMetadata>;

export const MetadataLayout = {
  object: (backupId: string) => BackupLayout.metadata(backupId),
} as const;
