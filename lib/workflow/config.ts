import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { assertNoCredentials } from '../config/credentials.ts';
import {
  type BackupConfig,
  parseBackupConfig,
  parseRestoreConfig,
  type RestoreConfig,
  StorageConfig,
} from '../config/index.ts';
import { ConfigError } from '../errors.ts';
import { openStore } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { checkKafkaServers, checkStorage, type WorkflowPolicy, withDeploymentEncryption } from './policy.ts';

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
 * stores the config next to the backup): they come from the Kafka secret, or a `${VAR}` (without a default value)
 * that the deployment sets for configs. Checked on every config a step receives, stores or loads.
 */
export function assertNoLiteralSecrets(raw: RawConfig, _section: Section, where: string): void {
  assertNoCredentials(raw, where);
}

/**
 * The Kafka secret's fields go into the connection's `security` section, over what the config says: e.g.
 * `{"sasl_username": "backup-service", "sasl_password": "..."}`. `ssl_ca_pem` (a PEM text) is written to a file
 * and becomes `ssl_ca_location`.
 */
export function mergeSecret(raw: RawConfig, section: Section, secret: KafkaSecret | undefined): RawConfig {
  if (!secret || Object.keys(secret).length === 0) return raw;
  const { ssl_ca_pem: pem, schema_registry: registry, scram_passwords: scram, ...fields } = secret;
  raw = mergeMetadataSecrets(raw, registry, scram);
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

/**
 * Two optional fields of the secret are not Kafka's: `schema_registry` (e.g. `{"basic_auth": {"username": "...",
 * "password": "..."}}` or `{"bearer": {"token": "..."}}`) goes over the config's `schema_registry` section when it
 * has one, and `scram_passwords` (`{"orders-app-dr": "..."}`) gives the passwords of `restore.scram_users` by name
 * (an entry there may then leave its password out).
 */
function mergeMetadataSecrets(raw: RawConfig, registry: unknown, scram: unknown): RawConfig {
  let out = raw;
  const section = objectAt(raw, 'schema_registry');
  if (isObject(registry) && Object.keys(section).length > 0) {
    const merged: Record<string, unknown> = { ...section };
    for (const [k, v] of Object.entries(registry))
      merged[k] = isObject(v) && isObject(section[k]) ? { ...(section[k] as object), ...v } : v;
    out = { ...out, schema_registry: merged };
  }
  const restore = objectAt(raw, 'restore');
  if (isObject(scram) && Array.isArray(restore['scram_users'])) {
    const users = (restore['scram_users'] as unknown[]).map((u) =>
      isObject(u) && typeof u['name'] === 'string' && typeof scram[u['name']] === 'string'
        ? { ...u, password: scram[u['name']] }
        : u,
    );
    out = { ...out, restore: { ...restore, scram_users: users } };
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface ParseOptions {
  source: string;
  /** What `${VAR}` resolves from: in a step only the deployment's config variables (see configVariables). */
  env: Readonly<Record<string, string | undefined>>;
  now: Date;
  secret: KafkaSecret | undefined;
  /** The deployment's workflow policy: checked before the Kafka secret is merged. None: nothing checked. */
  policy?: WorkflowPolicy | undefined;
}

/** The secret's fields with values that are no secret: the config parses as it will, without the secret in it. */
function placeholderSecret(secret: KafkaSecret | undefined): KafkaSecret | undefined {
  if (!secret) return secret;
  const blank = (v: unknown): unknown =>
    typeof v === 'string'
      ? 'placeholder'
      : isObject(v)
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blank(x)]))
        : v;
  return Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, k === 'ssl_ca_pem' ? v : blank(v)]));
}

function parseChecked<C extends { storage: StorageConfig }>(
  raw: RawConfig,
  section: Section,
  o: ParseOptions,
  parse: (text: string) => C,
  servers: (config: C) => readonly string[],
): C {
  assertNoCredentials(raw, o.source);
  if (o.policy) {
    // The servers and storage as the config resolves them, checked before the secret goes anywhere near it.
    const probe = parse(JSON.stringify(mergeSecret(raw, section, placeholderSecret(o.secret)), null, 2));
    checkKafkaServers(servers(probe), `${section}.bootstrap_servers`, o.policy, o.source);
    checkStorage(probe.storage, 'storage', o.policy, o.source);
  }
  const config = parse(JSON.stringify(mergeSecret(raw, section, o.secret), null, 2));
  return { ...config, storage: withDeploymentEncryption(config.storage, o.policy) };
}

export function parseBackupInput(raw: RawConfig, o: ParseOptions): BackupConfig {
  return parseChecked(
    raw,
    'source',
    o,
    (text) => parseBackupConfig(text, { source: o.source, env: o.env, now: o.now }),
    (c) => c.source.bootstrap_servers,
  );
}

export function parseRestoreInput(raw: RawConfig, o: ParseOptions): RestoreConfig {
  return parseChecked(
    raw,
    'target',
    o,
    (text) => parseRestoreConfig(text, { source: o.source, env: o.env, now: o.now }),
    (c) => c.target.bootstrap_servers,
  );
}

/** Stores the run's config (as given, credentials left out) where every later step finds it. */
export async function storeConfig(
  store: ObjectStore,
  storage: ConfigRef['storage'],
  key: string,
  raw: RawConfig,
  now: Date,
): Promise<ConfigRef> {
  assertNoCredentials(raw, `${store.location}/${key}`);
  await store.put(key, JSON.stringify(raw, null, 2));
  return { storage, key, now: now.toISOString() };
}

export async function loadConfigRef(
  ref: ConfigRef,
  policy?: WorkflowPolicy,
): Promise<{ raw: RawConfig; store: ObjectStore }> {
  checkStorage(ref.storage, 'config_ref.storage', policy, 'step event');
  const store = openStore(withDeploymentEncryption(ref.storage, policy));
  const json: unknown = JSON.parse((await store.get(ref.key)).toString('utf8'));
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError(`${store.location}/${ref.key} does not hold a config object`);
  return { raw: json as RawConfig, store };
}

/** Where a run keeps its config: the one table of keys, lib/storage/layout.ts. */
export { WorkflowLayout } from '../storage/layout.ts';
