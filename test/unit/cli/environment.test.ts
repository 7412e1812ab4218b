import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../../lib/cli/environment.ts';
import { DRILL_EVIDENCE_ENV, MAX_AGE_ENV, TARGETS_ENV } from '../../../lib/dr/readiness-targets.ts';
import { STATE_MACHINE_ENV } from '../../../lib/dr/workflows.ts';
import { STEP_ENV } from '../../../lib/workflow/names.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every environment variable the shipped code reads by name: literal reads, and the names it keeps in constants. */
function namesTheCodeReads(): Set<string> {
  const names = new Set<string>([
    ...Object.values(STEP_ENV),
    ...Object.values(STATE_MACHINE_ENV),
    TARGETS_ENV,
    MAX_AGE_ENV,
    DRILL_EVIDENCE_ENV,
  ]);
  const reads = [
    /process\.env\[['"]([A-Z][A-Z0-9_]*)['"]\]/g,
    /process\.env\.([A-Z][A-Z0-9_]*)/g,
    /\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g,
    /cliEnv\(['"]([A-Z][A-Z0-9_]*)['"]\)/g,
  ];
  for (const file of ['lib', 'functions', 'bin'].flatMap((d) => sources(join(ROOT, d)))) {
    const text = readFileSync(file, 'utf8');
    for (const re of reads) for (const m of text.matchAll(re)) names.add(m[1]!);
  }
  return names;
}

/** The first column of the README's "Environment variables" table. */
function readmeNames(): Set<string> {
  const section = README.slice(
    README.indexOf('**Environment variables**'),
    README.indexOf('### Kafka client'),
  );
  const names = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `')))
    for (const m of row.split(' | ')[0]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  return names;
}

describe('environment variables', () => {
  it('every one the code reads is in the table of lib/cli/environment.ts', () => {
    const read = namesTheCodeReads();
    expect(read.size).toBeGreaterThan(15);
    expect([...read].filter((n) => !Object.hasOwn(ENVIRONMENT, n)).sort()).toEqual([]);
  });

  it('the README documents exactly the names of that table', () => {
    const documented = readmeNames();
    const table = Object.keys(ENVIRONMENT);
    expect(table.filter((n) => !documented.has(n)).sort()).toEqual([]);
    // AWS_ACCESS_KEY_ID stands for the rest of the AWS credential chain, which the SDK reads, not our code.
    expect([...documented].filter((n) => !table.includes(n) && n !== 'AWS_ACCESS_KEY_ID').sort()).toEqual([]);
  });
});
