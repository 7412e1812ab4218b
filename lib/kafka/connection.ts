import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { ConfigError } from '../errors.ts';
import { kafkajs } from './kafkajs-patched.ts';

/** The `source:` / `target:` section of a config, as the YAML spells it. */
export interface KafkaConnectionSettings {
  bootstrap_servers: string[];
  client_id?: string | undefined;
  connection_timeout_ms?: number | undefined;
  request_timeout_ms?: number | undefined;
  security?:
    | {
        security_protocol?: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL' | undefined;
        sasl_mechanism?: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'AWS_MSK_IAM' | undefined;
        sasl_username?: string | undefined;
        sasl_password?: string | undefined;
        ssl_ca_location?: string | undefined;
        ssl_certificate_location?: string | undefined;
        ssl_key_location?: string | undefined;
        ssl_key_password?: string | undefined;
        ssl_verify_hostname?: boolean | undefined;
        aws_region?: string | undefined;
      }
    | undefined;
}

function readPem(path: string, field: string, section: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${section}.security.${field}: cannot read ${path} (${code ?? 'error'})`, {
      hint: 'Point it at a readable PEM file.',
    });
  }
}

/** Builds the kafkajs client options; `section` ('source' or 'target') names fields in error messages. */
export function kafkaClientConfig(
  conn: KafkaConnectionSettings,
  section: string,
  clientId: string,
): KafkaConfig {
  const sec = conn.security ?? {};
  const protocol = sec.security_protocol ?? 'PLAINTEXT';
  const useTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const config: KafkaConfig = {
    clientId: conn.client_id ?? clientId,
    brokers: conn.bootstrap_servers,
    connectionTimeout: conn.connection_timeout_ms ?? 10_000,
    requestTimeout: conn.request_timeout_ms ?? 60_000,
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000 },
  };
  if (useTls) {
    config.ssl = {
      rejectUnauthorized: true,
      ...(sec.ssl_ca_location ? { ca: [readPem(sec.ssl_ca_location, 'ssl_ca_location', section)] } : {}),
      ...(sec.ssl_certificate_location
        ? { cert: readPem(sec.ssl_certificate_location, 'ssl_certificate_location', section) }
        : {}),
      ...(sec.ssl_key_location ? { key: readPem(sec.ssl_key_location, 'ssl_key_location', section) } : {}),
      ...(sec.ssl_key_password ? { passphrase: sec.ssl_key_password } : {}),
      ...(sec.ssl_verify_hostname === false ? { checkServerIdentity: () => undefined } : {}),
    };
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    config.sasl = saslOptions(sec, section);
  }
  return config;
}

function saslOptions(sec: NonNullable<KafkaConnectionSettings['security']>, section: string): SASLOptions {
  const mechanism = sec.sasl_mechanism;
  if (mechanism === 'AWS_MSK_IAM') {
    const region = sec.aws_region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
    if (!region) {
      throw new ConfigError(`${section}.security.aws_region: AWS_MSK_IAM needs a region`, {
        hint: 'Set aws_region or AWS_REGION.',
      });
    }
    return {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => {
        const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
        const { token } = await generateAuthToken({ region });
        return { value: token };
      },
    };
  }
  const username = sec.sasl_username ?? '';
  const password = sec.sasl_password ?? '';
  switch (mechanism) {
    case 'PLAIN':
      return { mechanism: 'plain', username, password };
    case 'SCRAM-SHA-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'SCRAM-SHA-512':
      return { mechanism: 'scram-sha-512', username, password };
    default:
      throw new ConfigError(`${section}.security.sasl_mechanism: required with a SASL security_protocol`);
  }
}
