import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { LeaseHeldError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * A lease in an object store: one object, created only if absent, that says who is doing something (a backup
 * into a location, a restore into a target) until when. It expires so that a killed holder does not block forever,
 * and is renewed while the work runs. A lease whose holder is known to have died (a process of the same machine
 * and pid namespace that no longer exists, e.g. one killed with SIGKILL) is taken over at once, so the work can be
 * resumed without waiting for the expiry. The backup lease (lib/backup/lease.ts) and the restore lease
 * (lib/restore/restore-lease.ts) are this with their own key, fields and messages.
 */

const LeaseBody = z.looseObject({
  owner: z.string(),
  holder: z.string(),
  /** The machine the holder runs on (absent in leases written before it was recorded). */
  host: z.string().optional(),
  acquired_at: z.string(),
  expires_at: z.string(),
  /** The holder's process id, and the process-id space it is valid in (see `pidSpace`). */
  pid: z.number().int().positive().optional(),
  pid_space: z.string().optional(),
});
type LeaseBody = z.infer<typeof LeaseBody>;

/** The lease someone else holds, as stored: its holder and the fields of what it is for (e.g. `backup_id`). */
export type HeldLease = LeaseBody;

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

/** "pid 4242 on host-a" for a process, "a workflow (host-a)" for a workflow's lease. */
export function describeHolder(lease: HeldLease): string {
  if (lease.pid !== undefined && lease.host !== undefined) return `pid ${lease.pid} on ${lease.host}`;
  return lease.holder;
}

export interface Lease {
  readonly owner: string;
  /** Extends the expiry; throws LeaseHeldError if another holder took the lease over meanwhile. */
  renew(): Promise<void>;
  release(): Promise<void>;
}

export interface LeaseTerms {
  /** The lease object's key in the store. */
  key: string;
  ttlMs: number;
  now?: () => number;
  /**
   * Whether the lease belongs to this process (the default): its pid is recorded so that a run on the same
   * machine can take over at once when this process dies. A workflow's lease outlives the step that took it
   * (later steps renew and release it by its owner token, see `heldLease`), so it must not name a process and
   * only expires.
   */
  processBound?: boolean;
}

export interface AcquireTerms extends LeaseTerms {
  /** What the lease is for, stored beside the holder (e.g. `{ backup_id }`); keys of the lease itself are reserved. */
  fields: Record<string, string | string[]>;
  /** The error when a live holder has the lease. */
  heldError: (current: HeldLease) => LeaseHeldError;
  /** Called before a lease whose holder died (or that expired) is replaced. */
  onTakeOver?: (previous: HeldLease, why: 'holder died' | 'expired') => void;
}

/**
 * Leases stay plaintext in an encrypted location: they name only the holder (host, pid, run id), are rewritten at
 * every renewal (a KMS call each, if encrypted), and an operator can read who holds one without the key.
 */
function leaseStore(store: ObjectStore): ObjectStore {
  return store.plaintext?.() ?? store;
}

export async function acquireLease(location: ObjectStore, terms: AcquireTerms): Promise<Lease> {
  const store = leaseStore(location);
  const now = terms.now ?? Date.now;
  const owner = randomUUID();
  const space = pidSpace();
  const bound = terms.processBound ?? true;
  const body: LeaseBody = {
    ...terms.fields,
    owner,
    holder: bound ? `${hostname()} pid ${process.pid}` : `workflow (${hostname()})`,
    host: hostname(),
    acquired_at: new Date(now()).toISOString(),
    expires_at: new Date(now() + terms.ttlMs).toISOString(),
    ...(bound ? { pid: process.pid, pid_space: space } : {}),
  };

  for (let attempt = 0; attempt < 3; attempt++) {
    if (await store.putIfAbsent(terms.key, JSON.stringify(body))) break;
    const current = await readLease(store, terms.key);
    if (current) {
      const died = holderDied(current, space);
      if (Date.parse(current.expires_at) > now() && !died) throw terms.heldError(current);
      terms.onTakeOver?.(current, died ? 'holder died' : 'expired');
    }
    // Expired or its holder died, or vanished between the two calls: remove it and race for a fresh one.
    await store.delete([terms.key]);
    if (attempt === 2)
      throw new LeaseHeldError(`could not take the lease ${terms.key} in ${store.location}`, {
        hint: 'Retry.',
      });
  }

  return heldLease(store, { ...terms, owner });
}

/**
 * The lease `owner` took earlier, possibly in another process (a workflow step): renew and release it here.
 * Renewing throws LeaseHeldError if someone else holds the lease by now; it keeps what the lease says (holder,
 * fields, since when) and only moves its expiry.
 */
export function heldLease(location: ObjectStore, terms: LeaseTerms & { owner: string }): Lease {
  const store = leaseStore(location);
  const { owner, key } = terms;
  const now = terms.now ?? Date.now;
  return {
    owner,
    async renew() {
      const current = await readLease(store, key);
      if (current?.owner !== owner) {
        throw new LeaseHeldError(
          `the lease ${key} in ${store.location} was taken over by ${current ? describeHolder(current) : 'nobody'}`,
          { hint: 'This run was paused longer than the lease lasts; start it again to resume.' },
        );
      }
      const expires = new Date(now() + terms.ttlMs).toISOString();
      await store.put(key, JSON.stringify({ ...current, expires_at: expires }));
    },
    async release() {
      const current = await readLease(store, key);
      if (current?.owner === owner) await store.delete([key]);
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

async function readLease(store: ObjectStore, key: string): Promise<LeaseBody | undefined> {
  const raw = await store.getIfExists(key);
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
  return { owner: '', holder: 'unknown', acquired_at: '', expires_at: new Date(0).toISOString() };
}
