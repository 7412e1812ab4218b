import { LeaseHeldError } from '../errors.ts';
import { Layout } from '../format/manifest.ts';
import {
  acquireLease as acquireStoredLease,
  heldLease,
  type Lease,
  type LeaseTerms,
} from '../storage/lease.ts';
import type { ObjectStore } from '../storage/object-store.ts';

export { keepLeaseAlive, type Lease } from '../storage/lease.ts';

/**
 * One backup at a time per location: the lease object `lease.json` at the location's root (see
 * lib/storage/lease.ts for how it expires, is renewed, and is taken over when its holder died).
 */
export interface LeaseOptions extends Omit<LeaseTerms, 'key'> {
  backupId: string;
}

export async function acquireLease(store: ObjectStore, opts: LeaseOptions): Promise<Lease> {
  return acquireStoredLease(store, {
    ...opts,
    key: Layout.lease,
    fields: { backup_id: opts.backupId },
    heldError: (current) =>
      new LeaseHeldError(
        `another backup (${String(current['backup_id'] ?? '?')}, ${current.holder}) is running in ${store.location}; its lease expires at ${current.expires_at}`,
        { hint: 'Wait for it to finish. If that process died, run again after the lease expires.' },
      ),
  });
}

/**
 * The lease `owner` took earlier, possibly in another process (a workflow step): renew and release it here.
 * Renewing throws LeaseHeldError if someone else holds the lease by now.
 */
export function leaseOf(store: ObjectStore, opts: LeaseOptions & { owner: string }): Lease {
  return heldLease(store, { ...opts, key: Layout.lease });
}
