// Produce v9 (Kafka >= 2.4) carrying record batches we encoded ourselves (record-batch.ts): the client's own
// request builds batches from header Maps. The response parser is the client's; it throws a ResponseError
// naming each failed partition.
//
// Produce Request (Version: 9) => transactional_id acks timeout_ms [topic_data] TAG_BUFFER
//   transactional_id => COMPACT_NULLABLE_STRING
//   acks => INT16
//   timeout_ms => INT32
//   topic_data => name [partition_data] TAG_BUFFER
//     name => COMPACT_STRING
//     partition_data => index records TAG_BUFFER
//       index => INT32
//       records => COMPACT_RECORDS
import { createAPI, produceV9, Writer } from '@platformatic/kafka';

export interface ProducePartitionData {
  topic: string;
  partition: number;
  /** One or more encoded record batches. */
  batch: Buffer;
}

export function createRequest(acks: number, timeoutMs: number, data: ProducePartitionData[]): Writer {
  const byTopic = new Map<string, ProducePartitionData[]>();
  for (const d of data) {
    const list = byTopic.get(d.topic);
    if (list) list.push(d);
    else byTopic.set(d.topic, [d]);
  }
  return Writer.create()
    .appendString(null)
    .appendInt16(acks)
    .appendInt32(timeoutMs)
    .appendArray([...byTopic], (w, [topic, partitions]) => {
      w.appendString(topic).appendArray(partitions, (w, p) => {
        w.appendInt32(p.partition)
          .appendUnsignedVarInt(p.batch.length + 1)
          .append(p.batch);
      });
    })
    .appendTaggedFields();
}

export const produceRecordsV9 = createAPI(0, 9, createRequest, produceV9.parseResponse);
