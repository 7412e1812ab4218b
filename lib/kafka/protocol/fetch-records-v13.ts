// Fetch v13 (Kafka >= 3.1: topics by id) whose response keeps each partition's records as the raw bytes the
// broker sent, so record-batch.ts can check and decode them (the client's own v13 parser decodes them without a
// CRC check and turns headers into pairs of buffers). The request is the client's.
//
// Fetch Response (Version: 13) => throttle_time_ms error_code session_id [responses] TAG_BUFFER
//   responses => topic_id [partitions] TAG_BUFFER
//     topic_id => UUID
//     partitions => partition_index error_code high_watermark last_stable_offset log_start_offset
//                   [aborted_transactions] preferred_read_replica records TAG_BUFFER
//       partition_index => INT32 | error_code => INT16 | high_watermark, last_stable_offset, log_start_offset => INT64
//       aborted_transactions => producer_id INT64 first_offset INT64 TAG_BUFFER
//       preferred_read_replica => INT32
//       records => COMPACT_RECORDS (unsigned varint length + 1, then the batches)
//       tagged: 0 diverging_epoch, 1 current_leader (leader_id, leader_epoch), 2 snapshot_id
import { createAPI, fetchV13, type Reader, readKnownTaggedFields } from '@platformatic/kafka';

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: number;
}

export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: AbortedTransaction[];
  /** The record batches as sent; the last one may be cut short by the size limit. */
  records: Buffer;
}

export interface FetchedTopic {
  topicId: string;
  partitions: FetchedPartition[];
}

export interface RawFetchResponse {
  errorCode: number;
  responses: FetchedTopic[];
}

const EMPTY = Buffer.alloc(0);

export function parseResponse(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Reader,
): RawFetchResponse {
  reader.readInt32(); // throttle_time_ms
  const errorCode = reader.readInt16();
  reader.readInt32(); // session_id
  const responses = reader.readArray((r) => ({
    topicId: r.readUUID(),
    partitions: r.readArray(
      (r) => {
        const p: FetchedPartition = {
          partition: r.readInt32(),
          errorCode: r.readInt16(),
          highWatermark: Number(r.readInt64()),
          lastStableOffset: Number(r.readInt64()),
          logStartOffset: Number(r.readInt64()),
          abortedTransactions:
            r.readNullableArray((r) => ({ producerId: r.readInt64(), firstOffset: Number(r.readInt64()) })) ??
            [],
          records: EMPTY,
        };
        r.readInt32(); // preferred_read_replica
        const size = r.readUnsignedVarInt() - 1;
        if (size > 0) {
          p.records = r.buffer.slice(r.position, r.position + size);
          r.skip(size);
        }
        readKnownTaggedFields(r, {});
        return p;
      },
      true,
      false,
    ),
  }));
  readKnownTaggedFields(reader, {});
  // Partition errors are the caller's to handle one by one (a moved leader is not a failed fetch).
  return { errorCode, responses };
}

export const fetchRecordsV13 = createAPI(1, 13, fetchV13.createRequest, parseResponse);
