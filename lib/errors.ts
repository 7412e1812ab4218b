/**
 * Errors a user can cause and fix (bad config, unreachable broker, wrong password, missing backup, corrupt
 * segment). The CLI prints `message` and `hint` without a stack trace; anything else is a bug and keeps its stack.
 * `name` is stable: Step Functions Retry/Catch match on it.
 */
export class UserError extends Error {
  override name = 'UserError';
  /** What to do about it, in one sentence. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.hint = options.hint;
  }
}

/** A config file that does not parse or validate; `message` names the file and YAML path. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
}

/** A backup, manifest or object that should exist in storage and does not. */
export class NotFoundError extends UserError {
  override name = 'NotFoundError';
}

/** Stored data that fails its checksum, count or offset checks. */
export class CorruptDataError extends UserError {
  override name = 'CorruptDataError';
}

/** Storage the process cannot reach or is not allowed to use. */
export class StorageAccessError extends UserError {
  override name = 'StorageAccessError';
}

/** Another backup holds the location's lease. */
export class LeaseHeldError extends UserError {
  override name = 'LeaseHeldError';
}

/** Kafka brokers unreachable, authentication failed, topic missing. */
export class KafkaAccessError extends UserError {
  override name = 'KafkaAccessError';
}

/** A workflow step was handed an event it cannot use (a state machine and a step out of step). */
export class InvalidEventError extends UserError {
  override name = 'InvalidEventError';
}

/**
 * A work item that had to finish in one go (a Fargate task, a CLI run without a time budget) stopped before its
 * end. Lambda workers never throw it: they return a continuation the state machine loops on.
 */
export class WorkNotFinishedError extends UserError {
  override name = 'WorkNotFinished';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/**
 * Kafka kept answering with a transient error (coordinator loading, leader moving, broker restarting) until the
 * deadline. Retriable: a later attempt may succeed.
 */
export class KafkaTransientError extends UserError {
  override name = 'KafkaTransientError';
}
