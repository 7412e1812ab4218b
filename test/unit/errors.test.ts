import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WorkflowAccessError } from '../../lib/dr/sfn.ts';
import {
  ConfigError,
  CorruptDataError,
  ERRORS,
  type ErrorName,
  ExitCode,
  exitCodeFor,
  exitCodeForName,
  InvalidEventError,
  isRetriableName,
  KafkaAccessError,
  KafkaTransientError,
  LeaseHeldError,
  NotFoundError,
  RETRIABLE_ERROR_NAMES,
  StorageAccessError,
  UsageError,
  UserError,
  WorkNotFinishedError,
} from '../../lib/errors.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README's "Exit codes" table: code -> error names, each with whether it is marked "(retried)". */
function readmeExitCodes(readme: string): Map<number, Map<string, boolean>> {
  const section = readme.split(/^### Exit codes$/m)[1]?.split(/^#+ /m)[0];
  if (!section) throw new Error('README has no "### Exit codes" section');
  const rows = new Map<number, Map<string, boolean>>();
  for (const line of section.split('\n')) {
    const m = /^\| (\d+) \|[^|]*\|([^|]*)\|$/.exec(line.trim());
    if (!m) continue;
    const names = new Map<string, boolean>();
    for (const n of m[2]!.matchAll(/`([A-Za-z.]+)`( \(retried\))?/g)) names.set(n[1]!, n[2] !== undefined);
    rows.set(Number(m[1]), names);
  }
  return rows;
}

/** Where the README's table and ERRORS/ExitCode disagree, one line each (empty: they agree). */
function disagreements(readme: string): string[] {
  const out: string[] = [];
  const rows = readmeExitCodes(readme);
  const codes = new Set<number>(Object.values(ExitCode));
  for (const c of codes) if (!rows.has(c)) out.push(`exit code ${c} has no README row`);
  for (const c of rows.keys()) if (!codes.has(c)) out.push(`README row ${c} is not an ExitCode`);
  const seen = new Set<string>();
  for (const [code, names] of rows)
    for (const [name, retried] of names) {
      if (seen.has(name)) out.push(`${name} is in two README rows`);
      seen.add(name);
      if (!Object.hasOwn(ERRORS, name)) {
        out.push(`${name} (README row ${code}) is not in ERRORS`);
        continue;
      }
      const p = ERRORS[name as ErrorName];
      if (p.exitCode !== code) out.push(`${name}: README says exit ${code}, ERRORS ${p.exitCode}`);
      if (p.retriable !== retried) out.push(`${name}: README says retried=${retried}, ERRORS ${p.retriable}`);
    }
  for (const name of Object.keys(ERRORS))
    if (!seen.has(name)) out.push(`${name} is missing from the README table`);
  return out;
}

describe('the error table (lib/errors.ts ERRORS)', () => {
  it('agrees with the README exit-code table: every code, every name in its row, "(retried)" where retriable', () => {
    expect(readmeExitCodes(README).get(3)?.get('KafkaTransientError')).toBe(true);
    expect(disagreements(README)).toEqual([]);
  });

  it('the README check can fail: a retried wrong password, a moved name, a missing code are noticed', () => {
    expect(disagreements(README.replace('`KafkaAccessError`,', '`KafkaAccessError` (retried),'))).toEqual([
      'KafkaAccessError: README says retried=true, ERRORS false',
    ]);
    expect(disagreements(README.replace('| `NotFoundError` |', '| |'))).toEqual([
      'NotFoundError is missing from the README table',
    ]);
    expect(disagreements(README.replace(/^\| 4 \|.*\n/m, ''))).toEqual([
      'exit code 4 has no README row',
      'NotFoundError is missing from the README table',
    ]);
  });

  it('every error class reports the exit code and retriable flag of its name', () => {
    const cases: [UserError, ErrorName][] = [
      [new UserError('x'), 'UserError'],
      [new ConfigError('x'), 'ConfigError'],
      [new UsageError('x'), 'UsageError'],
      [new InvalidEventError('x'), 'InvalidEventError'],
      [new WorkNotFinishedError('x'), 'WorkNotFinished'],
      [new KafkaAccessError('x'), 'KafkaAccessError'],
      [new KafkaTransientError('x'), 'KafkaTransientError'],
      [new StorageAccessError('x'), 'StorageAccessError'],
      [new WorkflowAccessError('x'), 'WorkflowAccessError'],
      [new LeaseHeldError('x'), 'LeaseHeldError'],
      [new NotFoundError('x'), 'NotFoundError'],
      [new CorruptDataError('x'), 'CorruptDataError'],
    ];
    for (const [e, name] of cases) {
      expect(e.name).toBe(name);
      expect(e).toBeInstanceOf(UserError);
      expect(exitCodeFor(e), name).toBe(ERRORS[name].exitCode);
      expect(exitCodeForName(name), name).toBe(ERRORS[name].exitCode);
      expect(e.retriable, name).toBe(ERRORS[name].retriable);
    }
    expect(new KafkaTransientError('x').retriable).toBe(true);
    expect(new KafkaAccessError('wrong password').retriable).toBe(false);
    expect(exitCodeFor(new KafkaTransientError('x'))).toBe(ExitCode.access);
  });

  it('anything else is a bug (exit 1, not retriable); unknown names from a workflow too', () => {
    expect(exitCodeFor(new Error('boom'))).toBe(ExitCode.unexpected);
    expect(exitCodeFor('a string')).toBe(ExitCode.unexpected);
    for (const n of [
      'States.Timeout',
      'Sandbox.Timedout',
      'TypeError',
      'toString',
      '__proto__',
      '',
      null,
      undefined,
    ])
      expect(exitCodeForName(n), String(n)).toBe(ExitCode.unexpected);
    expect(isRetriableName('toString')).toBe(false);
    expect(isRetriableName('KafkaAccessError')).toBe(false);
    expect(isRetriableName('KafkaTransientError')).toBe(true);
  });

  it('RETRIABLE_ERROR_NAMES is the retriable part of the table', () => {
    expect([...RETRIABLE_ERROR_NAMES].sort()).toEqual(
      (Object.keys(ERRORS) as ErrorName[]).filter((n) => ERRORS[n].retriable).sort(),
    );
    expect(RETRIABLE_ERROR_NAMES).toEqual(['WorkNotFinished', 'KafkaTransientError']);
  });
});
