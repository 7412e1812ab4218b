import {
  ConfigError,
  CorruptDataError,
  KafkaAccessError,
  LeaseHeldError,
  NotFoundError,
  StorageAccessError,
  UserError,
} from '../errors.ts';

/** Documented in the README; scripts such as the seed's failover script rely on non-zero meaning failure. */
export const ExitCode = {
  ok: 0,
  /** A bug or an unexpected failure: the message has a stack trace. */
  unexpected: 1,
  /** Bad command line or config file. */
  usage: 2,
  /** Kafka or storage unreachable, refused credentials, or another backup holds the location. */
  access: 3,
  /** A backup or object that does not exist. */
  notFound: 4,
  /** Validation found damaged or missing data, or a drill/restore verification failed. */
  verificationFailed: 5,
} as const;

export function exitCodeFor(e: unknown): number {
  if (e instanceof ConfigError) return ExitCode.usage;
  if (e instanceof NotFoundError) return ExitCode.notFound;
  if (e instanceof CorruptDataError) return ExitCode.verificationFailed;
  if (e instanceof KafkaAccessError || e instanceof StorageAccessError || e instanceof LeaseHeldError)
    return ExitCode.access;
  if (e instanceof UserError) return ExitCode.usage;
  return ExitCode.unexpected;
}
