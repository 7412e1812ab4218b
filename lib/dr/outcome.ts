import { type ErrorName, ExitCode, exitCodeForName } from '../errors.ts';
import type { RestoreReport } from '../restore/index.ts';
import type { FollowResult } from './follow.ts';
import { type StepRecord, seconds } from './history.ts';
import { asRestoreReport, parseJson } from './report.ts';

/**
 * How a followed execution ended, for the CLI to print and exit with. The exit code comes from the one error table
 * (lib/errors.ts ERRORS), by the name of the error the failing step threw, as for the CLI's own commands.
 */
export interface ExecutionOutcome {
  status: string;
  running: boolean;
  /** The state whose error failed the execution (null while running or when it succeeded). */
  failedState: string | null;
  error: string | null;
  cause: string | null;
  /** The restore report the workflow ended with (or the failed VerifyRestore's), when there is one. */
  report: RestoreReport | undefined;
  /** The execution's output, parsed. */
  output: unknown;
  /** How long it ran, e.g. `3 min 49 s` (null while running). */
  took: string | null;
  exitCode: ExitCode;
  /** What to do about a failure (undefined when it succeeded or is running). */
  hint: string | undefined;
}

/** What a failed step's error means for whoever runs the failover; the exit code is the table's. */
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

export function executionOutcome(result: FollowResult): ExecutionOutcome {
  const { history, execution } = result;
  const status = execution.status ?? 'UNKNOWN';
  const running = status === 'RUNNING' || status === 'PENDING_REDRIVE';
  const output = parseJson(execution.output);
  let report: RestoreReport | undefined = asRestoreReport(output);
  if (!report && !running && status !== 'SUCCEEDED') report = history.reportInHistory();
  const error = execution.error ?? history.end?.error ?? null;
  const exitCode = running
    ? ExitCode.ok
    : status === 'SUCCEEDED'
      ? report && !report.ok
        ? ExitCode.verificationFailed
        : ExitCode.ok
      : exitCodeForName(error);
  return {
    status,
    running,
    failedState: running ? null : history.failedState(),
    error,
    cause: execution.cause ?? history.end?.cause ?? null,
    report,
    output,
    took:
      execution.startDate && execution.stopDate
        ? seconds(execution.stopDate.getTime() - execution.startDate.getTime())
        : null,
    exitCode,
    hint:
      running || exitCode === ExitCode.ok
        ? undefined
        : ((error ? HINT_FOR_ERROR[error as ErrorName] : undefined) ??
          (status === 'ABORTED'
            ? 'Someone stopped the execution (StopExecution); start a new one when ready.'
            : status === 'TIMED_OUT'
              ? 'The execution ran past its timeout; the steps that finished are in the history above.'
              : undefined)),
  };
}

/** A step as `--format json` lists it (Choice states left out: they decide, they do nothing). */
export function stepSummary(s: StepRecord) {
  return {
    state: s.state,
    type: s.type,
    status: s.status,
    entered_at: s.entered_at,
    exited_at: s.exited_at,
    ...(s.error || s.cause ? { error: s.error, cause: s.cause } : {}),
  };
}
