import { describe, expect, it } from 'vitest';
import { schemaIdRewriter, wireFormatSchemaId } from '../../../lib/metadata/index.ts';

function framed(id: number, payload: string): Buffer {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = 0;
  b.writeInt32BE(id, 1);
  b.write(payload, 5);
  return b;
}

describe('Confluent wire format', () => {
  it('reads the schema id after magic byte 0', () => {
    expect(wireFormatSchemaId(framed(42, 'avro'))).toBe(42);
    expect(wireFormatSchemaId(framed(70000, ''))).toBe(70000);
  });

  it('does not take other bytes for the wire format', () => {
    expect(wireFormatSchemaId(null)).toBeUndefined();
    expect(wireFormatSchemaId(Buffer.from('{"json":1}'))).toBeUndefined();
    expect(wireFormatSchemaId(Buffer.from([0, 0, 0, 1]))).toBeUndefined(); // too short for magic + id
  });

  it('rewrites mapped ids in keys and values, leaving the payload and everything else as it was', () => {
    const r = schemaIdRewriter(
      new Map([
        [1, 101],
        [2, 2],
      ]),
    );
    const value = framed(1, 'payload-bytes');
    const out = r.rewrite(framed(2, 'k'), value);
    expect(wireFormatSchemaId(out.value)).toBe(101);
    expect(out.value!.subarray(5).toString()).toBe('payload-bytes');
    // The input buffer is not changed (it may be shared with the reader).
    expect(wireFormatSchemaId(value)).toBe(1);
    // A kept id: the very same buffer.
    const key = framed(2, 'k');
    expect(r.rewrite(key, null).key).toBe(key);
    expect(r.stats).toEqual({ rewritten: 1, unknown_ids: 0 });
  });

  it('counts ids the map does not know and leaves those records alone', () => {
    const r = schemaIdRewriter(new Map([[1, 5]]));
    const plain = Buffer.from('not framed');
    const unknown = framed(9, 'x');
    const out = r.rewrite(plain, unknown);
    expect(out.key).toBe(plain);
    expect(out.value).toBe(unknown);
    expect(r.stats).toEqual({ rewritten: 0, unknown_ids: 1 });
  });
});
