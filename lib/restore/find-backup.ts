import { NotFoundError } from '../errors.ts';
import { backupHeaders } from '../format/catalog.ts';
import { validateBackup } from '../format/validate-backup.ts';
import type { ObjectStore } from '../storage/object-store.ts';

export interface RestorableBackup {
  backup_id: string;
  completed_at: string;
  source_cluster_id: string;
  /** Newer backups passed over because objects they name are missing (replication still running) or wrong. */
  skipped: { backup_id: string; problems: number; first_problem: string }[];
}

/**
 * The newest complete backup whose every segment is present with its recorded size. In a replicated bucket a
 * manifest can arrive before the segments it names (S3 replication keeps no order): such a backup is skipped, not
 * restored half. Throws NotFoundError when no backup qualifies.
 */
export async function findRestorableBackup(
  store: ObjectStore,
  opts: { sourceClusterId?: string; concurrency?: number } = {},
): Promise<RestorableBackup> {
  const manifests = (await backupHeaders(store)).filter(
    (m) => opts.sourceClusterId === undefined || m.source_cluster_id === opts.sourceClusterId,
  );
  const skipped: RestorableBackup['skipped'] = [];
  for (const m of manifests.reverse()) {
    const report = await validateBackup(store, m.backup_id, {
      deep: false,
      concurrency: opts.concurrency ?? 16,
    });
    if (report.ok) {
      return {
        backup_id: m.backup_id,
        completed_at: m.completed_at,
        source_cluster_id: m.source_cluster_id,
        skipped,
      };
    }
    const first = report.problems[0]!;
    skipped.push({
      backup_id: m.backup_id,
      problems: report.problems.length,
      first_problem: `${first.object}: ${first.problem}`,
    });
  }
  throw new NotFoundError(
    `no complete backup${opts.sourceClusterId ? ` of ${opts.sourceClusterId}` : ''} is fully present in ${store.location}${
      skipped.length > 0
        ? ` (${skipped.length} with missing or wrong objects, newest ${skipped[0]!.backup_id}: ${skipped[0]!.first_problem})`
        : ''
    }`,
    { hint: 'Check that replication into this bucket runs, or wait for it to catch up.' },
  );
}
