import { parseArgs } from 'node:util';
import { suggestKey } from '../config/did-you-mean.ts';
import { EXIT_CODE_MEANING, ExitCode, UsageError } from '../errors.ts';
import { ENVIRONMENT, type EnvName } from './environment.ts';

/**
 * One declarative spec per command, which both parses its command line and prints its help: every flag with its
 * description, default and allowed values, the usage line (every flag the command takes), examples, the
 * environment it reads and its exit codes. A command line the spec does not take is a UsageError that names the
 * flag and, for a typo, the flag that was meant.
 */

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** What it does, as a sentence. */
  readonly description: string;
  /** The value's placeholder in usage and help (FILE, N, URL); `choices` are shown instead when given. */
  readonly value?: string;
  /** Used when the flag is not given (string flags), and printed. */
  readonly default?: string;
  /** Printed as the default when it is not one fixed value (e.g. "$KAFKA_BACKUP_S3_ENDPOINT"). */
  readonly defaultText?: string;
  /** The only values it takes. */
  readonly choices?: readonly string[];
  /** Shown without brackets in the usage line and checked: the command cannot run without it. */
  readonly required?: boolean;
}
export type Flags = Readonly<Record<string, FlagSpec>>;

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly choices?: readonly string[];
}

export interface CommandSpec<F extends Flags = Flags> {
  /** As typed after `kafka-backup`: `backup`, `dr failover`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Paragraphs printed after the usage. */
  readonly description?: readonly string[];
  /** Positional arguments (all required), in order. */
  readonly positionals?: readonly PositionalSpec[];
  readonly flags: F;
  /** Replaces the generated usage line where flags are alternatives (`--config FILE | --bootstrap-servers ...`). */
  readonly usage?: readonly string[];
  readonly examples: readonly { readonly command: string; readonly does: string }[];
  /** The environment variables it reads (ENVIRONMENT in environment.ts describes each). */
  readonly env?: readonly EnvName[];
  /** What `--format json` prints on success (errors: `{"format_version", "error": {...}}`). */
  readonly json?: string;
  /** The exit codes it ends with besides 0 and 1; their meanings are lib/errors.ts's. */
  readonly exitCodes: readonly ExitCode[];
  /** Left out of `kafka-backup --help` (the workflows' plumbing). */
  readonly hidden?: boolean;
}

/** A command with subcommands (`kafka-backup dr failover`). */
export interface CommandGroupSpec {
  readonly name: string;
  readonly summary: string;
  readonly description?: readonly string[];
  readonly subcommands: readonly CommandSpec[];
}

/** Booleans are true or absent; a string flag that is required or has a default is always there. */
type Values<F extends Flags> = {
  -readonly [K in keyof F]: F[K]['type'] extends 'boolean'
    ? boolean | undefined
    : F[K] extends { required: true } | { default: string }
      ? string
      : string | undefined;
};

export interface ParsedArgs<F extends Flags> {
  readonly values: Values<F>;
  readonly positionals: readonly string[];
  /** `-h` or `--help` was given: print the help, run nothing. */
  readonly help: boolean;
}

export const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', description: 'Show this help and exit.' };

/** `--format json`/`--format=json` anywhere on a command line: errors are then JSON too, even before parsing. */
export function wantsJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--format' && argv[i + 1] === 'json') return true;
    if (argv[i] === '--format=json') return true;
  }
  return false;
}

function flagWord(name: string, spec: FlagSpec): string {
  if (spec.type === 'boolean') return `--${name}`;
  return `--${name} ${spec.choices ? spec.choices.join('|') : (spec.value ?? 'VALUE')}`;
}

function seeHelp(spec: { name: string }): string {
  return `See kafka-backup ${spec.name} --help for its flags.`;
}

/** Unknown flags first, each with the flag it most likely meant: parseArgs would name only the first, tersely. */
function checkKnownFlags(spec: CommandSpec, argv: readonly string[]): void {
  const longs = [...Object.keys(spec.flags), 'help'];
  const shorts = new Set(
    [...Object.values(spec.flags), HELP_FLAG].flatMap((f) => (f.short ? [f.short] : [])),
  );
  for (const arg of argv) {
    if (arg === '--') return;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0]!;
      if (longs.includes(name)) continue;
      const meant = suggestKey(name, longs);
      throw new UsageError(`Unknown flag --${name} for kafka-backup ${spec.name}`, {
        hint: meant ? `Did you mean --${meant}? ${seeHelp(spec)}` : seeHelp(spec),
      });
    }
    if (/^-[A-Za-z]/.test(arg) && !shorts.has(arg[1]!)) {
      throw new UsageError(`Unknown flag ${arg.slice(0, 2)} for kafka-backup ${spec.name}`, {
        hint: seeHelp(spec),
      });
    }
  }
}

/** Parses a command line with its spec: flags, choices, required flags and positionals, defaults applied. */
export function parseCommand<F extends Flags>(spec: CommandSpec<F>, argv: readonly string[]): ParsedArgs<F> {
  checkKnownFlags(spec, argv);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(
          Object.entries(spec.flags).map(([name, f]) => [
            name,
            { type: f.type, ...(f.short ? { short: f.short } : {}) },
          ]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (e) {
    throw usageErrorOf(spec, e as Error & { code?: string });
  }
  const values = parsed.values;
  const help = values['help'] === true;
  delete values['help'];
  if (help) return { values: values as Values<F>, positionals: parsed.positionals, help };

  for (const [name, f] of Object.entries(spec.flags)) {
    const v = values[name];
    if (typeof v === 'string' && f.choices && !f.choices.includes(v)) {
      const meant = suggestKey(v, f.choices);
      throw new UsageError(`Unknown value "${v}" for --${name}: it takes ${orList(f.choices)}`, {
        hint: `${meant ? `Did you mean ${meant}? ` : ''}${f.description}`,
      });
    }
    if (v === '' && f.type === 'string')
      throw new UsageError(
        `Missing value for --${name} (${f.choices ? orList(f.choices) : (f.value ?? 'VALUE')})`,
        {
          hint: f.description,
        },
      );
    if (v === undefined && f.default !== undefined) values[name] = f.default;
    if (values[name] === undefined && f.required)
      throw new UsageError(`Missing flag --${name} for kafka-backup ${spec.name}`, {
        hint: `${f.description} Usage: ${usageLines(spec)[0]}`,
      });
  }
  const expected = spec.positionals ?? [];
  for (const [i, p] of expected.entries()) {
    const v = parsed.positionals[i];
    if (v === undefined)
      throw new UsageError(
        `Missing ${p.name}${p.choices ? ` (${orList(p.choices)})` : ''} for kafka-backup ${spec.name}`,
        {
          hint: `${p.description} Usage: ${usageLines(spec)[0]}`,
        },
      );
    if (p.choices && !p.choices.includes(v)) {
      const meant = suggestKey(v, p.choices);
      throw new UsageError(
        `Unknown ${p.name} "${v}" for kafka-backup ${spec.name}: say ${orList(p.choices)}`,
        {
          hint: meant ? `Did you mean ${meant}? ${p.description}` : p.description,
        },
      );
    }
  }
  if (parsed.positionals.length > expected.length)
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[expected.length]}" for kafka-backup ${spec.name}`,
      { hint: `Every value goes with a flag (e.g. --config FILE). ${seeHelp(spec)}` },
    );
  return { values: values as Values<F>, positionals: parsed.positionals, help };
}

function usageErrorOf(spec: CommandSpec, e: Error & { code?: string }): UsageError {
  const flag = /'(--?[A-Za-z0-9-]+)/.exec(e.message)?.[1];
  const name = flag?.replace(/^-+/, '');
  const f =
    name === undefined
      ? undefined
      : (spec.flags[name] ?? Object.values(spec.flags).find((x) => x.short === name));
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && f) {
    const long = Object.entries(spec.flags).find(([, x]) => x === f)![0];
    if (f.type === 'boolean')
      return new UsageError(`Unexpected value for --${long}: it is a switch`, {
        hint: `Give --${long} alone: ${f.description}`,
      });
    return new UsageError(
      `Missing value for --${long} (${f.choices ? orList(f.choices) : (f.value ?? 'VALUE')})`,
      {
        hint: f.description,
      },
    );
  }
  return new UsageError(`Cannot read the command line of kafka-backup ${spec.name}: ${e.message}`, {
    hint: seeHelp(spec),
  });
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** The usage line(s): the command, its positionals, every flag (required ones without brackets). */
export function usageLines(spec: CommandSpec): string[] {
  if (spec.usage) return spec.usage.map((u) => `kafka-backup ${spec.name} ${u}`);
  const words = [
    `kafka-backup ${spec.name}`,
    ...(spec.positionals ?? []).map((p) => (p.choices ? p.choices.join('|') : p.name)),
    ...Object.entries(spec.flags).map(([name, f]) =>
      f.required ? flagWord(name, f) : `[${flagWord(name, f)}]`,
    ),
  ];
  return [words.join(' ')];
}

/** Word-wraps text to `width` columns, every line after the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

const WIDTH = 110;

function flagDetails(f: FlagSpec): string {
  const parts = [f.description];
  if (f.required) parts.push('Required.');
  if (f.default !== undefined) parts.push(`Default: ${f.default}.`);
  else if (f.defaultText !== undefined) parts.push(`Default: ${f.defaultText}.`);
  return parts.join(' ');
}

/** The table of a command's flags, each with its description, default and allowed values. */
function flagTable(spec: CommandSpec): string[] {
  const rows = [...Object.entries(spec.flags), ['help', HELP_FLAG] as const].map(([name, f]) => ({
    left: `${f.short ? `-${f.short}, ` : '    '}${flagWord(name, f)}`,
    right: flagDetails(f),
  }));
  const col = Math.min(40, Math.max(...rows.map((r) => r.left.length)) + 2);
  return rows.map((r) => {
    const pad = r.left.length + 2 > col ? `\n${' '.repeat(col + 2)}` : ' '.repeat(col - r.left.length);
    return `  ${r.left}${pad}${wrap(r.right, WIDTH - col - 2, col + 2)}`;
  });
}

/** Everything `kafka-backup <command> --help` prints. */
export function renderHelp(spec: CommandSpec): string {
  const out: string[] = [`kafka-backup ${spec.name}: ${spec.summary}`, '', 'Usage:'];
  for (const u of usageLines(spec)) out.push(`  ${wrap(u, WIDTH - 2, 6)}`);
  for (const p of spec.description ?? []) out.push('', wrap(p, WIDTH, 0));
  if (spec.positionals?.length) {
    out.push('', 'Arguments:');
    for (const p of spec.positionals)
      out.push(`  ${p.choices ? p.choices.join('|') : p.name}  ${wrap(p.description, WIDTH - 20, 4)}`);
  }
  out.push('', 'Flags:', ...flagTable(spec));
  if (spec.json) out.push('', 'Output with --format json:', `  ${wrap(spec.json, WIDTH - 2, 2)}`);
  if (spec.env?.length) {
    out.push('', 'Environment:');
    const col = Math.max(...spec.env.map((n) => n.length)) + 2;
    for (const name of spec.env)
      out.push(`  ${name.padEnd(col)}${wrap(ENVIRONMENT[name].description, WIDTH - col - 2, col + 2)}`);
  }
  if (spec.examples.length) {
    out.push('', 'Examples:');
    for (const e of spec.examples) out.push(`  ${e.command}`, `      ${wrap(e.does, WIDTH - 6, 6)}`);
  }
  out.push('', 'Exit codes:');
  const codes = [...new Set([ExitCode.ok, ...spec.exitCodes, ExitCode.unexpected])].sort((a, b) => a - b);
  for (const code of codes)
    out.push(`  ${String(code).padEnd(4)}${wrap(EXIT_CODE_MEANING[code], WIDTH - 6, 6)}`);
  return out.join('\n');
}

/** `kafka-backup dr --help`: the subcommands, each with its usage. */
export function renderGroupHelp(group: CommandGroupSpec): string {
  const out: string[] = [`kafka-backup ${group.name}: ${group.summary}`, '', 'Usage:'];
  for (const s of group.subcommands) for (const u of usageLines(s)) out.push(`  ${wrap(u, WIDTH - 2, 6)}`);
  for (const p of group.description ?? []) out.push('', wrap(p, WIDTH, 0));
  out.push('', 'Subcommands:');
  const col = Math.max(...group.subcommands.map((s) => s.name.length)) + 2;
  for (const s of group.subcommands) out.push(`  ${s.name.padEnd(col)}${s.summary}`);
  out.push(
    '',
    `kafka-backup ${group.name} <subcommand> --help shows a subcommand's flags, examples and exit codes.`,
  );
  return out.join('\n');
}

/** The spec a name was probably meant to be, for "did you mean". */
export function suggestName(name: string, names: readonly string[]): string | undefined {
  return suggestKey(name, names);
}
