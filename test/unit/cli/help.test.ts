import { describe, expect, it } from 'vitest';
import { allCommandSpecs } from '../../../lib/cli/main.ts';
import { HELP_FLAG, usageLines } from '../../../lib/cli/spec.ts';
import { EXIT_CODE_MEANING } from '../../../lib/errors.ts';
import { runCli } from '../../support/cli.ts';

/** Help text with its line wrapping undone, so that a wrapped description still reads as one string. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

const SPECS = allCommandSpecs();

describe('kafka-backup <command> --help', () => {
  it('covers every command, the dr subcommands and the hidden step included', () => {
    expect(SPECS.map((s) => s.name)).toEqual([
      'backup',
      'plan',
      'list',
      'describe',
      'validate',
      'restore',
      'three-phase-restore',
      'restore-metadata',
      'diff-configs',
      'offset-reset',
      'drill',
      'evidence list',
      'evidence show',
      'evidence verify',
      'evidence keygen',
      'evidence public-key',
      'dr failover',
      'dr failback',
      'dr status',
      'step',
    ]);
  });

  for (const spec of SPECS) {
    describe(spec.name, () => {
      it('shows every flag with its description, default and allowed values', async () => {
        const r = await runCli([...spec.name.split(' '), '--help']);
        expect(r.code).toBe(0);
        expect(r.stderr).toBe('');
        const help = flat(r.stdout);
        for (const [name, f] of Object.entries({ ...spec.flags, help: HELP_FLAG })) {
          expect(help, `--${name}`).toContain(`--${name}`);
          expect(help, `--${name}'s description`).toContain(flat(f.description));
          if (f.short) expect(help).toContain(`-${f.short}, --${name}`);
          if (f.default !== undefined)
            expect(help, `--${name}'s default`).toContain(`Default: ${f.default}.`);
          if (f.defaultText !== undefined) expect(help).toContain(flat(`Default: ${f.defaultText}.`));
          if (f.choices) expect(help, `--${name}'s values`).toContain(`--${name} ${f.choices.join('|')}`);
        }
      });

      it('has a usage line naming every flag, examples and the exit codes', async () => {
        const usage = usageLines(spec).join(' ');
        for (const name of Object.keys(spec.flags))
          expect(usage, `usage has --${name}`).toContain(`--${name}`);
        const help = flat((await runCli([...spec.name.split(' '), '--help'])).stdout);
        expect(spec.examples.length).toBeGreaterThan(0);
        for (const e of spec.examples) expect(help).toContain(flat(e.command));
        for (const code of [0, 1, ...spec.exitCodes])
          expect(help).toContain(
            flat(`${code} ${EXIT_CODE_MEANING[code as keyof typeof EXIT_CODE_MEANING]}`),
          );
      });

      it('kafka-backup help <command> prints the same', async () => {
        const a = await runCli(['help', ...spec.name.split(' ')]);
        const b = await runCli([...spec.name.split(' '), '-h']);
        expect(a.code).toBe(0);
        expect(a.stdout).toBe(b.stdout);
      });
    });
  }

  it('kafka-backup --help lists every visible command, dr with its subcommands in dr --help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const name of [
      'backup',
      'list',
      'describe',
      'validate',
      'restore',
      'three-phase-restore',
      'offset-reset',
      'drill',
      'evidence',
      'dr',
    ])
      expect(top.stdout).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
    expect(top.stdout).not.toMatch(/^ {2}step\s/m);
    const dr = await runCli(['dr', '--help']);
    expect(dr.code).toBe(0);
    for (const sub of ['failover', 'failback', 'status'])
      expect(dr.stdout).toContain(`kafka-backup dr ${sub} `);
    expect((await runCli(['help', 'dr'])).stdout).toBe(dr.stdout);
    // Without a command it is a usage error (exit 2) that still shows the help.
    expect((await runCli([])).code).toBe(2);
  });
});

describe('did you mean', () => {
  const cases: [string[], string, string][] = [
    [['bakup'], 'Unknown command "bakup"', 'Did you mean backup?'],
    [['restor', '--config', 'x.yaml'], 'Unknown command "restor"', 'Did you mean restore?'],
    [['dr', 'falover'], 'Unknown subcommand "falover" of kafka-backup dr', 'Did you mean failover?'],
    [
      ['backup', '--conifg', 'x.yaml'],
      'Unknown flag --conifg for kafka-backup backup',
      'Did you mean --config?',
    ],
    [['list', '--pat', '/tmp/x'], 'Unknown flag --pat for kafka-backup list', 'Did you mean --path?'],
    [
      ['dr', 'status', '--execution', 'arn:x'],
      'Unknown flag --execution for kafka-backup dr status',
      'Did you mean --execution-arn?',
    ],
    [
      ['list', '--path', '/tmp/x', '--format', 'jsno'],
      'Unknown value "jsno" for --format',
      'Did you mean json?',
    ],
    [['offset-reset', 'plna', '--groups', 'g'], 'Unknown ACTION "plna"', 'Did you mean plan?'],
    [['step', 'backup-plann'], 'Unknown STEP "backup-plann"', 'Did you mean backup-plan?'],
  ];
  for (const [argv, message, hint] of cases)
    it(`kafka-backup ${argv.join(' ')}`, async () => {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: ${message}`);
      expect(r.stderr).toContain(`hint: ${hint}`);
    });
});
