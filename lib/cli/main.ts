import { ExitCode, exitCodeFor, UsageError } from '../errors.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Command, Out } from './command.ts';
import { backupCommand } from './commands/backup.ts';
import { describeCommand } from './commands/describe.ts';
import { diffConfigsCommand } from './commands/diff-configs.ts';
import { DR_GROUP, DR_SUBCOMMANDS } from './commands/dr.ts';
import { drillCommand } from './commands/drill.ts';
import { EVIDENCE_GROUP, EVIDENCE_SUBCOMMANDS } from './commands/evidence.ts';
import { listCommand } from './commands/list.ts';
import { offsetResetCommand } from './commands/offset-reset.ts';
import { planCommand } from './commands/plan.ts';
import { restoreCommand, threePhaseRestoreCommand } from './commands/restore.ts';
import { restoreMetadataCommand } from './commands/restore-metadata.ts';
import { stepCommand } from './commands/step.ts';
import { validateCommand } from './commands/validate.ts';
import { errorDocument, printError } from './error-output.ts';
import {
  type CommandGroupSpec,
  type CommandSpec,
  parseCommand,
  renderGroupHelp,
  renderHelp,
  suggestName,
  wantsJson,
} from './spec.ts';

/** Every command, in the order `kafka-backup --help` lists them; `dr` has subcommands. */
const COMMANDS: readonly (Command | { group: CommandGroupSpec; subcommands: readonly Command[] })[] = [
  backupCommand,
  planCommand,
  listCommand,
  describeCommand,
  validateCommand,
  restoreCommand,
  threePhaseRestoreCommand,
  restoreMetadataCommand,
  diffConfigsCommand,
  offsetResetCommand,
  drillCommand,
  { group: EVIDENCE_GROUP, subcommands: EVIDENCE_SUBCOMMANDS },
  { group: DR_GROUP, subcommands: DR_SUBCOMMANDS },
  stepCommand,
];

function nameOf(c: (typeof COMMANDS)[number]): string {
  return 'group' in c ? c.group.name : c.spec.name;
}

export { errorDocument, sentence } from './error-output.ts';

/** Every command's spec, subcommands included: what the help tests walk. */
export function allCommandSpecs(): CommandSpec[] {
  return COMMANDS.flatMap((c) => ('group' in c ? c.subcommands.map((s) => s.spec) : [c.spec]));
}

function topHelp(): string {
  const visible = COMMANDS.filter((c) => 'group' in c || !c.spec.hidden);
  const width = Math.max(...visible.map((c) => nameOf(c).length));
  return [
    `kafka-backup ${TOOL_VERSION}: point-in-time backup and disaster recovery for Apache Kafka`,
    '',
    'Usage: kafka-backup <command> [flags]',
    '       kafka-backup help <command>     (the same as kafka-backup <command> --help: every flag, examples, exit codes)',
    '',
    'Commands:',
    ...visible.map((c) => `  ${nameOf(c).padEnd(width)}  ${'group' in c ? c.group.summary : c.spec.summary}`),
    '',
    'Every command takes --format json for one JSON document on stdout (errors too). The README lists the',
    'environment variables, the exit codes and the config fields.',
  ].join('\n');
}

/** The command `words` name (`backup`, `dr failover`), and what follows it; a UsageError with "did you mean" if none. */
export function resolve(
  words: readonly string[],
): { command: Command; rest: string[] } | { group: CommandGroupSpec } {
  const [name, ...rest] = words;
  const entry = COMMANDS.find((c) => nameOf(c) === name);
  if (!entry) {
    const meant = suggestName(name ?? '', COMMANDS.map(nameOf));
    throw new UsageError(`Unknown command "${name}"`, {
      hint: `${meant ? `Did you mean ${meant}? ` : ''}Commands: ${COMMANDS.filter(
        (c) => 'group' in c || !c.spec.hidden,
      )
        .map(nameOf)
        .join(', ')} (kafka-backup --help says what each does).`,
    });
  }
  if (!('group' in entry)) return { command: entry, rest };
  const [sub, ...subRest] = rest;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return { group: entry.group };
  const command = entry.subcommands.find((s) => s.spec.name === `${entry.group.name} ${sub}`);
  if (!command) {
    const subs = entry.subcommands.map((s) => s.spec.name.split(' ')[1]!);
    const meant = suggestName(sub, subs);
    throw new UsageError(`Unknown subcommand "${sub}" of kafka-backup ${entry.group.name}`, {
      hint: `${meant ? `Did you mean ${meant}? ` : ''}Subcommands: ${subs.join(', ')}.`,
    });
  }
  return { command, rest: subRest };
}

/** Runs the CLI; returns the exit code. User errors print a message and a hint, never a stack trace. */
export async function main(
  argv: string[],
  out: Out = (s) => process.stdout.write(`${s}\n`),
): Promise<number> {
  const [first, ...rest] = argv;
  const json = wantsJson(argv);
  try {
    if (first === undefined || first === '--help' || first === '-h') {
      out(topHelp());
      return first === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (first === '--version' || first === 'version') {
      out(TOOL_VERSION);
      return ExitCode.ok;
    }
    if (first === 'help') {
      if (rest.length === 0) {
        out(topHelp());
        return ExitCode.ok;
      }
      const found = resolve(rest);
      out('group' in found ? renderGroupHelp(found.group) : renderHelp(found.command.spec));
      return ExitCode.ok;
    }
    const found = resolve(argv);
    if ('group' in found) {
      out(renderGroupHelp(found.group));
      return argv.length === 1 ? ExitCode.usage : ExitCode.ok;
    }
    const args = parseCommand(found.command.spec, found.rest);
    if (args.help) {
      out(renderHelp(found.command.spec));
      return ExitCode.ok;
    }
    return await found.command.run(args, out);
  } catch (e) {
    printError(e);
    if (json) out(JSON.stringify(errorDocument(e), null, 2));
    return exitCodeFor(e);
  }
}
