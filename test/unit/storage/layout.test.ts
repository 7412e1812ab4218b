import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BackupLayout,
  EvidenceKeys,
  KEY_TEMPLATES,
  type KeyName,
  LOCATION_FOLDERS,
  RestoreLayout,
  WorkflowLayout,
} from '../../../lib/storage/layout.ts';

const DOC = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'format.md'),
  'utf8',
);

/** The first column of the table under "## Locations and keys". */
function documentedKeys(): string[] {
  const section = DOC.slice(DOC.indexOf('## Locations and keys'), DOC.indexOf('## The manifest'));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

const SAMPLE = {
  backup_id: 'b-1',
  restore_id: 'b-1--kc--0123456789',
  evidence_id: 'drill-20261202-010203-ab12',
  topic: 'orders',
  partition: 3,
  map_run_id: '6dbfba93-bcff-410b-9b5c-abf41ae9eddb',
};

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/<([a-z_]+)>/g, (_, name: string) => String(values[name]));
}

describe('the table of storage keys (lib/storage/layout.ts)', () => {
  it('is the table of docs/format.md, key for key and in the same order', () => {
    expect(documentedKeys()).toEqual(Object.values(KEY_TEMPLATES));
  });

  it('writes each key as its template says', () => {
    const pad = (n: number) => String(n).padStart(20, '0');
    const values = {
      ...SAMPLE,
      first: pad(42),
      last: pad(1041),
      unique: 'a1b2c3d4',
      from: pad(42),
      to: pad(1042),
    };
    const written: Record<KeyName, string> = {
      manifest: BackupLayout.manifest(SAMPLE.backup_id),
      metadata: BackupLayout.metadata(SAMPLE.backup_id),
      plan: BackupLayout.plan(SAMPLE.backup_id),
      rangeProgress: BackupLayout.rangeProgress(SAMPLE.backup_id, SAMPLE.topic, SAMPLE.partition, 42, 1042),
      backupWorkflowConfig: WorkflowLayout.backupConfig(SAMPLE.backup_id),
      backupWorkflowItems: WorkflowLayout.backupItems(SAMPLE.backup_id),
      backupWorkflowResults: WorkflowLayout.backupResults(SAMPLE.backup_id, SAMPLE.map_run_id),
      segment: BackupLayout.segment(SAMPLE.topic, SAMPLE.partition, 42, 1041, 'a1b2c3d4'),
      lease: BackupLayout.lease,
      restorePlan: RestoreLayout.plan(SAMPLE.restore_id),
      restorePartition: RestoreLayout.partition(SAMPLE.restore_id, SAMPLE.topic, SAMPLE.partition),
      restoreReport: RestoreLayout.report(SAMPLE.restore_id),
      restoreLease: RestoreLayout.lease(SAMPLE.restore_id),
      restoreWorkflowConfig: WorkflowLayout.restoreConfig(SAMPLE.restore_id),
      restoreWorkflowItems: WorkflowLayout.restoreItems(SAMPLE.restore_id),
      restoreWorkflowOffsetPlans: WorkflowLayout.restoreOffsetPlans(SAMPLE.restore_id),
      restoreWorkflowGroupResults: WorkflowLayout.restoreGroupResults(SAMPLE.restore_id),
      restoreWorkflowResults: WorkflowLayout.restoreResults(SAMPLE.restore_id, SAMPLE.map_run_id),
      evidenceReport: EvidenceKeys.report(SAMPLE.evidence_id),
      evidenceMarkdown: EvidenceKeys.markdown(SAMPLE.evidence_id),
      evidenceSignature: EvidenceKeys.signature(SAMPLE.evidence_id),
    };
    for (const name of Object.keys(KEY_TEMPLATES) as KeyName[])
      expect([name, written[name]]).toEqual([name, fill(KEY_TEMPLATES[name], values)]);
    expect(written.segment).toBe(
      'segments/orders/3/00000000000000000042-00000000000000001041-a1b2c3d4.kbseg.zst',
    );
    expect(written.rangeProgress).toBe(
      'backups/b-1/progress/orders/3/00000000000000000042-00000000000000001042.json',
    );
  });

  it('puts every key under one of the top-level folders, or the lease at the root', () => {
    const folders = Object.values(LOCATION_FOLDERS);
    for (const template of Object.values(KEY_TEMPLATES))
      expect(template === 'lease.json' || folders.some((f) => template.startsWith(f))).toBe(true);
    expect(BackupLayout.backupPrefix(SAMPLE.backup_id)).toBe('backups/b-1/');
    expect(BackupLayout.progressPrefix(SAMPLE.backup_id)).toBe('backups/b-1/progress/');
  });
});
