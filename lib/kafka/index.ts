// The engine's only door to Kafka. Importing this module loads kafkajs with its patches and codecs.
export {
  type CommittedOffset,
  type GroupState,
  type IsolationLevel,
  KafkaCluster,
  type PartitionOffsets,
  type TopicDescription,
} from './cluster.ts';
export { type KafkaConnectionSettings, kafkaClientConfig } from './connection.ts';
export { firstRecordsForGroup, type ProbedRecord } from './group-probe.ts';
export { kafkajs } from './kafkajs-patched.ts';
export { type PartitionRange, type ReadBatch, type ReadOptions, readPartitions } from './partition-reader.ts';
