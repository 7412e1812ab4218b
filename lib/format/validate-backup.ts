import { createHash } from 'node:crypto';
import { CorruptDataError, UserError } from '../errors.ts';
import { mapLimit } from '../map-limit.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { loadManifest } from './catalog.ts';
import type { Manifest } from './manifest.ts';
import { readSegment } from './segment-reader.ts';

export interface ValidationProblem {
  /** The object (key in the location) or manifest field at fault. */
  object: string;
  problem: string;
}

export interface ValidationReport {
  backup_id: string;
  location: string;
  deep: boolean;
  ok: boolean;
  segments_checked: number;
  records_checked: number;
  bytes_checked: number;
  problems: ValidationProblem[];
}

/**
 * Checks a backup. Shallow: the manifest parses, every segment exists with its recorded size, and segments of
 * a partition are in order without overlap. Deep: also reads every segment, checking its SHA-256, record count,
 * offset range, each stored batch's CRC-32C and index entry (format 2), and that each partition holds exactly
 * the records its manifest counts.
 */
export async function validateBackup(
  store: ObjectStore,
  backupId: string,
  opts: { deep: boolean; concurrency?: number },
): Promise<ValidationReport> {
  const manifest: Manifest = await loadManifest(store, backupId);
  const problems: ValidationProblem[] = [];
  let segmentsChecked = 0;
  let recordsChecked = 0;
  let bytesChecked = 0;

  const partitions = manifest.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, p })));
  for (const { topic, p } of partitions) {
    const where = `manifest topics.${topic}.partitions.${p.partition}`;
    if (p.end_offset < p.start_offset)
      problems.push({
        object: where,
        problem: `end_offset ${p.end_offset} < start_offset ${p.start_offset}`,
      });
    for (let i = 1; i < p.segments.length; i++) {
      if (p.segments[i]!.first_offset <= p.segments[i - 1]!.last_offset) {
        problems.push({
          object: p.segments[i]!.key,
          problem: `overlaps the previous segment ${p.segments[i - 1]!.key}`,
        });
      }
    }
  }

  // Each segment belongs to exactly one partition of the manifest; deep checks count its records in range.
  const owner = new Map<string, { topic: string; start: number; end: number; partition: number }>();
  for (const { topic, p } of partitions) {
    for (const s of p.segments)
      owner.set(s.key, { topic, partition: p.partition, start: p.start_offset, end: p.end_offset });
  }
  const inRangeCounts = new Map<string, number>();
  const segments = partitions.flatMap(({ p }) => p.segments);
  await mapLimit(segments, opts.concurrency ?? 4, async (s) => {
    const head = await store.head(s.key);
    if (!head) {
      problems.push({ object: s.key, problem: 'missing' });
      return;
    }
    if (head.size !== s.size) {
      problems.push({ object: s.key, problem: `size ${head.size} bytes, manifest says ${s.size}` });
      return;
    }
    segmentsChecked++;
    if (!opts.deep) return;
    const range = owner.get(s.key)!;
    try {
      let inRange = 0;
      for await (const r of readSegment(store.getStream(s.key), { ...s }, { verifyBatches: true })) {
        recordsChecked++;
        if (r.offset >= range.end) {
          throw new CorruptDataError(
            `holds offset ${r.offset}, beyond the cut ${range.end} of ${range.topic}/${range.partition}`,
          );
        }
        if (r.offset >= range.start) inRange++;
      }
      bytesChecked += s.size;
      inRangeCounts.set(s.key, inRange);
    } catch (e) {
      if (e instanceof UserError) problems.push({ object: s.key, problem: e.message });
      else throw e;
    }
  });

  // The cluster metadata object (backup.metadata): present, and (deep) unchanged since the manifest was written.
  if (manifest.metadata) {
    const { key, sha256 } = manifest.metadata;
    if (!opts.deep) {
      if (!(await store.head(key))) problems.push({ object: key, problem: 'missing' });
    } else {
      const raw = await store.getIfExists(key);
      if (!raw) problems.push({ object: key, problem: 'missing' });
      else if (createHash('sha256').update(raw).digest('hex') !== sha256)
        problems.push({ object: key, problem: 'SHA-256 differs from the manifest' });
      else bytesChecked += raw.length;
    }
  }

  if (opts.deep) {
    for (const { topic, p } of partitions) {
      const counts = p.segments.map((s) => inRangeCounts.get(s.key));
      if (counts.some((c) => c === undefined)) continue; // already reported per segment
      const count = counts.reduce<number>((n, c) => n + (c ?? 0), 0);
      if (count !== p.records) {
        problems.push({
          object: `manifest topics.${topic}.partitions.${p.partition}`,
          problem: `segments hold ${count} records in [${p.start_offset}, ${p.end_offset}), manifest says ${p.records}`,
        });
      }
    }
  }

  return {
    backup_id: manifest.backup_id,
    location: store.location,
    deep: opts.deep,
    ok: problems.length === 0,
    segments_checked: segmentsChecked,
    records_checked: recordsChecked,
    bytes_checked: bytesChecked,
    problems,
  };
}
