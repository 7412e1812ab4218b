import type { KafkaSecret } from '../lib/workflow/config.ts';
import { kafkaSecretFromEnv, runStep, STEP_ENV, type StepName } from '../lib/workflow/index.ts';
import { emfMetrics, engineLogger, type MiddlewareOptions, withPowertools } from './middleware.ts';

export type { LambdaContext } from './middleware.ts';

export interface HandlerOptions extends MiddlewareOptions {
  /** Default: the secret named by KAFKA_SECRET_ARN, through Powertools Parameters (cached). */
  secret?: () => Promise<KafkaSecret | undefined>;
}

const DEFAULT_DEADLINE_MARGIN_MS = 30_000;

/**
 * A thin Lambda handler for one workflow step: the middleware above, metrics as CloudWatch EMF under the same
 * names as the Prometheus ones, the Kafka secret from Secrets Manager. The step parses its event and calls the
 * engine; workers return a continuation instead of running into the timeout.
 */
export function lambdaHandler(step: StepName, opts: HandlerOptions = {}) {
  const env = opts.env ?? process.env;
  const secret = opts.secret ?? kafkaSecretFromEnv(env);
  const margin = Number(env[STEP_ENV.deadlineMarginMs] ?? DEFAULT_DEADLINE_MARGIN_MS);
  return withPowertools(
    { step },
    (event, context, logger) =>
      runStep(step, event, {
        logger: engineLogger(logger),
        metrics: emfMetrics(logger, opts),
        remainingMs: () => context.getRemainingTimeInMillis(),
        deadlineMarginMs: Number.isFinite(margin) && margin >= 0 ? margin : DEFAULT_DEADLINE_MARGIN_MS,
        secret,
        env,
        appendKeys: (keys) => logger.appendKeys(keys),
      }),
    env,
  );
}
