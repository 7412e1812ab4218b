// Backed-up ACLs, client quotas and SCRAM users on a restore target: what is missing there, and applying it.
// Nothing that exists on the target is removed or overwritten (a SCRAM user's password least of all).
import type { RestoreConfig } from '../config/index.ts';
import {
  type AclBinding,
  aclKey,
  alterClientQuotas,
  type ClientQuota,
  createAcls,
  describeAcls,
  describeClientQuotas,
  describeScramUsers,
  type KafkaCluster,
  quotaEntityKey,
  type ScramMechanism,
  upsertScramUsers,
} from '../kafka/index.ts';
import { type Renames, targetAcl, targetQuotaEntity, targetUserName } from './renames.ts';

export interface AclPlan {
  create: AclBinding[];
  /** Backed-up ACLs the target has already. */
  present: number;
}

export interface QuotaChange {
  entity: ClientQuota['entity'];
  /** Values to set: missing on the target, or different there (`was`). */
  set: Record<string, number>;
  was: Record<string, number | null>;
}

export interface QuotaPlan {
  change: QuotaChange[];
  present: number;
}

export interface UserPlan {
  create: { name: string; mechanism: ScramMechanism; iterations: number }[];
  /** Users (and mechanisms) the target has already: left alone, their passwords unchanged. */
  present: { name: string; mechanism: ScramMechanism }[];
  /** Backed-up users no password was given for (restore.scram_users). */
  skipped: { name: string; mechanism: ScramMechanism; why: string }[];
}

export async function planAcls(
  stored: AclBinding[],
  target: KafkaCluster,
  renames: Renames,
): Promise<AclPlan> {
  const existing = new Set((await describeAcls(target)).map(aclKey));
  const wanted = new Map(stored.map((a) => targetAcl(a, renames)).map((a) => [aclKey(a), a] as const));
  const create = [...wanted.values()].filter((a) => !existing.has(aclKey(a)));
  return { create, present: wanted.size - create.length };
}

export async function planQuotas(
  stored: ClientQuota[],
  target: KafkaCluster,
  renames: Renames,
): Promise<QuotaPlan> {
  const existing = new Map((await describeClientQuotas(target)).map((q) => [quotaEntityKey(q.entity), q]));
  const change: QuotaChange[] = [];
  let present = 0;
  for (const q of stored) {
    const entity = targetQuotaEntity(q.entity, renames);
    const there = existing.get(quotaEntityKey(entity))?.values ?? {};
    const set: Record<string, number> = {};
    const was: Record<string, number | null> = {};
    for (const [key, value] of Object.entries(q.values)) {
      if (there[key] === value) continue;
      set[key] = value;
      was[key] = there[key] ?? null;
    }
    if (Object.keys(set).length === 0) present++;
    else change.push({ entity, set, was });
  }
  return { change, present };
}

const DEFAULT_ITERATIONS = 8192;

export async function planUsers(
  stored: { name: string; mechanisms: { mechanism: ScramMechanism; iterations: number }[] }[],
  target: KafkaCluster,
  config: RestoreConfig,
  renames: Renames,
): Promise<UserPlan> {
  const existing = new Map((await describeScramUsers(target)).map((u) => [u.name, u]));
  const passwords = new Map(config.restore.scram_users.map((u) => [u.name, u]));
  const plan: UserPlan = { create: [], present: [], skipped: [] };
  for (const u of stored) {
    const name = targetUserName(u.name, renames);
    for (const m of u.mechanisms) {
      if (existing.get(name)?.mechanisms.some((x) => x.mechanism === m.mechanism)) {
        plan.present.push({ name, mechanism: m.mechanism });
      } else if (passwords.has(name)) {
        const iterations = passwords.get(name)!.iterations ?? (m.iterations || DEFAULT_ITERATIONS);
        plan.create.push({ name, mechanism: m.mechanism, iterations });
      } else {
        plan.skipped.push({
          name,
          mechanism: m.mechanism,
          why: 'no password given in restore.scram_users (a backup never holds one)',
        });
      }
    }
  }
  return plan;
}

export async function applyAcls(target: KafkaCluster, plan: AclPlan): Promise<void> {
  await createAcls(target, plan.create);
}

export async function applyQuotas(target: KafkaCluster, plan: QuotaPlan): Promise<void> {
  await alterClientQuotas(
    target,
    plan.change.map((c) => ({ entity: c.entity, set: c.set })),
  );
}

export async function applyUsers(target: KafkaCluster, plan: UserPlan, config: RestoreConfig): Promise<void> {
  const passwords = new Map(config.restore.scram_users.map((u) => [u.name, u.password]));
  await upsertScramUsers(
    target,
    plan.create.map((c) => ({ ...c, password: passwords.get(c.name)! })),
  );
}
