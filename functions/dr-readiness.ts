// DR readiness, every few minutes (EventBridge Scheduler, lib/infra/constructs/dr-readiness.ts): per source cluster,
// whether the replica bucket holds a recent complete backup; kafka_backup_dr_ready as EMF for the DRNotReady alarm.
// Its own small bundle (no Kafka client, no zstd): it only reads manifests.
import { checkReadiness, type ReadinessTarget, readinessSettingsFromEnv } from '../lib/dr/readiness.ts';
import type { ObjectStore } from '../lib/storage/object-store.ts';
import { emfMetrics, type MiddlewareOptions, withPowertools } from './middleware.ts';

export interface DrReadinessOptions extends MiddlewareOptions {
  /** Default: the target's S3 location. */
  openStore?: (target: ReadinessTarget) => ObjectStore;
}

export function drReadinessHandler(opts: DrReadinessOptions = {}) {
  const env = opts.env ?? process.env;
  return withPowertools(
    { function: 'dr-readiness' },
    async (_event, _context, logger) => {
      const { targets, maxAgeSeconds } = readinessSettingsFromEnv(env);
      const results = await checkReadiness(targets, {
        now: new Date(),
        maxAgeSeconds,
        metrics: emfMetrics(logger, opts),
        ...(opts.openStore ? { openStore: opts.openStore } : {}),
      });
      for (const r of results) logger.info(r.ready ? 'DR ready' : 'DR not ready', { ...r });
      return results;
    },
    env,
  );
}

export const handler = drReadinessHandler();
