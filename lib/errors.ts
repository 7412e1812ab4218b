/**
 * Errors a user can cause and fix (bad config, unreachable broker, wrong password, missing backup, corrupt
 * segment). The CLI prints `message` and `hint` without a stack trace; anything else is a bug and keeps its stack.
 * `name` is stable: Step Functions Retry/Catch match on it.
 *
 * ERRORS below is the one table of what each name means to the outside: whether running the same thing again may
 * succeed (`retriable`: the workflows' Retry lists are built from it) and the CLI's exit code (lib/cli and
 * `kafka-backup dr` map errors through it; the README's exit-code table is checked against it by a unit test).
 */

/** The CLI's exit codes (README "Exit codes"); scripts such as the seed's failover script rely on non-zero meaning failure. */
export const ExitCode = {
  ok: 0,
  /** A bug or an unexpected failure: the message has a stack trace. */
  unexpected: 1,
  /** Bad command line or config file. */
  usage: 2,
  /** Kafka or storage unreachable, refused credentials, or another run holds a lease. */
  access: 3,
  /** A backup or object that does not exist. */
  notFound: 4,
  /** Validation found damaged or missing data, or a drill/restore verification failed. */
  verificationFailed: 5,
  /** `dr ... --follow` interrupted (Ctrl-C); the execution goes on. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, as `kafka-backup <command> --help` prints it (README "Exit codes" says the same). */
export const EXIT_CODE_MEANING: Readonly<Record<ExitCode, string>> = {
  0: 'success',
  1: 'unexpected error (a bug: the output has a stack trace)',
  2: 'bad command line or config, or a refused action (the message names the flag, field or object)',
  3: 'Kafka, storage or AWS unreachable, credentials refused, a transient Kafka error that outlasted the retries, another run holds the lease, or stored objects need a retrieval from an archive storage class first',
  4: 'backup or object not found',
  5: 'validation found damaged or missing data, or a restore or drill did not verify',
  130: 'interrupted (Ctrl-C): a followed workflow execution goes on',
};

export interface ErrorPolicy {
  /** Running the same step again, unchanged, may succeed: Step Functions retries it (with backoff). */
  readonly retriable: boolean;
  /** What the CLI exits with when a command (or, for `kafka-backup dr`, a workflow execution) fails with it. */
  readonly exitCode: ExitCode;
}

/**
 * Every error name this project gives an error (the UserError classes here and in lib/cli and lib/dr, and the
 * workflows' own Fail states). A UserError subclass whose `name` is not a key here does not type-check.
 */
export const ERRORS = {
  UserError: { retriable: false, exitCode: ExitCode.usage },
  ConfigError: { retriable: false, exitCode: ExitCode.usage },
  /** A command line the CLI cannot take (lib/cli, lib/dr). */
  UsageError: { retriable: false, exitCode: ExitCode.usage },
  InvalidEventError: { retriable: false, exitCode: ExitCode.usage },
  /** Resumable by design: running the step again continues from its stored progress. */
  WorkNotFinished: { retriable: true, exitCode: ExitCode.usage },
  /** Wrong password, unreachable, not authorized, TLS: retrying cannot fix it (and a retried wrong password can lock an account). */
  KafkaAccessError: { retriable: false, exitCode: ExitCode.access },
  KafkaTransientError: { retriable: true, exitCode: ExitCode.access },
  StorageAccessError: { retriable: false, exitCode: ExitCode.access },
  /** lib/metadata: a Schema Registry unreachable, refusing the credentials, or refusing a request. */
  SchemaRegistryAccessError: { retriable: false, exitCode: ExitCode.access },
  /** lib/dr/sfn.ts: Step Functions refused us or could not be reached. */
  WorkflowAccessError: { retriable: false, exitCode: ExitCode.access },
  LeaseHeldError: { retriable: false, exitCode: ExitCode.access },
  /**
   * An object S3 keeps in an archive (GLACIER, DEEP_ARCHIVE, an Intelligent-Tiering archive tier): it must be
   * retrieved (RestoreObject, minutes to hours) before it can be read, so running again at once cannot succeed.
   */
  ObjectArchivedError: { retriable: false, exitCode: ExitCode.access },
  NotFoundError: { retriable: false, exitCode: ExitCode.notFound },
  CorruptDataError: { retriable: false, exitCode: ExitCode.verificationFailed },
  /** The Fail state of the failover and failback workflows when VerifyRestore reports a mismatch. */
  RestoreVerificationFailed: { retriable: false, exitCode: ExitCode.verificationFailed },
  /** The Fail state of the drill workflow when the drill ran and a check failed (its evidence says which). */
  DrillFailed: { retriable: false, exitCode: ExitCode.verificationFailed },
  /** The Fail state after a Fargate step that did not exit with 0 (its exit code is in the cause). */
  FargateStepFailed: { retriable: false, exitCode: ExitCode.unexpected },
  /** The Fail state of a scale hook whose kind (ECS services, a function) the deployment file names none of. */
  HookNotAllowed: { retriable: false, exitCode: ExitCode.access },
  // Client-side encryption (storage.encryption, lib/storage/encryption): each names the key and the object.
  /** The object was encrypted for other keys than the one configured (another key file, another KMS key). */
  WrongEncryptionKeyError: { retriable: false, exitCode: ExitCode.access },
  /** The key file or KMS key does not exist, or the KMS key is disabled or pending deletion. */
  EncryptionKeyNotFoundError: { retriable: false, exitCode: ExitCode.access },
  /** KMS refused GenerateDataKey/Encrypt/Decrypt with the key (no permission, no credentials). */
  EncryptionKeyAccessDeniedError: { retriable: false, exitCode: ExitCode.access },
  /** An object without encryption in a location whose config has storage.encryption. */
  ObjectNotEncryptedError: { retriable: false, exitCode: ExitCode.verificationFailed },
  /** An encrypted object read by a config without storage.encryption. */
  EncryptionKeyRequiredError: { retriable: false, exitCode: ExitCode.usage },
  /** An encrypted object that fails authentication: changed, truncated, chunks reordered, or renamed. */
  TamperedObjectError: { retriable: false, exitCode: ExitCode.verificationFailed },
} as const satisfies Record<string, ErrorPolicy>;
export type ErrorName = keyof typeof ERRORS;

function policyOf(name: string): ErrorPolicy | undefined {
  return Object.hasOwn(ERRORS, name) ? ERRORS[name as ErrorName] : undefined;
}

/** The names Step Functions may retry, in table order. */
export const RETRIABLE_ERROR_NAMES: readonly ErrorName[] = (Object.keys(ERRORS) as ErrorName[]).filter(
  (n) => ERRORS[n].retriable,
);

/** Whether an error (by its `name`, as Step Functions sees it) is worth retrying; unknown names are not. */
export function isRetriableName(name: string): boolean {
  return policyOf(name)?.retriable ?? false;
}

/** The CLI exit code for an error name (a workflow's failed execution); names not in the table exit 1. */
export function exitCodeForName(name: string | null | undefined): ExitCode {
  return (name ? policyOf(name)?.exitCode : undefined) ?? ExitCode.unexpected;
}

/** The CLI exit code for a thrown value: its name's code for a UserError, 1 (a bug) for anything else. */
export function exitCodeFor(e: unknown): ExitCode {
  if (!isUserError(e)) return ExitCode.unexpected;
  return policyOf(e.name)?.exitCode ?? ERRORS.UserError.exitCode;
}

export class UserError extends Error {
  override readonly name: ErrorName = 'UserError';
  /** What to do about it, in one sentence. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.hint = options.hint;
  }
  /** From ERRORS, by `name` (a getter: subclasses set `name` after this constructor has run). */
  get retriable(): boolean {
    return ERRORS[this.name].retriable;
  }
}

/** A config file that does not parse or validate; `message` names the file and YAML path. */
export class ConfigError extends UserError {
  override readonly name: ErrorName = 'ConfigError';
}

/** A command line the CLI cannot take: an unknown command or flag, a missing or malformed value. */
export class UsageError extends UserError {
  override readonly name: ErrorName = 'UsageError';
}

/** A backup, manifest or object that should exist in storage and does not. */
export class NotFoundError extends UserError {
  override readonly name: ErrorName = 'NotFoundError';
}

/** Stored data that fails its checksum, count or offset checks. */
export class CorruptDataError extends UserError {
  override readonly name: ErrorName = 'CorruptDataError';
}

/** Storage the process cannot reach or is not allowed to use. */
export class StorageAccessError extends UserError {
  override readonly name: ErrorName = 'StorageAccessError';
}

/** A Schema Registry the process cannot reach, that refuses its credentials, or that refuses a request. */
export class SchemaRegistryAccessError extends UserError {
  override readonly name: ErrorName = 'SchemaRegistryAccessError';
}

/**
 * Stored objects S3 will not serve until they are retrieved from an archive storage class: the message names the
 * object(s) and the class, the hint the retrieval (RestoreObject) to ask for.
 */
export class ObjectArchivedError extends UserError {
  override readonly name: ErrorName = 'ObjectArchivedError';
}

/** Another run holds the lease: a backup the location's, or a run of the same restore the restore's. */
export class LeaseHeldError extends UserError {
  override readonly name: ErrorName = 'LeaseHeldError';
}

/** Kafka brokers unreachable, authentication failed, not authorized, TLS, topic missing: not retried. */
export class KafkaAccessError extends UserError {
  override readonly name: ErrorName = 'KafkaAccessError';
}

/**
 * Kafka kept answering with a transient error (coordinator loading, leader moving, broker restarting) until the
 * deadline. Retried by the workflows; the Kafka layer throws it once its own retries are used up.
 */
export class KafkaTransientError extends UserError {
  override readonly name: ErrorName = 'KafkaTransientError';
}

/** A workflow step was handed an event it cannot use (a state machine and a step out of step). */
export class InvalidEventError extends UserError {
  override readonly name: ErrorName = 'InvalidEventError';
}

/**
 * A work item that had to finish in one go (a Fargate task, a CLI run without a time budget) stopped before its
 * end. Lambda workers never throw it: they return a continuation the state machine loops on.
 */
export class WorkNotFinishedError extends UserError {
  override readonly name: ErrorName = 'WorkNotFinished';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
