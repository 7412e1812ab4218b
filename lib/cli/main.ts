import { isUserError } from '../errors.ts';
import { TOOL_VERSION } from '../version.ts';
import { UsageError } from './args.ts';
import { backupCommand } from './commands/backup.ts';
import { describeCommand } from './commands/describe.ts';
import { diffConfigsCommand } from './commands/diff-configs.ts';
import { drCommand } from './commands/dr.ts';
import { drillCommand } from './commands/drill.ts';
import { listCommand } from './commands/list.ts';
import { offsetResetCommand } from './commands/offset-reset.ts';
import { restoreCommand, threePhaseRestoreCommand } from './commands/restore.ts';
import { restoreMetadataCommand } from './commands/restore-metadata.ts';
import { stepCommand } from './commands/step.ts';
import { validateCommand } from './commands/validate.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';

type Command = (argv: string[], out: (s: string) => void) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string; hidden?: boolean }> = {
  backup: {
    run: backupCommand,
    summary: 'back up the topics a config selects (resumes an unfinished run of the same backup_id)',
  },
  list: { run: listCommand, summary: 'list the backups in a location, oldest first' },
  describe: {
    run: describeCommand,
    summary: 'show one backup: cut, partitions, consumer groups, topic configs',
  },
  validate: { run: validateCommand, summary: 'check a backup; --deep reads and checksums every segment' },
  restore: {
    run: restoreCommand,
    summary: 'restore a backup into a cluster (resumes an interrupted restore)',
  },
  'three-phase-restore': {
    run: threePhaseRestoreCommand,
    summary: 'restore the data, store the offset mapping, reset the consumer groups',
  },
  'restore-metadata': {
    run: restoreMetadataCommand,
    summary:
      "print the plan for a backup's schemas, ACLs, quotas and SCRAM users on the target; --apply applies it",
  },
  'diff-configs': {
    run: diffConfigsCommand,
    summary: "topic configs that differ between a backup and a cluster; --apply sets the backup's values",
  },
  'offset-reset': {
    run: offsetResetCommand,
    summary: 'plan or execute a consumer-group offset reset on a cluster',
  },
  drill: {
    run: drillCommand,
    summary: 'the DR drill: test topic, backup, restore, verify counts, bytes and a group, clean up',
  },
  dr: { run: drCommand, summary: 'start and follow the serverless failover/failback workflows (AWS)' },
  // Not in the help: the workflows' plumbing (kafka-backup step --help describes it).
  step: {
    run: stepCommand,
    summary: 'run one step of the serverless workflows (what the Lambda functions and the Fargate task run)',
    hidden: true,
  },
};

export function registerCommand(name: string, run: Command, summary: string): void {
  COMMANDS[name] = { run, summary };
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `kafka-backup ${TOOL_VERSION}: point-in-time backup and disaster recovery for Apache Kafka`,
    '',
    'usage: kafka-backup <command> [options]     (kafka-backup <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS)
      .filter(([, c]) => !c.hidden)
      .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/** Runs the CLI; returns the exit code. User errors print a message and a hint, never a stack trace. */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(help());
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === 'version') {
    out(TOOL_VERSION);
    return ExitCode.ok;
  }
  const command = COMMANDS[name];
  try {
    if (!command)
      throw new UsageError(`unknown command "${name}"`, {
        hint: `Commands: ${Object.keys(COMMANDS).join(', ')}`,
      });
    return await command.run(rest, out);
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`\nerror: ${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    } else {
      process.stderr.write(
        `\nunexpected error (a bug; please report it with this output):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
    }
    return exitCodeFor(e);
  }
}
