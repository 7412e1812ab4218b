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
