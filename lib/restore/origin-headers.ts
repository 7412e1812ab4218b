import type { RecordHeader } from '../format/record.ts';

/**
 * Headers added with `restore.include_original_offset_header`: where each restored record came from. Values
 * are UTF-8 decimal strings so any consumer can read them.
 */
export const OriginHeader = {
  offset: 'kafka-backup.source.offset',
  partition: 'kafka-backup.source.partition',
  timestamp: 'kafka-backup.source.timestamp',
  cluster: 'kafka-backup.source.cluster',
} as const;

export function originHeaders(source: {
  offset: number;
  partition: number;
  timestamp: number;
  clusterId: string;
}): RecordHeader[] {
  return [
    { key: OriginHeader.offset, value: Buffer.from(String(source.offset)) },
    { key: OriginHeader.partition, value: Buffer.from(String(source.partition)) },
    { key: OriginHeader.timestamp, value: Buffer.from(String(source.timestamp)) },
    { key: OriginHeader.cluster, value: Buffer.from(source.clusterId) },
  ];
}
