import { readFileSync } from 'node:fs';
import { EmfMetrics, noopMetrics } from '../../metrics/index.ts';
import { kafkaSecretFromEnv, runStep, STEP_ENV, STEP_NAMES, type StepName } from '../../workflow/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { cliLogger } from '../logger.ts';

const USAGE =
  'kafka-backup step <name> [--event FILE|-] [--budget-ms N] [--metrics emf|none] [--log-format json|text]\n' +
  `  runs one step of the serverless workflows, exactly as its Lambda function does; the event is JSON from FILE,\n` +
  `  stdin (-) or the ${STEP_ENV.event} environment variable (the Fargate task). Steps: ${STEP_NAMES.join(', ')}`;

/**
 * `kafka-backup step <name>`: one workflow step from the command line. This is the Fargate task's command, and
 * lets every step of a workflow be run (and debugged) by hand. Prints the step's result as JSON.
 */
export async function stepCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'step',
    argv,
    {
      event: { type: 'string', short: 'e' },
      'budget-ms': { type: 'string' },
      metrics: { type: 'string' },
      'log-format': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const name = positionals[0];
  if (!name || !(STEP_NAMES as readonly string[]).includes(name))
    throw new UsageError(`step: ${name ? `unknown step "${name}"` : 'name a step'}`, { hint: USAGE });
  const text =
    values.event === '-'
      ? readFileSync(0, 'utf8')
      : values.event !== undefined
        ? readFileSync(values.event, 'utf8')
        : process.env[STEP_ENV.event];
  if (text === undefined || text.trim() === '')
    throw new UsageError(`step: no event: give --event FILE, --event - (stdin) or set ${STEP_ENV.event}`);
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`step: the event is not JSON: ${(e as Error).message}`);
  }
  const budget = values['budget-ms'] !== undefined ? Number(values['budget-ms']) : undefined;
  if (budget !== undefined && !(budget >= 0)) throw new UsageError('step: --budget-ms must be a number >= 0');
  const started = Date.now();
  const logger = cliLogger({ format: values['log-format'] });
  const metricsKind = values.metrics ?? 'emf';
  if (metricsKind !== 'emf' && metricsKind !== 'none')
    throw new UsageError('step: --metrics must be emf or none');
  let keys: Record<string, unknown> = { step: name };
  const result = await runStep(name as StepName, event, {
    logger: {
      debug: (m, f) => logger.debug(m, { ...keys, ...f }),
      info: (m, f) => logger.info(m, { ...keys, ...f }),
      warn: (m, f) => logger.warn(m, { ...keys, ...f }),
      error: (m, f) => logger.error(m, { ...keys, ...f }),
    },
    metrics: metricsKind === 'emf' ? new EmfMetrics() : noopMetrics,
    ...(budget !== undefined ? { remainingMs: () => budget - (Date.now() - started) } : {}),
    deadlineMarginMs: 0,
    secret: kafkaSecretFromEnv(),
    env: process.env,
    appendKeys: (k) => {
      keys = { ...keys, ...k };
    },
  });
  out(JSON.stringify(result, null, 2));
  return 0;
}
