import { describe, expect, it } from 'vitest';
import { type CommandSpec, parseCommand, usageLines, wantsJson } from '../../../lib/cli/spec.ts';

const SPEC = {
  name: 'demo',
  summary: 'a command for the parser tests',
  positionals: [{ name: 'ACTION', choices: ['plan', 'execute'], description: 'What to do.' }],
  flags: {
    config: { type: 'string', short: 'c', value: 'FILE', required: true, description: 'The config.' },
    format: { type: 'string', choices: ['table', 'json'], default: 'table', description: 'Output.' },
    limit: { type: 'string', value: 'N', default: '10', description: 'How many.' },
    keep: { type: 'boolean', description: 'Keep it.' },
  },
  examples: [{ command: 'kafka-backup demo plan -c x.yaml', does: 'Plans.' }],
  exitCodes: [2],
} as const satisfies CommandSpec;

describe('parseCommand', () => {
  it('applies defaults, reads short flags, booleans and positionals', () => {
    const r = parseCommand(SPEC, ['plan', '-c', 'x.yaml', '--keep']);
    expect(r.help).toBe(false);
    expect(r.positionals).toEqual(['plan']);
    expect(r.values).toEqual({ config: 'x.yaml', format: 'table', limit: '10', keep: true });
    expect(parseCommand(SPEC, ['execute', '--config=y.yaml', '--format', 'json']).values.format).toBe('json');
  });

  it('returns help without checking required flags', () => {
    expect(parseCommand(SPEC, ['--help']).help).toBe(true);
    expect(parseCommand(SPEC, ['-h']).help).toBe(true);
  });

  it('refuses what the spec does not take, naming the flag and what it takes', () => {
    const fails = (argv: string[]) => {
      try {
        parseCommand(SPEC, argv);
      } catch (e) {
        return {
          name: (e as Error).name,
          message: (e as Error).message,
          hint: (e as { hint?: string }).hint,
        };
      }
      throw new Error(`accepted ${argv.join(' ')}`);
    };
    expect(fails(['plan'])).toMatchObject({
      name: 'UsageError',
      message: 'Missing flag --config for kafka-backup demo',
      hint: expect.stringContaining('Usage: kafka-backup demo plan|execute --config FILE'),
    });
    expect(fails(['-c', 'x'])).toMatchObject({
      message: 'Missing ACTION (plan or execute) for kafka-backup demo',
    });
    expect(fails(['plan', '-c'])).toMatchObject({ message: 'Missing value for --config (FILE)' });
    expect(fails(['plan', '-c', 'x', '--keep=yes'])).toMatchObject({
      message: 'Unexpected value for --keep: it is a switch',
    });
    expect(fails(['plan', '-c', 'x', '-z'])).toMatchObject({
      message: 'Unknown flag -z for kafka-backup demo',
    });
    expect(fails(['plan', '-c', 'x', 'extra'])).toMatchObject({
      message: 'Unexpected argument "extra" for kafka-backup demo',
    });
    expect(fails(['plan', '-c', 'x', '--format', 'yaml'])).toMatchObject({
      message: 'Unknown value "yaml" for --format: it takes table or json',
    });
  });

  it('prints every flag in the usage line, required ones without brackets', () => {
    expect(usageLines(SPEC)).toEqual([
      'kafka-backup demo plan|execute --config FILE [--format table|json] [--limit N] [--keep]',
    ]);
  });

  it('sees --format json anywhere on a command line', () => {
    expect(wantsJson(['backup', '--format', 'json'])).toBe(true);
    expect(wantsJson(['backup', '--format=json', '--bogus'])).toBe(true);
    expect(wantsJson(['backup', '--format', 'table'])).toBe(false);
  });
});
