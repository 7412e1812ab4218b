import { loadBackupConfig } from '../../config/index.ts';
import { ExitCode } from '../../errors.ts';
import { defineCommand } from '../command.ts';
import { configFlag, FORMAT_FLAG, LOG_FORMAT_FLAG } from '../flags.ts';
import { cliLogger } from '../logger.ts';
import { DEFAULT_FARGATE_MIN_OFFSETS, positiveIntFlag, runPlanReport } from '../plan-report.ts';

/** What `plan` and `backup --dry-run` print with --format json. */
export const PLAN_JSON =
  '{format_version, backup_id, location, source_cluster_id, resumed, written: false, based_on, partitions: [{topic, partition, from, to, bytes_per_offset, stored_ratio, source, based_on?}], bytes_per_offset_from: {previous_backup, probe, default}, items: [{ranges: [{topic, partition, from, to}], offsets, bytes, runner}], estimate: {read, s3: {put, get, list, usd}, lambda: {invocations, gb_seconds, usd}, fargate: {tasks, vcpu_seconds, gb_seconds, usd}, step_functions: {state_transitions, usd}, total_usd, duration: {workflow_seconds, cli_seconds, bytes_per_second, rate_measured_at, rate_command}, prices: {region, as_of, kind, sources}}}';

export const planCommand = defineCommand(
  {
    name: 'plan',
    summary: 'show what a backup would read, its work items, and what a run costs (writes nothing)',
    description: [
      'Takes the cut of every partition the config selects, as `backup` would, and plans the backup as the ' +
        'workflow does: work items packed by bytes to read (record sizes from the previous backup in the ' +
        'location, else a small probe fetch, else 1 KiB), and an estimate of one run: S3 requests, Lambda ' +
        'GB-seconds, Fargate vCPU-seconds, state transitions, their list price in the region, and the ' +
        'duration at the rate the bench measured. Writes nothing to the location: no lease, no plan, no metadata.',
    ],
    flags: {
      config: configFlag('The backup config (YAML), the same file `kafka-backup backup` takes.'),
      'fargate-min-offsets': {
        type: 'string',
        value: 'N',
        default: String(DEFAULT_FARGATE_MIN_OFFSETS),
        description: "Items with more offsets run on Fargate (the workflow's fargate_min_offsets).",
      },
      'max-concurrency': {
        type: 'string',
        value: 'N',
        default: '10',
        description: "Items the workflow runs at once (the deployment's maxConcurrency), for the duration.",
      },
      'price-region': {
        type: 'string',
        value: 'REGION',
        defaultText: 'storage.region (s3), else us-east-1',
        description: 'The region whose list prices the estimate uses.',
      },
      'skip-probe': {
        type: 'boolean',
        description:
          'Read nothing from the partitions: those without an earlier backup count 1 KiB a record.',
      },
      format: FORMAT_FLAG,
      'log-format': LOG_FORMAT_FLAG,
    },
    examples: [
      {
        command: 'TIMESTAMP=now kafka-backup plan --config primary-backup.yaml',
        does: 'The cut, the items and the estimate of the next run of primary-backup.yaml.',
      },
      {
        command: 'kafka-backup plan -c primary-backup.yaml --format json --price-region eu-west-1',
        does: 'The same as one JSON document, priced in eu-west-1.',
      },
    ],
    env: ['TIMESTAMP', 'KAFKA_BACKUP_LOG_LEVEL', 'AWS_REGION', 'AWS_PROFILE'],
    json: PLAN_JSON,
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound],
  },
  async ({ values }, out) => {
    const fargateMinOffsets = positiveIntFlag('fargate-min-offsets', values['fargate-min-offsets']);
    const mapConcurrency = positiveIntFlag('max-concurrency', values['max-concurrency']);
    const config = loadBackupConfig(values.config);
    const logger = cliLogger({ format: values['log-format'] });
    await runPlanReport(
      config,
      logger,
      {
        format: values.format === 'json' ? 'json' : 'table',
        ...(fargateMinOffsets !== undefined ? { fargateMinOffsets } : {}),
        ...(mapConcurrency !== undefined ? { mapConcurrency } : {}),
        ...(values['price-region'] !== undefined ? { priceRegion: values['price-region'] } : {}),
        ...(values['skip-probe'] ? { probe: false } : {}),
      },
      out,
    );
    return ExitCode.ok;
  },
);
