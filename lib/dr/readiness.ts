import { loadManifests } from '../format/catalog.ts';
import { EmfMetrics } from '../metrics/emf.ts';
import { DEFAULT_DR_MAX_AGE_SECONDS, drReadyFromManifest } from '../metrics/from-manifest.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { openStore } from '../storage/open-store.ts';
import { MAX_AGE_ENV, type ReadinessTarget, TARGETS_ENV } from './readiness-targets.ts';

export { MAX_AGE_ENV, type ReadinessTarget, TARGETS_ENV };

export interface ReadinessResult {
  sourceClusterId: string;
  ready: boolean;
  newestBackupId: string | null;
  newestCompletedAt: string | null;
}

/**
 * The DR side's readiness, every few minutes (EventBridge Scheduler): per source cluster, whether the replica
 * bucket holds a complete backup (its manifest) newer than the lag limit in any of the cluster's locations.
 * Reported as kafka_backup_dr_ready (EMF, namespace KafkaBackup), which the DRNotReady alarm watches.
 */
export async function checkReadiness(
  targets: readonly ReadinessTarget[],
  opts: {
    now: Date;
    maxAgeSeconds: number;
    openStore?: (t: ReadinessTarget) => ObjectStore;
    metrics?: Pick<EmfMetrics, 'drReady'>;
  },
): Promise<ReadinessResult[]> {
  const open =
    opts.openStore ??
    ((t: ReadinessTarget) =>
      openStore({
        backend: 's3',
        bucket: t.bucket,
        region: t.region,
        prefix: t.prefix,
        ...(t.encryption ? { encryption: t.encryption } : {}),
      }));
  const metrics = opts.metrics ?? new EmfMetrics();
  const newest = new Map<string, { backupId: string; completedAt: string } | null>();
  for (const target of targets) {
    const manifests = await loadManifests(open(target));
    const latest = manifests.filter((m) => m.source_cluster_id === target.sourceClusterId).at(-1);
    const known = newest.get(target.sourceClusterId) ?? null;
    if (latest && (known === null || latest.completed_at > known.completedAt)) {
      newest.set(target.sourceClusterId, { backupId: latest.backup_id, completedAt: latest.completed_at });
    } else if (!newest.has(target.sourceClusterId)) {
      newest.set(target.sourceClusterId, null);
    }
  }
  return [...newest].map(([sourceClusterId, latest]) => {
    const event = drReadyFromManifest(latest ? { completed_at: latest.completedAt } : undefined, {
      sourceClusterId,
      now: opts.now,
      maxAgeSeconds: opts.maxAgeSeconds,
    });
    metrics.drReady(event);
    return {
      sourceClusterId,
      ready: event.ready,
      newestBackupId: latest?.backupId ?? null,
      newestCompletedAt: latest?.completedAt ?? null,
    };
  });
}

/** What the DR-readiness function is configured with (by its construct, lib/infra/constructs/dr-readiness.ts). */
export function readinessSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): {
  targets: ReadinessTarget[];
  maxAgeSeconds: number;
} {
  const targets = JSON.parse(env[TARGETS_ENV] ?? '[]') as ReadinessTarget[];
  const maxAgeSeconds = Number(env[MAX_AGE_ENV] ?? DEFAULT_DR_MAX_AGE_SECONDS);
  return { targets, maxAgeSeconds };
}
