import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './cli.ts';

/**
 * A moto server (PyPI `moto[server]`, installed on first use by scripts/moto-venv.sh into a cached venv) on a free
 * loopback port: a real HTTP server speaking the AWS APIs, here Step Functions. With `executeStateMachines` its
 * execution engine runs Pass, Task (aws-sdk integrations against moto's own services), Choice, Wait, Fail and
 * Map states; without it, executions get a canned history.
 */
export interface MotoServer {
  endpoint: string;
  /** What the server printed (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A loopback port nobody listens on (at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startMotoServer(
  opts: { executeStateMachines?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<MotoServer> {
  const motoServer = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'moto-venv.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/data.json`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} within 60 s:\n${output}`);
    }
    await sleep(200);
  }
  if (opts.executeStateMachines) {
    const r = await fetch(`${endpoint}/moto-api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
    });
    if (!r.ok) {
      await stop();
      throw new Error(`moto_server refused the config (${r.status}): ${await r.text()}`);
    }
  }
  return { endpoint, log: () => output, stop };
}
