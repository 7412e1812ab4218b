// Text forms of a metadata restore plan and report, and of topic config drift: what `restore-metadata` and
// `diff-configs` print.
import type { AclBinding } from '../kafka/index.ts';
import type { ConfigDrift, MetadataRestorePlan, MetadataRestoreReport } from '../metadata/index.ts';

function acl(a: AclBinding): string {
  return `${a.permission} ${a.principal} ${a.operation} on ${a.resource_type}:${a.pattern_type === 'PREFIXED' ? `${a.resource_name}*` : a.resource_name} from ${a.host}`;
}

function entity(e: { type: string; name: string | null }[]): string {
  return e.map((x) => `${x.type}=${x.name ?? '<default>'}`).join(',');
}

export function renderMetadataPlan(plan: MetadataRestorePlan): string {
  const lines = [`metadata of backup ${plan.backup_id}: plan (${plan.parts.join(', ')})`];
  if (plan.schemas) {
    lines.push(
      `schemas into ${plan.schemas.registry_url}${plan.schemas.import_mode ? '' : ' (no IMPORT mode there: the registry gives every id)'}:`,
    );
    for (const s of plan.schemas.subjects) {
      lines.push(
        `  ${s.source_subject}${s.target_subject !== s.source_subject ? ` -> ${s.target_subject}` : ''}${s.compatibility ? ` (compatibility ${s.compatibility})` : ''}`,
      );
      for (const v of s.versions) {
        const what =
          v.action === 'present'
            ? `present (id ${v.target_id}${v.target_id === v.source_id ? ', kept' : ', remapped'})`
            : v.action === 'import'
              ? `import keeping id ${v.source_id}`
              : plan.schemas!.import_mode
                ? 'register with a new id (records need rewrite_schema_ids)'
                : 'register (the registry gives the id)';
        lines.push(`    version ${v.version}, id ${v.source_id}: ${what}: ${v.why}`);
      }
    }
  }
  if (plan.acls) {
    lines.push(`ACLs: ${plan.acls.create.length} to create, ${plan.acls.present} present`);
    for (const a of plan.acls.create) lines.push(`  + ${acl(a)}`);
  }
  if (plan.quotas) {
    lines.push(`client quotas: ${plan.quotas.change.length} to set, ${plan.quotas.present} present`);
    for (const q of plan.quotas.change)
      lines.push(
        `  ~ ${entity(q.entity)}: ${Object.entries(q.set)
          .map(([k, v]) => `${k}=${v} (was ${q.was[k] ?? 'unset'})`)
          .join(', ')}`,
      );
  }
  if (plan.users) {
    lines.push(
      `SCRAM users: ${plan.users.create.length} to create, ${plan.users.present.length} present, ${plan.users.skipped.length} skipped`,
    );
    for (const u of plan.users.create)
      lines.push(`  + ${u.name} ${u.mechanism} (${u.iterations} iterations)`);
    for (const u of plan.users.skipped) lines.push(`  - ${u.name} ${u.mechanism}: ${u.why}`);
  }
  return lines.join('\n');
}

export function renderMetadataReport(report: MetadataRestoreReport): string {
  if (!report.applied)
    return `${renderMetadataPlan(report.plan)}\nnothing applied (dry run): run again with --apply to apply this plan`;
  const lines = [renderMetadataPlan(report.plan), 'applied.'];
  if (report.schemas) {
    lines.push('schema ids per subject:');
    for (const s of report.schemas.subjects) {
      lines.push(`  ${s.target_subject}: ${s.kept} kept, ${s.remapped} remapped`);
      for (const v of s.versions)
        if (v.outcome === 'remapped' || v.note)
          lines.push(
            `    version ${v.version}: id ${v.source_id} -> ${v.target_id} (${v.how})${v.note ? `: ${v.note}` : ''}`,
          );
    }
  }
  return lines.join('\n');
}

export function renderConfigDrift(drift: ConfigDrift, applied: number | undefined): string {
  const lines = [`topic configs of backup ${drift.backup_id} against the cluster:`];
  for (const t of drift.topics) {
    const name =
      t.target_topic !== t.source_topic ? `${t.source_topic} -> ${t.target_topic}` : t.target_topic;
    if (t.status === 'absent') lines.push(`  ${name}: not on the cluster`);
    else if (t.status === 'same') lines.push(`  ${name}: same`);
    else {
      lines.push(`  ${name}: ${t.differences.length} differ`);
      for (const d of t.differences)
        lines.push(`    ${d.name}: backup ${d.backup}, cluster ${d.cluster ?? 'unset'}`);
    }
    for (const [k, v] of Object.entries(t.only_on_cluster))
      lines.push(`    ${k}=${v} only on the cluster (left as is)`);
  }
  lines.push(
    applied === undefined
      ? drift.drifted > 0
        ? `${drift.drifted} topic(s) drifted; nothing changed: run again with --apply to set the backup's values`
        : 'no drift'
      : `set ${applied} config(s) to the backup's values`,
  );
  return lines.join('\n');
}
