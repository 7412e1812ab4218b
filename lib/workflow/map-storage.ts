import { z } from 'zod';
import type { StorageConfig } from '../config/index.ts';
import { CorruptDataError, InvalidEventError } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/**
 * A Distributed Map's items and results travel through the backup location, not the execution state (256 KiB: a
 * few thousand work items at most): the step before the Map stores the items as one JSON array and returns this
 * pointer, the Map reads them with its ItemReader (s3:getObject, InputType JSON) and writes what every child
 * execution returned with its ResultWriter; the steps after it read the results back through the ObjectStore.
 *
 * Step Functions reads and writes these objects itself: they stay plaintext in a client-side encrypted location
 * (like the leases; they hold topic names, partitions, offsets and sizes, nothing of the records).
 */

/** What the Map's ItemReader (items) and ResultWriter (results) parameters name. Keys are full S3 keys. */
export const MapStorage = z.object({
  items: z.object({ bucket: z.string().min(1), key: z.string().min(1) }),
  results: z.object({ bucket: z.string().min(1), prefix: z.string().min(1) }),
  /** How many items: the Map's iterations. */
  count: z.number().int().nonnegative(),
});
export type MapStorage = z.infer<typeof MapStorage>;

/** A Distributed Map's output with a ResultWriter: where the Map Run's manifest is. */
export const MapRunResults = z.object({
  MapRunArn: z.string().optional(),
  ResultWriterDetails: z.object({ Bucket: z.string().min(1), Key: z.string().min(1) }),
});
export type MapRunResults = z.infer<typeof MapRunResults>;

/**
 * The ResultWriter's manifest.json (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html):
 * the result files by status of the child executions.
 */
const ResultFile = z.object({ Key: z.string().min(1), Size: z.number().int().nonnegative().optional() });
const ResultManifest = z.object({
  DestinationBucket: z.string(),
  MapRunArn: z.string().optional(),
  ResultFiles: z.object({
    SUCCEEDED: z.array(ResultFile).default([]),
    FAILED: z.array(ResultFile).default([]),
    PENDING: z.array(ResultFile).default([]),
  }),
});
/** One child execution in a result file (Transformation NONE, the default): its output as a JSON string. */
const ChildExecution = z.object({ Status: z.string(), Output: z.string().optional() });

type Storage = z.infer<typeof StorageConfig>;

/** The bucket a location is in (a folder location: its path, which only the local tests' Map emulation reads). */
function bucketOf(storage: Storage): string {
  return storage.backend === 's3' ? storage.bucket : storage.path;
}

/** What comes before a location's keys in the bucket: `prefix/`, or nothing at the bucket's root. */
function rootOf(storage: Storage): string {
  if (storage.backend !== 's3') return '';
  const prefix = (storage.prefix ?? '').replace(/^\/+|\/+$/g, '');
  return prefix === '' ? '' : `${prefix}/`;
}

/** The location key of a full bucket key, refused unless it is in the location (and, given, under `under`). */
function locationKeyOf(storage: Storage, bucket: string, key: string, what: string, under?: string): string {
  const root = rootOf(storage);
  const inside = bucket === bucketOf(storage) && key.startsWith(root);
  const relative = key.slice(root.length);
  if (!inside || (under !== undefined && !relative.startsWith(under)))
    throw new InvalidEventError(
      `${what} s3://${bucket}/${key} is not in this run's location${under ? ` under ${under}` : ''}`,
      {
        hint: 'The step reads only what its own run wrote: the state machine and the functions come from different versions, or the event was edited.',
      },
    );
  return relative;
}

/** Leases and the Map's objects stay plaintext: Step Functions reads and writes them. */
const plain = (store: ObjectStore) => store.plaintext?.() ?? store;

/** Stores a Map's items (one JSON array) and returns the pointer the Map's ItemReader and ResultWriter use. */
export async function storeMapItems(
  store: ObjectStore,
  storage: Storage,
  keys: { items: string; resultsPrefix: string },
  items: readonly unknown[],
): Promise<MapStorage> {
  await plain(store).put(keys.items, JSON.stringify(items));
  const bucket = bucketOf(storage);
  return {
    items: { bucket, key: `${rootOf(storage)}${keys.items}` },
    // ResultWriter adds `/<map run id>/manifest.json` (and the result files) under the prefix.
    results: { bucket, prefix: `${rootOf(storage)}${keys.resultsPrefix.replace(/\/+$/, '')}` },
    count: items.length,
  };
}

/** A Map's items as the step before it stored them. */
export async function loadMapItems<T>(store: ObjectStore, key: string, item: z.ZodType<T>): Promise<T[]> {
  const r = z.array(item).safeParse(parseJson(await plain(store).get(key), `${store.location}/${key}`));
  if (!r.success)
    throw new CorruptDataError(`${store.location}/${key} does not hold the work items of this run`, {
      hint: `${r.error.issues[0]?.path.join('.') || '(items)'}: ${r.error.issues[0]?.message}`,
    });
  return r.data;
}

/**
 * The outputs of a Map Run's child executions, from its ResultWriter manifest and result files (the manifest must
 * be in this run's results folder, `resultsPrefix`). Refused when a child did not succeed: the steps after a Map
 * count on every item, and a Map that ended with failed items went to the failure path instead.
 */
export async function loadMapResults(
  store: ObjectStore,
  storage: Storage,
  results: MapRunResults,
  resultsPrefix: string,
): Promise<unknown[]> {
  const { Bucket, Key } = results.ResultWriterDetails;
  const manifestKey = locationKeyOf(storage, Bucket, Key, 'the Map Run manifest', resultsPrefix);
  const where = `${store.location}/${manifestKey}`;
  const m = ResultManifest.safeParse(parseJson(await plain(store).get(manifestKey), where));
  if (!m.success) throw new CorruptDataError(`${where} is not a Step Functions ResultWriter manifest`);
  const { SUCCEEDED, FAILED, PENDING } = m.data.ResultFiles;
  if (FAILED.length > 0 || PENDING.length > 0)
    throw new CorruptDataError(`${where}: the Map Run has failed or unfinished items`, {
      hint: `See ${[...FAILED, ...PENDING].map((f) => f.Key).join(', ')}.`,
    });
  const outputs: unknown[] = [];
  for (const file of SUCCEEDED) {
    const key = locationKeyOf(storage, m.data.DestinationBucket, file.Key, 'a result file', resultsPrefix);
    const children = z
      .array(ChildExecution)
      .safeParse(parseJson(await plain(store).get(key), `${store.location}/${key}`));
    if (!children.success)
      throw new CorruptDataError(`${store.location}/${key} is not a ResultWriter result file`);
    for (const c of children.data) {
      if (c.Status !== 'SUCCEEDED' || c.Output === undefined)
        throw new CorruptDataError(`${store.location}/${key} lists a child execution that did not succeed`);
      outputs.push(parseJson(Buffer.from(c.Output), `${store.location}/${key}`));
    }
  }
  return outputs;
}

function parseJson(body: Buffer, where: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new CorruptDataError(`${where} is not JSON`);
  }
}
