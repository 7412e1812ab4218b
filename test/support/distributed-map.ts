import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { ObjectStore } from '../../lib/storage/object-store.ts';

/**
 * A Distributed Map as Step Functions runs it, for aws-local-stepfunctions (which runs inline Maps only, without
 * ItemReader or ResultWriter): the local definition has a Task state in the Map's place (test/support/workflows.ts)
 * bound to `run` here, which
 *
 * 1. reads the items where the ItemReader points (`arn:aws:states:::s3:getObject`, InputType JSON: the object is a
 *    JSON array), from the real store holding that bucket (the ground's S3 server, or a folder);
 * 2. runs the ItemProcessor once per item as a child execution of its own (MaxConcurrency at a time), with the
 *    ItemSelector applied (`$$.Map.Item.Value`, `$$.Map.Item.Index`), its Task states bound like the parent's;
 * 3. writes what the children did where the ResultWriter points, shaped as AWS writes it
 *    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html, "Exporting to Amazon
 *    S3", Transformation NONE and OutputType JSON, the defaults): `<Prefix>/<map run id>/manifest.json` =
 *    `{DestinationBucket, MapRunArn, ResultFiles: {FAILED: [{Key, Size}], PENDING: [], SUCCEEDED: [{Key, Size}]}}`
 *    and `SUCCEEDED_0.json` / `FAILED_0.json` beside it, each a JSON array of `{ExecutionArn, Input, InputDetails,
 *    Name, Output, OutputDetails, RedriveCount, RedriveStatus, RedriveStatusReason, StartDate, StateMachineArn,
 *    Status, StopDate}` (Input and Output JSON strings; a failed child has Error and Cause, no Output). AWS splits
 *    result files at 5 GB; these are small, one file per status;
 * 4. returns the Map's output, `{MapRunArn, ResultWriterDetails: {Bucket, Key}}` (the manifest), or fails the way a
 *    Map Run fails when more children failed than tolerated (ToleratedFailurePercentage/Count, default 0):
 *    `States.ExceedToleratedFailureThreshold`, caught by the Map state's own Catch. As in AWS, the results are
 *    written for a failed Map Run too; items not started once the threshold was exceeded are left out.
 */

export interface DistributedMapSpec {
  name: string;
  label: string | undefined;
  itemReader: Record<string, unknown> | undefined;
  itemsPath: string | undefined;
  itemSelector: Record<string, unknown> | undefined;
  resultWriter: Record<string, unknown> | undefined;
  processor: { StartAt: string; States: Record<string, Record<string, unknown>> };
  maxConcurrency: number;
  toleratedFailurePercentage: number | undefined;
  toleratedFailureCount: number | undefined;
}

export interface MapRunBindings {
  /** The store holding a bucket, at the bucket's root (keys are full S3 keys). */
  storeFor(bucket: string): ObjectStore;
  handlers: Record<string, (input: Record<string, unknown>) => Promise<unknown>>;
  /** The parent execution's context (Execution, StateMachine). */
  context: Record<string, unknown>;
}

export interface Child {
  index: number;
  name: string;
  input: unknown;
  start: Date;
  stop: Date;
  output?: unknown;
  error?: { Error: string; Cause: string };
}

/** Evaluates a payload template (Parameters-like) with aws-local-stepfunctions itself: a one-Pass machine. */
async function evaluate(
  template: unknown,
  input: unknown,
  context: Record<string, unknown>,
): Promise<unknown> {
  const machine = new StateMachine(
    { StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', Parameters: template, End: true } } } as never,
    { validationOptions: { checkArn: false } },
  );
  return machine.run(input as never, { context: context as never }).result;
}

/** `$.a.b` of the input (ItemsPath), with aws-local-stepfunctions's path semantics. */
async function atPath(path: string, input: unknown): Promise<unknown> {
  const machine = new StateMachine(
    { StartAt: 'Select', States: { Select: { Type: 'Pass', InputPath: path, End: true } } } as never,
    { validationOptions: { checkArn: false } },
  );
  return machine.run(input as never).result;
}

function failure(name: string, cause: string): Error {
  return Object.assign(new Error(cause), { name });
}

async function pool<T>(n: number, items: readonly T[], fn: (item: T) => Promise<boolean>): Promise<void> {
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < items.length) {
      const item = items[next++]!;
      if (!(await fn(item))) stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}

export async function runDistributedMap(
  spec: DistributedMapSpec,
  input: Record<string, unknown>,
  bindings: MapRunBindings,
): Promise<unknown> {
  const items = await readItems(spec, input, bindings);
  const parent = bindings.context['Execution'] as { Id: string; Name: string };
  const mapRunId = randomUUID();
  const stateMachineArn = (bindings.context['StateMachine'] as { Id: string }).Id;
  const mapRunArn = `${stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${spec.label ?? spec.name}:${mapRunId}`;
  const childMachine = new StateMachine(spec.processor as never, { validationOptions: { checkArn: false } });
  const children: Child[] = [];
  let failed = 0;
  const exceeded = () => {
    if (failed === 0) return false;
    const count = spec.toleratedFailureCount;
    const percentage = spec.toleratedFailurePercentage;
    if (count === undefined && percentage === undefined) return true;
    return (
      (count !== undefined && failed > count) ||
      (percentage !== undefined && (failed * 100) / items.length > percentage)
    );
  };
  await pool(spec.maxConcurrency || 40, [...items.keys()], async (index) => {
    const value = items[index];
    const selected = spec.itemSelector
      ? await evaluate(spec.itemSelector, input, {
          ...bindings.context,
          Map: { Item: { Index: index, Value: value } },
        })
      : value;
    const name = randomUUID();
    const child: Child = { index, name, input: selected, start: new Date(), stop: new Date() };
    children.push(child);
    try {
      child.output = await childMachine.run(selected as never, {
        context: {
          Execution: {
            Id: `${mapRunArn.replace(':mapRun:', ':execution:')}:${name}`,
            Name: name,
            Input: selected as never,
            StartTime: child.start.toISOString(),
            RoleArn: (bindings.context['Execution'] as { RoleArn: string }).RoleArn,
          },
          StateMachine: { Id: `${stateMachineArn}/${spec.name}`, Name: `${parent.Name}/${spec.name}` },
        } as never,
        overrides: {
          taskResourceLocalHandlers: bindings.handlers as never,
          retryIntervalOverrides: Object.fromEntries(Object.keys(bindings.handlers).map((k) => [k, 0])),
        },
      }).result;
    } catch (e) {
      // aws-local-stepfunctions wraps what failed the execution (a Task's error, a Fail state's) in ExecutionError.
      const cause = ((e as Error).cause ?? e) as Error;
      child.error = { Error: cause.name, Cause: cause.message };
      failed++;
    }
    child.stop = new Date();
    return !exceeded();
  });
  children.sort((a, b) => a.index - b.index);
  const output = spec.resultWriter
    ? await writeResults(spec, input, bindings, { mapRunId, mapRunArn, stateMachineArn, children })
    : children.map((c) => c.output ?? c.error);
  if (exceeded())
    throw failure(
      'States.ExceedToleratedFailureThreshold',
      `The specified tolerated failure threshold was exceeded: ${failed} of ${items.length} items failed (first: ${
        children.find((c) => c.error)?.error?.Error
      })`,
    );
  return output;
}

async function readItems(
  spec: DistributedMapSpec,
  input: Record<string, unknown>,
  bindings: MapRunBindings,
): Promise<unknown[]> {
  let items: unknown;
  if (spec.itemReader) {
    const reader = spec.itemReader;
    const config = (reader['ReaderConfig'] ?? {}) as { InputType?: string };
    if (reader['Resource'] !== 'arn:aws:states:::s3:getObject' || config.InputType !== 'JSON')
      throw new Error(`${spec.name}: the emulation reads JSON objects only (s3:getObject, InputType JSON)`);
    const { Bucket, Key } = (await evaluate(reader['Parameters'], input, bindings.context)) as {
      Bucket: string;
      Key: string;
    };
    const body = await bindings
      .storeFor(Bucket)
      .getIfExists(Key)
      .catch((e: Error) => {
        throw failure('States.ItemReaderFailed', `s3://${Bucket}/${Key}: ${e.message}`);
      });
    if (body === undefined) throw failure('States.ItemReaderFailed', `s3://${Bucket}/${Key} does not exist`);
    try {
      items = JSON.parse(body.toString('utf8'));
    } catch {
      throw failure('States.ItemReaderFailed', `s3://${Bucket}/${Key} is not JSON`);
    }
  } else {
    items = await atPath(spec.itemsPath ?? '$', input);
  }
  if (!Array.isArray(items))
    throw failure('States.ItemReaderFailed', `${spec.name}: the items are not an array`);
  return items;
}

async function writeResults(
  spec: DistributedMapSpec,
  input: Record<string, unknown>,
  bindings: MapRunBindings,
  run: { mapRunId: string; mapRunArn: string; stateMachineArn: string; children: Child[] },
): Promise<unknown> {
  const writer = spec.resultWriter!;
  if (writer['Resource'] !== 'arn:aws:states:::s3:putObject' || writer['WriterConfig'] !== undefined)
    throw new Error(
      `${spec.name}: the emulation writes results with s3:putObject and the default WriterConfig`,
    );
  const { Bucket, Prefix = '' } = (await evaluate(writer['Parameters'], input, bindings.context)) as {
    Bucket: string;
    Prefix?: string;
  };
  return putMapRunResults(bindings.storeFor(Bucket), Bucket, Prefix, { ...run, mapName: spec.name });
}

/**
 * What ResultWriter stores for a Map Run: SUCCEEDED_0.json / FAILED_0.json and manifest.json under
 * `<prefix>/<map run id>/` of the bucket (`store` is the bucket's root). Returns the Map state's output. Tests that
 * run a workflow's steps one by one call it with the children they ran, as the Map would have.
 */
export async function putMapRunResults(
  store: ObjectStore,
  Bucket: string,
  Prefix: string,
  run: { mapRunId: string; mapRunArn: string; stateMachineArn: string; mapName: string; children: Child[] },
): Promise<{ MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } }> {
  const folder = `${Prefix === '' || Prefix.endsWith('/') ? Prefix : `${Prefix}/`}${run.mapRunId}/`;
  const entry = (c: Child) => ({
    ExecutionArn: `${run.mapRunArn.replace(':mapRun:', ':execution:')}:${c.name}`,
    Input: JSON.stringify(c.input),
    InputDetails: { Included: true },
    Name: c.name,
    ...(c.error
      ? { Error: c.error.Error, Cause: c.error.Cause }
      : { Output: JSON.stringify(c.output), OutputDetails: { Included: true } }),
    RedriveCount: 0,
    RedriveStatus: c.error ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
    RedriveStatusReason: c.error ? '' : 'Execution is SUCCEEDED and cannot be redriven',
    StartDate: c.start.toISOString(),
    StateMachineArn: `${run.stateMachineArn}/${run.mapName}`,
    Status: c.error ? 'FAILED' : 'SUCCEEDED',
    StopDate: c.stop.toISOString(),
  });
  const files: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', { Key: string; Size: number }[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    const of = run.children.filter((c) => (c.error ? 'FAILED' : 'SUCCEEDED') === status);
    if (of.length === 0) continue;
    const key = `${folder}${status}_0.json`;
    const body = JSON.stringify(of.map(entry));
    await store.put(key, body);
    files[status].push({ Key: key, Size: Buffer.byteLength(body) });
  }
  const manifestKey = `${folder}manifest.json`;
  await store.put(
    manifestKey,
    JSON.stringify({ DestinationBucket: Bucket, MapRunArn: run.mapRunArn, ResultFiles: files }),
  );
  return { MapRunArn: run.mapRunArn, ResultWriterDetails: { Bucket, Key: manifestKey } };
}

/** A Map Run's manifest and its children by status, read back from the store of its bucket (for assertions). */
export async function readMapRun(
  bucketRoot: ObjectStore,
  manifestKey: string,
): Promise<{
  manifest: { DestinationBucket: string; MapRunArn: string; ResultFiles: Record<string, { Key: string }[]> };
  children: Record<'SUCCEEDED' | 'FAILED', Record<string, unknown>[]>;
}> {
  const manifest = JSON.parse((await bucketRoot.get(manifestKey)).toString());
  const children = { SUCCEEDED: [], FAILED: [] } as Record<'SUCCEEDED' | 'FAILED', Record<string, unknown>[]>;
  for (const status of ['SUCCEEDED', 'FAILED'] as const)
    for (const f of manifest.ResultFiles[status] as { Key: string }[])
      children[status].push(...JSON.parse((await bucketRoot.get(f.Key)).toString()));
  return { manifest, children };
}
