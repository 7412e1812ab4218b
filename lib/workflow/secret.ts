import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError } from '../errors.ts';
import type { KafkaSecret } from './config.ts';
import { STEP_ENV } from './names.ts';

/**
 * The Kafka secret named by KAFKA_SECRET_ARN, as JSON, through Powertools Parameters: cached for
 * POWERTOOLS_PARAMETERS_MAX_AGE seconds (5 minutes by default) across warm invocations. Undefined when unset.
 */
export function kafkaSecretFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): () => Promise<KafkaSecret | undefined> {
  return async () => {
    const id = env[STEP_ENV.kafkaSecret];
    if (!id) return undefined;
    const value: unknown = await getSecret(id, {
      transform: 'json',
      maxAge: Number(env['POWERTOOLS_PARAMETERS_MAX_AGE'] ?? 300),
    });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(`the Kafka secret ${id} is not a JSON object`, {
        hint: 'Store it as {"sasl_username": "...", "sasl_password": "..."} (any field of the security section).',
      });
    }
    return value as unknown as KafkaSecret;
  };
}
