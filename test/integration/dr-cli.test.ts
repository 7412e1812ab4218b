import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, tempDir, writeConfig } from '../support/cli.ts';
import { freePort, type MotoServer, startMotoServer } from '../support/moto-server.ts';

/**
 * `kafka-backup dr failover|failback|status` against moto's Step Functions server (real HTTP, real SDK calls), with
 * its execution engine on: the state machines carry the real workflows' state names as Pass states (a Task
 * calling S3 where a step must fail) and end with a RestoreReport-shaped output.
 */

const ROLE = 'arn:aws:iam::123456789012:role/kafka-backup-workflow';
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const REPORT = {
  restore_id: 'restore-20241201-130000',
  backup_id: 'primary-20241201-120000',
  target_cluster_id: 'dr-cluster-id',
  dry_run: false,
  started_at: '2024-12-01T13:00:00.000Z',
  completed_at: '2024-12-01T13:00:04.200Z',
  duration_ms: 4200,
  window: { start_time: null, end_time: null },
  topics: [
    {
      source_topic: 'orders',
      target_topic: 'orders',
      action: 'create',
      partitions: [
        {
          target_partition: 0,
          sources: ['orders/0'],
          backup_records: 100,
          expected: 100,
          restored: 100,
          written_now: 100,
          base_offset: 0,
          end_offset: 100,
          ok: true,
        },
      ],
    },
  ],
  consumer_groups: [
    {
      group_id: 'order-service',
      state: 'Empty',
      members: 0,
      moves: [{ topic: 'orders', partition: 0, current: null, target: 50, source_offset: 50 }],
      problem: null,
      status: 'reset',
    },
  ],
  warnings: [],
  ok: true,
};

type States = Record<string, Record<string, unknown>>;

/** The restore part of both workflows: PrepareRestore -> Distributed Map -> MapOffsets -> ... -> VerifyRestore. */
function restoreStates(
  verify: 'report' | 'task-fails',
  report: object,
  then: string,
  onFailure: string,
): States {
  return {
    PrepareRestore: {
      Type: 'Pass',
      Result: { items: [{ p: 0 }, { p: 1 }, { p: 2 }] },
      ResultPath: '$.prepared',
      Next: 'RestorePartitions',
    },
    RestorePartitions: {
      Type: 'Map',
      ItemsPath: '$.prepared.items',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'RestorePartition',
        States: { RestorePartition: { Type: 'Pass', End: true } },
      },
      Label: 'RestorePartitions',
      ResultPath: '$.restored',
      Next: 'MapOffsets',
    },
    MapOffsets: { Type: 'Pass', Result: { plans: [] }, ResultPath: '$.offsets', Next: 'ResetConsumerGroups' },
    ResetConsumerGroups: {
      Type: 'Pass',
      Result: { results: [] },
      ResultPath: '$.groups',
      Next: 'VerifyRestore',
    },
    VerifyRestore:
      verify === 'report'
        ? { Type: 'Pass', Result: report, ResultPath: '$.report', Next: 'RestoreVerified?' }
        : {
            // A real failing call (S3 GetObject on a bucket that does not exist), caught like the real steps.
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:s3:getObject',
            Parameters: { Bucket: 'kafka-backups-dr-missing', Key: 'restores/report.json' },
            ResultPath: '$.report',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: onFailure }],
            Next: 'RestoreVerified?',
          },
    'RestoreVerified?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.report.ok', BooleanEquals: true, Next: then }],
      Default: 'NotifyNotVerified',
    },
    NotifyNotVerified: { Type: 'Pass', ResultPath: null, Next: 'RestoreNotVerified' },
    RestoreNotVerified: {
      Type: 'Fail',
      Error: 'RestoreVerificationFailed',
      Cause:
        'a restored partition does not hold the expected records, or a consumer group could not be reset',
    },
    RecordRestoreFailure: { Type: 'Pass', ResultPath: null, Next: 'NotifyFailure' },
    NotifyFailure: { Type: 'Pass', ResultPath: null, Next: 'Failed' },
    Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
  };
}

function failoverDefinition(
  opts: { verify?: 'report' | 'task-fails'; report?: object; validateWaits?: boolean } = {},
) {
  return {
    Comment: 'FailoverWorkflow stand-in: the real state names, Pass states',
    StartAt: 'ApplyDefaults',
    States: {
      ApplyDefaults: { Type: 'Pass', Next: 'FindBackup' },
      FindBackup: {
        Type: 'Pass',
        Result: {
          backup_id: 'primary-20241201-120000',
          completed_at: '2024-12-01T12:00:00Z',
          age_seconds: 600,
          skipped: [],
        },
        ResultPath: '$.backup',
        Next: 'Validate?',
      },
      'Validate?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.validate', StringEquals: 'none', Next: 'ScaleDown' }],
        Default: 'ValidateBackup',
      },
      ValidateBackup: opts.validateWaits
        ? { Type: 'Wait', Seconds: 3600, Next: 'ScaleDown' }
        : { Type: 'Pass', Result: { ok: true }, ResultPath: '$.validation', Next: 'ScaleDown' },
      ScaleDown: { Type: 'Pass', ResultPath: null, Next: 'PrepareRestore' },
      ...restoreStates(opts.verify ?? 'report', opts.report ?? REPORT, 'ScaleUp', 'RecordRestoreFailure'),
      ScaleUp: { Type: 'Pass', ResultPath: null, Next: 'NotifySuccess' },
      NotifySuccess: { Type: 'Pass', ResultPath: null, Next: 'FailoverSucceeded' },
      FailoverSucceeded: { Type: 'Succeed', OutputPath: '$.report' },
    },
  };
}

const FAILBACK_REPORT = { ...REPORT, window: { start_time: 1733054400000, end_time: null } };

function failbackDefinition() {
  return {
    Comment: 'FailbackWorkflow stand-in: the real state names, Pass states',
    StartAt: 'ApplyDefaults',
    States: {
      ApplyDefaults: { Type: 'Pass', Next: 'ScaleDown' },
      ScaleDown: { Type: 'Pass', ResultPath: null, Next: 'PlanBackup' },
      PlanBackup: {
        Type: 'Pass',
        Result: { backup_id: 'dr-20241202-080000' },
        ResultPath: '$.plan',
        Next: 'FinalizeBackup',
      },
      FinalizeBackup: {
        Type: 'Pass',
        Result: { backup_id: 'dr-20241202-080000' },
        ResultPath: '$.result',
        Next: 'CheckPrimary',
      },
      CheckPrimary: { Type: 'Pass', Result: { ok: true }, ResultPath: '$.primary', Next: 'PrepareRestore' },
      ...restoreStates('report', FAILBACK_REPORT, 'ScaleUp', 'RecordRestoreFailure'),
      ScaleUp: { Type: 'Pass', ResultPath: null, Next: 'NotifySuccess' },
      NotifySuccess: { Type: 'Pass', ResultPath: null, Next: 'FailbackSucceeded' },
      FailbackSucceeded: { Type: 'Succeed', OutputPath: '$.report' },
    },
  };
}

const FAILOVER_STATES = [
  'FindBackup',
  'ValidateBackup',
  'ScaleDown',
  'PrepareRestore',
  'RestorePartitions',
  'MapOffsets',
  'ResetConsumerGroups',
  'VerifyRestore',
  'ScaleUp',
  'NotifySuccess',
];

const DR_RESTORE_YAML = `# the seed's dr-restore.yaml
mode: restore
backup_id: "\${BACKUP_ID}"
target:
  bootstrap_servers:
    - kafka-0.us-east-1.example.com:9092
  security:
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-256
    sasl_username: restore-service
    sasl_password: \${KAFKA_PASSWORD}
    ssl_ca_location: /certs/ca.crt
storage:
  backend: s3
  bucket: kafka-backups-dr
  region: us-east-1
  prefix: us-west-2/hourly
restore:
  include_original_offset_header: true
  consumer_group_strategy: header-based
  reset_consumer_offsets: true
  consumer_groups:
    - order-service
    - payment-processor
`;

const DR_BACKUP_YAML = `mode: backup
backup_id: "dr-\${TIMESTAMP}"
source:
  bootstrap_servers: [kafka-0.us-east-1.example.com:9092]
  security: { security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-256 }
  topics: { include: [orders, payments] }
storage: { backend: s3, bucket: kafka-backups-dr, region: us-east-1, prefix: us-west-2/hourly }
backup: { source_cluster_id: dr-us-east-1 }
`;

const FAILBACK_RESTORE_YAML = `mode: restore
backup_id: latest
target:
  bootstrap_servers: [kafka-0.us-west-2.example.com:9092]
  security: { security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-256, sasl_username: restore-service, sasl_password: "\${KAFKA_PASSWORD}" }
storage: { backend: s3, bucket: kafka-backups-dr, region: us-east-1, prefix: us-west-2/hourly }
restore:
  consumer_group_strategy: timestamp
  consumer_groups: [order-service]
`;

let moto: MotoServer;
let sfn: SFNClient;
let dir: string;
let drRestore: string;
let failoverArn: string;
let failingArn: string;
let notVerifiedArn: string;
let waitingArn: string;
let failbackArn: string;
const savedEnv: Record<string, string | undefined> = {};

async function createMachine(name: string, definition: object): Promise<string> {
  const r = await sfn.send(
    new CreateStateMachineCommand({ name, roleArn: ROLE, definition: JSON.stringify(definition) }),
  );
  return r.stateMachineArn!;
}

async function executionInput(arn: string): Promise<Record<string, unknown>> {
  const d = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  return JSON.parse(d.input!) as Record<string, unknown>;
}

function executionArnIn(text: string): string {
  const m = /arn:aws:states:us-east-1:\d{12}:execution:[\w-]+:[\w-]+/.exec(text);
  if (!m) throw new Error(`no execution ARN in:\n${text}`);
  return m[0];
}

/** Lines of `text` that contain every one of `parts`, by index. */
function lineIndex(lines: string[], ...parts: string[]): number {
  return lines.findIndex((l) => parts.every((p) => l.includes(p)));
}

async function waitForOutput(get: () => string, text: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  while (!get().includes(text)) {
    if (done) throw new Error(`the process ended before printing "${text}":\n${get()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  for (const [k, v] of Object.entries({
    ...AWS_ENV,
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_ENDPOINT_URL_SFN: undefined,
    KAFKA_BACKUP_FAILOVER_STATE_MACHINE: undefined,
    KAFKA_BACKUP_FAILBACK_STATE_MACHINE: undefined,
    KAFKA_PASSWORD: undefined,
  })) {
    savedEnv[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  moto = await startMotoServer({ executeStateMachines: true });
  sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  failoverArn = await createMachine('kafka-backup-failover', failoverDefinition());
  failingArn = await createMachine(
    'kafka-backup-failover-failing',
    failoverDefinition({ verify: 'task-fails' }),
  );
  notVerifiedArn = await createMachine(
    'kafka-backup-failover-not-verified',
    failoverDefinition({
      report: {
        ...REPORT,
        ok: false,
        topics: [
          {
            ...REPORT.topics[0]!,
            partitions: [{ ...REPORT.topics[0]!.partitions[0]!, restored: 97, ok: false }],
          },
        ],
      },
    }),
  );
  waitingArn = await createMachine(
    'kafka-backup-failover-waiting',
    failoverDefinition({ validateWaits: true }),
  );
  failbackArn = await createMachine('kafka-backup-failback', failbackDefinition());
  dir = tempDir('kafka-backup-dr-cli-');
  drRestore = writeConfig(dir, 'dr-restore.yaml', DR_RESTORE_YAML);
});

afterAll(async () => {
  await moto?.stop();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('kafka-backup dr (against moto Step Functions)', () => {
  it('failover: builds the input from dr-restore.yaml, follows the states in order, prints the report, exits 0', async () => {
    const hooks = writeConfig(
      dir,
      'hooks.yaml',
      'scale_down: { ecs_services: [{ cluster: apps, service: order-service }] }\n' +
        'scale_up: { ecs_services: [{ cluster: apps, service: order-service, desired_count: 3 }] }\n',
    );
    const r = await runCli([
      'dr',
      'failover',
      '--state-machine-arn',
      failoverArn,
      '--config',
      drRestore,
      '--hooks',
      hooks,
      '--source-cluster-id',
      'prod-us-west-2',
      '--validate',
      'shallow',
      '--name',
      'failover-test-1',
      '--endpoint',
      moto.endpoint,
    ]);
    expect(r.stderr).not.toContain('error:');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    // Progress: every state entered and succeeded, in the workflow's order.
    const succeeded = FAILOVER_STATES.map((s) => lineIndex(lines, ` ${s} `, 'succeeded in'));
    const entered = FAILOVER_STATES.map((s) => lineIndex(lines, ` ${s} `, 'entered'));
    for (let i = 0; i < FAILOVER_STATES.length; i++) {
      expect(entered[i], `${FAILOVER_STATES[i]} entered`).toBeGreaterThanOrEqual(0);
      expect(succeeded[i], `${FAILOVER_STATES[i]} succeeded`).toBeGreaterThan(entered[i]!);
      if (i > 0) expect(entered[i]).toBeGreaterThan(succeeded[i - 1]!);
    }
    expect(lines[lineIndex(lines, 'FindBackup', 'succeeded in')]).toContain('backup primary-20241201-120000');
    // The Distributed Map's item counts, where the map run ended (before the state's own end).
    const mapRun = lineIndex(lines, ' RestorePartitions ', 'map run: 3 of 3 items succeeded');
    expect(mapRun).toBeGreaterThan(entered[FAILOVER_STATES.indexOf('RestorePartitions')]!);
    expect(mapRun).toBeLessThan(succeeded[FAILOVER_STATES.indexOf('RestorePartitions')]!);
    expect(r.stdout).toContain('execution SUCCEEDED');
    // The report, rendered by the CLI's restore-report renderer.
    expect(r.stdout).toContain('restore of backup primary-20241201-120000 into cluster dr-cluster-id: OK');
    expect(r.stdout).toMatch(/orders\s+orders\s+create\s+0/);
    expect(r.stdout).toContain('order-service');

    const arn = executionArnIn(r.stdout);
    expect(arn.endsWith(':failover-test-1')).toBe(true);
    const input = await executionInput(arn);
    const config = input['config'] as Record<string, Record<string, Record<string, unknown>>>;
    expect(input['validate']).toBe('shallow');
    expect(input['options']).toEqual({ source_cluster_id: 'prod-us-west-2' });
    expect(input['hooks']).toEqual({
      scale_down: { ecs_services: [{ cluster: 'apps', service: 'order-service' }] },
      scale_up: { ecs_services: [{ cluster: 'apps', service: 'order-service', desired_count: 3 }] },
    });
    expect(config['backup_id']).toBe('latest');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the reference travels unresolved
    expect(config['target']!['security']!['sasl_password']).toBe('${KAFKA_PASSWORD}');
    expect(config['storage']).toMatchObject({ bucket: 'kafka-backups-dr', prefix: 'us-west-2/hourly' });
    expect(config['restore']).toMatchObject({ consumer_groups: ['order-service', 'payment-processor'] });
  });

  it('failover --format json: stdout is the outcome with the report; progress goes to stderr', async () => {
    const r = await runCli([
      'dr',
      'failover',
      '--state-machine-arn',
      failoverArn,
      '--config',
      drRestore,
      '--endpoint',
      moto.endpoint,
      '--format',
      'json',
    ]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result['status']).toBe('SUCCEEDED');
    expect(result['failed_state']).toBeNull();
    expect(result['report']).toEqual(REPORT);
    const steps = (result['steps'] as { state: string; status: string }[]).map((s) => s.state);
    expect(steps.filter((s) => FAILOVER_STATES.includes(s))).toEqual(FAILOVER_STATES);
    expect(r.stderr).toMatch(/VerifyRestore\s+succeeded in/);
    expect((await executionInput(result['execution_arn'] as string))['validate']).toBe('deep');
  });

  it('a failover whose step fails exits non-zero naming the failed state, the error and the cause', async () => {
    const r = await runCli([
      'dr',
      'failover',
      '--state-machine-arn',
      failingArn,
      '--config',
      drRestore,
      '--endpoint',
      moto.endpoint,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/ResetConsumerGroups\s+succeeded in/);
    expect(r.stdout).toMatch(/VerifyRestore\s+FAILED: \S*NoSuchBucket/);
    expect(r.stdout).toContain('failover FAILED');
    expect(r.stdout).toContain('failed state: VerifyRestore');
    expect(r.stdout).toMatch(/error: \S*NoSuchBucket/);
    expect(r.stderr).toMatch(/error: failover execution \S+ failed in state VerifyRestore: \S*NoSuchBucket/);
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a restore that did not verify exits 5 and shows the report from the history', async () => {
    const r = await runCli([
      'dr',
      'failover',
      '--state-machine-arn',
      notVerifiedArn,
      '--config',
      drRestore,
      '--endpoint',
      moto.endpoint,
    ]);
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('error: RestoreVerificationFailed');
    expect(r.stdout).toContain(
      'restore of backup primary-20241201-120000 into cluster dr-cluster-id: FAILED',
    );
    expect(r.stdout).toMatch(/100\s+97\s+100\s+0\.\.100\s+NO/);
    expect(r.stderr).toContain('RestoreVerificationFailed');
  });

  it('failback: both configs and --since make the input; follows to the report', async () => {
    const backup = writeConfig(dir, 'dr-backup.yaml', DR_BACKUP_YAML);
    const restore = writeConfig(dir, 'failback-restore.yaml', FAILBACK_RESTORE_YAML);
    const r = await runCli([
      'dr',
      'failback',
      '--state-machine-arn',
      failbackArn,
      '--backup-config',
      backup,
      '--restore-config',
      restore,
      '--since',
      '2024-12-01T12:00:00Z',
      '--endpoint',
      moto.endpoint,
    ]);
    expect(r.stderr).not.toContain('error:');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const order = [
      'ScaleDown',
      'FinalizeBackup',
      'CheckPrimary',
      'RestorePartitions',
      'VerifyRestore',
      'ScaleUp',
    ];
    const at = order.map((s) => lineIndex(lines, ` ${s} `, 'succeeded in'));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(lines[at[1]!]).toContain('backup dr-20241202-080000');
    expect(r.stdout).toContain('time window 2024-12-01T12:00:00.000Z .. open');
    const input = await executionInput(executionArnIn(r.stdout));
    const restoreConfig = input['restore_config'] as Record<string, Record<string, unknown>>;
    expect(restoreConfig['restore']!['start_time']).toBe(Date.parse('2024-12-01T12:00:00Z'));
    expect((input['backup_config'] as Record<string, unknown>)['backup_id']).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: resolved by the workflow when it runs
      'dr-${TIMESTAMP}',
    );
  });

  it('failback without --since and without restore.start_time is refused before anything starts', async () => {
    const backup = writeConfig(dir, 'dr-backup-2.yaml', DR_BACKUP_YAML);
    const restore = writeConfig(dir, 'failback-restore-2.yaml', FAILBACK_RESTORE_YAML);
    const before = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: failbackArn }))).executions!
      .length;
    const r = await runCli([
      'dr',
      'failback',
      '--state-machine-arn',
      failbackArn,
      '--backup-config',
      backup,
      '--restore-config',
      restore,
      '--endpoint',
      moto.endpoint,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No restore.start_time in');
    expect(r.stderr).toContain(', and --since is not given');
    const after = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: failbackArn }))).executions!
      .length;
    expect(after).toBe(before);
  });

  it('dr status lists the executions of a state machine (flag or environment)', async () => {
    const r = await runCli(['dr', 'status', '--state-machine-arn', failoverArn, '--endpoint', moto.endpoint]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/failover-test-1\s+SUCCEEDED\s+\d{4}-/);
    expect(r.stdout).toContain('kafka-backup-failover');

    process.env['KAFKA_BACKUP_FAILOVER_STATE_MACHINE'] = failingArn;
    process.env['KAFKA_BACKUP_FAILBACK_STATE_MACHINE'] = failbackArn;
    try {
      const j = await runCli(['dr', 'status', '--endpoint', moto.endpoint, '--format', 'json']);
      expect(j.code).toBe(0);
      const listed = JSON.parse(j.stdout) as {
        state_machines: { state_machine_arn: string; executions: { status: string }[] }[];
      };
      expect(listed.state_machines.map((s) => s.state_machine_arn)).toEqual([failingArn, failbackArn]);
      expect(listed.state_machines[0]!.executions.map((e) => e.status)).toContain('FAILED');
      expect(listed.state_machines[1]!.executions.map((e) => e.status)).toContain('SUCCEEDED');
    } finally {
      delete process.env['KAFKA_BACKUP_FAILOVER_STATE_MACHINE'];
      delete process.env['KAFKA_BACKUP_FAILBACK_STATE_MACHINE'];
    }
  });

  it('dr status --execution-arn shows the history and the outcome of one execution', async () => {
    const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn: failingArn }));
    const failed = list.executions!.find((e) => e.status === 'FAILED')!;
    const r = await runCli([
      'dr',
      'status',
      '--execution-arn',
      failed.executionArn!,
      '--endpoint',
      moto.endpoint,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain(`execution ${failed.name} of kafka-backup-failover-failing: FAILED`);
    expect(r.stdout).toMatch(/FindBackup\s+succeeded in/);
    expect(r.stdout).toContain('failed state: VerifyRestore');

    const ok = await runCli([
      'dr',
      'status',
      '--execution-arn',
      `${failoverArn.replace(':stateMachine:', ':execution:')}:failover-test-1`,
      '--endpoint',
      moto.endpoint,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('restore of backup primary-20241201-120000 into cluster dr-cluster-id: OK');
  });

  it('Ctrl-C stops following, not the execution; dr status --follow picks it up again', async () => {
    const run = spawnCli(
      [
        'dr',
        'failover',
        '--state-machine-arn',
        waitingArn,
        '--config',
        drRestore,
        '--endpoint',
        moto.endpoint,
      ],
      AWS_ENV,
    );
    let stdout = '';
    run.child.stdout.on('data', (d) => (stdout += d));
    await waitForOutput(() => stdout, 'ValidateBackup', run.exited);
    run.child.kill('SIGINT');
    const ended = await run.exited;
    expect(ended.code).toBe(130);
    const arn = executionArnIn(stdout);
    expect(ended.stderr).toContain('the execution goes on');
    expect(ended.stderr).toContain(`kafka-backup dr status --execution-arn ${arn} --follow`);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    const now = await runCli(['dr', 'status', '--execution-arn', arn, '--endpoint', moto.endpoint]);
    expect(now.code).toBe(0);
    expect(now.stdout).toMatch(/ValidateBackup\s+entered/);
    expect(now.stdout).toContain('is RUNNING (in ValidateBackup)');

    // Following again: the history so far, then whatever happens next (here: someone stops it).
    const again = spawnCli(
      ['dr', 'status', '--execution-arn', arn, '--follow', '--endpoint', moto.endpoint],
      AWS_ENV,
    );
    let out2 = '';
    again.child.stdout.on('data', (d) => (out2 += d));
    await waitForOutput(() => out2, 'ValidateBackup', again.exited);
    await sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Operator', cause: 'drill over' }));
    const stopped = await again.exited;
    expect(stopped.code).not.toBe(0);
    expect(stopped.stdout).toContain('execution ABORTED');
    expect(stopped.stderr).toMatch(/was stopped \(aborted\) in state ValidateBackup/);
  });

  it('--no-follow starts the execution and says how to follow it', async () => {
    const r = await runCli([
      'dr',
      'failover',
      '--state-machine-arn',
      failoverArn,
      '--config',
      drRestore,
      '--no-follow',
      '--endpoint',
      moto.endpoint,
    ]);
    expect(r.code).toBe(0);
    const arn = executionArnIn(r.stdout);
    expect(r.stdout).toContain(`kafka-backup dr status --execution-arn ${arn} --follow`);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).stateMachineArn).toBe(
      failoverArn,
    );
  });

  describe('errors a user can cause: a message naming the ARN or flag, a hint, no stack trace', () => {
    const expectClean = (r: { stderr: string }) => {
      expect(r.stderr).toContain('error: ');
      expect(r.stderr).toContain('hint: ');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).not.toContain('unexpected error');
    };

    it('a malformed ARN', async () => {
      const r = await runCli([
        'dr',
        'failover',
        '--state-machine-arn',
        'kafka-backup-failover',
        '--config',
        drRestore,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--state-machine-arn: "kafka-backup-failover" is not a state machine ARN');
      expectClean(r);
    });

    it('a state machine that does not exist', async () => {
      const arn = failoverArn.replace(/:[^:]+$/, ':no-such-machine');
      const r = await runCli([
        'dr',
        'failover',
        '--state-machine-arn',
        arn,
        '--config',
        drRestore,
        '--endpoint',
        moto.endpoint,
      ]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`State machine ${arn} does not exist`);
      expectClean(r);
    });

    it('an execution that does not exist', async () => {
      const arn = `${failoverArn.replace(':stateMachine:', ':execution:')}:no-such-execution`;
      const r = await runCli(['dr', 'status', '--execution-arn', arn, '--endpoint', moto.endpoint]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`Execution ${arn} does not exist`);
      expectClean(r);
    });

    it('the failback state machine given to dr failover', async () => {
      const r = await runCli([
        'dr',
        'failover',
        '--state-machine-arn',
        failbackArn,
        '--config',
        drRestore,
        '--endpoint',
        moto.endpoint,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'is not the failover workflow: it has no FindBackup state (it is the failback workflow)',
      );
      expectClean(r);
    });

    it('an execution name already taken by a finished execution', async () => {
      const r = await runCli([
        'dr',
        'failover',
        '--state-machine-arn',
        failoverArn,
        '--config',
        drRestore,
        '--name',
        'failover-test-1',
        '--endpoint',
        moto.endpoint,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'Execution name failover-test-1 (--name) is taken: kafka-backup-failover already has an execution of that name',
      );
      expectClean(r);
    });

    it('no state machine ARN at all', async () => {
      const r = await runCli(['dr', 'failover', '--config', drRestore]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'No failover state machine: give --state-machine-arn or set KAFKA_BACKUP_FAILOVER_STATE_MACHINE',
      );
      expect(r.stderr).toContain('FailoverStateMachineArn');
    });

    it('a literal password in the config is refused, naming the field, never printing it', async () => {
      const config = writeConfig(
        dir,
        'literal.yaml',
        DR_RESTORE_YAML.replace(`sasl_password: \${KAFKA_PASSWORD}`, 'sasl_password: hunter2-secret'),
      );
      const before = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: failoverArn }))).executions!
        .length;
      const r = await runCli([
        'dr',
        'failover',
        '--state-machine-arn',
        failoverArn,
        '--config',
        config,
        '--endpoint',
        moto.endpoint,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('target.security.sasl_password is a literal value');
      expect(r.stderr + r.stdout).not.toContain('hunter2-secret');
      expectClean(r);
      const after = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: failoverArn }))).executions!
        .length;
      expect(after).toBe(before);
    });

    it('a config the workflow would refuse is reported with its YAML path before starting', async () => {
      const config = writeConfig(
        dir,
        'typo.yaml',
        DR_RESTORE_YAML.replace(
          'consumer_group_strategy: header-based',
          'consumer_group_stratgy: header-based',
        ),
      );
      const r = await runCli(['dr', 'failover', '--state-machine-arn', failoverArn, '--config', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'restore.consumer_group_stratgy: unknown key (did you mean "consumer_group_strategy"?)',
      );
    });

    it('a chosen --backup-id (the workflow restores the newest fully replicated backup)', async () => {
      const r = await runCli([
        'dr',
        'failover',
        '--state-machine-arn',
        failoverArn,
        '--config',
        drRestore,
        '--backup-id',
        'primary-20241201-110000',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('it cannot restore a chosen one');
      expectClean(r);
    });

    it('no AWS credentials', async () => {
      const saved = { ...process.env };
      delete process.env['AWS_ACCESS_KEY_ID'];
      delete process.env['AWS_SECRET_ACCESS_KEY'];
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = `${dir}/no-credentials`;
      process.env['AWS_CONFIG_FILE'] = `${dir}/no-config`;
      try {
        const r = await runCli([
          'dr',
          'failover',
          '--state-machine-arn',
          failoverArn,
          '--config',
          drRestore,
          '--endpoint',
          moto.endpoint,
        ]);
        expect(r.code).toBe(3);
        expect(r.stderr).toContain('No AWS credentials');
        expectClean(r);
      } finally {
        process.env = saved;
      }
    });

    it('an endpoint nobody listens on', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const r = await runCli(['dr', 'status', '--state-machine-arn', failoverArn, '--endpoint', closed]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`Cannot reach ${closed}`);
      expect(r.stderr).toContain('--endpoint');
      expectClean(r);
    });

    it('credentials the server refuses', async () => {
      // A second moto server that authenticates every request: the test keys are unknown to it.
      const strict = await startMotoServer({ env: { INITIAL_NO_AUTH_ACTION_COUNT: '0' } });
      try {
        const r = await runCli([
          'dr',
          'status',
          '--state-machine-arn',
          failoverArn,
          '--endpoint',
          strict.endpoint,
        ]);
        expect(r.code).toBe(3);
        expect(r.stderr).toContain(`${strict.endpoint} refused the AWS credentials`);
        expectClean(r);
      } finally {
        await strict.stop();
      }
    });
  });
});
