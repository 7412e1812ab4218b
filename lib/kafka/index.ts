// The engine's only door to Kafka (the client library is imported nowhere else; biome enforces it).
export type { KafkaConnectionSettings } from './client-options.ts';
export {
  type CommittedOffset,
  type GroupState,
  type IsolationLevel,
  KafkaCluster,
  type PartitionOffsets,
  type TopicDescription,
} from './cluster.ts';
export { firstRecordsForGroup, type ProbedRecord } from './group-probe.ts';
export {
  type FetchedBatch,
  type PartitionRange,
  type ReadBatch,
  type ReadOptions,
  readPartitions,
} from './partition-reader.ts';
export {
  OutgoingBatch,
  type OutputCodec,
  resendable,
  type StoredBatch,
} from './protocol/batch-builder.ts';
export {
  type BatchScan,
  batchesIn,
  type CodecName,
  decodeRecords,
  RecordBatchError,
  type RecordBatchHeader,
  readBatchHeader,
  recordsRegion,
  scanBatch,
  verifyCrc,
} from './protocol/record-batch.ts';
export { type BackupRecord, type RecordHeader, TimestampType } from './record.ts';
export {
  IdempotentWriter,
  type OutgoingRecord,
  RecordTooLargeError,
  type RecordWriter,
} from './record-writer.ts';
export {
  ACL_OPERATIONS,
  ACL_RESOURCE_TYPES,
  type AclBinding,
  aclKey,
  alterClientQuotas,
  type ClientQuota,
  createAcls,
  deleteAcls,
  describeAcls,
  describeClientQuotas,
  describeScramUsers,
  QUOTA_ENTITY_TYPES,
  quotaEntityKey,
  SCRAM_MECHANISMS,
  type ScramMechanism,
  type ScramUser,
  setTopicConfigs,
  upsertScramUsers,
} from './security-metadata.ts';
export { MIN_KAFKA_VERSION } from './versions.ts';
