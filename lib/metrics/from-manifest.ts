import type { Manifest } from '../format/manifest.ts';
import type { BackupSucceeded, DrReady } from './recorder.ts';

/** KafkaBackupLag fires past two hours; DR is "ready" on the same terms so the two never disagree. */
export const DEFAULT_DR_MAX_AGE_SECONDS = 7200;

/** The success event of a completed backup, all of it from its manifest. */
export function backupSucceededFromManifest(manifest: Manifest): BackupSucceeded {
  return {
    backupId: manifest.backup_id,
    sourceClusterId: manifest.source_cluster_id,
    records: manifest.stats.records,
    storedBytes: manifest.stats.stored_bytes,
    durationMs: manifest.stats.duration_ms,
    completedAt: new Date(manifest.completed_at),
  };
}

export interface DrReadyOptions {
  sourceClusterId: string;
  now: Date;
  maxAgeSeconds?: number;
}

/**
 * DR readiness from the newest complete backup the DR side can read (its manifest exists only once a backup is
 * complete), or undefined when there is none. A manifest from the future (clock skew) counts as fresh.
 */
export function drReadyFromManifest(
  latest: Pick<Manifest, 'completed_at'> | undefined,
  opts: DrReadyOptions,
): DrReady {
  const maxAgeMs = (opts.maxAgeSeconds ?? DEFAULT_DR_MAX_AGE_SECONDS) * 1000;
  const completed = latest ? Date.parse(latest.completed_at) : Number.NaN;
  const ready = Number.isFinite(completed) && opts.now.getTime() - completed <= maxAgeMs;
  return { sourceClusterId: opts.sourceClusterId, ready };
}
