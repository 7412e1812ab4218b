import { SFNClient } from '@aws-sdk/client-sfn';
import { type ErrorName, NotFoundError, StorageAccessError, UsageError, UserError } from '../errors.ts';

/** Step Functions refused us or could not be reached (exit code 3, like storage and Kafka access problems). */
export class WorkflowAccessError extends StorageAccessError {
  override readonly name: ErrorName = 'WorkflowAccessError';
}

export interface ParsedArn {
  partition: string;
  region: string;
  account: string;
  /** stateMachine or execution */
  kind: string;
  /** The state machine's name (for an execution: the name of its state machine). */
  stateMachine: string;
  /** An execution's name. */
  execution: string | undefined;
}

const ARN =
  /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):(stateMachine|execution|express):([^:]+)(?::([^:]+))?$/;

export function parseArn(arn: string): ParsedArn | undefined {
  const m = ARN.exec(arn.trim());
  if (!m) return undefined;
  return {
    partition: m[1]!,
    region: m[2]!,
    account: m[3]!,
    kind: m[4]!,
    stateMachine: m[5]!,
    execution: m[4] === 'stateMachine' ? undefined : m[6],
  };
}

/** A state machine ARN given on the command line, checked; `flag` names where it came from in messages. */
export function stateMachineArn(value: string, flag: string): ParsedArn & { arn: string } {
  const p = parseArn(value);
  if (p?.kind === 'execution')
    throw new UsageError(`${flag}: "${value}" is an execution ARN, not a state machine ARN`, {
      hint: `Use kafka-backup dr status --execution-arn ${value} to look at that execution.`,
    });
  if (p?.kind !== 'stateMachine')
    throw new UsageError(`${flag}: "${value}" is not a state machine ARN`, {
      hint: 'It looks like arn:aws:states:us-east-1:123456789012:stateMachine:NAME (the FailoverStateMachineArn / FailbackStateMachineArn output of the DR stack).',
    });
  return { ...p, arn: value.trim() };
}

export function executionArn(value: string, flag: string): ParsedArn & { arn: string } {
  const p = parseArn(value);
  if (p?.kind !== 'execution' || !p.execution)
    throw new UsageError(`${flag}: "${value}" is not an execution ARN`, {
      hint: 'It looks like arn:aws:states:us-east-1:123456789012:execution:STATE_MACHINE:NAME (dr failover prints it; dr status lists them).',
    });
  return { ...p, arn: value.trim() };
}

/** The ARN of the execution `name` of a state machine (StartExecution names are unique per state machine). */
export function executionArnOf(stateMachine: ParsedArn, name: string): string {
  return `arn:${stateMachine.partition}:states:${stateMachine.region}:${stateMachine.account}:execution:${stateMachine.stateMachine}:${name}`;
}

export interface ClientTarget {
  region: string;
  /** A custom endpoint (--endpoint or AWS_ENDPOINT_URL_SFN); undefined for AWS itself. */
  endpoint: string | undefined;
  /** Where requests go, for messages. */
  where: string;
}

/** Region: --region, else the ARN's, else the environment's; they must agree when both are given. */
export function clientTarget(opts: {
  region: string | undefined;
  endpoint: string | undefined;
  arnRegion: string | undefined;
  arnFlag: string;
}): ClientTarget {
  if (opts.region && opts.arnRegion && opts.region !== opts.arnRegion)
    throw new UsageError(
      `--region ${opts.region} does not match ${opts.arnFlag}, which is in ${opts.arnRegion}`,
      {
        hint: 'Leave --region out: the ARN says where the state machine is.',
      },
    );
  const region =
    opts.region ?? opts.arnRegion ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  if (!region)
    throw new UsageError('No AWS region: give a full ARN or --region', {
      hint: 'A state machine ARN carries its region: arn:aws:states:REGION:ACCOUNT:stateMachine:NAME.',
    });
  const endpoint = opts.endpoint ?? process.env['AWS_ENDPOINT_URL_SFN'] ?? undefined;
  if (endpoint !== undefined) {
    try {
      new URL(endpoint);
    } catch {
      throw new UsageError(`--endpoint "${endpoint}" is not a URL`, {
        hint: 'For example --endpoint http://127.0.0.1:5000 (or set AWS_ENDPOINT_URL_SFN).',
      });
    }
  }
  return { region, endpoint, where: endpoint ?? `Step Functions in ${region}` };
}

export function sfnClient(t: ClientTarget): SFNClient {
  return new SFNClient({ region: t.region, ...(t.endpoint ? { endpoint: t.endpoint } : {}) });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

const CREDENTIALS_REFUSED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'IncompleteSignature',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationToken',
]);

interface AwsErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Errors worth another poll while following an execution (throttling, a network blip, a 5xx). */
export function isTransient(e: unknown): boolean {
  const err = e as AwsErrorLike;
  const status = err?.$metadata?.httpStatusCode ?? 0;
  return (
    err?.name === 'ThrottlingException' ||
    err?.name === 'TimeoutError' ||
    err?.$retryable !== undefined ||
    status >= 500 ||
    (err?.code !== undefined && NETWORK_CODES.has(err.code))
  );
}

/**
 * An error from a Step Functions call as a UserError that names the ARN or flag involved and says what to do;
 * errors that are not the user's to fix are returned as they are (a bug: printed with its stack).
 */
export function describeAwsError(
  e: unknown,
  ctx: { target: ClientTarget; subject: string; flag: string; action: string },
): unknown {
  if (e instanceof UserError) return e;
  const err = e as AwsErrorLike;
  const name = err?.name ?? '';
  const status = err?.$metadata?.httpStatusCode;
  const message = err?.message ? shorten(err.message) : name;
  const { target, subject, flag, action } = ctx;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message))
    return new WorkflowAccessError(`No AWS credentials to ${action} (${subject})`, {
      hint: 'Set AWS_PROFILE (after aws sso login if it uses SSO) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is attached.',
      cause: e,
    });
  if (name === 'StateMachineDoesNotExist')
    return new NotFoundError(`State machine ${subject} does not exist in ${target.where}`, {
      hint: `Check ${flag}: the DR stack's outputs name it (FailoverStateMachineArn / FailbackStateMachineArn), and your credentials must be for account ${parseArn(subject)?.account ?? 'of the ARN'}.`,
      cause: e,
    });
  if (name === 'ExecutionDoesNotExist')
    return new NotFoundError(`Execution ${subject} does not exist in ${target.where}`, {
      hint: `Check ${flag}: kafka-backup dr status --state-machine-arn ARN lists the recent executions.`,
      cause: e,
    });
  if (name === 'StateMachineDeleting')
    return new NotFoundError(`State machine ${subject} is being deleted`, {
      hint: `Check ${flag}.`,
      cause: e,
    });
  if (name === 'InvalidArn')
    return new UsageError(`${flag}: ${message}`, {
      hint: 'A state machine ARN looks like arn:aws:states:REGION:ACCOUNT:stateMachine:NAME.',
      cause: e,
    });
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'KmsAccessDeniedException')
    return new WorkflowAccessError(`Access denied: cannot ${action} (${subject}): ${message}`, {
      hint: `Your AWS identity needs the states:* permissions the DR runbook role has on ${subject} (${flag}); check AWS_PROFILE / the role you assumed.`,
      cause: e,
    });
  if (CREDENTIALS_REFUSED.has(name) || status === 403 || status === 401)
    return new WorkflowAccessError(
      `${target.where} refused the AWS credentials (${name && name !== 'SyntaxError' ? name : `HTTP ${status}`}) when trying to ${action} (${subject}, ${flag})`,
      {
        hint: 'The access key is unknown, expired or for another partition: refresh them (aws sso login, or new keys) and check AWS_PROFILE.',
        cause: e,
      },
    );
  if ((err?.code !== undefined && NETWORK_CODES.has(err.code)) || name === 'TimeoutError')
    return new WorkflowAccessError(
      `Cannot reach ${target.where} (${err?.code ?? name}) to ${action} (${subject})`,
      {
        hint: target.endpoint
          ? `Check --endpoint / AWS_ENDPOINT_URL_SFN (${target.endpoint}) and that the server runs.`
          : 'Check the network, proxy settings (HTTPS_PROXY) and the region.',
        cause: e,
      },
    );
  if (name === 'ThrottlingException' || name === 'ExecutionLimitExceeded')
    return new WorkflowAccessError(`Step Functions refused to ${action} for now: ${message}`, {
      hint: 'Wait a little and run the command again.',
      cause: e,
    });
  if (name === 'ValidationException' || name === 'InvalidName' || name === 'InvalidExecutionInput')
    return new UsageError(`Cannot ${action}: ${message}`, { cause: e });
  return e;
}

function shorten(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 400 ? `${one.slice(0, 399)}…` : one;
}
