import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Logger as EngineLogger } from '../lib/log.ts';
import { EmfMetrics } from '../lib/metrics/index.ts';
import type { KafkaSecret } from '../lib/workflow/config.ts';
import { kafkaSecretFromEnv, runStep, STEP_ENV, type StepName } from '../lib/workflow/index.ts';

/** The part of the Lambda context a step uses (the runtime passes the full one). */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId: string;
  functionName: string;
  [key: string]: unknown;
}

export interface HandlerOptions {
  /** Default: the secret named by KAFKA_SECRET_ARN, through Powertools Parameters (cached). */
  secret?: () => Promise<KafkaSecret | undefined>;
  /** Where EMF documents go. Default: stdout, one line each (what CloudWatch Logs extracts metrics from). */
  writeMetric?: (line: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_DEADLINE_MARGIN_MS = 30_000;

/** Powertools' structured logger behind the engine's Logger interface. */
function engineLogger(logger: Logger): EngineLogger {
  return {
    debug: (m, f) => logger.debug(m, f ?? {}),
    info: (m, f) => logger.info(m, f ?? {}),
    warn: (m, f) => logger.warn(m, f ?? {}),
    error: (m, f) => logger.error(m, f ?? {}),
  };
}

/**
 * A thin Lambda handler for one workflow step: middy with Powertools (Logger with the Lambda context and the backup
 * id as keys, Tracer), metrics as CloudWatch EMF under the same names as the Prometheus ones, the Kafka secret
 * from Secrets Manager. The step parses its event and calls the engine; errors keep their stable `name` (what
 * Step Functions' Retry and Catch match), and workers return a continuation instead of running into the timeout.
 */
export function lambdaHandler(step: StepName, opts: HandlerOptions = {}) {
  const env = opts.env ?? process.env;
  const logger = new Logger({
    serviceName: env['POWERTOOLS_SERVICE_NAME'] ?? 'kafka-backup',
    persistentKeys: { step },
  });
  const tracer = new Tracer({ serviceName: env['POWERTOOLS_SERVICE_NAME'] ?? 'kafka-backup' });
  const secret = opts.secret ?? kafkaSecretFromEnv(env);
  const margin = Number(env[STEP_ENV.deadlineMarginMs] ?? DEFAULT_DEADLINE_MARGIN_MS);

  const run = async (event: unknown, context: LambdaContext): Promise<unknown> => {
    const metrics = new EmfMetrics({
      ...(opts.writeMetric ? { write: opts.writeMetric } : {}),
      onError: (e) => logger.warn('a metric was not recorded', { error: String(e) }),
    });
    try {
      return await runStep(step, event, {
        logger: engineLogger(logger),
        metrics,
        remainingMs: () => context.getRemainingTimeInMillis(),
        deadlineMarginMs: Number.isFinite(margin) && margin >= 0 ? margin : DEFAULT_DEADLINE_MARGIN_MS,
        secret,
        env,
        appendKeys: (keys) => logger.appendKeys(keys),
      });
    } catch (e) {
      logger.error('step failed', e as Error);
      throw e;
    }
  };

  return middy(run)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }));
}
