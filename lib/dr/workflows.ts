import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { UsageError } from '../errors.ts';
import { type FollowResult, followExecution } from './follow.ts';
import { parseJson } from './report.ts';
import {
  type ClientTarget,
  clientTarget,
  describeAwsError,
  executionArnOf,
  type ParsedArn,
  sfnClient,
  stateMachineArn,
} from './sfn.ts';

/**
 * The DR workflows (failover and failback state machines, README "Serverless workflows") as the CLI drives them:
 * which state machine, started with which name, checked to be the right one, followed, listed. Every Step
 * Functions call of `kafka-backup dr` is here; lib/cli/commands/dr.ts parses flags and prints.
 */

export type DrWorkflowKind = 'failover' | 'failback';

/** Where a state machine ARN comes from when --state-machine-arn is not given. */
export const STATE_MACHINE_ENV = {
  failover: 'KAFKA_BACKUP_FAILOVER_STATE_MACHINE',
  failback: 'KAFKA_BACKUP_FAILBACK_STATE_MACHINE',
} as const satisfies Record<DrWorkflowKind, string>;

/** The DR stack's output that names each state machine. */
export const STACK_OUTPUT = {
  failover: 'FailoverStateMachineArn',
  failback: 'FailbackStateMachineArn',
} as const satisfies Record<DrWorkflowKind, string>;

/** A state each workflow has and the other has not: starting the wrong one is refused before it runs. */
const MARKER_STATE = { failover: 'FindBackup', failback: 'CheckPrimary' } as const satisfies Record<
  DrWorkflowKind,
  string
>;

export interface LocatedArn {
  arn: ParsedArn & { arn: string };
  /** How the user gave it, for messages: `--state-machine-arn` or the environment variable. */
  flag: string;
}

/** The state machine of a workflow: `--state-machine-arn`, else its environment variable. */
export function workflowStateMachine(
  value: string | undefined,
  kind: DrWorkflowKind,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocatedArn {
  const fromEnv = env[STATE_MACHINE_ENV[kind]];
  const given = value ?? (fromEnv === '' ? undefined : fromEnv);
  if (given === undefined)
    throw new UsageError(
      `No ${kind} state machine: give --state-machine-arn or set ${STATE_MACHINE_ENV[kind]}`,
      { hint: `The DR stack's output ${STACK_OUTPUT[kind]} is its ARN.` },
    );
  const flag = value !== undefined ? '--state-machine-arn' : STATE_MACHINE_ENV[kind];
  return { arn: stateMachineArn(given, flag), flag };
}

/** For `dr status` without an ARN: the state machines the environment names (failover, then failback). */
export function stateMachinesFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocatedArn[] {
  const out: LocatedArn[] = [];
  for (const kind of ['failover', 'failback'] as const) {
    const v = env[STATE_MACHINE_ENV[kind]];
    if (v) out.push({ arn: stateMachineArn(v, STATE_MACHINE_ENV[kind]), flag: STATE_MACHINE_ENV[kind] });
  }
  return out;
}

export interface StartedExecution {
  executionArn: string;
  name: string;
  startDate: Date | undefined;
}

/** A Step Functions client for one region (or endpoint), with its calls turned into errors that say what to do. */
export class DrWorkflows {
  readonly client: SFNClient;
  readonly target: ClientTarget;
  /** ` --endpoint URL` when a custom endpoint is used (flag or environment), for the commands we print. */
  readonly endpointArg: string;

  constructor(opts: {
    region: string | undefined;
    endpoint: string | undefined;
    /** The region of the ARN the command is about, and the flag that gave it (for messages). */
    arnRegion: string | undefined;
    arnFlag: string;
  }) {
    this.target = clientTarget(opts);
    this.client = sfnClient(this.target);
    this.endpointArg = this.target.endpoint ? ` --endpoint ${this.target.endpoint}` : '';
  }

  async #call<T>(what: { action: string; subject: string; flag: string }, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw describeAwsError(e, { target: this.target, ...what });
    }
  }

  /**
   * Refuses to start the failback workflow as a failover (or any other state machine): their inputs differ.
   * Without states:DescribeStateMachine the check is skipped (with a notice); StartExecution then says what is
   * wrong, if anything.
   */
  async checkWorkflowKind(kind: DrWorkflowKind, sm: LocatedArn, notice: (s: string) => void): Promise<void> {
    let definition: string | undefined;
    try {
      definition = (await this.client.send(new DescribeStateMachineCommand({ stateMachineArn: sm.arn.arn })))
        .definition;
    } catch (e) {
      if ((e as { name?: string }).name === 'AccessDeniedException') {
        notice(`note: cannot read ${sm.arn.arn} to check it is the ${kind} workflow; starting it`);
        return;
      }
      throw describeAwsError(e, {
        target: this.target,
        action: 'read the state machine',
        subject: sm.arn.arn,
        flag: sm.flag,
      });
    }
    const states = Object.keys(
      ((parseJson(definition) ?? {}) as { States?: Record<string, unknown> }).States ?? {},
    );
    if (states.includes(MARKER_STATE[kind])) return;
    const other: DrWorkflowKind = kind === 'failover' ? 'failback' : 'failover';
    const isOther = states.includes(MARKER_STATE[other]);
    throw new UsageError(
      `${sm.arn.arn} (${sm.flag}) is not the ${kind} workflow: it has no ${MARKER_STATE[kind]} state${isOther ? ` (it is the ${other} workflow)` : ''}`,
      {
        hint: `Use the DR stack's ${STACK_OUTPUT[kind]} output${isOther ? `, or kafka-backup dr ${other}` : ''}.`,
      },
    );
  }

  /**
   * Starts an execution. StartExecution is idempotent for a running execution of the same name and input, so a
   * repeated command follows the running one; a name already used otherwise is refused, naming the execution.
   */
  async start(kind: DrWorkflowKind, sm: LocatedArn, name: string, input: object): Promise<StartedExecution> {
    try {
      const started = await this.client.send(
        new StartExecutionCommand({ stateMachineArn: sm.arn.arn, name, input: JSON.stringify(input) }),
      );
      return { executionArn: started.executionArn!, name, startDate: started.startDate };
    } catch (e) {
      if ((e as { name?: string }).name === 'ExecutionAlreadyExists')
        throw new UsageError(
          `Execution name ${name} (--name) is taken: ${sm.arn.stateMachine} already has an execution of that name (with another input, or finished)`,
          {
            hint: `Names stay taken for 90 days: choose another --name, or look at that one with kafka-backup dr status --execution-arn ${executionArnOf(sm.arn, name)}${this.endpointArg}`,
          },
        );
      throw describeAwsError(e, {
        target: this.target,
        action: `start the ${kind} workflow`,
        subject: sm.arn.arn,
        flag: sm.flag,
      });
    }
  }

  describe(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    return this.#call({ action: 'read the execution', subject: executionArn, flag: '--execution-arn' }, () =>
      this.client.send(new DescribeExecutionCommand({ executionArn })),
    );
  }

  async list(sm: LocatedArn, limit: number): Promise<ExecutionListItem[]> {
    const r = await this.#call({ action: 'list the executions', subject: sm.arn.arn, flag: sm.flag }, () =>
      this.client.send(new ListExecutionsCommand({ stateMachineArn: sm.arn.arn, maxResults: limit })),
    );
    return r.executions ?? [];
  }

  /** Reads the history (and with `follow`, polls until the end); Ctrl-C (`signal`) stops following only. */
  follow(
    executionArn: string,
    opts: { onLine: (line: string) => void; signal: AbortSignal; follow: boolean },
  ): Promise<FollowResult> {
    return this.#call({ action: 'read the execution', subject: executionArn, flag: '--execution-arn' }, () =>
      followExecution(this.client, executionArn, opts),
    );
  }

  /** The AWS console page of an execution (none for a custom endpoint). */
  consoleUrl(executionArn: string): string | undefined {
    if (this.target.endpoint) return undefined;
    const r = this.target.region;
    return `https://${r}.console.aws.amazon.com/states/home?region=${r}#/v2/executions/details/${executionArn}`;
  }
}
