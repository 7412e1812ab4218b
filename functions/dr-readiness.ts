// DR readiness, every few minutes (EventBridge Scheduler, lib/infra/constructs/dr-readiness.ts): per source cluster,
// whether the replica bucket holds a recent complete backup; kafka_backup_dr_ready as EMF for the DRNotReady alarm.
// Its own small bundle (no Kafka client, no zstd): it only reads manifests.
import {
  checkDrillEvidence,
  checkReadiness,
  type DrillEvidenceTarget,
  type ReadinessTarget,
  readinessSettingsFromEnv,
} from '../lib/dr/readiness.ts';
import type { EvidenceVerifier } from '../lib/evidence/index.ts';
import type { ObjectStore } from '../lib/storage/object-store.ts';
import { emfMetrics, type MiddlewareOptions, withPowertools } from './middleware.ts';

export interface DrReadinessOptions extends MiddlewareOptions {
  /** Default: the target's S3 location. */
  openStore?: (target: ReadinessTarget | DrillEvidenceTarget) => ObjectStore;
  /** Default: the drill's KMS key (kms:GetPublicKey), checked locally. */
  verifier?: (target: DrillEvidenceTarget) => Promise<EvidenceVerifier>;
}

export function drReadinessHandler(opts: DrReadinessOptions = {}) {
  const env = opts.env ?? process.env;
  return withPowertools(
    { function: 'dr-readiness' },
    async (_event, _context, logger) => {
      const { targets, maxAgeSeconds, drill } = readinessSettingsFromEnv(env);
      const now = new Date();
      const metrics = emfMetrics(logger, opts);
      const results = await checkReadiness(targets, {
        now,
        maxAgeSeconds,
        metrics,
        ...(opts.openStore ? { openStore: opts.openStore } : {}),
      });
      for (const r of results) logger.info(r.ready ? 'DR ready' : 'DR not ready', { ...r });
      if (!drill) return results;
      const drills = await checkDrillEvidence(drill, {
        now,
        metrics,
        ...(opts.openStore ? { openStore: opts.openStore } : {}),
        ...(opts.verifier ? { verifier: opts.verifier } : {}),
      });
      for (const u of drills.unverified)
        logger.warn('drill evidence says passed but does not verify: not counted', { ...u });
      if (drills.daysSincePassed === null)
        logger.warn('no passing drill evidence that verifies', { ...drills });
      else logger.info('days since the last passing drill', { ...drills });
      return { readiness: results, drill: drills };
    },
    env,
  );
}

export const handler = drReadinessHandler();
