import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { LeaseHeldError } from '../errors.ts';
import { Layout } from '../format/manifest.ts';
import type { ObjectStore } from '../storage/object-store.ts';

const LeaseBody = z.object({
  owner: z.string(),
  holder: z.string(),
  backup_id: z.string(),
  acquired_at: z.string(),
  expires_at: z.string(),
  /** The holder's process id, and the process-id space it is valid in (see `pidSpace`). */
  pid: z.number().int().positive().optional(),
  pid_space: z.string().optional(),
});
type LeaseBody = z.infer<typeof LeaseBody>;

/**
 * Names the process-id space this process lives in: on Linux the boot (a machine or VM) plus the pid namespace
 * (a container), elsewhere the host name. Two processes with the same value can tell with `kill(pid, 0)`
 * whether the other is alive; processes elsewhere never compare pids.
 */
function pidSpace(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `linux:${boot}:${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return `host:${hostname()}`;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lease whose holder ran in this process-id space and has exited: it died without releasing it. */
function holderDied(lease: LeaseBody, space: string): boolean {
  return lease.pid !== undefined && lease.pid_space === space && !processAlive(lease.pid);
}

export interface Lease {
  readonly owner: string;
  /** Extends the expiry; throws LeaseHeldError if another process took the lease over meanwhile. */
  renew(): Promise<void>;
  release(): Promise<void>;
}

/**
 * One backup at a time per location. The lease is an object created only if absent; it expires so that a
 * killed run does not block the location forever, and is renewed while the backup runs. A lease whose holder
 * is known to have died (a process of the same machine and pid namespace that no longer exists, e.g. a run
 * killed with SIGKILL) is taken over at once, so the run can be resumed without waiting for the expiry.
 */
export interface LeaseOptions {
  backupId: string;
  ttlMs: number;
  now?: () => number;
  /**
   * Whether the lease belongs to this process (the default): its pid is recorded so that a run on the same
   * machine can take over at once when this process dies. A workflow's lease outlives the step that took it
   * (later steps renew and release it by its owner token, see `leaseOf`), so it must not name a process and
   * only expires.
   */
  processBound?: boolean;
}

export async function acquireLease(store: ObjectStore, opts: LeaseOptions): Promise<Lease> {
  const now = opts.now ?? Date.now;
  const owner = randomUUID();
  const space = pidSpace();
  const body = leaseBody(owner, opts);

  for (let attempt = 0; attempt < 3; attempt++) {
    if (await store.putIfAbsent(Layout.lease, JSON.stringify(body()))) break;
    const current = await readLease(store);
    if (current && Date.parse(current.expires_at) > now() && !holderDied(current, space)) {
      throw new LeaseHeldError(
        `another backup (${current.backup_id}, ${current.holder}) is running in ${store.location}; its lease expires at ${current.expires_at}`,
        {
          hint: 'Wait for it to finish. If that process died, run again after the lease expires.',
        },
      );
    }
    // Expired or its holder died, or vanished between the two calls: remove it and race for a fresh one.
    await store.delete([Layout.lease]);
    if (attempt === 2)
      throw new LeaseHeldError(`could not take the lease on ${store.location}`, { hint: 'Retry.' });
  }

  return leaseOf(store, { ...opts, owner });
}

function leaseBody(owner: string, opts: LeaseOptions): () => LeaseBody {
  const now = opts.now ?? Date.now;
  const bound = opts.processBound ?? true;
  const holder = bound ? `${hostname()} pid ${process.pid}` : `workflow (${hostname()})`;
  const space = bound ? pidSpace() : undefined;
  return () => ({
    owner,
    holder,
    backup_id: opts.backupId,
    acquired_at: new Date(now()).toISOString(),
    expires_at: new Date(now() + opts.ttlMs).toISOString(),
    ...(bound ? { pid: process.pid, pid_space: space } : {}),
  });
}

/**
 * The lease `owner` took earlier, possibly in another process (a workflow step): renew and release it here.
 * Renewing throws LeaseHeldError if someone else holds the lease by now.
 */
export function leaseOf(store: ObjectStore, opts: LeaseOptions & { owner: string }): Lease {
  const { owner } = opts;
  const body = leaseBody(owner, opts);
  const assertOwned = async () => {
    const current = await readLease(store);
    if (current?.owner !== owner) {
      throw new LeaseHeldError(
        `the lease on ${store.location} was taken over by ${current?.holder ?? 'nobody'}`,
        {
          hint: 'This run was paused longer than the lease lasts; start it again to resume.',
        },
      );
    }
  };
  return {
    owner,
    async renew() {
      await assertOwned();
      await store.put(Layout.lease, JSON.stringify(body()));
    },
    async release() {
      const current = await readLease(store);
      if (current?.owner === owner) await store.delete([Layout.lease]);
    },
  };
}

/**
 * Renews `lease` every third of its lifetime until `stop()`, which waits for a renewal in flight and rethrows
 * the first renewal error (the lease was lost: what was written since may race another run).
 */
export function keepLeaseAlive(
  lease: Lease,
  ttlMs: number,
): { stop(): Promise<void>; check(): Promise<void> } {
  let renewal: Promise<void> = Promise.resolve();
  let renewalError: unknown;
  const timer = setInterval(() => {
    renewal = lease.renew().catch((e: unknown) => {
      renewalError ??= e;
    });
  }, ttlMs / 3);
  const check = async () => {
    await renewal;
    if (renewalError) throw renewalError;
  };
  return {
    check,
    async stop() {
      clearInterval(timer);
      await check();
    },
  };
}

async function readLease(store: ObjectStore): Promise<LeaseBody | undefined> {
  const raw = await store.getIfExists(Layout.lease);
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = LeaseBody.safeParse(json);
  // An unreadable lease is treated as expired: it cannot name a live holder.
  if (parsed.success) return parsed.data;
  return {
    owner: '',
    holder: 'unknown',
    backup_id: '?',
    acquired_at: '',
    expires_at: new Date(0).toISOString(),
  };
}
