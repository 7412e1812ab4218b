import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DeployedTask } from './assembly.ts';
import type { Credentials } from './lambda-runtime.ts';

const run = promisify(execFile);

/** sha256 of the two files an `npm ci` depends on. */
function depsHash(dir: string): string {
  return createHash('sha256')
    .update(readFileSync(join(dir, 'package.json')))
    .update(readFileSync(join(dir, 'package-lock.json')))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The image's dependencies, installed as deploy/container/Dockerfile installs them: `npm ci --omit=dev --no-audit
 * --no-fund` on package.json and package-lock.json alone. They depend on those two files only, so the install is
 * cached under ~/.cache/kafka-backup/container-deps/<sha256 of both>. `dir` holds the two files (the repository, so
 * that the install can run while the assembly is synthesized; `containerApp` checks they are the image's).
 */
export async function installContainerDeps(
  dir: string,
): Promise<{ hash: string; nodeModules: string; installedMs?: number }> {
  const hash = depsHash(dir);
  const cacheRoot = process.env['KAFKA_BACKUP_CACHE'] ?? join(homedir(), '.cache', 'kafka-backup');
  const cache = join(cacheRoot, 'container-deps', hash);
  const nodeModules = join(cache, 'node_modules');
  if (existsSync(nodeModules)) return { hash, nodeModules };
  const started = Date.now();
  const work = `${cache}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cpSync(join(dir, 'package.json'), join(work, 'package.json'));
  cpSync(join(dir, 'package-lock.json'), join(work, 'package-lock.json'));
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
    cwd: work,
    env: { ...process.env, NODE_ENV: 'production' },
    maxBuffer: 64 * 1024 * 1024,
  });
  rmSync(cache, { recursive: true, force: true });
  renameSync(work, cache);
  return { hash, nodeModules, installedMs: Date.now() - started };
}

/**
 * The Fargate task's /app: the synthesized image asset (the Docker build context: package*.json, bin/, lib/) with
 * the installed dependencies next to it, as the Dockerfile's last stage assembles it.
 */
export function containerApp(task: DeployedTask, deps: { hash: string; nodeModules: string }): string {
  const context = task.assetDir;
  if (!context || !existsSync(join(context, 'package.json')))
    throw new Error(`${task.logicalId}: no image asset with a build context in the assembly`);
  if (depsHash(context) !== deps.hash)
    throw new Error(`${task.logicalId}: the image's package files differ from the ones installed`);
  const dir = join(mkdtempSync(join(tmpdir(), 'kb-container-')), 'app');
  mkdirSync(dir);
  symlinkSync(deps.nodeModules, join(dir, 'node_modules'));
  for (const f of ['package.json', 'package-lock.json', 'bin', 'lib'])
    cpSync(join(context, f), join(dir, f), { recursive: true });
  return dir;
}

/**
 * What the ECS agent runs: the container's entry point with the state machine's command override, the task
 * definition's environment plus the override's, the task role's credentials. `node` is Node 24 (the image's).
 */
export async function runContainer(
  task: DeployedTask,
  dir: string,
  override: { Command?: string[]; Environment?: { Name: string; Value: string }[] },
  opts: { credentials: Credentials; region: string; env?: Record<string, string> },
): Promise<{ code: number; out: string }> {
  const [exe, ...args] = [...task.entryPoint, ...(override.Command ?? task.command)];
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    NODE_ENV: 'production',
    AWS_REGION: opts.region,
    AWS_DEFAULT_REGION: opts.region,
    AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
    ...task.environment,
    ...Object.fromEntries((override.Environment ?? []).map((e) => [e.Name, e.Value])),
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(exe === 'node' ? process.execPath : exe!, args, {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 137 : 1), out }));
  });
}
