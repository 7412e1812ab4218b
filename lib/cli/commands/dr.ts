import { randomBytes } from 'node:crypto';
import type { ExecutionListItem } from '@aws-sdk/client-sfn';
import { formatRunTimestamp } from '../../config/index.ts';
import type { FollowResult } from '../../dr/follow.ts';
import { seconds, shorten } from '../../dr/history.ts';
import { failbackInput, failoverInput, type Hooks, parseSince, readHooks } from '../../dr/input.ts';
import { executionOutcome, stepSummary } from '../../dr/outcome.ts';
import { executionArn, executionArnOf, parseArn, stateMachineArn } from '../../dr/sfn.ts';
import {
  type DrWorkflowKind,
  DrWorkflows,
  STATE_MACHINE_ENV as ENV,
  type LocatedArn,
  STACK_OUTPUT,
  stateMachinesFromEnv,
  workflowStateMachine,
} from '../../dr/workflows.ts';
import { ExitCode, UsageError } from '../../errors.ts';
import { defineCommand } from '../command.ts';
import { configFlag, FORMAT_FLAG } from '../flags.ts';
import { jsonDocument, renderTable } from '../output.ts';
import { renderRestoreReport } from '../restore-report.ts';
import type { CommandGroupSpec, FlagSpec, Flags } from '../spec.ts';

/**
 * `kafka-backup dr failover|failback|status`: starts the serverless failover and failback workflows (README
 * "Serverless workflows") with inputs built from the CLI's config files, follows them state by state and prints
 * the restore report they end with. The Step Functions calls are lib/dr's (workflows.ts); this file parses the
 * command line and prints.
 */

const CONNECTION_FLAGS = {
  region: {
    type: 'string',
    value: 'REGION',
    defaultText: "the ARN's region",
    description: 'The AWS region of Step Functions; must agree with the ARN.',
  },
  endpoint: {
    type: 'string',
    value: 'URL',
    defaultText: '$AWS_ENDPOINT_URL_SFN, else AWS',
    description: 'A server speaking the Step Functions API instead of AWS (e.g. a local test server).',
  },
  format: {
    ...FORMAT_FLAG,
    description:
      'How the outcome is printed: text with progress on stdout, or one JSON document on stdout with the progress on stderr.',
  },
} as const satisfies Flags;

const START_FLAGS = {
  name: {
    type: 'string',
    value: 'NAME',
    defaultText: '<workflow>-<UTC stamp>-<4 hex>',
    description:
      'The execution name; the same command again while that execution runs follows it instead of starting a second.',
  },
  hooks: {
    type: 'string',
    value: 'FILE',
    description:
      'Scale hooks (YAML or JSON): scale_down and scale_up, each with ecs_services [{cluster, service, desired_count}] and lambda_function.',
  },
  'no-follow': {
    type: 'boolean',
    description: 'Start the execution and exit, printing the command that follows it.',
  },
} as const satisfies Flags;

function stateMachineFlag(kind: DrWorkflowKind) {
  return {
    type: 'string',
    value: 'ARN',
    defaultText: `$${ENV[kind]}`,
    description: `The ${kind} state machine: the DR stack's ${STACK_OUTPUT[kind]} output.`,
  } as const satisfies FlagSpec;
}

const DR_EXIT_CODES = [
  ExitCode.usage,
  ExitCode.access,
  ExitCode.notFound,
  ExitCode.verificationFailed,
  ExitCode.interrupted,
];

const OUTCOME_JSON =
  '{format_version, execution_arn, name, state_machine_arn, status, start_date, stop_date, running_state, failed_state, error: null | {name, message, hint, exit_code}, cause, report (the restore report), output, steps: [{state, type, status, entered_at, exited_at}]}';

const OUTCOME_NOTE =
  "It follows the execution state by state until it ends (Ctrl-C stops following, never the execution, and prints the command that resumes it), prints the restore report it ends with, and exits with the code of the error a failed step threw (lib/errors.ts's table), 5 when the restore did not verify.";

export const drFailoverCommand = defineCommand(
  {
    name: 'dr failover',
    summary: 'start the failover workflow with dr-restore.yaml and follow it to the restore report',
    description: [
      'Builds the failover input from the restore config ({config, validate, hooks, options}), checks it as the ' +
        'workflow will (unknown keys, wrong types, a literal password are refused with their YAML path), checks the ' +
        'state machine is the failover workflow, and starts it. The workflow restores the newest complete backup ' +
        'that has fully replicated to the DR bucket.',
      OUTCOME_NOTE,
    ],
    flags: {
      'state-machine-arn': stateMachineFlag('failover'),
      config: configFlag('The restore config (YAML) the workflow runs, with the DR bucket as storage.'),
      'backup-id': {
        type: 'string',
        value: 'latest',
        description:
          'Only latest: the workflow restores the newest fully replicated backup (for a chosen one, run three-phase-restore).',
      },
      validate: {
        type: 'string',
        choices: ['deep', 'shallow', 'none'],
        default: 'deep',
        description: 'How the workflow checks the backup before restoring it.',
      },
      'source-cluster-id': {
        type: 'string',
        value: 'ID',
        description: 'Restore only backups of this source cluster (backup.source_cluster_id).',
      },
      ...START_FLAGS,
      ...CONNECTION_FLAGS,
    },
    examples: [
      {
        command:
          'KAFKA_BACKUP_FAILOVER_STATE_MACHINE=arn:aws:states:… kafka-backup dr failover --config dr-restore.yaml',
        does: "Fail over with the guide's restore config and follow it to the report.",
      },
      {
        command:
          'kafka-backup dr failover -c dr-restore.yaml --hooks hooks.yaml --name failover-2024-12-01 --no-follow',
        does: 'Start a named failover that scales the apps down and up, and return at once.',
      },
    ],
    env: ['KAFKA_BACKUP_FAILOVER_STATE_MACHINE', 'AWS_ENDPOINT_URL_SFN', 'AWS_REGION', 'AWS_PROFILE'],
    json: OUTCOME_JSON,
    exitCodes: DR_EXIT_CODES,
  },
  async ({ values }, out) => {
    const sm = workflowStateMachine(values['state-machine-arn'], 'failover');
    const input = failoverInput({
      configPath: values.config,
      backupId: values['backup-id'],
      validate: values.validate,
      hooks: hooksFrom(values.hooks),
      sourceClusterId: values['source-cluster-id'],
      notice: (s) => process.stderr.write(`${s}\n`),
    });
    return startAndFollow('failover', sm, input, { ...values, format: values.format as Format }, out);
  },
);

export const drFailbackCommand = defineCommand(
  {
    name: 'dr failback',
    summary: 'start the failback workflow (back up DR, restore what changed into the primary) and follow it',
    description: [
      'Builds the failback input from a backup config of the DR cluster and a restore config into the primary ' +
        '(same storage), with restore.start_time set from --since: only what was written since the failover is ' +
        'restored, appended to what the primary holds, and the groups are reset by that time.',
      OUTCOME_NOTE,
    ],
    flags: {
      'state-machine-arn': stateMachineFlag('failback'),
      'backup-config': {
        type: 'string',
        value: 'FILE',
        required: true,
        description: 'A backup config of the DR cluster (YAML).',
      },
      'restore-config': {
        type: 'string',
        value: 'FILE',
        required: true,
        description: 'A restore config into the primary cluster, with the same storage as the backup config.',
      },
      since: {
        type: 'string',
        value: 'TIME',
        defaultText: "the restore config's restore.start_time",
        description:
          'When the failover happened (epoch ms or ISO-8601 with a zone): sets restore.start_time.',
      },
      ...START_FLAGS,
      ...CONNECTION_FLAGS,
    },
    examples: [
      {
        command:
          'kafka-backup dr failback --backup-config dr-backup.yaml --restore-config failback-restore.yaml --since 2024-12-01T12:00:00Z',
        does: 'Fail back what was written in DR since the failover at 12:00 UTC.',
      },
    ],
    env: ['KAFKA_BACKUP_FAILBACK_STATE_MACHINE', 'AWS_ENDPOINT_URL_SFN', 'AWS_REGION', 'AWS_PROFILE'],
    json: OUTCOME_JSON,
    exitCodes: DR_EXIT_CODES,
  },
  async ({ values }, out) => {
    const sm = workflowStateMachine(values['state-machine-arn'], 'failback');
    const input = failbackInput({
      backupConfigPath: values['backup-config'],
      restoreConfigPath: values['restore-config'],
      since: values.since === undefined ? undefined : parseSince(values.since),
      hooks: hooksFrom(values.hooks),
    });
    return startAndFollow('failback', sm, input, { ...values, format: values.format as Format }, out);
  },
);

type Format = 'json' | 'table';
type Out = (s: string) => void;

function hooksFrom(path: string | undefined): Hooks | undefined {
  return path === undefined ? undefined : readHooks(path);
}

function connect(
  values: { region?: string; endpoint?: string },
  about: { arn: { region: string }; flag: string },
) {
  return new DrWorkflows({
    region: values.region,
    endpoint: values.endpoint,
    arnRegion: about.arn.region,
    arnFlag: about.flag,
  });
}

async function startAndFollow(
  kind: DrWorkflowKind,
  sm: LocatedArn,
  input: object,
  values: {
    region?: string;
    endpoint?: string;
    name?: string;
    'no-follow'?: boolean;
    format: 'json' | 'table';
  },
  out: Out,
): Promise<number> {
  const sfn = connect(values, sm);
  const say = progressSink(values.format, out);
  await sfn.checkWorkflowKind(kind, sm, (s) => process.stderr.write(`${s}\n`));

  const name = values.name ?? `${kind}-${formatRunTimestamp(new Date())}-${randomBytes(2).toString('hex')}`;
  const started = await sfn.start(kind, sm, name, input);
  const arn = started.executionArn;
  say(`started ${kind} execution ${name}`);
  say(`  ${arn}`);
  const link = sfn.consoleUrl(arn);
  if (link) say(`  ${link}`);

  if (values['no-follow']) {
    const follow = `kafka-backup dr status --execution-arn ${arn} --follow${sfn.endpointArg}`;
    if (values.format === 'json')
      out(
        jsonDocument({
          execution_arn: arn,
          name,
          state_machine_arn: sm.arn.arn,
          status: 'RUNNING',
          start_date: started.startDate?.toISOString() ?? null,
        }),
      );
    else say(`not following it; to follow: ${follow}`);
    return ExitCode.ok;
  }
  say('  (Ctrl-C stops following, not the execution)');
  say('');
  return followAndReport(sfn, arn, { kind, format: values.format, follow: true }, out);
}

/** Progress goes with the table output; with --format json, stdout holds only the JSON, progress goes to stderr. */
function progressSink(format: 'json' | 'table', out: Out): Out {
  return format === 'json' ? (s) => process.stderr.write(`${s}\n`) : out;
}

/** Follows until the end (or Ctrl-C) and prints the outcome; the exit code says how it ended. */
async function followAndReport(
  sfn: DrWorkflows,
  arn: string,
  opts: { kind: string; format: 'json' | 'table'; follow: boolean },
  out: Out,
): Promise<number> {
  const say = progressSink(opts.format, out);
  const resume = `kafka-backup dr status --execution-arn ${arn} --follow${sfn.endpointArg}`;
  const ac = new AbortController();
  const onSignal = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: FollowResult;
  try {
    result = await sfn.follow(arn, { onLine: say, signal: ac.signal, follow: opts.follow });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (result.interrupted) {
    process.stderr.write(
      `\nstopped following: the execution goes on (Ctrl-C does not stop it).\nfollow it again: ${resume}\nstop it:         aws stepfunctions stop-execution --execution-arn ${arn}\n`,
    );
    return ExitCode.interrupted;
  }
  return report(result, { ...opts, resume }, out);
}

function report(
  result: FollowResult,
  opts: { kind: string; format: 'json' | 'table'; follow: boolean; resume: string },
  out: Out,
): number {
  const { history, execution } = result;
  const o = executionOutcome(result);
  const title = opts.kind === 'execution' ? `execution ${execution.name}` : opts.kind;

  if (opts.format === 'json') {
    out(
      jsonDocument({
        execution_arn: execution.executionArn,
        name: execution.name ?? null,
        state_machine_arn: execution.stateMachineArn,
        status: o.status,
        start_date: execution.startDate?.toISOString() ?? null,
        stop_date: execution.stopDate?.toISOString() ?? null,
        running_state: o.running ? history.runningState() : null,
        failed_state: o.failedState,
        // The shape of every command's JSON error, for the error the failed step threw (its cause the message).
        error:
          o.running || o.status === 'SUCCEEDED'
            ? null
            : {
                name: o.error ?? o.status,
                message:
                  o.cause ??
                  `The execution ${o.status === 'ABORTED' ? 'was aborted' : o.status === 'TIMED_OUT' ? 'timed out' : 'failed'}`,
                hint: o.hint ?? null,
                exit_code: o.exitCode,
              },
        cause: o.cause,
        report: o.report ?? null,
        output: o.report && o.report === o.output ? null : (o.output ?? null),
        steps: history.steps.filter((s) => s.type !== 'Choice').map(stepSummary),
      }),
    );
  } else {
    out('');
    if (o.running) {
      const now = history.runningState();
      out(`${title} is RUNNING${now ? ` (in ${now})` : ''}`);
      out(`follow it: ${opts.resume}`);
    } else {
      out(
        `${title} ${o.status}${o.took ? ` after ${o.took}` : ''}${opts.kind === 'execution' ? '' : ` (execution ${execution.name})`}`,
      );
      if (o.status !== 'SUCCEEDED') {
        if (o.failedState) out(`  failed state: ${o.failedState}`);
        if (o.error) out(`  error: ${o.error}`);
        if (o.cause) out(`  cause: ${shorten(o.cause, 2000)}`);
      }
    }
    if (o.report) out(`\n${renderRestoreReport(o.report)}`);
    else if (!o.running && o.output !== undefined && o.output !== null)
      out(`\noutput (not a restore report):\n${JSON.stringify(o.output, null, 2)}`);
  }
  if (!o.running && o.exitCode !== ExitCode.ok) {
    const where = o.failedState ? ` in state ${o.failedState}` : '';
    const what =
      o.status === 'ABORTED' ? 'was stopped (aborted)' : o.status === 'TIMED_OUT' ? 'timed out' : 'failed';
    process.stderr.write(
      `\nerror: ${opts.kind === 'execution' ? title : `${opts.kind} execution ${execution.name}`} ${what}${where}${o.error ? `: ${o.error}` : ''}${o.cause ? `: ${shorten(o.cause)}` : ''}\n`,
    );
    process.stderr.write(
      `hint: ${o.hint ? `${o.hint} ` : ''}The whole history: ${opts.resume.replace(' --follow', '')}\n`,
    );
  }
  return o.exitCode;
}

// ---------------------------------------------------------------------------------------------------------------
// status

export const drStatusCommand = defineCommand(
  {
    name: 'dr status',
    summary: 'list recent failover and failback executions, or show (and follow) one',
    description: [
      `Without --execution-arn: the recent executions of --state-machine-arn, or of both state machines the environment names (${ENV.failover}, ${ENV.failback}). With it: that execution's history, outcome and report; --follow follows it until it ends.`,
      'Exits 0 for a running execution (without --follow), else as failover and failback do for its outcome.',
    ],
    flags: {
      'state-machine-arn': {
        type: 'string',
        value: 'ARN',
        defaultText: `both of $${ENV.failover} and $${ENV.failback}`,
        description: 'The state machine whose executions to list.',
      },
      'execution-arn': {
        type: 'string',
        value: 'ARN',
        description: 'One execution to show: its history, outcome and report.',
      },
      follow: { type: 'boolean', description: 'With --execution-arn: follow it until it ends.' },
      limit: {
        type: 'string',
        value: 'N',
        default: '10',
        description: 'How many recent executions to list per state machine (1 to 1000).',
      },
      ...CONNECTION_FLAGS,
    },
    examples: [
      { command: 'kafka-backup dr status', does: 'The recent executions of both DR workflows.' },
      {
        command:
          'kafka-backup dr status --execution-arn arn:aws:states:…:execution:kafka-backup-failover:NAME --follow',
        does: 'Follow one execution again (what an interrupted dr failover prints).',
      },
    ],
    env: [
      'KAFKA_BACKUP_FAILOVER_STATE_MACHINE',
      'KAFKA_BACKUP_FAILBACK_STATE_MACHINE',
      'AWS_ENDPOINT_URL_SFN',
      'AWS_REGION',
      'AWS_PROFILE',
    ],
    json: `with --execution-arn: ${OUTCOME_JSON}; else {format_version, state_machines: [{state_machine_arn, executions: [{name, execution_arn, status, start_date, stop_date}]}]}`,
    exitCodes: DR_EXIT_CODES,
  },
  async ({ values }, out) => {
    const format = values.format as Format;
    if (values['execution-arn'] !== undefined) {
      const ex = executionArn(values['execution-arn'], '--execution-arn');
      const sfn = connect(values, { arn: ex, flag: '--execution-arn' });
      const described = await sfn.describe(ex.arn);
      const say = progressSink(format, out);
      say(
        `execution ${described.name} of ${ex.stateMachine}: ${described.status}, started ${described.startDate?.toISOString() ?? '?'}${described.stopDate ? `, stopped ${described.stopDate.toISOString()}` : ''}`,
      );
      say('');
      return followAndReport(sfn, ex.arn, { kind: 'execution', format, follow: Boolean(values.follow) }, out);
    }
    if (values.follow)
      throw new UsageError('Missing flag --execution-arn for --follow', {
        hint: 'Name the execution to follow: --execution-arn ARN (dr status lists them).',
      });

    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError(
        `Unknown count "${values.limit}" for --limit: it takes a whole number from 1 to 1000`,
        {
          hint: 'For example --limit 20.',
        },
      );
    const machines: LocatedArn[] =
      values['state-machine-arn'] !== undefined
        ? [
            {
              arn: stateMachineArn(values['state-machine-arn'], '--state-machine-arn'),
              flag: '--state-machine-arn',
            },
          ]
        : stateMachinesFromEnv();
    if (machines.length === 0)
      throw new UsageError('Missing flag --state-machine-arn or --execution-arn for kafka-backup dr status', {
        hint: `Or set ${ENV.failover} / ${ENV.failback}: dr status then lists both.`,
      });

    const listed: { state_machine_arn: string; executions: ExecutionListItem[] }[] = [];
    for (const sm of machines) {
      const executions = await connect(values, sm).list(sm, limit);
      listed.push({ state_machine_arn: sm.arn.arn, executions });
    }
    if (format === 'json') {
      out(
        jsonDocument({
          state_machines: listed.map((l) => ({
            state_machine_arn: l.state_machine_arn,
            executions: l.executions.map((e) => ({
              name: e.name,
              execution_arn: e.executionArn,
              status: e.status,
              start_date: e.startDate?.toISOString() ?? null,
              stop_date: e.stopDate?.toISOString() ?? null,
            })),
          })),
        }),
      );
      return ExitCode.ok;
    }
    for (const l of listed) {
      out(`${parseArn(l.state_machine_arn)?.stateMachine ?? l.state_machine_arn}  (${l.state_machine_arn})`);
      if (l.executions.length === 0) out('  no executions');
      else
        out(
          renderTable(
            ['NAME', 'STATUS', 'STARTED', 'STOPPED', 'DURATION'],
            l.executions.map((e) => [
              e.name,
              e.status,
              e.startDate?.toISOString() ?? null,
              e.stopDate?.toISOString() ?? null,
              e.startDate && e.stopDate ? seconds(e.stopDate.getTime() - e.startDate.getTime()) : null,
            ]),
          ),
        );
      out('');
    }
    const example = machines[0]!.arn;
    out(`details: kafka-backup dr status --execution-arn ${executionArnOf(example, 'NAME')}`);
    return ExitCode.ok;
  },
);

export const DR_GROUP = {
  name: 'dr',
  summary: 'start and follow the serverless failover/failback workflows (AWS)',
  description: [
    `Runs and watches the DR workflows (Step Functions) from the command line. --state-machine-arn defaults to ${ENV.failover} (failover) and ${ENV.failback} (failback); --endpoint to AWS_ENDPOINT_URL_SFN. The region is the ARN's; credentials come from the default AWS chain.`,
  ],
  subcommands: [drFailoverCommand.spec, drFailbackCommand.spec, drStatusCommand.spec],
} as const satisfies CommandGroupSpec;

export const DR_SUBCOMMANDS = [drFailoverCommand, drFailbackCommand, drStatusCommand];
