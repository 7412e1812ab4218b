import { randomBytes } from 'node:crypto';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { formatRunTimestamp } from '../../config/index.ts';
import { type FollowResult, followExecution } from '../../dr/follow.ts';
import { type StepRecord, seconds, shorten } from '../../dr/history.ts';
import { failbackInput, failoverInput, type Hooks, parseSince, readHooks } from '../../dr/input.ts';
import { asRestoreReport, parseJson } from '../../dr/report.ts';
import {
  type ClientTarget,
  clientTarget,
  describeAwsError,
  executionArn,
  executionArnOf,
  type ParsedArn,
  parseArn,
  sfnClient,
  stateMachineArn,
} from '../../dr/sfn.ts';
import type { ErrorName } from '../../errors.ts';
import type { RestoreReport } from '../../restore/index.ts';
import { outputFormat, parseCommandArgs, requireOption, UsageError } from '../args.ts';
import { ExitCode, exitCodeForName } from '../exit-codes.ts';
import { renderTable } from '../output.ts';
import { renderRestoreReport } from '../restore-report.ts';

/**
 * `kafka-backup dr failover|failback|status`: starts the serverless failover and failback workflows (README
 * "Serverless workflows") with inputs built from the CLI's config files, follows them state by state and prints
 * the restore report they end with.
 */

const ENV = {
  failover: 'KAFKA_BACKUP_FAILOVER_STATE_MACHINE',
  failback: 'KAFKA_BACKUP_FAILBACK_STATE_MACHINE',
} as const;

/** A state each workflow has and the other has not: starting the wrong one is refused before it runs. */
const MARKER_STATE = { failover: 'FindBackup', failback: 'CheckPrimary' } as const;

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
  const sm = machineArn(values['state-machine-arn'], 'failover');
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
  const sm = machineArn(values['state-machine-arn'], 'failback');
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

interface Located {
  arn: ParsedArn & { arn: string };
  /** How the user gave it, for messages: `--state-machine-arn` or the environment variable. */
  flag: string;
}

function machineArn(value: string | undefined, kind: 'failover' | 'failback'): Located {
  const fromEnv = process.env[ENV[kind]];
  const given = value ?? (fromEnv === '' ? undefined : fromEnv);
  if (given === undefined)
    throw new UsageError(`dr ${kind}: --state-machine-arn is required (or set ${ENV[kind]})`, {
      hint: `The DR stack's output ${kind === 'failover' ? 'FailoverStateMachineArn' : 'FailbackStateMachineArn'} is the ARN. Usage: ${USAGE[kind]}`,
    });
  const flag = value !== undefined ? '--state-machine-arn' : ENV[kind];
  return { arn: stateMachineArn(given, flag), flag };
}

interface Connection {
  client: SFNClient;
  target: ClientTarget;
  /** `--endpoint URL` when a custom endpoint is used (flag or environment), for the commands we print. */
  endpointArg: string;
}

function connect(
  values: { region?: string; endpoint?: string },
  arnRegion: string | undefined,
  flag: string,
) {
  const target = clientTarget({ region: values.region, endpoint: values.endpoint, arnRegion, arnFlag: flag });
  return {
    client: sfnClient(target),
    target,
    endpointArg: target.endpoint ? ` --endpoint ${target.endpoint}` : '',
  } satisfies Connection;
}

async function call<T>(
  conn: Connection,
  what: { action: string; subject: string; flag: string },
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw describeAwsError(e, { target: conn.target, ...what });
  }
}

async function startAndFollow(
  kind: 'failover' | 'failback',
  sm: Located,
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
  const conn = connect(values, sm.arn.region, sm.flag);
  const say = progressSink(values.format, out);
  await checkWorkflowKind(conn, kind, sm);

  const name = values.name ?? `${kind}-${formatRunTimestamp(new Date())}-${randomBytes(2).toString('hex')}`;
  const started = await call(
    conn,
    { action: `start the ${kind} workflow`, subject: sm.arn.arn, flag: sm.flag },
    () =>
      conn.client.send(
        new StartExecutionCommand({ stateMachineArn: sm.arn.arn, name, input: JSON.stringify(input) }),
      ),
  ).catch((e: unknown) => {
    if ((e as { name?: string }).name === 'ExecutionAlreadyExists')
      throw new UsageError(
        `dr ${kind}: --name ${name}: ${sm.arn.stateMachine} already has an execution of that name (with another input, or finished)`,
        {
          hint: `Names stay taken for 90 days: choose another --name, or look at that one with kafka-backup dr status --execution-arn ${executionArnOf(sm.arn, name)}${conn.endpointArg}`,
        },
      );
    throw e;
  });
  const arn = started.executionArn!;
  say(`started ${kind} execution ${name}`);
  say(`  ${arn}`);
  const link = consoleUrl(conn, arn);
  if (link) say(`  ${link}`);

  if (values['no-follow']) {
    const follow = `kafka-backup dr status --execution-arn ${arn} --follow${conn.endpointArg}`;
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
  return followAndReport(conn, arn, { kind, format: values.format, follow: true }, out);
}

/** Refuses to start the failback workflow as a failover (or any other state machine): their inputs differ. */
async function checkWorkflowKind(
  conn: Connection,
  kind: 'failover' | 'failback',
  sm: Located,
): Promise<void> {
  let definition: string | undefined;
  try {
    definition = (await conn.client.send(new DescribeStateMachineCommand({ stateMachineArn: sm.arn.arn })))
      .definition;
  } catch (e) {
    const err = describeAwsError(e, {
      target: conn.target,
      action: 'read the state machine',
      subject: sm.arn.arn,
      flag: sm.flag,
    });
    // Without states:DescribeStateMachine the check is skipped; StartExecution says what is wrong, if anything.
    if ((e as { name?: string }).name === 'AccessDeniedException') {
      process.stderr.write(
        `note: cannot read ${sm.arn.arn} to check it is the ${kind} workflow; starting it\n`,
      );
      return;
    }
    throw err;
  }
  const states = Object.keys(
    ((parseJson(definition) ?? {}) as { States?: Record<string, unknown> }).States ?? {},
  );
  if (states.includes(MARKER_STATE[kind])) return;
  const other = kind === 'failover' ? 'failback' : 'failover';
  throw new UsageError(
    `dr ${kind}: ${sm.arn.arn} (${sm.flag}) is not the ${kind} workflow: it has no ${MARKER_STATE[kind]} state${states.includes(MARKER_STATE[other]) ? ` (it is the ${other} workflow)` : ''}`,
    {
      hint: `Use the DR stack's ${kind === 'failover' ? 'FailoverStateMachineArn' : 'FailbackStateMachineArn'} output${states.includes(MARKER_STATE[other]) ? `, or kafka-backup dr ${other}` : ''}.`,
    },
  );
}

function consoleUrl(conn: Connection, arn: string): string | undefined {
  if (conn.target.endpoint) return undefined;
  const r = conn.target.region;
  return `https://${r}.console.aws.amazon.com/states/home?region=${r}#/v2/executions/details/${arn}`;
}

/** Progress goes with the table output; with --format json, stdout holds only the JSON, progress goes to stderr. */
function progressSink(format: 'json' | 'table', out: Out): Out {
  return format === 'json' ? (s) => process.stderr.write(`${s}\n`) : out;
}

/** Follows until the end (or Ctrl-C) and prints the outcome; the exit code says how it ended. */
async function followAndReport(
  conn: Connection,
  arn: string,
  opts: { kind: string; format: 'json' | 'table'; follow: boolean },
  out: Out,
): Promise<number> {
  const say = progressSink(opts.format, out);
  const resume = `kafka-backup dr status --execution-arn ${arn} --follow${conn.endpointArg}`;
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
    result = await call(conn, { action: 'read the execution', subject: arn, flag: '--execution-arn' }, () =>
      followExecution(conn.client, arn, { onLine: say, signal: ac.signal, follow: opts.follow }),
    );
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

/** Exit codes come from lib/errors.ts (ERRORS, as for the CLI's own commands); these are the hints printed with them. */
const HINT_FOR_ERROR: Partial<Record<ErrorName, string>> = {
  RestoreVerificationFailed:
    'The restore ran but a partition or consumer group did not verify (the report above says which); the apps stay scaled down.',
  KafkaAccessError:
    'A step could not reach Kafka or was refused: check the Kafka secret, security groups and brokers.',
  StorageAccessError:
    "A step could not use the bucket: check the workflow role's S3 permissions and the bucket name.",
  NotFoundError:
    'No restorable backup (or an object it needs) was found in the bucket: check storage.prefix and replication.',
  ConfigError:
    'The config in the execution input does not parse where the workflow runs (a variable not set there?).',
  LeaseHeldError:
    'Another run holds the lease (a backup of the location, or the same restore into the same target): wait for it to finish, or for its lease to expire.',
  KafkaTransientError:
    'Kafka kept answering with a transient error (coordinator loading, leader moving, broker restarting) through every retry: check the brokers, then run it again.',
};

function stepSummary(s: StepRecord) {
  return {
    state: s.state,
    type: s.type,
    status: s.status,
    entered_at: s.entered_at,
    exited_at: s.exited_at,
    ...(s.error || s.cause ? { error: s.error, cause: s.cause } : {}),
  };
}

function report(
  result: FollowResult,
  opts: { kind: string; format: 'json' | 'table'; follow: boolean; resume: string },
  out: Out,
): number {
  const { history, execution } = result;
  const st = execution.status ?? 'UNKNOWN';
  const running = st === 'RUNNING' || st === 'PENDING_REDRIVE';
  const output = parseJson(execution.output);
  let reportValue: RestoreReport | undefined = asRestoreReport(output);
  if (!reportValue && !running && st !== 'SUCCEEDED') reportValue = history.reportInHistory();
  const failedState = running ? null : history.failedState();
  const error = execution.error ?? history.end?.error ?? null;
  const cause = execution.cause ?? history.end?.cause ?? null;
  const title = opts.kind === 'execution' ? `execution ${execution.name}` : opts.kind;
  const took =
    execution.startDate && execution.stopDate
      ? seconds(execution.stopDate.getTime() - execution.startDate.getTime())
      : null;
  const code = running
    ? ExitCode.ok
    : st === 'SUCCEEDED'
      ? reportValue && !reportValue.ok
        ? ExitCode.verificationFailed
        : ExitCode.ok
      : exitCodeForName(error);

  if (opts.format === 'json') {
    out(
      JSON.stringify(
        {
          execution_arn: execution.executionArn,
          name: execution.name ?? null,
          state_machine_arn: execution.stateMachineArn,
          status: st,
          start_date: execution.startDate?.toISOString() ?? null,
          stop_date: execution.stopDate?.toISOString() ?? null,
          running_state: running ? history.runningState() : null,
          failed_state: failedState,
          error,
          cause,
          report: reportValue ?? null,
          output: reportValue && reportValue === output ? null : (output ?? null),
          steps: history.steps.filter((s) => s.type !== 'Choice').map(stepSummary),
        },
        null,
        2,
      ),
    );
  } else {
    out('');
    if (running) {
      const now = history.runningState();
      out(`${title} is RUNNING${now ? ` (in ${now})` : ''}`);
      out(`follow it: ${opts.resume}`);
    } else {
      out(
        `${title} ${st}${took ? ` after ${took}` : ''}${opts.kind === 'execution' ? '' : ` (execution ${execution.name})`}`,
      );
      if (st !== 'SUCCEEDED') {
        if (failedState) out(`  failed state: ${failedState}`);
        if (error) out(`  error: ${error}`);
        if (cause) out(`  cause: ${shorten(cause, 2000)}`);
      }
    }
    if (reportValue) out(`\n${renderRestoreReport(reportValue)}`);
    else if (!running && output !== undefined && output !== null)
      out(`\noutput (not a restore report):\n${JSON.stringify(output, null, 2)}`);
  }
  if (!running && code !== ExitCode.ok) {
    const where = failedState ? ` in state ${failedState}` : '';
    const what = st === 'ABORTED' ? 'was stopped (aborted)' : st === 'TIMED_OUT' ? 'timed out' : 'failed';
    process.stderr.write(
      `\nerror: ${opts.kind === 'execution' ? title : `${opts.kind} execution ${execution.name}`} ${what}${where}${error ? `: ${error}` : ''}${cause ? `: ${shorten(cause)}` : ''}\n`,
    );
    const hint =
      (error && HINT_FOR_ERROR[error as ErrorName]) ??
      (st === 'ABORTED'
        ? 'Someone stopped the execution (StopExecution); start a new one when ready.'
        : st === 'TIMED_OUT'
          ? 'The execution ran past its timeout; the steps that finished are in the history above.'
          : undefined);
    process.stderr.write(
      `hint: ${hint ? `${hint} ` : ''}The whole history: ${opts.resume.replace(' --follow', '')}\n`,
    );
  }
  return code;
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
    const conn = connect(values, ex.region, '--execution-arn');
    const described: DescribeExecutionCommandOutput = await call(
      conn,
      { action: 'read the execution', subject: ex.arn, flag: '--execution-arn' },
      () => conn.client.send(new DescribeExecutionCommand({ executionArn: ex.arn })),
    );
    const say = progressSink(format, out);
    say(
      `execution ${described.name} of ${ex.stateMachine}: ${described.status}, started ${described.startDate?.toISOString() ?? '?'}${described.stopDate ? `, stopped ${described.stopDate.toISOString()}` : ''}`,
    );
    say('');
    return followAndReport(conn, ex.arn, { kind: 'execution', format, follow: Boolean(values.follow) }, out);
  }
  if (values.follow)
    throw new UsageError('dr status: --follow needs --execution-arn', { hint: `Usage: ${USAGE.status}` });

  const limit = values.limit === undefined ? 10 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`dr status: --limit must be a whole number from 1 to 1000, not "${values.limit}"`);
  const machines: Located[] = [];
  if (values['state-machine-arn'] !== undefined)
    machines.push({
      arn: stateMachineArn(values['state-machine-arn'], '--state-machine-arn'),
      flag: '--state-machine-arn',
    });
  else
    for (const kind of ['failover', 'failback'] as const) {
      const v = process.env[ENV[kind]];
      if (v) machines.push({ arn: stateMachineArn(v, ENV[kind]), flag: ENV[kind] });
    }
  if (machines.length === 0)
    throw new UsageError('dr status: give --state-machine-arn or --execution-arn', {
      hint: `Or set ${ENV.failover} / ${ENV.failback}: dr status then lists both. Usage: ${USAGE.status}`,
    });

  const listed: { state_machine_arn: string; executions: ExecutionListItem[] }[] = [];
  for (const sm of machines) {
    const conn = connect(values, sm.arn.region, sm.flag);
    const r = await call(conn, { action: 'list the executions', subject: sm.arn.arn, flag: sm.flag }, () =>
      conn.client.send(new ListExecutionsCommand({ stateMachineArn: sm.arn.arn, maxResults: limit })),
    );
    listed.push({ state_machine_arn: sm.arn.arn, executions: r.executions ?? [] });
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
