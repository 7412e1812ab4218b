import { LeaseHeldError } from '../errors.ts';
import { RestoreLayout } from '../format/restore-state.ts';
import {
  type AcquireTerms,
  acquireLease,
  describeHolder,
  heldLease,
  type Lease,
  type LeaseTerms,
} from '../storage/lease.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { RestoreIdentity } from './plan-restore.ts';

/**
 * One run of a restore at a time: a lease next to the restore's state (`restores/<restore id>/lease.json`). The
 * restore id names the backup, the target cluster, the topic mapping and the window, so two runs of the same
 * restore into the same target cannot both plan from an empty target and write everything twice. Taken before
 * the run reads the target and the restore state, held (renewed) while it writes, released at the end. Expiry,
 * renewal and taking over the lease of a dead holder are the backup lease's (lib/storage/lease.ts).
 */

/** How long a CLI restore's lease lasts without renewal (renewed every third of it). */
export const DEFAULT_RESTORE_LEASE_TTL_MS = 120_000;

export interface RestoreLeaseOptions extends Omit<LeaseTerms, 'key'> {
  /** The target's bootstrap servers, recorded in the lease for whoever finds it. */
  bootstrapServers?: string[];
  onTakeOver?: AcquireTerms['onTakeOver'];
}

export async function acquireRestoreLease(
  store: ObjectStore,
  id: RestoreIdentity,
  opts: RestoreLeaseOptions,
): Promise<Lease> {
  const { bootstrapServers, ...terms } = opts;
  const targets = [...new Set(Object.values(id.topics))].sort();
  return acquireLease(store, {
    ...terms,
    key: RestoreLayout.lease(id.restore_id),
    fields: {
      restore_id: id.restore_id,
      backup_id: id.backup_id,
      target_cluster_id: id.target_cluster_id,
      target_topics: targets,
      ...(bootstrapServers ? { target_bootstrap_servers: bootstrapServers } : {}),
    },
    heldError: (current) => {
      const what = `restore ${id.restore_id} (backup ${id.backup_id} into ${targets.join(', ')} of cluster ${id.target_cluster_id})`;
      const hint =
        current.pid !== undefined
          ? `Wait for it to finish (running the restore again afterwards writes nothing twice). If that process hangs, stop it: a run on ${current.host ?? 'the same machine'} then takes over at once, a run elsewhere after the lease expires at ${current.expires_at}.`
          : `Wait for that workflow execution to finish; if it was stopped, run again after its lease expires at ${current.expires_at}.`;
      return new LeaseHeldError(
        `${what} is already running: ${describeHolder(current)} holds its lease since ${current.acquired_at}`,
        { hint },
      );
    },
  });
}

/** The restore lease `owner` took earlier, in another process (a workflow step): renew and release it here. */
export function restoreLeaseOf(
  store: ObjectStore,
  restoreId: string,
  opts: Omit<LeaseTerms, 'key'> & { owner: string },
): Lease {
  return heldLease(store, { ...opts, key: RestoreLayout.lease(restoreId) });
}
