import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeployedFunction } from './assembly.ts';

const BOOTSTRAP = join(dirname(fileURLToPath(import.meta.url)), 'lambda-bootstrap.mjs');

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Invocation {
  result: unknown;
  /** Module load (import of the bundle) in a new process, as the bootstrap measured it; 0 on a warm start. */
  initMs: number;
  durationMs: number;
  /** stdout lines that are CloudWatch EMF documents. */
  emf: Record<string, unknown>[];
  output: string;
}

/** A copy of `assetDir` in a fresh temporary folder: the function's /var/task, with nothing around it. */
export function taskRootOf(assetDir: string): string {
  const root = join(mkdtempSync(join(tmpdir(), 'kb-task-')), 'task');
  cpSync(assetDir, root, { recursive: true });
  for (let d = dirname(root); ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules')))
      throw new Error(`${d} holds a node_modules folder: the asset would see packages it does not ship`);
    if (dirname(d) === d) break;
  }
  return root;
}

export class LambdaError extends Error {
  readonly output: string;
  constructor(name: string, message: string, output: string) {
    super(message);
    this.name = name;
    this.output = output;
  }
}

type Message =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; initMs: number; error: { errorType: string; errorMessage: string } }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { errorType: string; errorMessage: string } };

export interface InvokeOptions {
  credentials: Credentials;
  region: string;
  env?: Record<string, string>;
  remainingMs?: number;
}

/** One execution environment: a Node process running the bootstrap for one function, serving one event at a time. */
class Sandbox {
  readonly child: ChildProcess;
  readonly name: string;
  output = '';
  readonly #messages: Message[] = [];
  #wake: (() => void) | undefined;
  readonly exited: Promise<void>;

  constructor(fn: DeployedFunction, taskRoot: string, opts: InvokeOptions) {
    this.name = `${fn.stack}-${fn.logicalId}`.slice(0, 64);
    const env: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      LAMBDA_TASK_ROOT: taskRoot,
      LAMBDA_RUNTIME_DIR: dirname(BOOTSTRAP),
      _HANDLER: fn.handler,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: this.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'local',
      AWS_REGION: opts.region,
      AWS_DEFAULT_REGION: opts.region,
      AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
      // Tracing ACTIVE: the runtime passes a trace header per invocation; not sampled, nothing goes to a daemon.
      AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      ...fn.environment,
      ...opts.env,
    };
    this.child = spawn(process.execPath, [`--max-old-space-size=${fn.memoryMb}`, BOOTSTRAP], {
      cwd: taskRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (m) => {
      this.#messages.push(m as Message);
      this.#wake?.();
    });
    this.child.once('exit', () => this.#wake?.());
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async next(deadline: number): Promise<Message | 'exit' | 'timeout'> {
    for (;;) {
      const m = this.#messages.shift();
      if (m) return m;
      if (!this.alive) return 'exit';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Invokes synthesized functions as the Lambda service does: each execution environment is a Node process started by
 * a runtime-like bootstrap in `taskRoot` (a folder holding only the asset), with the template's handler string
 * and environment plus the runtime's own variables, the function's memory size as V8's heap limit and its timeout
 * as a hard kill (the environment is then discarded, as Lambda resets it). An idle environment of the same
 * function is reused (a warm start), else a new one starts (a cold start: the bundle is imported again).
 * `remainingMs` (default: the timeout) is what the context reports as left: the Lambda service tells a function
 * when it must end, and a smaller value makes a worker stop early and return a continuation.
 */
export class LambdaService {
  readonly #idle = new Map<string, Sandbox[]>();
  readonly #all = new Set<Sandbox>();
  readonly coldStarts: { handler: string; initMs: number }[] = [];
  warmStarts = 0;

  async invoke(
    fn: DeployedFunction,
    taskRoot: string,
    event: unknown,
    opts: InvokeOptions,
  ): Promise<Invocation> {
    const key = `${fn.stack}/${fn.logicalId}/${opts.credentials.accessKeyId}/${JSON.stringify(opts.env ?? {})}`;
    let sandbox = this.#idle.get(key)?.pop();
    let initMs = 0;
    const timeoutMs = fn.timeoutS * 1000;
    const fail = async (sb: Sandbox, errorType: string, message: string, from = 0): Promise<never> => {
      this.#all.delete(sb);
      await sb.kill();
      const output = sb.output.slice(from);
      throw new LambdaError(errorType, `${message}\n${output.slice(-3000)}`, output);
    };
    if (sandbox) this.warmStarts++;
    else {
      const sb = new Sandbox(fn, taskRoot, opts);
      this.#all.add(sb);
      // Lambda gives a function's init 10 s.
      const ready = await sb.next(Date.now() + 10_000);
      if (ready === 'timeout')
        return fail(sb, 'Sandbox.Timedout', `${sb.name}: init did not finish within 10 s`);
      if (ready === 'exit')
        return fail(sb, 'Runtime.ExitError', `${sb.name}: the runtime exited during init`);
      if (ready.type === 'init-error') return fail(sb, ready.error.errorType, ready.error.errorMessage);
      if (ready.type !== 'ready') return fail(sb, 'Runtime.Unknown', `unexpected ${ready.type}`);
      initMs = ready.initMs;
      this.coldStarts.push({ handler: fn.handler, initMs });
      sandbox = sb;
    }
    const from = sandbox.output.length;
    const sent = Date.now();
    const requestId = randomUUID();
    sandbox.child.send({
      event,
      requestId,
      traceId: `Root=1-${Math.floor(sent / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`,
      deadlineMs: sent + Math.min(timeoutMs, opts.remainingMs ?? timeoutMs),
    });
    const reply = await sandbox.next(sent + timeoutMs);
    if (reply === 'timeout')
      return fail(
        sandbox,
        'Sandbox.Timedout',
        `${sandbox.name}: Task timed out after ${fn.timeoutS} s`,
        from,
      );
    if (reply === 'exit')
      return fail(
        sandbox,
        'Runtime.ExitError',
        `${sandbox.name}: the runtime exited (${sandbox.child.exitCode ?? sandbox.child.signalCode})`,
        from,
      );
    const marker = `\n@@invocation-end ${requestId}\n`;
    for (let i = 0; i < 400 && !sandbox.output.includes(marker, from); i++)
      await new Promise((r) => setTimeout(r, 5));
    const output = sandbox.output.slice(from).replace(marker, '');
    const idle = this.#idle.get(key) ?? [];
    idle.push(sandbox);
    this.#idle.set(key, idle);
    if (reply.type === 'error')
      throw new LambdaError(reply.error.errorType, reply.error.errorMessage, output);
    if (reply.type !== 'result') return fail(sandbox, 'Runtime.Unknown', `unexpected ${reply.type}`, from);
    const emf: Record<string, unknown>[] = [];
    for (const line of output.split('\n')) {
      if (!line.startsWith('{') || !line.includes('"_aws"')) continue;
      try {
        emf.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not one JSON document
      }
    }
    return { result: reply.result, initMs, durationMs: Date.now() - sent, emf, output };
  }

  /** Ends every execution environment. */
  async close(): Promise<void> {
    await Promise.all([...this.#all].map((s) => s.kill()));
    this.#all.clear();
    this.#idle.clear();
  }
}
