import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { main } from '../../lib/cli/main.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import type { ObjectStore } from '../../lib/storage/object-store.ts';
import { S3Store } from '../../lib/storage/s3-store.ts';
import { STEP_ENV, STEP_NAMES, type StepName } from '../../lib/workflow/names.ts';
import { type DistributedMapSpec, runDistributedMap } from './distributed-map.ts';
import { ground } from './ground-env.ts';
import { allStates, localDefinition } from './workflows.ts';

/** One Task state execution, in the order they happened. */
export interface TaskCall {
  state: string;
  input: Record<string, unknown>;
  output?: unknown;
  error?: string;
}

/**
 * Runs a synthesized state machine with aws-local-stepfunctions, every Task state bound to what it runs in AWS:
 * Lambda tasks to the real handlers (functions/<step>.ts, found from the task's function), the ecs:runTask.sync
 * tasks to the CLI's `step` command with the container override's command and environment (what the Fargate
 * task runs), and the remaining AWS integrations (SNS publish, ECS UpdateService, a user's Lambda) to a recorder.
 * A Distributed Map runs as a Map Run (test/support/distributed-map.ts): its items read from the store its ItemReader
 * names, a child execution per item, its results written where its ResultWriter points.
 */
export class LocalWorkflow {
  readonly calls: TaskCall[] = [];
  /**
   * What the Lambda context says is left. Workers stop STEP_DEADLINE_MARGIN_MS (30 s unless set) before it: 30_001
   * leaves them 1 ms, so each stores one fetch or batch and returns a continuation. (Below the margin middy's own
   * early timeout, 5 ms before the end, would be what stops them.)
   */
  remainingMs = 15 * 60_000;
  /** Called before each Task: throw (or reject) to inject a failure. */
  inject: ((state: string, input: Record<string, unknown>) => void | Promise<void>) | undefined;
  readonly #machine: StateMachine;
  readonly #handlers: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {};
  readonly #maps: DistributedMapSpec[];
  readonly #storeFor: (bucket: string) => ObjectStore;
  #fargate: Promise<unknown> = Promise.resolve();

  /**
   * `bindings` replaces the in-process handlers: `lambda` gets every Task whose resource is a function of the
   * template (by logical id), `runTask` the ecs:runTask.sync tasks.
   */
  constructor(definitionString: unknown, bindings?: WorkflowBindings) {
    const { definition, maps } = localDefinition(definitionString);
    this.#machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    this.#maps = maps;
    this.#storeFor = bindings?.storeFor ?? groundBucket;
    const steps = new Map(STEP_NAMES.map((s) => [pascal(s), s]));
    const tasks = [
      ...allStates(definition),
      ...maps.flatMap((m) => [...allStates({ States: m.processor.States })]),
    ];
    for (const [name, state] of tasks) {
      if (state['Type'] !== 'Task' || maps.some((m) => m.name === name)) continue;
      const resource = String(state['Resource']);
      const logicalId = /:([A-Za-z0-9]+)\/Arn$/.exec(resource)?.[1];
      const fn = /Functions([A-Za-z]+)[0-9A-F]{8}\/Arn$/.exec(resource)?.[1];
      if (bindings && logicalId) {
        const invoke = bindings.lambda;
        this.#handlers[name] = this.#record(name, (input) => invoke(logicalId, input, this.remainingMs));
      } else if (bindings && resource.endsWith(':states:::ecs:runTask.sync')) {
        const runTask = bindings.runTask;
        this.#handlers[name] = this.#record(name, async (input) => {
          const overrides = (input['Overrides'] as { ContainerOverrides: ContainerOverride[] })
            .ContainerOverrides[0]!;
          const { code, out } = await runTask(overrides);
          return {
            Containers: [{ Name: overrides.Name, ExitCode: code }],
            StoppedReason: 'Essential container in task exited',
            LastStatus: 'STOPPED',
            Output: out,
          };
        });
      } else if (fn) {
        const step = steps.get(fn);
        if (!step) throw new Error(`${name}: no step for function ${fn}`);
        this.#handlers[name] = this.#record(name, (input) => this.#lambda(step, input));
      } else if (resource.endsWith(':states:::ecs:runTask.sync')) {
        this.#handlers[name] = this.#record(name, (input) => this.#runTask(input));
      } else {
        this.#handlers[name] = this.#record(name, async () => ({ StatusCode: 200 }));
      }
    }
  }

  /** The Task states and what each is bound to. */
  get boundStates(): string[] {
    return Object.keys(this.#handlers);
  }

  async run(input: unknown): Promise<unknown> {
    const name = randomUUID();
    const context = {
      Execution: {
        Id: `arn:aws:states:us-east-1:123456789012:execution:local:${name}`,
        Name: name,
        Input: input,
        StartTime: new Date().toISOString(),
        RoleArn: 'arn:aws:iam::123456789012:role/local',
      },
      StateMachine: { Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:local', Name: 'local' },
    };
    // The Distributed Maps' stand-in Task states: a Map Run each, its children bound like the parent's Tasks.
    const stores = new Map<string, ObjectStore>();
    const storeFor = (bucket: string) => {
      if (!stores.has(bucket)) stores.set(bucket, this.#storeFor(bucket));
      return stores.get(bucket)!;
    };
    const handlers = { ...this.#handlers };
    for (const spec of this.#maps)
      handlers[spec.name] = this.#record(spec.name, (mapInput) =>
        runDistributedMap(spec, mapInput, { storeFor, handlers: this.#handlers, context }),
      );
    const execution = this.#machine.run(input as never, {
      context: context as never,
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        // Retry waits (10 s and more) would only slow the tests down.
        retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((k) => [k, 0])),
      },
    });
    try {
      return await execution.result;
    } finally {
      for (const store of stores.values()) (store as { destroy?: () => void }).destroy?.();
    }
  }

  callsOf(state: string): TaskCall[] {
    return this.calls.filter((c) => c.state === state);
  }

  #record(state: string, fn: (input: Record<string, unknown>) => Promise<unknown>) {
    return async (input: Record<string, unknown>) => {
      const call: TaskCall = { state, input };
      this.calls.push(call);
      try {
        await this.inject?.(state, input);
        call.output = await fn(input);
        return call.output;
      } catch (e) {
        call.error = (e as Error).name;
        throw e;
      }
    };
  }

  async #lambda(step: StepName, input: Record<string, unknown>): Promise<unknown> {
    const { handler } = (await import(`../../functions/${step}.ts`)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const started = Date.now();
    const context = {
      functionName: `kafka-backup-${step}`,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:kafka-backup-${step}`,
      memoryLimitInMB: '2048',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/kafka-backup-${step}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, this.remainingMs - (Date.now() - started)),
    };
    return handler(input, context);
  }

  /** ecs:runTask.sync: the container's command (`step <name>`) through the CLI, the event from its environment. */
  async #runTask(input: Record<string, unknown>): Promise<unknown> {
    const overrides = (input['Overrides'] as { ContainerOverrides: ContainerOverride[] })
      .ContainerOverrides[0]!;
    // The environment is process-wide: one "task" at a time.
    const run = this.#fargate.then(async () => {
      const saved = process.env[STEP_ENV.event];
      for (const e of overrides.Environment) process.env[e.Name] = e.Value;
      try {
        const out: string[] = [];
        const code = await main(overrides.Command, (s) => out.push(s));
        return { code, out: out.join('\n') };
      } finally {
        if (saved === undefined) delete process.env[STEP_ENV.event];
        else process.env[STEP_ENV.event] = saved;
      }
    });
    this.#fargate = run.catch(() => undefined);
    const { code, out } = await run;
    return {
      Containers: [{ Name: overrides.Name, ExitCode: code }],
      StoppedReason: 'Essential container in task exited',
      LastStatus: 'STOPPED',
      Output: out,
    };
  }
}

export interface WorkflowBindings {
  lambda: (logicalId: string, input: Record<string, unknown>, remainingMs: number) => Promise<unknown>;
  runTask: (override: ContainerOverride) => Promise<{ code: number; out: string }>;
  /** Where a Distributed Map reads its items and writes its results (as the state machine's role). */
  storeFor?: (bucket: string) => ObjectStore;
}

/**
 * The ground's buckets, as the state machine of the local tests reaches them: kafka-backups-primary on the us-west-2
 * server, the others on the us-east-1 one; a bucket that is an absolute path is a folder location.
 */
export function groundBucket(bucket: string): ObjectStore & { destroy?: () => void } {
  if (bucket.startsWith('/')) return new FilesystemStore(bucket);
  const west = bucket === 'kafka-backups-primary';
  return new S3Store({
    bucket,
    region: west ? 'us-west-2' : 'us-east-1',
    endpoint: west ? ground().s3WestEndpoint : ground().s3Endpoint,
  });
}

export interface ContainerOverride {
  Name: string;
  Command: string[];
  Environment: { Name: string; Value: string }[];
}

function pascal(step: string): string {
  return step
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** Every stdout line written while `fn` runs that is a CloudWatch EMF document. */
export async function captureEmf<T>(
  fn: () => Promise<T>,
): Promise<{ result: T | undefined; error: unknown; emf: Record<string, unknown>[] }> {
  const emf: Record<string, unknown>[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const doc = JSON.parse(line) as Record<string, unknown>;
        if ('_aws' in doc) emf.push(doc);
      } catch {
        // not JSON
      }
    }
    return write(chunk as never, ...(rest as []));
  }) as typeof process.stdout.write;
  try {
    return { result: await fn(), error: undefined, emf };
  } catch (error) {
    return { result: undefined, error, emf };
  } finally {
    process.stdout.write = write;
  }
}
