// ACLs, client quotas and SCRAM users of a cluster: what kafka-backup captures beside the records (lib/metadata)
// and applies on a restore target. The client's Admin has DescribeAcls/CreateAcls and the two client-quota APIs;
// the SCRAM APIs exist only as protocol definitions, so they are sent here on a broker connection.
//
// DescribeUserScramCredentials Request (Version: 0) => [users] TAG_BUFFER
//   users => name TAG_BUFFER                     (null: every user)
// AlterUserScramCredentials Request (Version: 0) => [deletions] [upsertions] TAG_BUFFER
//   deletions => name mechanism TAG_BUFFER
//   upsertions => name mechanism iterations salt salted_password TAG_BUFFER
//     mechanism => INT8 (1 SCRAM-SHA-256, 2 SCRAM-SHA-512); salted_password = Hi(password, salt, iterations)
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  AclOperations,
  AclPermissionTypes,
  alterUserScramCredentialsV0,
  type ClientQuotaEntityType,
  type ClientQuotaKey,
  describeUserScramCredentialsV0,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';
import { KafkaAccessError } from '../errors.ts';
import { connectionOf, type KafkaCluster, withClient } from './cluster.ts';

export const ACL_RESOURCE_TYPES = [
  'TOPIC',
  'GROUP',
  'CLUSTER',
  'TRANSACTIONAL_ID',
  'DELEGATION_TOKEN',
  'USER',
] as const;
export type AclResourceType = (typeof ACL_RESOURCE_TYPES)[number];
export const ACL_OPERATIONS = [
  'ALL',
  'READ',
  'WRITE',
  'CREATE',
  'DELETE',
  'ALTER',
  'DESCRIBE',
  'CLUSTER_ACTION',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
  'IDEMPOTENT_WRITE',
  'CREATE_TOKENS',
  'DESCRIBE_TOKENS',
  'TWO_PHASE_COMMIT',
] as const;
export type AclOperationName = (typeof ACL_OPERATIONS)[number];

/** One ACL, named as Kafka's tools print it. */
export interface AclBinding {
  resource_type: AclResourceType;
  resource_name: string;
  pattern_type: 'LITERAL' | 'PREFIXED';
  /** e.g. `User:orders-app`. */
  principal: string;
  /** `*` for any host. */
  host: string;
  operation: AclOperationName;
  permission: 'ALLOW' | 'DENY';
}

export const QUOTA_ENTITY_TYPES = ['user', 'client-id', 'ip'] as const;
export type QuotaEntityType = (typeof QUOTA_ENTITY_TYPES)[number];

/** The quotas set on one entity (a user, a client id, a user and client id, an IP; null name = the default). */
export interface ClientQuota {
  entity: { type: QuotaEntityType; name: string | null }[];
  /** e.g. `producer_byte_rate: 1048576`. */
  values: Record<string, number>;
}

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** A SCRAM user's name and mechanisms: never its salt or salted password. */
export interface ScramUser {
  name: string;
  mechanisms: { mechanism: ScramMechanism; iterations: number }[];
}

function labelOf<T extends Record<string, number>>(table: T, value: number): keyof T {
  const found = Object.entries(table).find(([, v]) => v === value);
  if (!found) throw new Error(`unknown protocol value ${value}`);
  return found[0] as keyof T;
}

/** Every ACL of the cluster (DescribeAcls with a filter matching all; needs DESCRIBE on the cluster). */
export async function describeAcls(cluster: KafkaCluster): Promise<AclBinding[]> {
  const resources = await cluster[withClient]('describe ACLs (DescribeAcls)', (a) =>
    a.describeAcls({
      filter: {
        resourceType: ResourceTypes.ANY,
        resourceName: null,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal: null,
        host: null,
        operation: AclOperations.ANY,
        permissionType: AclPermissionTypes.ANY,
      },
    }),
  );
  const out: AclBinding[] = [];
  for (const r of resources) {
    for (const acl of r.acls) {
      out.push({
        resource_type: labelOf(ResourceTypes, r.resourceType) as AclResourceType,
        resource_name: r.resourceName,
        pattern_type: labelOf(ResourcePatternTypes, r.resourcePatternType) as 'LITERAL' | 'PREFIXED',
        principal: acl.principal,
        host: acl.host,
        operation: labelOf(AclOperations, acl.operation) as AclOperationName,
        permission: labelOf(AclPermissionTypes, acl.permissionType) as 'ALLOW' | 'DENY',
      });
    }
  }
  return out.sort(compareAcls);
}

export function aclKey(a: AclBinding): string {
  return [
    a.resource_type,
    a.pattern_type,
    a.resource_name,
    a.principal,
    a.host,
    a.operation,
    a.permission,
  ].join('|');
}

function compareAcls(x: AclBinding, y: AclBinding): number {
  return aclKey(x).localeCompare(aclKey(y));
}

/** An ACL as CreateAcls takes it and as a DeleteAcls filter that matches exactly it. */
function wireAcl(acl: AclBinding) {
  return {
    resourceType: ResourceTypes[acl.resource_type],
    resourceName: acl.resource_name,
    resourcePatternType: ResourcePatternTypes[acl.pattern_type],
    principal: acl.principal,
    host: acl.host,
    operation: AclOperations[acl.operation],
    permissionType: AclPermissionTypes[acl.permission],
  };
}

/** Creates ACLs (CreateAcls; an ACL that exists already is left as it is by the broker). */
export async function createAcls(cluster: KafkaCluster, acls: AclBinding[]): Promise<void> {
  if (acls.length === 0) return;
  await cluster[withClient](`create ${acls.length} ACL(s) (CreateAcls)`, (a) =>
    a.createAcls({
      creations: acls.map(wireAcl),
    }),
  );
}

/** Deletes exactly these ACLs (DeleteAcls with one literal filter each). */
export async function deleteAcls(cluster: KafkaCluster, acls: AclBinding[]): Promise<void> {
  if (acls.length === 0) return;
  await cluster[withClient](`delete ${acls.length} ACL(s) (DeleteAcls)`, (a) =>
    a.deleteAcls({
      filters: acls.map(wireAcl),
    }),
  );
}

/** Every client quota of the cluster (DescribeClientQuotas matching all entities; needs DESCRIBE_CONFIGS on the cluster). */
export async function describeClientQuotas(cluster: KafkaCluster): Promise<ClientQuota[]> {
  const entries = await cluster[withClient]('describe client quotas (DescribeClientQuotas)', (a) =>
    a.describeClientQuotas({ components: [], strict: false }),
  );
  return (entries ?? [])
    .map((e) => ({
      entity: e.entity
        .map((x) => ({ type: x.entityType as QuotaEntityType, name: x.entityName ?? null }))
        .sort((p, q) => p.type.localeCompare(q.type)),
      values: Object.fromEntries(
        e.values.map((v) => [v.key, v.value] as const).sort(([p], [q]) => p.localeCompare(q)),
      ),
    }))
    .sort((p, q) => quotaEntityKey(p.entity).localeCompare(quotaEntityKey(q.entity)));
}

export function quotaEntityKey(entity: ClientQuota['entity']): string {
  return entity.map((e) => `${e.type}=${e.name ?? '<default>'}`).join(',');
}

/**
 * Sets quota values on entities (AlterClientQuotas); `remove` lists keys to unset. Values not named are left as
 * they are.
 */
export async function alterClientQuotas(
  cluster: KafkaCluster,
  changes: { entity: ClientQuota['entity']; set: Record<string, number>; remove?: string[] }[],
): Promise<void> {
  if (changes.length === 0) return;
  await cluster[withClient](`alter ${changes.length} client quota(s) (AlterClientQuotas)`, async (a) => {
    const results = await a.alterClientQuotas({
      entries: changes.map((c) => ({
        entities: c.entity.map((e) => ({
          entityType: e.type as ClientQuotaEntityType,
          entityName: e.name,
        })),
        ops: [
          ...Object.entries(c.set).map(([key, value]) => ({
            key: key as ClientQuotaKey,
            value,
            remove: false as const,
          })),
          ...(c.remove ?? []).map((key) => ({ key: key as ClientQuotaKey, remove: true as const })),
        ],
      })),
    });
    const failed = results.filter((r) => r.errorCode !== 0);
    if (failed.length > 0) {
      throw new KafkaAccessError(
        `the cluster refused client quota changes: ${failed
          .map(
            (f) =>
              `${quotaEntityKey(f.entity.map((e) => ({ type: e.entityType as QuotaEntityType, name: e.entityName ?? null })))}: ${f.errorMessage ?? `error ${f.errorCode}`}`,
          )
          .join('; ')}`,
      );
    }
  });
}

async function anyBroker(cluster: KafkaCluster) {
  const md = await cluster[withClient]('metadata', (a) => a.metadata({ topics: [] }));
  const nodeId = [...md.brokers.keys()][0];
  if (nodeId === undefined) throw new KafkaAccessError('the cluster metadata lists no broker');
  return cluster[connectionOf](nodeId);
}

/** SCRAM users and their mechanisms (DescribeUserScramCredentials; needs DESCRIBE on the cluster). */
export async function describeScramUsers(cluster: KafkaCluster): Promise<ScramUser[]> {
  const res = await cluster[withClient]('describe SCRAM users (DescribeUserScramCredentials)', async () =>
    describeUserScramCredentialsV0.api.async(await anyBroker(cluster), null),
  );
  return res.results
    .filter((r) => r.errorCode === 0)
    .map((r) => ({
      name: r.user,
      mechanisms: r.credentialInfos
        .map((c) => ({
          mechanism: (c.mechanism === 1 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512') as ScramMechanism,
          iterations: c.iterations,
        }))
        .sort((p, q) => p.mechanism.localeCompare(q.mechanism)),
    }))
    .sort((p, q) => p.name.localeCompare(q.name));
}

/**
 * Creates or replaces SCRAM credentials (AlterUserScramCredentials). The password is salted and hashed here
 * (Hi = PBKDF2-HMAC with the mechanism's hash), as Kafka's own admin client does: it never crosses the wire.
 */
export async function upsertScramUsers(
  cluster: KafkaCluster,
  users: { name: string; mechanism: ScramMechanism; iterations: number; password: string }[],
): Promise<void> {
  if (users.length === 0) return;
  const upsertions = users.map((u) => {
    const salt = randomBytes(32);
    const hash = u.mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    return {
      name: u.name,
      mechanism: u.mechanism === 'SCRAM-SHA-256' ? 1 : 2,
      iterations: u.iterations,
      salt,
      saltedPassword: pbkdf2Sync(u.password, salt, u.iterations, hash === 'sha256' ? 32 : 64, hash),
    };
  });
  const res = await cluster[withClient](
    `create ${users.length} SCRAM credential(s) (AlterUserScramCredentials)`,
    async () => alterUserScramCredentialsV0.api.async(await anyBroker(cluster), [], upsertions),
  );
  const failed = res.results.filter((r) => r.errorCode !== 0);
  if (failed.length > 0) {
    throw new KafkaAccessError(
      `the cluster refused SCRAM credentials: ${failed.map((f) => `${f.user}: ${f.errorMessage ?? `error ${f.errorCode}`}`).join('; ')}`,
    );
  }
}

/** Sets topic configs (IncrementalAlterConfigs SET); keys not named are left as they are. */
export async function setTopicConfigs(
  cluster: KafkaCluster,
  topic: string,
  configs: Record<string, string>,
): Promise<void> {
  const entries = Object.entries(configs);
  if (entries.length === 0) return;
  await cluster[withClient](`set configs of ${topic} (IncrementalAlterConfigs)`, (a) =>
    a.incrementalAlterConfigs({
      resources: [
        {
          resourceType: 2,
          resourceName: topic,
          configs: entries.map(([name, value]) => ({ name, value, configOperation: 0 })),
        },
      ],
    }),
  );
}
