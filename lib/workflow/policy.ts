import { z } from 'zod';
import type { StorageConfig } from '../config/index.ts';
import { ConfigError } from '../errors.ts';
import { parseKmsKeyId } from '../storage/index.ts';
import { STEP_ENV } from './names.ts';

/**
 * What a deployed workflow may be steered to by its execution input. The execution input is the attacker's
 * lever (anyone allowed to start an execution writes it); the functions hold the Kafka secret and an IAM role. So
 * the stacks tell the functions, from the deployment file, which Kafka clusters and which storage the configs may
 * name: a config naming another host would receive the Kafka password (or an MSK IAM token signed with the role),
 * a config naming another S3 endpoint would receive requests signed with the role's credentials.
 */
export const WorkflowPolicy = z.object({
  /** Each entry one cluster's bootstrap servers: every server a config names must belong to one entry. */
  kafka_clusters: z.array(z.array(z.string().min(1)).min(1)).optional(),
  /** Buckets (and their regions) a config's storage and a step's config_ref may name. */
  buckets: z.array(z.object({ bucket: z.string().min(1), region: z.string().min(1).optional() })).optional(),
  /** storage.endpoint values allowed (exact URLs). Default: none, storage.endpoint is refused. */
  storage_endpoints: z.array(z.string()).default([]),
  /**
   * The deployment's client-side encryption (clientSideEncryption in the deployment file): every config's storage
   * is encrypted with this region's key, each data key also wrapped with the other regions' keys. Absent: none.
   */
  encryption: z
    .object({
      kms_key_id: z.string().min(1),
      additional_kms_key_ids: z.array(z.string().min(1)).default([]),
    })
    .optional(),
});
export type WorkflowPolicy = z.infer<typeof WorkflowPolicy>;

/** The policy the stacks set on the functions and the Fargate task, or undefined when none is set (local use). */
export function policyFromEnv(env: Readonly<Record<string, string | undefined>>): WorkflowPolicy | undefined {
  const text = env[STEP_ENV.workflowPolicy];
  if (text === undefined || text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = WorkflowPolicy.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(`${STEP_ENV.workflowPolicy} is not a valid workflow policy`, {
      hint: 'It is set by the stacks from the deployment file: deploy the functions and the stacks together.',
    });
  return parsed.data;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names `${VAR}` may never take from the deployment either: the runtime's own credentials and settings. */
export function reservedVariable(name: string): boolean {
  return /^AWS_/i.test(name) || /^(LAMBDA_|_HANDLER$|_X_AMZN)/i.test(name);
}

/**
 * The values `${VAR}` resolves from in a workflow step: only the variables the deployment sets for that purpose
 * (KAFKA_BACKUP_CONFIG_VARS, a JSON object), never the process environment at large, which in Lambda holds the
 * role's credentials (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). `${TIMESTAMP}` keeps its default.
 */
export function configVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const text = env[STEP_ENV.configVariables];
  if (text === undefined || text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError(`${STEP_ENV.configVariables} is not a JSON object of NAME: value`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    if (!NAME.test(name) || reservedVariable(name) || typeof value !== 'string')
      throw new ConfigError(
        `${STEP_ENV.configVariables}: ${name} cannot be a config variable (AWS_* and runtime names are reserved; values are strings)`,
      );
    out[name] = value;
  }
  return out;
}

const normalize = (server: string) => server.trim().toLowerCase();

/** Refuses bootstrap servers that are not all of one allowed cluster. */
export function checkKafkaServers(
  servers: readonly string[],
  field: string,
  policy: WorkflowPolicy | undefined,
  where: string,
): void {
  if (!policy?.kafka_clusters) return;
  const given = servers.map(normalize);
  const ok = policy.kafka_clusters.some((cluster) => {
    const allowed = new Set(cluster.map(normalize));
    return given.length > 0 && given.every((s) => allowed.has(s));
  });
  if (!ok)
    throw new ConfigError(
      `${where}: ${field} names servers (${servers.join(', ')}) that are not a Kafka cluster this deployment allows; the Kafka secret is merged only into configs of the clusters the deployment file names`,
      {
        hint: `Allowed: ${policy.kafka_clusters.map((c) => `[${c.join(', ')}]`).join('; ')}. Add a cluster to the region's kafkaClusters in the deployment file and deploy.`,
      },
    );
}

/** Whether two KMS key ids name the same key: equal, or the same alias name or key id (in any form). */
function sameKmsKey(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseKmsKeyId(a);
  const y = parseKmsKeyId(b);
  const sameRegion = x.region === undefined || y.region === undefined || x.region === y.region;
  return (
    sameRegion && ((x.key !== undefined && x.key === y.key) || (x.alias !== undefined && x.alias === y.alias))
  );
}

/**
 * storage.encryption in a deployed workflow: only the deployment's KMS keys (no key file, no other key: an input
 * must not turn encryption off or point it elsewhere), and no KMS endpoint the deployment does not name.
 */
function checkEncryption(storage: StorageConfig, field: string, policy: WorkflowPolicy, where: string): void {
  const e = storage.encryption;
  if (!e) return;
  if (e.endpoint !== undefined && !policy.storage_endpoints.includes(e.endpoint))
    throw new ConfigError(
      `${where}: ${field}.encryption.endpoint is not allowed in a deployed workflow (requests to it would carry credentials of the function's role)`,
      { hint: 'Leave it out, or name it in the deployment file under workflows.storageEndpoints.' },
    );
  if (e.key_file !== undefined)
    throw new ConfigError(`${where}: ${field}.encryption.key_file cannot be used in a deployed workflow`, {
      hint: 'Deployed workflows encrypt with KMS keys: set clientSideEncryption in the deployment file, and leave storage.encryption out of the input.',
    });
  const allowed = policy.encryption
    ? [policy.encryption.kms_key_id, ...policy.encryption.additional_kms_key_ids]
    : [];
  if (e.kms_key_id !== undefined && !allowed.some((k) => sameKmsKey(k, e.kms_key_id!)))
    throw new ConfigError(
      `${where}: ${field}.encryption.kms_key_id ${e.kms_key_id} is not ${policy.encryption ? "this deployment's client-side encryption key" : 'allowed: this deployment has no client-side encryption'}`,
      {
        hint: policy.encryption
          ? `Leave storage.encryption out (the workflow uses ${policy.encryption.kms_key_id}), or name that key.`
          : 'Turn it on with clientSideEncryption in the deployment file (and deploy), or leave storage.encryption out.',
      },
    );
}

/**
 * The storage a deployed step opens: with the deployment's client-side encryption, this region's key for reading
 * and writing and the other regions' keys for wrapping; unchanged without a policy (local use) or encryption.
 */
export function withDeploymentEncryption<S extends StorageConfig>(
  storage: S,
  policy: WorkflowPolicy | undefined,
): S {
  if (!policy?.encryption) return storage;
  const { kms_key_id, additional_kms_key_ids } = policy.encryption;
  return {
    ...storage,
    encryption: {
      kms_key_id,
      ...(additional_kms_key_ids.length > 0 ? { additional_kms_key_ids } : {}),
      ...(storage.encryption?.endpoint !== undefined ? { endpoint: storage.encryption.endpoint } : {}),
    },
  };
}

/** Refuses storage that is not an allowed bucket, and any storage.endpoint the deployment does not name. */
export function checkStorage(
  storage: StorageConfig,
  field: string,
  policy: WorkflowPolicy | undefined,
  where: string,
): void {
  if (!policy) return;
  checkEncryption(storage, field, policy, where);
  if (storage.backend !== 's3') {
    if (policy.buckets)
      throw new ConfigError(`${where}: ${field}.backend must be s3 in a deployed workflow (its bucket)`);
    return;
  }
  if (storage.endpoint !== undefined && !policy.storage_endpoints.includes(storage.endpoint))
    throw new ConfigError(
      `${where}: ${field}.endpoint is not allowed in a deployed workflow (requests to it would carry credentials of the function's role)`,
      {
        hint: "Leave storage.endpoint out (the region's S3 endpoint is used), or name it in the deployment file under workflows.storageEndpoints.",
      },
    );
  if (
    policy.buckets &&
    !policy.buckets.some(
      (b) =>
        b.bucket === storage.bucket &&
        (b.region === undefined || storage.region === undefined || b.region === storage.region),
    )
  )
    throw new ConfigError(
      `${where}: ${field}.bucket ${storage.bucket}${storage.region ? ` (${storage.region})` : ''} is not the bucket of this workflow`,
      {
        hint: `Allowed: ${policy.buckets.map((b) => `${b.bucket}${b.region ? ` (${b.region})` : ''}`).join(', ')}.`,
      },
    );
}
