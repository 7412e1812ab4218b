import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Starts a long-lived service detached from this process, its output appended to `logPath`. */
export function startDetached(
  cmd: string,
  args: string[],
  opts: { logPath: string; pidPath: string; env?: NodeJS.ProcessEnv; cwd?: string },
): number {
  const fd = openSync(opts.logPath, 'a');
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  writeFileSync(opts.pidPath, String(child.pid));
  return child.pid;
}

export function readPid(pidPath: string): number | undefined {
  if (!existsSync(pidPath)) return undefined;
  const pid = Number(readFileSync(pidPath, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; removes the pid file. */
export async function stopPid(pidPath: string, graceMs = 20_000): Promise<boolean> {
  const pid = readPid(pidPath);
  if (!isAlive(pid)) {
    rmSync(pidPath, { force: true });
    return false;
  }
  process.kill(pid!, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) process.kill(pid!, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
  rmSync(pidPath, { force: true });
  return true;
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export function logTail(path: string, lines = 40): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Polls `probe` until it returns true; on deadline throws with the service's log tail. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; logPath: string; pid?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    if (opts.pid !== undefined && !isAlive(opts.pid)) {
      throw new Error(
        `${what} exited during start-up. Last lines of ${opts.logPath}:\n${logTail(opts.logPath)}`,
      );
    }
    await sleep(250);
  }
  throw new Error(
    `${what} was not ready within ${opts.timeoutMs / 1000}s. Last lines of ${opts.logPath}:\n${logTail(opts.logPath)}`,
  );
}

/** Bytes under `path` (files only, symlinks not followed); 0 when it does not exist. */
export function dirBytes(path: string): number {
  if (!existsSync(path)) return 0;
  let total = 0;
  try {
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      try {
        total += lstatSync(join(entry.parentPath, entry.name)).size;
      } catch {
        // removed while we looked
      }
    }
  } catch {
    // removed while we looked
  }
  return total;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Calls `say` every `everyMs` until the returned function is called, so a long wait (a download, a build, a JVM
 * starting) shows that it is alive and how far it got.
 */
export function heartbeat(say: (elapsedMs: number) => void, everyMs = 10_000): () => void {
  const t0 = Date.now();
  const timer = setInterval(() => say(Date.now() - t0), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Runs a command to its end without blocking the event loop (so other downloads and starts go on meanwhile). */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    const keep = (c: Buffer) => {
      chunks.push(c);
      kept += c.length;
      // Only the end of a long output is useful in an error message.
      while (kept > 1024 * 1024 && chunks.length > 1) kept -= chunks.shift()!.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (e) => resolve({ status: null, output: e.message }));
    child.once('close', (status) => resolve({ status, output: Buffer.concat(chunks).toString('utf8') }));
  });
}
