import { readFileSync } from 'node:fs';
import { ExitCode, UsageError } from '../../errors.ts';
import { EmfMetrics, noopMetrics } from '../../metrics/index.ts';
import { kafkaSecretFromEnv, runStep, STEP_ENV, STEP_NAMES, type StepName } from '../../workflow/index.ts';
import { defineCommand } from '../command.ts';
import { cliEnv } from '../environment.ts';
import { LOG_FORMAT_FLAG } from '../flags.ts';
import { cliLogger } from '../logger.ts';

function readEvent(event: string | undefined): unknown {
  let text: string | undefined;
  try {
    text =
      event === '-'
        ? readFileSync(0, 'utf8')
        : event !== undefined
          ? readFileSync(event, 'utf8')
          : cliEnv('KAFKA_BACKUP_STEP_EVENT');
  } catch (e) {
    throw new UsageError(
      `Cannot read the event file ${event} (--event): ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      {
        hint: 'Give a readable JSON file, or --event - to read the event from stdin.',
      },
    );
  }
  if (text === undefined || text.trim() === '')
    throw new UsageError('No event for kafka-backup step', {
      hint: `Give --event FILE, --event - (stdin), or set ${STEP_ENV.event}.`,
    });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `The event (${event === undefined ? STEP_ENV.event : `--event ${event}`}) is not JSON: ${(e as Error).message}`,
      {
        hint: 'The event is the JSON a state machine hands the step, e.g. {"config": {...}, "schedule": "manual"} for backup-plan.',
      },
    );
  }
}

/**
 * `kafka-backup step <name>`: one workflow step from the command line. This is the Fargate task's command, and
 * lets every step of a workflow be run (and debugged) by hand. Prints the step's result as JSON.
 */
export const stepCommand = defineCommand(
  {
    name: 'step',
    summary: 'run one step of the serverless workflows (what the Lambda functions and the Fargate task run)',
    description: [
      'Runs one step exactly as its Lambda function does (same code, same event, same output: the JSON the state ' +
        `machine gets, on stdout). The event is JSON from --event FILE, stdin (--event -) or ${STEP_ENV.event} ` +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config syntax ${VAR}, printed as is
        "(how the Fargate task gets its pointer-sized event). As in Lambda, ${VAR} in the event's config resolves " +
        `only from ${STEP_ENV.configVariables}, and ${STEP_ENV.workflowPolicy} is checked when set.`,
    ],
    positionals: [{ name: 'STEP', choices: STEP_NAMES, description: 'The step to run.' }],
    flags: {
      event: {
        type: 'string',
        short: 'e',
        value: 'FILE|-',
        defaultText: `$${STEP_ENV.event}`,
        description: "The step's event: a JSON file, or - for stdin.",
      },
      'budget-ms': {
        type: 'string',
        value: 'N',
        defaultText: 'none: a worker runs its item to the end',
        description:
          'A Lambda-like time budget in milliseconds: a worker stops in time and returns a continuation.',
      },
      metrics: {
        type: 'string',
        choices: ['emf', 'none'],
        default: 'emf',
        description:
          "Metrics as CloudWatch EMF lines on stdout, as in Lambda (a Fargate task's log), or none.",
      },
      'log-format': LOG_FORMAT_FLAG,
    },
    examples: [
      {
        command:
          'echo \'{"config": {...}, "schedule": "manual"}\' | kafka-backup step backup-plan --event - > plan.json',
        does: "Plan a backup as the workflow's first step does.",
      },
      {
        command:
          'aws s3 cp "s3://$(jq -r .map.items.bucket plan.json)/$(jq -r .map.items.key plan.json)" items.json',
        does: 'Fetch its work items: the plan step stores them in the bucket (what the Map reads) and returns where.',
      },
      {
        command:
          "jq --slurpfile items items.json '{config_ref, lease, item: $items[0][0]}' plan.json | kafka-backup step backup-partition --event - --budget-ms 60000",
        does: 'Back up the first work item of that plan for at most a minute, then return a continuation.',
      },
    ],
    env: [
      'KAFKA_BACKUP_STEP_EVENT',
      'KAFKA_BACKUP_CONFIG_VARS',
      'KAFKA_BACKUP_WORKFLOW_POLICY',
      'KAFKA_SECRET_ARN',
      'BACKUP_LEASE_TTL_MS',
      'FARGATE_MIN_BACKUP_OFFSETS',
      'FARGATE_MIN_RESTORE_BYTES',
      'KAFKA_BACKUP_LOG_LEVEL',
    ],
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
    hidden: true,
  },
  async ({ values, positionals }, out) => {
    const name = positionals[0] as StepName;
    const event = readEvent(values.event);
    const budget = values['budget-ms'] !== undefined ? Number(values['budget-ms']) : undefined;
    if (budget !== undefined && !(budget >= 0))
      throw new UsageError(`Unknown budget "${values['budget-ms']}" for --budget-ms`, {
        hint: 'Give milliseconds, a number >= 0.',
      });
    const started = Date.now();
    const logger = cliLogger({ format: values['log-format'] });
    let keys: Record<string, unknown> = { step: name };
    const result = await runStep(name, event, {
      logger: {
        debug: (m, f) => logger.debug(m, { ...keys, ...f }),
        info: (m, f) => logger.info(m, { ...keys, ...f }),
        warn: (m, f) => logger.warn(m, { ...keys, ...f }),
        error: (m, f) => logger.error(m, { ...keys, ...f }),
      },
      metrics: values.metrics === 'emf' ? new EmfMetrics() : noopMetrics,
      ...(budget !== undefined ? { remainingMs: () => budget - (Date.now() - started) } : {}),
      deadlineMarginMs: 0,
      secret: kafkaSecretFromEnv(),
      env: process.env,
      appendKeys: (k) => {
        keys = { ...keys, ...k };
      },
    });
    out(JSON.stringify(result, null, 2));
    return ExitCode.ok;
  },
);
