import type { Manifest } from '../format/manifest.ts';
import { type BackupPartitionsOptions, backupPartitions, planItems } from './backup-partitions.ts';
import type { BackupContext } from './context.ts';
import { type FinalizeResult, finalizeBackup } from './finalize-backup.ts';
import { acquireLease } from './lease.ts';
import { planBackup } from './plan-backup.ts';

export interface RunBackupResult extends FinalizeResult {
  manifest: Manifest;
  resumed: boolean;
}

/**
 * A whole backup in this process: lease, plan (or resume), read every partition, finalize. The serverless
 * workflow runs the same three steps as separate tasks.
 */
export async function runBackup(
  ctx: BackupContext,
  opts: Pick<BackupPartitionsOptions, 'onProgress' | 'signal'> & { leaseTtlMs?: number } = {},
): Promise<RunBackupResult> {
  const ttl = opts.leaseTtlMs ?? Math.max(120_000, ctx.config.backup.checkpoint_interval_secs * 4_000);
  const lease = await acquireLease(ctx.store, { backupId: ctx.config.backup_id, ttlMs: ttl });
  let renewal: Promise<void> = Promise.resolve();
  let renewalError: unknown;
  const renewTimer = setInterval(() => {
    renewal = lease.renew().catch((e: unknown) => {
      renewalError = e;
    });
  }, ttl / 3);
  try {
    const { plan, resumed } = await planBackup(ctx);
    const results = await backupPartitions(ctx, plan, planItems(plan), opts);
    const unfinished = results.filter((r) => !r.done);
    if (unfinished.length > 0) {
      throw new Error(
        `partitions not finished: ${unfinished.map((r) => `${r.topic}/${r.partition}`).join(', ')}`,
      );
    }
    await renewal;
    if (renewalError) throw renewalError;
    const final = await finalizeBackup(ctx, plan);
    return { ...final, resumed };
  } finally {
    clearInterval(renewTimer);
    await renewal;
    await lease.release().catch(() => undefined);
  }
}
