import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CCOMPAT_PATH } from './schema-registry.ts';

/** Kafka versions the ground knows how to run. 4.x is the default; KAFKA_VERSION=3.9.2 switches. */
export const DEFAULT_KAFKA_VERSION = '4.3.1';
export const VERSITYGW_VERSION = 'v1.8.0';

export interface ClusterSettings {
  name: 'primary' | 'dr';
  port: number;
  controllerPort: number;
  /** SASL_SSL listener; only the primary has one. */
  saslSslPort?: number;
}

export interface GroundSettings {
  kafkaVersion: string;
  /** Downloads and builds, shared by every clone on the machine. */
  cacheDir: string;
  /** Data, logs and pid files of this clone's services. */
  runDir: string;
  primary: ClusterSettings;
  dr: ClusterSettings;
  /** One S3 server per region, as in the seed: the primary's bucket in us-west-2, the DR bucket in us-east-1. */
  s3Servers: S3ServerSettings[];
  s3AccessKey: string;
  s3SecretKey: string;
  /** One Schema Registry per cluster, as a deployment has (Apicurio Registry, Confluent-compatible API). */
  schemaRegistries: SchemaRegistrySettings[];
}

export interface SchemaRegistrySettings {
  name: 'registry' | 'registry-dr';
  port: number;
}

export interface S3ServerSettings {
  name: 's3' | 's3-west';
  port: number;
  region: string;
  buckets: string[];
}

/** SCRAM users created on both clusters' SASL_SSL listeners at format time. */
export const SCRAM_USERS = [
  { name: 'admin', password: 'admin-secret' },
  { name: 'backup-service', password: 'backup-secret' },
  { name: 'restore-service', password: 'restore-secret' },
] as const;

const repoRoot = resolve(import.meta.dirname, '..', '..');

function port(env: string, fallback: number): number {
  const raw = process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`${env}=${raw} is not a TCP port (1-65535)`);
  }
  return value;
}

export function groundSettings(): GroundSettings {
  return {
    kafkaVersion: process.env['KAFKA_VERSION'] || DEFAULT_KAFKA_VERSION,
    cacheDir: process.env['KAFKA_BACKUP_CACHE'] || join(homedir(), '.cache', 'kafka-backup'),
    runDir: process.env['KAFKA_BACKUP_GROUND_DIR'] || join(repoRoot, '.ground'),
    primary: {
      name: 'primary',
      port: port('PRIMARY_KAFKA_PORT', 19092),
      controllerPort: port('PRIMARY_CONTROLLER_PORT', 19093),
      saslSslPort: port('PRIMARY_SASL_SSL_PORT', 19094),
    },
    dr: {
      name: 'dr',
      port: port('DR_KAFKA_PORT', 29092),
      controllerPort: port('DR_CONTROLLER_PORT', 29093),
      saslSslPort: port('DR_SASL_SSL_PORT', 29094),
    },
    s3Servers: [
      {
        name: 's3',
        port: port('S3_PORT', 17070),
        region: 'us-east-1',
        buckets: ['kafka-backups-dr', 'kafka-backup-test'],
      },
      {
        name: 's3-west',
        port: port('S3_WEST_PORT', 17071),
        region: 'us-west-2',
        buckets: ['kafka-backups-primary'],
      },
    ],
    s3AccessKey: 'ground-access-key',
    s3SecretKey: 'ground-secret-key',
    schemaRegistries: [
      { name: 'registry', port: port('SCHEMA_REGISTRY_PORT', 18081) },
      { name: 'registry-dr', port: port('SCHEMA_REGISTRY_DR_PORT', 28081) },
    ],
  };
}

/** What tests and tools need to reach the ground; also exported as environment variables. */
export interface GroundEndpoints {
  primaryBootstrap: string;
  primarySaslSslBootstrap: string;
  drBootstrap: string;
  drSaslSslBootstrap: string;
  caPemPath: string;
  /** us-east-1: buckets kafka-backups-dr and kafka-backup-test. */
  s3Endpoint: string;
  /** us-west-2: bucket kafka-backups-primary. */
  s3WestEndpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  kafkaVersion: string;
  /** Base URLs of the Confluent-compatible API of the primary's and the DR side's Schema Registry. */
  schemaRegistryUrl: string;
  schemaRegistryDrUrl: string;
}

/** The test CA and broker keystore live in the shared cache: any clone can talk to a ground another started. */
export function tlsDir(settings: GroundSettings): string {
  return join(settings.cacheDir, 'tls');
}

export function groundEndpoints(settings: GroundSettings = groundSettings()): GroundEndpoints {
  return {
    primaryBootstrap: `127.0.0.1:${settings.primary.port}`,
    primarySaslSslBootstrap: `localhost:${settings.primary.saslSslPort}`,
    drBootstrap: `127.0.0.1:${settings.dr.port}`,
    drSaslSslBootstrap: `localhost:${settings.dr.saslSslPort}`,
    caPemPath: join(tlsDir(settings), 'ca.pem'),
    s3Endpoint: `http://127.0.0.1:${settings.s3Servers[0]!.port}`,
    s3WestEndpoint: `http://127.0.0.1:${settings.s3Servers[1]!.port}`,
    s3AccessKey: settings.s3AccessKey,
    s3SecretKey: settings.s3SecretKey,
    kafkaVersion: settings.kafkaVersion,
    schemaRegistryUrl: `http://127.0.0.1:${settings.schemaRegistries[0]!.port}${CCOMPAT_PATH}`,
    schemaRegistryDrUrl: `http://127.0.0.1:${settings.schemaRegistries[1]!.port}${CCOMPAT_PATH}`,
  };
}

export function endpointsToEnv(e: GroundEndpoints): Record<string, string> {
  return {
    GROUND_PRIMARY_BOOTSTRAP: e.primaryBootstrap,
    GROUND_PRIMARY_SASL_SSL_BOOTSTRAP: e.primarySaslSslBootstrap,
    GROUND_DR_BOOTSTRAP: e.drBootstrap,
    GROUND_DR_SASL_SSL_BOOTSTRAP: e.drSaslSslBootstrap,
    GROUND_CA_PEM: e.caPemPath,
    GROUND_S3_ENDPOINT: e.s3Endpoint,
    GROUND_S3_WEST_ENDPOINT: e.s3WestEndpoint,
    GROUND_KAFKA_VERSION: e.kafkaVersion,
    GROUND_SCHEMA_REGISTRY_URL: e.schemaRegistryUrl,
    GROUND_SCHEMA_REGISTRY_DR_URL: e.schemaRegistryDrUrl,
    AWS_ACCESS_KEY_ID: e.s3AccessKey,
    AWS_SECRET_ACCESS_KEY: e.s3SecretKey,
    AWS_REGION: 'us-east-1',
  };
}
