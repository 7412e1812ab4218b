import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
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
