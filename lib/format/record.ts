// The record type is Kafka's (lib/kafka/record.ts): the format stores records as the broker gave them, and
// lib/kafka must not import lib/format (no cycle between the two).
export { type BackupRecord, type RecordHeader, TimestampType } from '../kafka/index.ts';
