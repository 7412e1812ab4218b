// Cluster metadata beside the records: Schema Registry subjects, ACLs, client quotas, SCRAM users (captured with a
// backup, applied on a restore target after a printed plan), and topic config drift.
export {
  captureBackupMetadata,
  captureMetadata,
  loadBackupMetadata,
  principalOf,
  storedMetadataRef,
} from './capture-metadata.ts';
export { applyTopicConfigs, type ConfigDrift, diffTopicConfigs, type TopicDrift } from './config-drift.ts';
export { ClusterMetadata, METADATA_FORMAT_VERSION, MetadataLayout } from './metadata-format.ts';
export { type Renames, targetAcl, targetPrincipal, targetSubject } from './renames.ts';
export {
  applyMetadataRestore,
  type MetadataRestoreContext,
  type MetadataRestorePlan,
  type MetadataRestoreReport,
  planMetadataRestore,
  renamesOf,
  schemaIdRewriteFor,
} from './restore-metadata.ts';
export type { SchemaRestorePlan, SchemaRestoreReport, SubjectReport } from './restore-schemas.ts';
export { sameSchema } from './restore-schemas.ts';
export type { AclPlan, QuotaPlan, UserPlan } from './restore-security.ts';
export { RegistryHttpError, SchemaRegistryClient } from './schema-registry-client.ts';
export {
  type RecordRewrite,
  type SchemaIdRewriteStats,
  schemaIdRewriter,
  WIRE_FORMAT_MAGIC,
  wireFormatSchemaId,
} from './wire-format.ts';
