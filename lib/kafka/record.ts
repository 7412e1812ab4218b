/** One Kafka record as backed up: every byte the broker gave us, nothing re-encoded. */
export interface BackupRecord {
  /** Source offset. Offsets have gaps (compaction, transaction markers): compare, never count. */
  offset: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  timestampType: TimestampType;
  /** null and an empty buffer are different records. */
  key: Buffer | null;
  value: Buffer | null;
  /** In wire order; duplicate keys and null values kept. */
  headers: RecordHeader[];
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];
