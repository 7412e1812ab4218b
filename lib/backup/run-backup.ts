import type { Manifest } from '../format/manifest.ts';
import type { BackupPlan } from '../format/plan.ts';
import { captureBackupMetadata } from '../metadata/index.ts';
import {
  type BackupPartitionsOptions,
  backupRanges,
  type RangeResult,
  wholePartitionRanges,
} from './backup-partitions.ts';
import type { BackupContext } from './context.ts';
import { type FinalizeResult, finalizeBackup } from './finalize-backup.ts';
import { acquireLease, keepLeaseAlive } from './lease.ts';
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
  opts: Pick<BackupPartitionsOptions, 'onProgress' | 'signal'> & {
    leaseTtlMs?: number;
    /** The plan, once made (or loaded, for a resumed run): what the CLI's progress counts against. */
    onPlan?: (plan: BackupPlan) => void;
  } = {},
): Promise<RunBackupResult> {
  const ttl = opts.leaseTtlMs ?? Math.max(120_000, ctx.config.backup.checkpoint_interval_secs * 4_000);
  const lease = await acquireLease(ctx.store, { backupId: ctx.config.backup_id, ttlMs: ttl });
  const renewal = keepLeaseAlive(lease, ttl);
  try {
    const { plan, resumed } = await planBackup(ctx);
    opts.onPlan?.(plan);
    // Schemas, ACLs, quotas, users (backup.metadata), read right after the cut; a resumed run keeps its own.
    await captureBackupMetadata(ctx);
    // One process reads every partition whole: splitting a partition only pays with several workers.
    const { results, progress } = await backupRanges(ctx, plan, wholePartitionRanges(plan), opts);
    assertAllDone(results);
    await renewal.check();
    // This process wrote every range's progress: finalize takes it from here, not 10,000 GETs.
    const final = await finalizeBackup(ctx, plan, { progress });
    return { ...final, resumed };
  } finally {
    await renewal.stop().catch(() => undefined);
    await lease.release().catch(() => undefined);
  }
}

export function assertAllDone(results: RangeResult[]): void {
  const unfinished = results.filter((r) => !r.done);
  if (unfinished.length > 0) {
    throw new Error(
      `ranges not finished: ${unfinished.map((r) => `${r.topic}/${r.partition} [${r.from}, ${r.to}) at ${r.next_offset}`).join(', ')}`,
    );
  }
}
