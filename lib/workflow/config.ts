import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  type BackupConfig,
  parseBackupConfig,
  parseRestoreConfig,
  type RestoreConfig,
  SECRET_KEYS,
  StorageConfig,
} from '../config/index.ts';
import { ConfigError } from '../errors.ts';
import { openStore } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/**
 * A config as the workflows carry it: the execution input's JSON (the seed's YAML fields), `${VAR}` references
 * unresolved. The first step of a run stores it next to the backup (or restore) and every later step, Lambda or
 * Fargate, loads it through this pointer: small enough for a container override, and no credentials in it.
 */
export const ConfigRef = z.object({
  storage: StorageConfig,
  key: z.string().min(1),
  /** When the run started: `${TIMESTAMP}` resolves to the same value in every step. */
  now: z.iso.datetime(),
});
export type ConfigRef = z.infer<typeof ConfigRef>;

export type RawConfig = Record<string, unknown>;
export type KafkaSecret = Record<string, unknown>;

type Section = 'source' | 'target';

function objectAt(raw: RawConfig, key: string): Record<string, unknown> {
  const v = raw[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/**
 * Credentials never travel in an execution input (Step Functions keeps it in the execution history, and the run
 * stores the config next to the backup): they come from the Kafka secret, or a `${VAR}` set on the functions.
 */
export function assertNoLiteralSecrets(raw: RawConfig, section: Section, where: string): void {
  const security = objectAt(objectAt(raw, section), 'security');
  for (const key of SECRET_KEYS) {
    const v = security[key];
    if (typeof v === 'string' && !v.includes('${')) {
      throw new ConfigError(
        `${where}: ${section}.security.${key} is a literal value; a workflow input must not carry credentials`,
        {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: names the config's ${NAME} syntax
          hint: 'Put it in the Kafka secret (kafkaSecret, e.g. {"sasl_password": "..."}) and leave it out of the config, or reference an environment variable as ${NAME}.',
        },
      );
    }
  }
}

/**
 * The Kafka secret's fields go into the connection's `security` section, over what the config says: e.g.
 * `{"sasl_username": "backup-service", "sasl_password": "..."}`. `ssl_ca_pem` (a PEM text) is written to a file
 * and becomes `ssl_ca_location`.
 */
export function mergeSecret(raw: RawConfig, section: Section, secret: KafkaSecret | undefined): RawConfig {
  if (!secret || Object.keys(secret).length === 0) return raw;
  const { ssl_ca_pem: pem, ...fields } = secret;
  const security: Record<string, unknown> = { ...objectAt(objectAt(raw, section), 'security'), ...fields };
  if (typeof pem === 'string') {
    const path = join(
      tmpdir(),
      `kafka-backup-ca-${createHash('sha256').update(pem).digest('hex').slice(0, 16)}.pem`,
    );
    if (!existsSync(path)) writeFileSync(path, pem, { mode: 0o600 });
    security['ssl_ca_location'] = path;
  }
  return { ...raw, [section]: { ...objectAt(raw, section), security } };
}

export interface ParseOptions {
  source: string;
  env: Readonly<Record<string, string | undefined>>;
  now: Date;
  secret: KafkaSecret | undefined;
}

export function parseBackupInput(raw: RawConfig, o: ParseOptions): BackupConfig {
  const text = JSON.stringify(mergeSecret(raw, 'source', o.secret), null, 2);
  return parseBackupConfig(text, { source: o.source, env: o.env, now: o.now });
}

export function parseRestoreInput(raw: RawConfig, o: ParseOptions): RestoreConfig {
  const text = JSON.stringify(mergeSecret(raw, 'target', o.secret), null, 2);
  return parseRestoreConfig(text, { source: o.source, env: o.env, now: o.now });
}

/** Stores the run's config (as given, credentials left out) where every later step finds it. */
export async function storeConfig(
  store: ObjectStore,
  storage: ConfigRef['storage'],
  key: string,
  raw: RawConfig,
  now: Date,
): Promise<ConfigRef> {
  await store.put(key, JSON.stringify(raw, null, 2));
  return { storage, key, now: now.toISOString() };
}

export async function loadConfigRef(ref: ConfigRef): Promise<{ raw: RawConfig; store: ObjectStore }> {
  const store = openStore(ref.storage);
  const json: unknown = JSON.parse((await store.get(ref.key)).toString('utf8'));
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError(`${store.location}/${ref.key} does not hold a config object`);
  return { raw: json as RawConfig, store };
}

/** Where a run keeps its config: next to the backup, or next to the restore's state. */
export const WorkflowLayout = {
  backupConfig: (backupId: string) => `backups/${backupId}/workflow/config.json`,
  restoreConfig: (restoreId: string) => `restores/${restoreId}/workflow/config.json`,
} as const;
