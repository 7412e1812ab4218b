// How restore.topic_mapping and restore.principal_mapping carry over to metadata: subjects named after a topic
// (Confluent's TopicNameStrategy, `<topic>-key` / `<topic>-value`), ACLs on a topic, principals.
import type { AclBinding, ClientQuota } from '../kafka/index.ts';

export interface Renames {
  /** source topic -> target topic. */
  topics: Readonly<Record<string, string>>;
  /** `User:a` -> `User:b`. */
  principals: Readonly<Record<string, string>>;
}

/** `orders-value` follows `orders -> orders-dr` to `orders-dr-value`; other subjects keep their names. */
export function targetSubject(subject: string, renames: Renames): string {
  const m = /^(.*)-(key|value)$/.exec(subject);
  if (!m) return subject;
  const to = renames.topics[m[1]!];
  return to === undefined ? subject : `${to}-${m[2]}`;
}

export function targetPrincipal(principal: string, renames: Renames): string {
  return renames.principals[principal] ?? principal;
}

/** An ACL as it applies on the target: a LITERAL topic ACL follows topic_mapping, every principal follows principal_mapping. */
export function targetAcl(acl: AclBinding, renames: Renames): AclBinding {
  const topic =
    acl.resource_type === 'TOPIC' && acl.pattern_type === 'LITERAL'
      ? (renames.topics[acl.resource_name] ?? acl.resource_name)
      : acl.resource_name;
  return { ...acl, resource_name: topic, principal: targetPrincipal(acl.principal, renames) };
}

/** A user quota follows principal_mapping (`User:name`); client ids and IPs stay. */
export function targetQuotaEntity(entity: ClientQuota['entity'], renames: Renames): ClientQuota['entity'] {
  return entity.map((e) =>
    e.type === 'user' && e.name !== null
      ? { ...e, name: stripUser(targetPrincipal(`User:${e.name}`, renames)) }
      : e,
  );
}

/** A SCRAM user's name on the target. */
export function targetUserName(name: string, renames: Renames): string {
  return stripUser(targetPrincipal(`User:${name}`, renames));
}

function stripUser(principal: string): string {
  return principal.startsWith('User:') ? principal.slice(5) : principal;
}
