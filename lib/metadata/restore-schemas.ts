// Backed-up schemas into the target registry, keeping their ids where the ids are free (Confluent's IMPORT mode),
// registering anew where an id is taken by another schema; and the id map the record restore rewrites with.
import { UserError } from '../errors.ts';
import type { StoredSchemas, StoredSchemaVersion } from './metadata-format.ts';
import { type Renames, targetSubject } from './renames.ts';
import { RegistryHttpError, type SchemaRegistryClient, type SchemaText } from './schema-registry-client.ts';

/**
 * `present`: the target subject holds this schema already; `import`: the source id is free on the target (or holds
 * this very schema), so it is registered with that id; `register`: the id holds another schema, a new id is given.
 */
export type SchemaAction = 'present' | 'import' | 'register';

export interface PlannedSchemaVersion {
  version: number;
  source_id: number;
  action: SchemaAction;
  /** For `present`, the id it has on the target; for `import`, the id it will keep. */
  target_id: number | null;
  why: string;
}

export interface PlannedSubject {
  source_subject: string;
  target_subject: string;
  /** Set on the subject after its versions (null: the subject follows the global level). */
  compatibility: string | null;
  mode: string | null;
  versions: PlannedSchemaVersion[];
}

export interface SchemaRestorePlan {
  registry_url: string;
  /**
   * The target registry has Confluent's modes (GET /mode answers): backed-up ids are imported where free, and a
   * schema whose id is taken gets a new id above every backed-up one (so it cannot take an id a later import
   * needs). Without modes (Apicurio's compatibility API) every schema is registered and the registry gives the id.
   */
  import_mode: boolean;
  subjects: PlannedSubject[];
}

export interface RestoredSchemaVersion {
  version: number;
  source_id: number;
  target_id: number;
  /** `kept`: the same id on the target; `remapped`: another id (records need rewrite_schema_ids). */
  outcome: 'kept' | 'remapped';
  how: 'present' | 'imported' | 'registered';
  note?: string;
}

export interface SubjectReport {
  source_subject: string;
  target_subject: string;
  kept: number;
  remapped: number;
  versions: RestoredSchemaVersion[];
}

export interface SchemaRestoreReport {
  registry_url: string;
  subjects: SubjectReport[];
  /** source id -> target id, for every schema restored. */
  id_map: Record<string, number>;
}

function textOf(v: StoredSchemaVersion, renames: Renames): SchemaText {
  return {
    schemaType: v.schema_type,
    schema: v.schema,
    references: v.references.map((r) => ({ ...r, subject: targetSubject(r.subject, renames) })),
  };
}

/** Two schema texts mean the same schema (registries may re-serialize JSON with other spacing or key order). */
export function sameSchema(a: SchemaText, b: SchemaText): boolean {
  if ((a.schemaType || 'AVRO') !== (b.schemaType || 'AVRO')) return false;
  return canonical(a.schema) === canonical(b.schema);
}

function canonical(text: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)));
  } catch {
    return text.trim();
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

/** Subjects in the order their schemas were first registered (lowest id first), so references come first. */
function ordered(stored: StoredSchemas) {
  const firstId = (s: StoredSchemas['subjects'][number]) => Math.min(...s.versions.map((v) => v.id));
  return [...stored.subjects].sort((a, b) => firstId(a) - firstId(b) || a.subject.localeCompare(b.subject));
}

export async function planSchemaRestore(
  stored: StoredSchemas,
  registry: SchemaRegistryClient,
  renames: Renames,
): Promise<SchemaRestorePlan> {
  const importMode = (await registry.globalMode()) !== null;
  const subjects: PlannedSubject[] = [];
  for (const s of ordered(stored)) {
    const target = targetSubject(s.subject, renames);
    const versions: PlannedSchemaVersion[] = [];
    for (const v of [...s.versions].sort((a, b) => a.version - b.version)) {
      const text = textOf(v, renames);
      const present = await registry.lookup(target, text);
      if (present) {
        versions.push({
          version: v.version,
          source_id: v.id,
          action: 'present',
          target_id: present.id,
          why: `already ${target} version ${present.version}`,
        });
        continue;
      }
      const holder = await registry.schemaById(v.id);
      if (!importMode) {
        versions.push({
          version: v.version,
          source_id: v.id,
          action: 'register',
          target_id: null,
          why:
            holder === undefined
              ? `id ${v.id} is free there`
              : `id ${v.id} holds ${sameSchema(holder, text) ? 'this' : 'another'} schema there`,
        });
      } else if (holder === undefined || sameSchema(holder, text)) {
        versions.push({
          version: v.version,
          source_id: v.id,
          action: 'import',
          target_id: v.id,
          why: holder === undefined ? `id ${v.id} is free` : `id ${v.id} holds this schema already`,
        });
      } else {
        versions.push({
          version: v.version,
          source_id: v.id,
          action: 'register',
          target_id: null,
          why: `id ${v.id} holds another schema on the target`,
        });
      }
    }
    subjects.push({
      source_subject: s.subject,
      target_subject: target,
      compatibility: s.compatibility,
      mode: s.mode,
      versions,
    });
  }
  return { registry_url: registry.url, import_mode: importMode, subjects };
}

/**
 * Carries out a plan. An import puts the subject in IMPORT mode for the call and back afterwards; a registry that
 * refuses IMPORT mode or explicit ids (or answers with another id) gets the schema registered anew, reported as
 * remapped with the registry's reason.
 */
export async function applySchemaRestore(
  plan: SchemaRestorePlan,
  stored: StoredSchemas,
  registry: SchemaRegistryClient,
  renames: Renames,
): Promise<SchemaRestoreReport> {
  const idMap: Record<string, number> = {};
  const subjects: SubjectReport[] = [];
  // New ids start above every backed-up id: none of them can be one a later import keeps.
  let nextNewId = Math.max(0, ...stored.subjects.flatMap((s) => s.versions.map((v) => v.id))) + 1;
  const freshId = async () => {
    while ((await registry.schemaById(nextNewId)) !== undefined) nextNewId++;
    return nextNewId++;
  };
  for (const ps of plan.subjects) {
    const source = stored.subjects.find((s) => s.subject === ps.source_subject)!;
    const versions: RestoredSchemaVersion[] = [];
    let inImportMode = false;
    const leaveImportMode = async () => {
      if (!inImportMode) return;
      inImportMode = false;
      await registry.deleteSubjectMode(ps.target_subject).catch(() => undefined);
    };
    for (const pv of ps.versions) {
      const text = textOf(source.versions.find((v) => v.version === pv.version)!, renames);
      let targetId: number;
      let how: RestoredSchemaVersion['how'];
      let note: string | undefined;
      if (pv.action === 'present') {
        targetId = pv.target_id!;
        how = 'present';
      } else if (pv.action === 'import') {
        try {
          if (!inImportMode) {
            await registry.setSubjectMode(ps.target_subject, 'IMPORT', true);
            inImportMode = true;
          }
          targetId = await registry.register(ps.target_subject, text, {
            id: pv.source_id,
            version: pv.version,
          });
          how = 'imported';
          if (targetId !== pv.source_id) note = `the registry gave id ${targetId} instead of ${pv.source_id}`;
        } catch (e) {
          if (!(e instanceof RegistryHttpError)) throw e;
          await leaveImportMode();
          targetId = await registry.register(ps.target_subject, text);
          how = 'registered';
          note = `import with id ${pv.source_id} refused (${e.detail}); registered anew`;
        }
      } else if (plan.import_mode) {
        const id = await freshId();
        try {
          if (!inImportMode) {
            await registry.setSubjectMode(ps.target_subject, 'IMPORT', true);
            inImportMode = true;
          }
          targetId = await registry.register(ps.target_subject, text, { id, version: pv.version });
          how = 'registered';
          note = `id ${pv.source_id} holds another schema on the target: given id ${targetId}`;
        } catch (e) {
          if (!(e instanceof RegistryHttpError)) throw e;
          await leaveImportMode();
          targetId = await registry.register(ps.target_subject, text);
          how = 'registered';
        }
      } else {
        targetId = await registry.register(ps.target_subject, text);
        how = 'registered';
      }
      const previous = idMap[String(pv.source_id)];
      if (previous !== undefined && previous !== targetId)
        note = `${note ? `${note}; ` : ''}id ${pv.source_id} also maps to ${previous} (another subject)`;
      else idMap[String(pv.source_id)] = targetId;
      versions.push({
        version: pv.version,
        source_id: pv.source_id,
        target_id: targetId,
        outcome: targetId === pv.source_id ? 'kept' : 'remapped',
        how,
        ...(note ? { note } : {}),
      });
    }
    await leaveImportMode();
    if (ps.mode !== null && ps.mode !== 'READWRITE')
      await registry.setSubjectMode(ps.target_subject, ps.mode, true).catch(() => undefined);
    if (ps.compatibility !== null)
      await registry.setSubjectCompatibility(ps.target_subject, ps.compatibility);
    subjects.push({
      source_subject: ps.source_subject,
      target_subject: ps.target_subject,
      kept: versions.filter((v) => v.outcome === 'kept').length,
      remapped: versions.filter((v) => v.outcome === 'remapped').length,
      versions,
    });
  }
  return { registry_url: plan.registry_url, subjects, id_map: idMap };
}

/**
 * source id -> target id for every backed-up schema, found by looking each one up under its target subject (no
 * stored state: the target registry is the truth). Throws when some are missing: records carrying their ids
 * could not be rewritten.
 */
export async function schemaIdMap(
  stored: StoredSchemas,
  registry: SchemaRegistryClient,
  renames: Renames,
): Promise<Map<number, number>> {
  const map = new Map<number, number>();
  const missing: string[] = [];
  for (const s of stored.subjects) {
    const target = targetSubject(s.subject, renames);
    for (const v of s.versions) {
      const found = await registry.lookup(target, textOf(v, renames));
      if (!found) missing.push(`${target} version ${v.version} (source id ${v.id})`);
      else if (!map.has(v.id)) map.set(v.id, found.id);
    }
  }
  if (missing.length > 0) {
    throw new UserError(
      `restore.rewrite_schema_ids: ${missing.length} backed-up schema(s) are not in the target registry ${registry.url}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      {
        hint: 'Restore the schemas first: kafka-backup restore-metadata --config FILE --apply (with schemas in restore.metadata).',
      },
    );
  }
  return map;
}
