import { KafkaAccessError, UserError } from '../errors.ts';
import type { KafkaConnectionSettings } from './connection.ts';

function causes(e: unknown): Error[] {
  const out: Error[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur instanceof Error; i++) {
    out.push(cur);
    cur = (cur as { originalError?: unknown; cause?: unknown }).originalError ?? cur.cause;
  }
  return out;
}

/**
 * Turns what kafkajs throws for a user-fixable problem (brokers unreachable, authentication, TLS, authorization)
 * into a KafkaAccessError that names the config fields; anything else is returned unchanged.
 * Never includes passwords: kafkajs messages carry the username at most.
 */
export function translateKafkaError(e: unknown, conn: KafkaConnectionSettings, section: string): unknown {
  if (e instanceof UserError) return e;
  const chain = causes(e);
  const names = chain.map((c) => c.name);
  const text = chain.map((c) => c.message).join(' | ');
  const brokers = conn.bootstrap_servers.join(', ');
  const sec = conn.security ?? {};
  if (names.includes('KafkaJSSASLAuthenticationError') || /SASL .*authentication failed/i.test(text)) {
    return new KafkaAccessError(
      `authentication failed on ${brokers} for user "${sec.sasl_username ?? ''}" with ${sec.sasl_mechanism ?? 'SASL'}`,
      { hint: `Check ${section}.security.sasl_username, sasl_password and sasl_mechanism.`, cause: e },
    );
  }
  if (/self[- ]signed|unable to verify|certificate|ERR_TLS|wrong version number|SSL routines/i.test(text)) {
    return new KafkaAccessError(`TLS handshake with ${brokers} failed: ${firstLine(text)}`, {
      hint: `Check ${section}.security.security_protocol and ssl_ca_location (the CA that signed the brokers' certificates).`,
      cause: e,
    });
  }
  if (
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|Connection timeout|Connection error|KafkaJSConnectionError/i.test(
      text,
    ) ||
    names.includes('KafkaJSConnectionError') ||
    names.includes('KafkaJSNumberOfRetriesExceeded')
  ) {
    return new KafkaAccessError(`cannot reach Kafka at ${brokers}: ${firstLine(text)}`, {
      hint: `Check ${section}.bootstrap_servers, the network path and security_protocol.`,
      cause: e,
    });
  }
  if (/AUTHORIZATION_FAILED|not authorized/i.test(text)) {
    return new KafkaAccessError(`Kafka at ${brokers} refused an operation: ${firstLine(text)}`, {
      hint: `Grant the ${section} principal the ACLs listed in the README (Describe, Read, DescribeConfigs on topics and groups).`,
      cause: e,
    });
  }
  return e;
}

function firstLine(s: string): string {
  return s.split('|')[0]!.trim().split('\n')[0]!;
}
