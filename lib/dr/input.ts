import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { assertNoCredentials } from '../config/credentials.ts';
import { parseBackupConfig, parseRestoreConfig, TimePoint } from '../config/index.ts';
import { readYamlDocument } from '../config/yaml-document.ts';
import { ConfigError, UsageError } from '../errors.ts';

/**
 * The execution inputs of the failover and failback state machines (README "Serverless workflows"), built from
 * the same YAML files the CLI's `restore` and `backup` take. The configs travel as the files say, `${VAR}`
 * references unresolved: the workflow's steps resolve them (and merge the Kafka secret) where they run. So a
 * credential must never be written into the file itself: Step Functions keeps every input in the execution
 * history.
 */

export type RawConfig = Record<string, unknown>;

export { assertNoCredentials };

export interface FailoverInput {
  config: RawConfig;
  validate: 'deep' | 'shallow' | 'none';
  hooks?: Hooks;
  options?: { source_cluster_id?: string };
}

export interface FailbackInput {
  backup_config: RawConfig;
  restore_config: RawConfig;
  hooks?: Hooks;
}

const EcsService = z.strictObject({
  cluster: z.string().min(1),
  service: z.string().min(1),
  desired_count: z.number().int().nonnegative().optional(),
});
const Hook = z.strictObject({
  ecs_services: z.array(EcsService).optional(),
  lambda_function: z.string().min(1).optional(),
});
const HooksSchema = z.strictObject({
  scale_down: Hook.optional(),
  scale_up: Hook.extend({
    ecs_services: z.array(EcsService.extend({ desired_count: z.number().int().positive() })).optional(),
  }).optional(),
});
export type Hooks = z.infer<typeof HooksSchema>;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? `${path}: ${what} not found` : `${path}: cannot read the ${what} (${code})`,
      { cause: error },
    );
  }
}

/** A YAML (or JSON) config file as the workflow input carries it: parsed, nothing substituted. */
export function readRawConfig(path: string): RawConfig {
  return readYamlDocument(readText(path, 'config file'), path).data;
}

/** The scale hooks file (`{ "scale_down": {...}, "scale_up": {...} }`, YAML or JSON). */
export function readHooks(path: string): Hooks {
  const data = readYamlDocument(readText(path, 'hooks file'), path).data;
  const r = HooksSchema.safeParse(data);
  if (r.success) return r.data;
  throw new ConfigError(
    r.error.issues.map((i) => `${path}: ${i.path.join('.') || '(file)'}: ${i.message}`).join('\n'),
    {
      hint: 'For example { "scale_down": { "ecs_services": [{ "cluster": "apps", "service": "order-service" }] }, "scale_up": { "ecs_services": [{ "cluster": "apps", "service": "order-service", "desired_count": 3 }] } }',
    },
  );
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/;

const PLACEHOLDER = 'placeholder';

/**
 * Checks a config the way the workflow will parse it (the input's JSON, `${VAR}` substituted, the Kafka secret
 * merged), before an execution is started with it. Variables not set here are checked as the text
 * "placeholder", and SASL credentials the config leaves to the Kafka secret as placeholders too.
 */
export function checkConfig(raw: RawConfig, mode: 'backup' | 'restore', source: string): void {
  const section = mode === 'backup' ? 'source' : 'target';
  const withSecret = withPlaceholderCredentials(raw, section);
  const text = JSON.stringify(withSecret, null, 2);
  const unset = new Set<string>();
  for (const m of text.matchAll(new RegExp(REFERENCE, 'g'))) {
    const name = m[1]!;
    if (m[2] === undefined && name !== 'TIMESTAMP' && process.env[name] === undefined) unset.add(name);
  }
  const env = { ...process.env, ...Object.fromEntries([...unset].map((n) => [n, PLACEHOLDER])) };
  try {
    if (mode === 'backup') parseBackupConfig(text, { source, env });
    else parseRestoreConfig(text, { source, env });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // Line numbers would be those of the JSON text; the YAML path in each message says where.
    const message = e.message.replaceAll(
      new RegExp(`^${escapeRegExp(source)} line \\d+: `, 'gm'),
      `${source}: `,
    );
    const names = [...unset];
    throw new ConfigError(message, {
      hint:
        names.length > 0
          ? `Variables not set here were checked as the text "${PLACEHOLDER}": ${names.join(', ')} (the workflow resolves them where it runs); set them here to check with their values.`
          : e.hint,
      cause: e,
    });
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function withPlaceholderCredentials(raw: RawConfig, section: 'source' | 'target'): RawConfig {
  const conn = raw[section];
  if (typeof conn !== 'object' || conn === null || Array.isArray(conn)) return raw;
  const security = (conn as Record<string, unknown>)['security'];
  if (typeof security !== 'object' || security === null || Array.isArray(security)) return raw;
  const s = security as Record<string, unknown>;
  const mechanism = typeof s['sasl_mechanism'] === 'string' ? s['sasl_mechanism'].toUpperCase() : '';
  if (!['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].includes(mechanism)) return raw;
  const filled = {
    ...s,
    sasl_username: s['sasl_username'] ?? PLACEHOLDER,
    sasl_password: s['sasl_password'] ?? PLACEHOLDER,
  };
  return { ...raw, [section]: { ...(conn as Record<string, unknown>), security: filled } };
}

function sectionOf(raw: RawConfig, key: string): Record<string, unknown> {
  const v = raw[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** `--backup-id`: the failover workflow restores the newest complete, fully replicated backup (FindBackup). */
export function failoverInput(opts: {
  configPath: string;
  backupId: string | undefined;
  validate: string | undefined;
  hooks: Hooks | undefined;
  sourceClusterId: string | undefined;
  notice: (text: string) => void;
}): FailoverInput {
  if (opts.backupId !== undefined && opts.backupId !== 'latest')
    throw new UsageError(
      `The failover workflow cannot restore backup ${opts.backupId} (--backup-id): it always restores the newest complete backup whose every segment has replicated to its bucket (its FindBackup step), it cannot restore a chosen one`,
      {
        hint: `To restore that backup, run kafka-backup three-phase-restore --config ${opts.configPath} with backup_id: ${opts.backupId} (or BACKUP_ID=${opts.backupId}) on a machine that reaches the DR cluster.`,
      },
    );
  const validate = opts.validate ?? 'deep';
  if (validate !== 'deep' && validate !== 'shallow' && validate !== 'none')
    throw new UsageError(`Unknown value "${validate}" for --validate: it takes deep, shallow or none`, {
      hint: 'How the workflow checks the backup before restoring it.',
    });
  const raw = readRawConfig(opts.configPath);
  assertNoCredentials(raw, opts.configPath);
  const given = raw['backup_id'];
  if (typeof given === 'string' && given !== 'latest' && !REFERENCE.test(given))
    opts.notice(
      `note: ${opts.configPath}'s backup_id "${given}" is not used: the failover workflow restores the newest complete, fully replicated backup`,
    );
  // FindBackup picks the backup; "latest" keeps an unresolvable ${BACKUP_ID} out of the stored config.
  const config = { ...raw, backup_id: 'latest' };
  checkConfig(config, 'restore', opts.configPath);
  return {
    config,
    validate,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    ...(opts.sourceClusterId ? { options: { source_cluster_id: opts.sourceClusterId } } : {}),
  };
}

/** Epoch milliseconds from `--since` (epoch ms or ISO-8601 with a zone). */
export function parseSince(text: string): number {
  const r = TimePoint.safeParse(text);
  if (!r.success)
    throw new UsageError(`Unknown time "${text}" for --since`, {
      hint: 'Give epoch milliseconds or an ISO-8601 time with a zone, e.g. 2024-12-01T12:00:00Z: when the failover happened.',
    });
  return r.data;
}

const LOCATION_KEYS = ['backend', 'bucket', 'prefix', 'path'] as const;

export function failbackInput(opts: {
  backupConfigPath: string;
  restoreConfigPath: string;
  since: number | undefined;
  hooks: Hooks | undefined;
}): FailbackInput {
  const backup = readRawConfig(opts.backupConfigPath);
  const restore = readRawConfig(opts.restoreConfigPath);
  assertNoCredentials(backup, opts.backupConfigPath);
  assertNoCredentials(restore, opts.restoreConfigPath);
  const restoreSection = sectionOf(restore, 'restore');
  if (opts.since === undefined && restoreSection['start_time'] === undefined)
    throw new UsageError(`No restore.start_time in ${opts.restoreConfigPath}, and --since is not given`, {
      hint: 'Failback restores only what was written since the failover (appending to what the primary holds): pass --since with the failover time, e.g. --since 2024-12-01T12:00:00Z.',
    });
  const restoreConfig =
    opts.since === undefined
      ? restore
      : { ...restore, restore: { ...restoreSection, start_time: opts.since } };
  // The restore reads the backup the workflow has just taken: both configs must name one location.
  const a = sectionOf(backup, 'storage');
  const b = sectionOf(restore, 'storage');
  const differing = LOCATION_KEYS.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  if (differing.length > 0)
    throw new UsageError(
      `The configs ${opts.backupConfigPath} and ${opts.restoreConfigPath} name different storage (${differing.map((k) => `storage.${k}`).join(', ')})`,
      {
        hint: 'The failback workflow backs up the DR cluster and restores that backup into the primary: give both configs the same storage location.',
      },
    );
  checkConfig(backup, 'backup', opts.backupConfigPath);
  checkConfig(restoreConfig, 'restore', opts.restoreConfigPath);
  return {
    backup_config: backup,
    restore_config: restoreConfig,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
  };
}
