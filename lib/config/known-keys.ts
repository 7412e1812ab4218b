import { z } from 'zod';

/**
 * The keys a strict object in `schema` accepts at `path` (a zod issue path), for suggesting what an unknown key
 * was meant to be. `data` is the parsed YAML: it picks the branch of a discriminated union; where it cannot
 * (the discriminator is missing or wrong), the keys of every branch count.
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[], data: unknown): string[] {
  const keys = new Set<string>();
  for (const object of objectsAt(schema, path, data))
    for (const key of Object.keys(object.shape)) keys.add(key);
  return [...keys];
}

function objectsAt(schema: z.ZodType, path: readonly PropertyKey[], data: unknown): z.ZodObject[] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodUnion) {
    return branchesFor(inner, data).flatMap((branch) => objectsAt(branch as z.ZodType, path, data));
  }
  if (path.length === 0) return inner instanceof z.ZodObject ? [inner] : [];
  const [head, ...rest] = path;
  const child = isRecord(data) ? data[String(head)] : Array.isArray(data) ? data[Number(head)] : undefined;
  if (inner instanceof z.ZodObject) {
    const field = inner.shape[String(head)] as z.ZodType | undefined;
    return field ? objectsAt(field, rest, child) : [];
  }
  if (inner instanceof z.ZodArray) return objectsAt(inner.element as z.ZodType, rest, child);
  if (inner instanceof z.ZodRecord) return objectsAt(inner.valueType as z.ZodType, rest, child);
  return [];
}

/** Strips the wrappers that do not change which keys an object takes. */
function unwrap(schema: z.ZodType): z.ZodType {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault
  ) {
    return unwrap(schema.unwrap() as z.ZodType);
  }
  // z.preprocess(f, s) is a pipe from a transform into s; s.transform(f) is a pipe from s into a transform.
  if (schema instanceof z.ZodPipe) {
    return unwrap((schema.in instanceof z.ZodTransform ? schema.out : schema.in) as z.ZodType);
  }
  return schema;
}

function branchesFor(union: z.ZodUnion, data: unknown): readonly unknown[] {
  const discriminator = (union.def as { discriminator?: string }).discriminator;
  if (discriminator === undefined || !isRecord(data)) return union.options;
  const chosen = union.options.filter((branch) => {
    const object = unwrap(branch as z.ZodType);
    const tag = object instanceof z.ZodObject ? unwrap(object.shape[discriminator] as z.ZodType) : undefined;
    return tag instanceof z.ZodLiteral && tag.values.has(data[discriminator] as never);
  });
  return chosen.length > 0 ? chosen : union.options;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
