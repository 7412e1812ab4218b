import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Logger as EngineLogger } from '../lib/log.ts';
import { EmfMetrics } from '../lib/metrics/emf.ts';

// What every Lambda function of the deployment shares: the workflow steps (lambda.ts) and the DR-readiness check
// (dr-readiness.ts). No engine imports beyond logging and EMF, so that a small function's bundle stays small.

/** The part of the Lambda context a handler uses (the runtime passes the full one). */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId: string;
  functionName: string;
  [key: string]: unknown;
}

export interface MiddlewareOptions {
  /** Where EMF documents go. Default: stdout, one line each (what CloudWatch Logs extracts metrics from). */
  writeMetric?: (line: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
}

/** Powertools' structured logger behind the engine's Logger interface. */
export function engineLogger(logger: Logger): EngineLogger {
  return {
    debug: (m, f) => logger.debug(m, f ?? {}),
    info: (m, f) => logger.info(m, f ?? {}),
    warn: (m, f) => logger.warn(m, f ?? {}),
    error: (m, f) => logger.error(m, f ?? {}),
  };
}

/**
 * The middleware every function of the deployment runs under: middy with Powertools Logger (the Lambda context as
 * keys, reset per invocation) and Tracer (the handler as a subsegment). `run` gets the logger; an error is logged
 * once and rethrown with its stable `name` (what Step Functions' Retry and Catch match).
 */
export function withPowertools<R>(
  name: { step: string } | { function: string },
  run: (event: unknown, context: LambdaContext, logger: Logger) => Promise<R>,
  env: Readonly<Record<string, string | undefined>> = process.env,
) {
  const serviceName = env['POWERTOOLS_SERVICE_NAME'] ?? 'kafka-backup';
  const logger = new Logger({ serviceName, persistentKeys: name });
  const tracer = new Tracer({ serviceName });
  const handler = async (event: unknown, context: LambdaContext): Promise<R> => {
    try {
      return await run(event, context, logger);
    } catch (e) {
      logger.error('step' in name ? 'step failed' : 'function failed', e as Error);
      throw e;
    }
  };
  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }));
}

/** EMF metrics for one invocation; a metric that cannot be written is a warning, never a failed step. */
export function emfMetrics(logger: Logger, opts: Pick<MiddlewareOptions, 'writeMetric'> = {}): EmfMetrics {
  return new EmfMetrics({
    ...(opts.writeMetric ? { write: opts.writeMetric } : {}),
    onError: (e) => logger.warn('a metric was not recorded', { error: String(e) }),
  });
}
