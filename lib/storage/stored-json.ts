import type { z } from 'zod';
import { CorruptDataError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

/** Parses a stored JSON object; damage is a CorruptDataError naming the object, never a raw SyntaxError. */
export function parseStoredJson<S extends z.ZodType>(
  store: ObjectStore,
  key: string,
  raw: Buffer,
  schema: S,
  what = 'object',
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new CorruptDataError(`${store.location}/${key} is not valid JSON`, {
      hint: 'The object was damaged or edited; restore it from the bucket version history or use another backup.',
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptDataError(
      `${store.location}/${key} is not a valid ${what}: ${issue?.path.join('.')} ${issue?.message}`,
      {
        hint: 'It was written by an incompatible version or damaged; use another backup.',
      },
    );
  }
  return parsed.data;
}

/** A stored JSON object of `schema`, or undefined when absent. */
export async function readStoredJson<S extends z.ZodType>(
  store: ObjectStore,
  key: string,
  schema: S,
): Promise<z.infer<S> | undefined> {
  const raw = await store.getIfExists(key);
  return raw ? parseStoredJson(store, key, raw, schema) : undefined;
}
