// What the Kafka client throws, sorted into what a person can fix (KafkaAccessError, at once), what time fixes
// (retried up to a deadline, then KafkaTransientError), and bugs (returned unchanged).
import { KafkaAccessError, KafkaTransientError, UserError } from '../errors.ts';
import type { KafkaConnectionSettings } from './client-options.ts';

export type KafkaErrorKind = 'authentication' | 'authorization' | 'tls' | 'network' | 'transient' | 'other';

interface ClientError extends Error {
  code?: string;
  apiId?: string;
  canRetry?: boolean;
  errors?: unknown[];
  serverErrorMessage?: string | null;
}

/** The error and everything inside it (AggregateError members, causes), depth-first. */
export function errorChain(e: unknown, out: ClientError[] = [], depth = 0): ClientError[] {
  if (!(e instanceof Error) || depth > 8 || out.includes(e)) return out;
  out.push(e);
  const c = e as ClientError;
  for (const inner of c.errors ?? []) errorChain(inner, out, depth + 1);
  if (c.cause) errorChain(c.cause, out, depth + 1);
  return out;
}

const TLS_TEXT =
  /self[- ]signed|unable to verify|certificate|ERR_TLS|wrong version number|SSL routines|EPROTO/i;
const NETWORK_TEXT =
  /ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|socket hang up|Connection closed|closed connection/i;

/**
 * Broker error codes that time fixes. The client marks most of them `canRetry`; UNKNOWN_TOPIC_OR_PARTITION is
 * here too because a topic created a moment ago is unknown to a broker until its metadata arrives.
 */
const TRANSIENT_CODES = new Set([
  'NOT_COORDINATOR',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'UNKNOWN_TOPIC_ID',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'KAFKA_STORAGE_ERROR',
  'OFFSET_NOT_AVAILABLE',
  'REBALANCE_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'THROTTLING_QUOTA_EXCEEDED',
]);

/** Kafka error codes (UNKNOWN_TOPIC_OR_PARTITION, ...) anywhere in the error. */
export function brokerErrorCodes(e: unknown): string[] {
  return errorChain(e)
    .map((c) =>
      // The client reports a metadata UNKNOWN_TOPIC_OR_PARTITION as its own "Unknown topic X." error.
      c.code === 'PLT_KFK_USER' && /^Unknown topic /.test(c.message) ? 'UNKNOWN_TOPIC_OR_PARTITION' : c.apiId,
    )
    .filter((id): id is string => typeof id === 'string');
}

/** Only "no such topic" codes: a topic created a moment ago, or one that does not exist. */
export function isUnknownTopic(e: unknown): boolean {
  const codes = brokerErrorCodes(e);
  return (
    codes.length > 0 && codes.every((c) => c === 'UNKNOWN_TOPIC_OR_PARTITION' || c === 'UNKNOWN_TOPIC_ID')
  );
}

export function classifyKafkaError(e: unknown): KafkaErrorKind {
  const chain = errorChain(e);
  const codes = brokerErrorCodes(e);
  const text = chain.map((c) => c.message).join(' | ');
  if (
    codes.includes('SASL_AUTHENTICATION_FAILED') ||
    codes.includes('UNSUPPORTED_SASL_MECHANISM') ||
    chain.some((c) => c.code === 'PLT_KFK_AUTHENTICATION')
  )
    return 'authentication';
  if (codes.some((c) => c.endsWith('_AUTHORIZATION_FAILED'))) return 'authorization';
  if (TLS_TEXT.test(text) && !codes.length) return 'tls';
  if (codes.length > 0 && codes.every((c) => TRANSIENT_CODES.has(c))) return 'transient';
  if (
    chain.some((c) => c.code === 'PLT_KFK_NETWORK' || c.code === 'PLT_KFK_TIMEOUT') ||
    NETWORK_TEXT.test(text)
  )
    return 'network';
  return 'other';
}

function firstLine(e: unknown): string {
  const chain = errorChain(e);
  // The innermost message says most (the client wraps each failed attempt).
  const leaf = chain.filter((c) => !(c.errors && c.errors.length > 0)).at(-1) ?? chain[0];
  const detail = leaf?.serverErrorMessage ? `: ${leaf.serverErrorMessage}` : '';
  return `${leaf?.apiId ? `${leaf.apiId} ` : ''}${leaf?.message ?? String(e)}${detail}`.split('\n')[0]!;
}

/**
 * Turns what the client throws for a user-fixable problem (brokers unreachable, authentication, TLS,
 * authorization) into a KafkaAccessError that names the config fields, and a transient error that outlived its
 * deadline into a KafkaTransientError; anything else is returned unchanged. Never includes passwords.
 */
export function translateKafkaError(
  e: unknown,
  conn: KafkaConnectionSettings,
  section: string,
  what?: string,
): unknown {
  if (e instanceof UserError) return e;
  const brokers = conn.bootstrap_servers.join(', ');
  const sec = conn.security ?? {};
  const doing = what ? ` (${what})` : '';
  switch (classifyKafkaError(e)) {
    case 'authentication':
      return new KafkaAccessError(
        `authentication failed on ${brokers} for user "${sec.sasl_username ?? ''}" with ${sec.sasl_mechanism ?? 'SASL'}`,
        { hint: `Check ${section}.security.sasl_username, sasl_password and sasl_mechanism.`, cause: e },
      );
    case 'authorization':
      return new KafkaAccessError(`Kafka at ${brokers} refused an operation${doing}: ${firstLine(e)}`, {
        hint: `Grant the ${section} principal the ACLs listed in the README (Describe, Read, DescribeConfigs on topics and groups).`,
        cause: e,
      });
    case 'tls':
      return new KafkaAccessError(`TLS handshake with ${brokers} failed: ${firstLine(e)}`, {
        hint: `Check ${section}.security.security_protocol and ssl_ca_location (the CA that signed the brokers' certificates).`,
        cause: e,
      });
    case 'network':
      return new KafkaAccessError(`cannot reach Kafka at ${brokers}${doing}: ${firstLine(e)}`, {
        hint: `Check ${section}.bootstrap_servers, the network path and security_protocol.`,
        cause: e,
      });
    case 'transient':
      return new KafkaTransientError(
        `Kafka at ${brokers} kept answering ${[...new Set(brokerErrorCodes(e))].join(', ')}${doing} until the retry deadline`,
        {
          hint: 'The cluster is starting, electing leaders or moving a coordinator; run the command again once it is healthy.',
          cause: e,
        },
      );
    default:
      return e;
  }
}
