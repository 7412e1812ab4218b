// Confluent's wire format: a key or value serialized with a Schema Registry starts with magic byte 0 and the
// schema's id as a 4-byte big-endian integer, then the payload. A restore into a registry that gave a schema
// another id rewrites those 4 bytes; nothing else of the record changes.

export const WIRE_FORMAT_MAGIC = 0;
const HEADER_BYTES = 5;

/** The schema id a key or value carries, or undefined when it is not in the wire format. */
export function wireFormatSchemaId(bytes: Buffer | null | undefined): number | undefined {
  if (!bytes || bytes.length < HEADER_BYTES || bytes[0] !== WIRE_FORMAT_MAGIC) return undefined;
  return bytes.readInt32BE(1);
}

/** Counts of what a rewrite did, for the restore's report. */
export interface SchemaIdRewriteStats {
  rewritten: number;
  /** In the wire format, with an id the backup's registry did not know: left as they were. */
  unknown_ids: number;
}

/**
 * The function the restore path calls on every record's key and value: a copy with the id replaced where `ids`
 * maps it to another one, the same buffer otherwise (not in the wire format, an id kept, an id not mapped).
 */
export function schemaIdRewriter(ids: ReadonlyMap<number, number>) {
  const stats: SchemaIdRewriteStats = { rewritten: 0, unknown_ids: 0 };
  const one = (bytes: Buffer | null): Buffer | null => {
    const id = wireFormatSchemaId(bytes);
    if (id === undefined) return bytes;
    const to = ids.get(id);
    if (to === undefined) {
      stats.unknown_ids++;
      return bytes;
    }
    if (to === id) return bytes;
    const copy = Buffer.from(bytes!);
    copy.writeInt32BE(to, 1);
    stats.rewritten++;
    return copy;
  };
  return {
    stats,
    rewrite: (key: Buffer | null, value: Buffer | null) => ({ key: one(key), value: one(value) }),
  };
}

export type RecordRewrite = (
  key: Buffer | null,
  value: Buffer | null,
) => { key: Buffer | null; value: Buffer | null };
