import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireGo } from './prerequisites.ts';
import {
  dirBytes,
  heartbeat,
  megabytes,
  portOpen,
  run,
  seconds,
  startDetached,
  stopPid,
  waitUntil,
} from './processes.ts';
import { VERSITYGW_VERSION } from './settings.ts';

function versitygwBin(cacheDir: string): string {
  return join(cacheDir, 'bin', `versitygw-${VERSITYGW_VERSION}`, 'versitygw');
}

/** True when versitygw is built already (nothing to build). */
export function versitygwCached(cacheDir: string): boolean {
  return existsSync(versitygwBin(cacheDir));
}

/**
 * Builds versitygw (an Apache-2.0 S3 gateway) once with `go install` into the shared cache, without blocking the
 * event loop (the Kafka jars download meanwhile), saying every 10 s how far it got.
 */
export async function ensureVersitygw(cacheDir: string, log: (msg: string) => void): Promise<string> {
  const bin = versitygwBin(cacheDir);
  if (existsSync(bin)) return bin;
  requireGo();
  const binDir = dirname(bin);
  const t0 = Date.now();
  log(`building versitygw ${VERSITYGW_VERSION} with go install (first run only, ${BUILD_TIME})...`);
  // Per process, so two clones building at once do not share (or delete) each other's work.
  const staging = `${binDir}.partial-${process.pid}`;
  const goDir = join(cacheDir, `go.partial-${process.pid}`);
  const modules = join(goDir, 'pkg', 'mod');
  const builds = join(goDir, 'build');
  const stop = heartbeat((ms) =>
    log(
      `  versitygw: ${megabytes(dirBytes(modules))} of Go modules downloaded, ${megabytes(dirBytes(builds))} compiled (${seconds(ms)})`,
    ),
  );
  try {
    const r = await run(
      'go',
      ['install', ...LEAN_BUILD, `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`],
      {
        env: {
          ...process.env,
          GOBIN: staging,
          GOPATH: goDir,
          GOCACHE: builds,
          GOFLAGS: '-buildvcs=false -modcacherw',
          CGO_ENABLED: '0',
        },
      },
    );
    if (r.status !== 0 || !existsSync(join(staging, 'versitygw'))) {
      throw new Error(`go install of versitygw failed (is the Go module proxy reachable?):\n${r.output}`);
    }
    if (!existsSync(bin)) {
      // (Another process may have finished first: its binary is the same.)
      rmSync(binDir, { recursive: true, force: true });
      mkdirSync(dirname(binDir), { recursive: true });
      renameSync(staging, binDir);
    }
  } finally {
    stop();
    // Only the binary is worth keeping: the module and build caches weigh about 750 MB.
    rmSync(goDir, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
  log(`versitygw ${VERSITYGW_VERSION} built in ${seconds(Date.now() - t0)}`);
  return bin;
}

/**
 * No debug information (DWARF) compiled or linked, no cgo (versitygw's posix backend is pure Go): a test server
 * never runs under a debugger. Measured cold, one build after the other at load average 13 to 15 on 2 cores:
 * 482 s plain, 323 s so (and 43 MB instead of 80 MB); the S3 integration tests pass on it unchanged.
 */
const LEAN_BUILD = ['-trimpath', '-gcflags=all=-dwarf=false', '-ldflags=-s -w'];

/**
 * Measured on a cold cache on 2 cores, before LEAN_BUILD: 184 s, 336 s while two Kafka clusters started and other
 * tests ran, 417 s beside the other downloads, lint, type-check and unit tests at load average 10 to 16.
 */
const BUILD_TIME = '2 to 5 minutes on 2 cores';

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
