/** Shared by the DR readiness check (readiness.ts) and its construct, which must not load the AWS SDK at synth. */

/** One backup location the DR side holds for a source cluster (the replica of one KafkaBackup's prefix). */
export interface ReadinessTarget {
  sourceClusterId: string;
  bucket: string;
  region: string;
  prefix: string;
  /** The location's client-side encryption (the DR region's key: the function only decrypts manifests). */
  encryption?: { kms_key_id: string };
}

/** The environment variable holding the targets, as JSON. */
export const TARGETS_ENV = 'DR_READINESS_TARGETS';
export const MAX_AGE_ENV = 'DR_READINESS_MAX_AGE_SECONDS';

/**
 * Where a DR region's drill writes its evidence (the restore's location in the replica bucket) and the key that
 * signs it: the readiness check reports the days since the newest passing drill whose signature verifies.
 */
export interface DrillEvidenceTarget {
  sourceClusterId: string;
  bucket: string;
  region: string;
  prefix: string;
  /** The drill stack's KMS evidence key (its public half verifies the evidence). */
  keyArn: string;
  /** The location's client-side encryption: the evidence is encrypted like every object there. */
  encryption?: { kms_key_id: string };
}

/** The environment variable holding the drill's evidence target, as JSON (absent: the region has no drill). */
export const DRILL_EVIDENCE_ENV = 'DR_READINESS_DRILL_EVIDENCE';
