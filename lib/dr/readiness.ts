import { type EvidenceVerifier, kmsVerifier, listEvidence, verifyEvidence } from '../evidence/index.ts';
import { backupHeaders } from '../format/catalog.ts';
import { EmfMetrics } from '../metrics/emf.ts';
import { DEFAULT_DR_MAX_AGE_SECONDS, drReadyFromManifest } from '../metrics/from-manifest.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { openStore } from '../storage/open-store.ts';
import {
  DRILL_EVIDENCE_ENV,
  type DrillEvidenceTarget,
  MAX_AGE_ENV,
  type ReadinessTarget,
  TARGETS_ENV,
} from './readiness-targets.ts';

export { DRILL_EVIDENCE_ENV, type DrillEvidenceTarget, MAX_AGE_ENV, type ReadinessTarget, TARGETS_ENV };

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
    const manifests = await backupHeaders(open(target));
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

export interface DrillEvidenceResult {
  sourceClusterId: string;
  /** The newest evidence that says the drill passed and whose signature verifies with the drill's key. */
  newestPassedId: string | null;
  passedAt: string | null;
  daysSincePassed: number | null;
  /** Newer reports that say "passed" but do not verify (edited, or signed by another key): never counted. */
  unverified: { id: string; problems: string[] }[];
}

/** At most this many passing-but-unverifiable reports are looked at before giving up (each is a few reads). */
const MAX_UNVERIFIED = 5;
const DAY_SECONDS = 86_400;

/**
 * Days since the last passing DR drill, as kafka_backup_days_since_drill_passed: the newest evidence folder in the
 * drill's location whose report says it passed and whose signature verifies with the drill stack's key (a report
 * anyone could have written counts for nothing). CloudWatch cannot look back a month on one metric, so this check,
 * every few minutes, turns the evidence into a gauge the NoDrillPassed alarm compares with its limit. No passing
 * drill at all: nothing is reported (the alarm treats missing data as breaching).
 */
export async function checkDrillEvidence(
  target: DrillEvidenceTarget,
  opts: {
    now: Date;
    openStore?: (t: DrillEvidenceTarget) => ObjectStore;
    verifier?: (t: DrillEvidenceTarget) => Promise<EvidenceVerifier>;
    metrics?: Pick<EmfMetrics, 'daysSinceDrillPassed'>;
  },
): Promise<DrillEvidenceResult> {
  const store = opts.openStore
    ? opts.openStore(target)
    : openStore({
        backend: 's3',
        bucket: target.bucket,
        region: target.region,
        prefix: target.prefix,
        ...(target.encryption ? { encryption: target.encryption } : {}),
      });
  const metrics = opts.metrics ?? new EmfMetrics();
  const result: DrillEvidenceResult = {
    sourceClusterId: target.sourceClusterId,
    newestPassedId: null,
    passedAt: null,
    daysSincePassed: null,
    unverified: [],
  };
  const passing = (await listEvidence(store)).filter((e) => e.ok === true && e.signed);
  let verifier: EvidenceVerifier | undefined;
  for (const e of passing) {
    if (result.unverified.length >= MAX_UNVERIFIED) break;
    verifier ??= await (opts.verifier ?? ((t) => kmsVerifier({ keyId: t.keyArn, region: t.region })))(target);
    const v = await verifyEvidence(store, e.id, verifier);
    if (!v.ok || !v.report?.ok) {
      result.unverified.push({ id: e.id, problems: v.problems });
      continue;
    }
    result.newestPassedId = e.id;
    result.passedAt = v.report.finished_at;
    result.daysSincePassed = Math.max(
      0,
      (opts.now.getTime() - Date.parse(v.report.finished_at)) / 1000 / DAY_SECONDS,
    );
    metrics.daysSinceDrillPassed({ sourceClusterId: target.sourceClusterId, days: result.daysSincePassed });
    break;
  }
  return result;
}

/** What the DR-readiness function is configured with (by its construct, lib/infra/constructs/dr-readiness.ts). */
export function readinessSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): {
  targets: ReadinessTarget[];
  maxAgeSeconds: number;
  drill: DrillEvidenceTarget | undefined;
} {
  const targets = JSON.parse(env[TARGETS_ENV] ?? '[]') as ReadinessTarget[];
  const maxAgeSeconds = Number(env[MAX_AGE_ENV] ?? DEFAULT_DR_MAX_AGE_SECONDS);
  const drillText = env[DRILL_EVIDENCE_ENV];
  const drill = drillText ? (JSON.parse(drillText) as DrillEvidenceTarget) : undefined;
  return { targets, maxAgeSeconds, drill };
}
