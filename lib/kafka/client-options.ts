import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { BaseOptions, SASLOptions } from '@platformatic/kafka';
import type { KafkaConnection, KafkaSecurity } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';

/**
 * The `source:` / `target:` section of a config, as the YAML spells it: the config schema's type (lib/config), with
 * every security field optional, so that a connection made in code (`{ bootstrap_servers: [...] }`: the drill,
 * `offset-reset --bootstrap-servers`) needs only what it sets; unset fields take the schema's defaults here.
 */
export type KafkaConnectionSettings = Omit<KafkaConnection, 'security'> & {
  security?: Partial<KafkaSecurity> | undefined;
};

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

/** The client's options; `section` ('source' or 'target') names fields in error messages. */
export function clientOptions(conn: KafkaConnectionSettings, section: string, clientId: string): BaseOptions {
  const sec = conn.security ?? {};
  const protocol = sec.security_protocol ?? 'PLAINTEXT';
  const options: BaseOptions = {
    clientId: conn.client_id ?? clientId,
    bootstrapBrokers: conn.bootstrap_servers,
    connectTimeout: conn.connection_timeout_ms ?? 10_000,
    requestTimeout: conn.request_timeout_ms ?? 60_000,
    timeout: conn.request_timeout_ms ?? 60_000,
    // Retries are ours (retry.ts): one policy with a deadline, whatever the operation.
    retries: 0,
    autocreateTopics: false,
    // No background metadata refresh: we ask when we need it.
    metadataMaxAge: 5_000,
  };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const tls: TlsOptions = {
      rejectUnauthorized: true,
      ...(sec.ssl_ca_location ? { ca: [readPem(sec.ssl_ca_location, 'ssl_ca_location', section)] } : {}),
      ...(sec.ssl_certificate_location
        ? { cert: readPem(sec.ssl_certificate_location, 'ssl_certificate_location', section) }
        : {}),
      ...(sec.ssl_key_location ? { key: readPem(sec.ssl_key_location, 'ssl_key_location', section) } : {}),
      ...(sec.ssl_key_password ? { passphrase: sec.ssl_key_password } : {}),
      ...(sec.ssl_verify_hostname === false ? { checkServerIdentity: () => undefined } : {}),
    };
    options.tls = tls;
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') options.sasl = saslOptions(sec, section);
  return options;
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
      mechanism: 'OAUTHBEARER',
      // A fresh 15-minute token for every connection (each authenticates once).
      token: async () => {
        const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
        return (await generateAuthToken({ region })).token;
      },
    };
  }
  const username = sec.sasl_username ?? '';
  const password = sec.sasl_password ?? '';
  switch (mechanism) {
    case 'PLAIN':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return { mechanism, username, password };
    default:
      throw new ConfigError(`${section}.security.sasl_mechanism: required with a SASL security_protocol`);
  }
}
