import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { requireGo } from './prerequisites.ts';
import { portOpen, startDetached, stopPid, waitUntil } from './processes.ts';
import { VERSITYGW_VERSION } from './settings.ts';

/** Builds versitygw (an Apache-2.0 S3 gateway) once with `go install` into the shared cache. */
export function ensureVersitygw(cacheDir: string, log: (msg: string) => void): string {
  const binDir = join(cacheDir, 'bin', `versitygw-${VERSITYGW_VERSION}`);
  const bin = join(binDir, 'versitygw');
  if (existsSync(bin)) return bin;
  requireGo();
  log(`building versitygw ${VERSITYGW_VERSION} with go install (first run only, about two minutes)...`);
  mkdirSync(binDir, { recursive: true });
  const goDir = join(cacheDir, 'go');
  const r = spawnSync('go', ['install', `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GOBIN: binDir,
      GOPATH: goDir,
      GOCACHE: join(goDir, 'build'),
      GOFLAGS: '-buildvcs=false -modcacherw',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0 || !existsSync(bin)) {
    throw new Error(`go install of versitygw failed (is the Go module proxy reachable?):\n${r.stderr}`);
  }
  // Only the binary is worth keeping: the module and build caches weigh about 750 MB.
  rmSync(goDir, { recursive: true, force: true });
  return bin;
}

export function s3Paths(runDir: string, name: string) {
  const dir = join(runDir, name);
  return {
    dir,
    root: join(dir, 'buckets'),
    versions: join(dir, 'versions'),
    logPath: join(dir, 'versitygw.log'),
    pidPath: join(dir, 'versitygw.pid'),
  };
}

export async function startS3Server(opts: {
  bin: string;
  runDir: string;
  name: string;
  region: string;
  port: number;
  accessKey: string;
  secretKey: string;
  log: (msg: string) => void;
}): Promise<{ alreadyRunning: boolean }> {
  if (await portOpen(opts.port)) return { alreadyRunning: true };
  const p = s3Paths(opts.runDir, opts.name);
  mkdirSync(p.root, { recursive: true });
  mkdirSync(p.versions, { recursive: true });
  opts.log(`starting versitygw S3 server '${opts.name}' (${opts.region}) on 127.0.0.1:${opts.port}`);
  const pid = startDetached(
    opts.bin,
    [
      '--port',
      `127.0.0.1:${opts.port}`,
      '--region',
      opts.region,
      'posix',
      '--versioning-dir',
      p.versions,
      p.root,
    ],
    {
      logPath: p.logPath,
      pidPath: p.pidPath,
      env: { ...process.env, ROOT_ACCESS_KEY: opts.accessKey, ROOT_SECRET_KEY: opts.secretKey },
    },
  );
  await waitUntil('versitygw S3 server', () => portOpen(opts.port), {
    timeoutMs: 30_000,
    logPath: p.logPath,
    pid,
  });
  return { alreadyRunning: false };
}

export async function stopS3Server(runDir: string, name: string): Promise<boolean> {
  return stopPid(s3Paths(runDir, name).pidPath, 5_000);
}
