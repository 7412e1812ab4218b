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
  stateMachinesFromEnv,
  workflowStateMachine,
} from '../../dr/workflows.ts';
import { outputFormat, parseCommandArgs, requireOption, UsageError } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';
import { renderTable } from '../output.ts';
import { renderRestoreReport } from '../restore-report.ts';

/**
 * `kafka-backup dr failover|failback|status`: starts the serverless failover and failback workflows (README
 * "Serverless workflows") with inputs built from the CLI's config files, follows them state by state and prints
 * the restore report they end with. The Step Functions calls are lib/dr's (workflows.ts); this file parses the
 * command line and prints.
 */

const CONNECTION = '[--region R] [--endpoint URL] [--format json|table]';
const USAGE = {
  failover: `kafka-backup dr failover --state-machine-arn ARN --config dr-restore.yaml [--backup-id latest] [--validate deep|shallow|none] [--hooks FILE] [--source-cluster-id ID] [--name NAME] [--no-follow] ${CONNECTION}`,
  failback: `kafka-backup dr failback --state-machine-arn ARN --backup-config dr-backup.yaml --restore-config failback-restore.yaml [--since TIME] [--hooks FILE] [--name NAME] [--no-follow] ${CONNECTION}`,
  status: `kafka-backup dr status [--state-machine-arn ARN] [--execution-arn ARN [--follow]] [--limit N] ${CONNECTION}`,
};

const HELP = [
  'kafka-backup dr: run and watch the serverless DR workflows (Step Functions) from the command line',
  '',
  `  ${USAGE.failover}`,
  `  ${USAGE.failback}`,
  `  ${USAGE.status}`,
  '',
  `--state-machine-arn defaults to ${ENV.failover} (failover) and`,
  `${ENV.failback} (failback); --endpoint to AWS_ENDPOINT_URL_SFN. The region is the ARN's.`,
  'Credentials come from the default AWS chain. failover and failback follow the execution until it ends',
  '(Ctrl-C stops following, not the execution) and exit 0 when it succeeded; the README lists the other codes.',
].join('\n');

const COMMON = {
  'state-machine-arn': { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  format: { type: 'string' },
} as const;

const START = {
  ...COMMON,
  name: { type: 'string' },
  hooks: { type: 'string' },
  'no-follow': { type: 'boolean' },
} as const;

type Out = (s: string) => void;

export async function drCommand(argv: string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'failover') return failover(rest, out);
  if (sub === 'failback') return failback(rest, out);
  if (sub === 'status') return status(rest, out);
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    out(HELP);
    return sub === undefined ? ExitCode.usage : ExitCode.ok;
  }
  throw new UsageError(`dr: unknown subcommand "${sub}"`, {
    hint: 'Subcommands: failover, failback, status',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// failover / failback

async function failover(argv: string[], out: Out): Promise<number> {
  const { values } = parseCommandArgs(
    'dr failover',
    argv,
    {
      ...START,
      config: { type: 'string', short: 'c' },
      'backup-id': { type: 'string' },
      validate: { type: 'string' },
      'source-cluster-id': { type: 'string' },
    },
    USAGE.failover,
  );
  if (values.help) {
    out(USAGE.failover);
    return ExitCode.ok;
  }
  const format = outputFormat(values, 'dr failover');
  const sm = workflowStateMachine(values['state-machine-arn'], 'failover');
  const configPath = requireOption(values, 'config', 'dr failover', USAGE.failover);
  const input = failoverInput({
    configPath,
    backupId: values['backup-id'],
    validate: values.validate,
    hooks: hooksFrom(values.hooks),
    sourceClusterId: values['source-cluster-id'],
    notice: (s) => process.stderr.write(`${s}\n`),
  });
  return startAndFollow('failover', sm, input, { ...values, format }, out);
}

async function failback(argv: string[], out: Out): Promise<number> {
  const { values } = parseCommandArgs(
    'dr failback',
    argv,
    {
      ...START,
      'backup-config': { type: 'string' },
      'restore-config': { type: 'string' },
      since: { type: 'string' },
    },
    USAGE.failback,
  );
  if (values.help) {
    out(USAGE.failback);
    return ExitCode.ok;
  }
  const format = outputFormat(values, 'dr failback');
  const sm = workflowStateMachine(values['state-machine-arn'], 'failback');
  const input = failbackInput({
    backupConfigPath: requireOption(values, 'backup-config', 'dr failback', USAGE.failback),
    restoreConfigPath: requireOption(values, 'restore-config', 'dr failback', USAGE.failback),
    since: values.since === undefined ? undefined : parseSince(values.since),
    hooks: hooksFrom(values.hooks),
  });
  return startAndFollow('failback', sm, input, { ...values, format }, out);
}

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
        JSON.stringify(
          {
            execution_arn: arn,
            name,
            state_machine_arn: sm.arn.arn,
            status: 'RUNNING',
            start_date: started.startDate?.toISOString() ?? null,
          },
          null,
          2,
        ),
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
      JSON.stringify(
        {
          execution_arn: execution.executionArn,
          name: execution.name ?? null,
          state_machine_arn: execution.stateMachineArn,
          status: o.status,
          start_date: execution.startDate?.toISOString() ?? null,
          stop_date: execution.stopDate?.toISOString() ?? null,
          running_state: o.running ? history.runningState() : null,
          failed_state: o.failedState,
          error: o.error,
          cause: o.cause,
          report: o.report ?? null,
          output: o.report && o.report === o.output ? null : (o.output ?? null),
          steps: history.steps.filter((s) => s.type !== 'Choice').map(stepSummary),
        },
        null,
        2,
      ),
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

async function status(argv: string[], out: Out): Promise<number> {
  const { values } = parseCommandArgs(
    'dr status',
    argv,
    {
      ...COMMON,
      'execution-arn': { type: 'string' },
      follow: { type: 'boolean' },
      limit: { type: 'string' },
    },
    USAGE.status,
  );
  if (values.help) {
    out(USAGE.status);
    return ExitCode.ok;
  }
  const format = outputFormat(values, 'dr status');
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
    throw new UsageError('dr status: --follow needs --execution-arn', { hint: `Usage: ${USAGE.status}` });

  const limit = values.limit === undefined ? 10 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`dr status: --limit must be a whole number from 1 to 1000, not "${values.limit}"`);
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
    throw new UsageError('dr status: give --state-machine-arn or --execution-arn', {
      hint: `Or set ${ENV.failover} / ${ENV.failback}: dr status then lists both. Usage: ${USAGE.status}`,
    });

  const listed: { state_machine_arn: string; executions: ExecutionListItem[] }[] = [];
  for (const sm of machines) {
    const executions = await connect(values, sm).list(sm, limit);
    listed.push({ state_machine_arn: sm.arn.arn, executions });
  }
  if (format === 'json') {
    out(
      JSON.stringify(
        {
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
        },
        null,
        2,
      ),
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
}
