import { writeFileSync } from 'node:fs';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { newEvents } from '../../../lib/dr/follow.ts';
import { ExecutionHistory } from '../../../lib/dr/history.ts';
import {
  assertNoCredentials,
  checkConfig,
  failbackInput,
  failoverInput,
  readRawConfig,
} from '../../../lib/dr/input.ts';
import { describeAwsError, parseArn, stateMachineArn } from '../../../lib/dr/sfn.ts';
import { tempDir } from '../../support/cli.ts';

const T0 = Date.parse('2024-12-01T12:00:00Z');
let nextId = 0;
function ev(type: string, details: Record<string, unknown> = {}, ms = 0): HistoryEvent {
  nextId++;
  const key = `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
  const detailsKey = type.endsWith('StateEntered')
    ? 'stateEnteredEventDetails'
    : type.endsWith('StateExited')
      ? 'stateExitedEventDetails'
      : key;
  return { id: nextId, type, timestamp: new Date(T0 + ms), [detailsKey]: details } as HistoryEvent;
}

describe('ExecutionHistory', () => {
  it('names the state whose error failed the execution through Catch -> Fail, after a retry', () => {
    nextId = 0;
    // Only retriable names are retried (lib/errors.ts ERRORS): a transient Kafka error, never KafkaAccessError.
    const h = new ExecutionHistory();
    const lines = h.consume([
      ev('ExecutionStarted'),
      ev('TaskStateEntered', { name: 'FindBackup' }),
      ev('TaskStateExited', { name: 'FindBackup', output: '{"backup":{"backup_id":"b-1"}}' }, 1200),
      ev('TaskStateEntered', { name: 'PrepareRestore' }, 1300),
      ev('TaskScheduled', {}),
      ev('TaskFailed', { error: 'KafkaTransientError', cause: 'coordinator loading' }, 2000),
      ev('TaskScheduled', {}, 4000),
      ev('TaskFailed', { error: 'KafkaTransientError', cause: 'still loading' }, 5000),
      ev('TaskStateExited', { name: 'PrepareRestore', output: '{}' }, 5000),
      ev('TaskStateEntered', { name: 'RecordRestoreFailure' }, 5000),
      ev('TaskFailed', { error: 'Lambda.Unknown', cause: 'the recorder failed too' }, 5100),
      ev('TaskStateExited', { name: 'RecordRestoreFailure' }, 5100),
      ev('FailStateEntered', { name: 'Failed' }, 5200),
      ev('ExecutionFailed', { error: 'KafkaTransientError', cause: 'still loading' }, 5200),
    ]);
    expect(h.end?.status).toBe('FAILED');
    expect(h.failedState()).toBe('PrepareRestore');
    expect(lines.some((l) => /FindBackup\s+succeeded in 1\.2 s: backup b-1/.test(l))).toBe(true);
    expect(lines.filter((l) => l.includes('PrepareRestore') && l.includes('retrying'))).toHaveLength(1);
    expect(lines.some((l) => /PrepareRestore\s+left after .*caught/.test(l))).toBe(true);
    expect(lines.at(-1)).toContain('execution FAILED: KafkaTransientError: still loading');
    expect(h.steps.find((s) => s.state === 'PrepareRestore')).toMatchObject({
      status: 'caught',
      error: 'KafkaTransientError',
    });
  });

  it('falls back to the Fail state, and takes the running state of an aborted execution', () => {
    nextId = 0;
    const failed = new ExecutionHistory();
    failed.consume([
      ev('ExecutionStarted'),
      ev('PassStateEntered', { name: 'VerifyRestore' }),
      ev('PassStateExited', { name: 'VerifyRestore', output: '{"report":{"ok":false}}' }),
      ev('FailStateEntered', { name: 'RestoreNotVerified' }),
      ev('ExecutionFailed', { error: 'RestoreVerificationFailed' }),
    ]);
    expect(failed.failedState()).toBe('RestoreNotVerified');
    expect(failed.reportInHistory()).toBeUndefined(); // not a whole report

    nextId = 0;
    const aborted = new ExecutionHistory();
    aborted.consume([
      ev('ExecutionStarted'),
      ev('WaitStateEntered', { name: 'ValidateBackup' }),
      ev('ChoiceStateEntered', { name: 'Validate?' }),
      ev('ExecutionAborted', {}),
    ]);
    expect(aborted.end?.status).toBe('ABORTED');
    expect(aborted.failedState()).toBe('ValidateBackup');
  });

  it('skips events it has seen, so batches may overlap', () => {
    nextId = 0;
    const h = new ExecutionHistory();
    const a = [ev('ExecutionStarted'), ev('PassStateEntered', { name: 'A' })];
    const b = [ev('PassStateExited', { name: 'A' }), ev('ExecutionSucceeded', { output: '{}' })];
    expect(h.consume(a)).toHaveLength(2);
    expect(h.consume([...a, ...b])).toHaveLength(2);
    expect(h.lastEventId).toBe(4);
    expect(h.end?.status).toBe('SUCCEEDED');
    expect(h.failedState()).toBeNull();
  });
});

describe('newEvents', () => {
  const events = Array.from(
    { length: 10 },
    (_, i) => ({ id: i + 1, type: 'PassStateEntered' }) as HistoryEvent,
  );
  const pager = (order: 'asc' | 'desc', size: number) => {
    const list = order === 'asc' ? events : [...events].reverse();
    const calls: (string | undefined)[] = [];
    const fetch = async (token: string | undefined) => {
      calls.push(token);
      const start = token ? Number(token) : 0;
      const page = list.slice(start, start + size);
      return { events: page, nextToken: start + size < list.length ? String(start + size) : undefined };
    };
    return { fetch, calls };
  };

  it('reads newest first and stops at the first page that reaches a seen event', async () => {
    const p = pager('desc', 3);
    const got = await newEvents(p.fetch, 5);
    expect(got.map((e) => e.id)).toEqual([6, 7, 8, 9, 10]);
    expect(p.calls).toHaveLength(2);
  });

  it('also works with a server that ignores reverseOrder', async () => {
    const p = pager('asc', 4);
    expect((await newEvents(p.fetch, 0)).map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(p.calls).toHaveLength(3);
    expect(await newEvents(pager('asc', 100).fetch, 10)).toEqual([]);
  });
});

describe('execution inputs', () => {
  const dir = tempDir('kafka-backup-dr-unit-');
  const write = (name: string, text: string) => {
    const path = `${dir}/${name}`;
    writeFileSync(path, text);
    return path;
  };
  const RESTORE = `mode: restore
backup_id: "\${BACKUP_ID}"
target:
  bootstrap_servers: [kafka:9092]
  security: { security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-256 }
storage: { backend: s3, bucket: kafka-backups-dr, region: us-east-1, prefix: us-west-2/hourly }
restore: { consumer_group_strategy: header-based }
`;

  it('refuses literal credentials and references with a default, naming the field only', () => {
    expect(() =>
      assertNoCredentials({ target: { security: { sasl_password: 'hunter2' } } }, 'dr-restore.yaml'),
    ).toThrow(/^dr-restore.yaml: target.security.sasl_password is a literal value/);
    expect(() =>
      assertNoCredentials({ source: { security: { ssl_key_password: `\${KEY_PW:-hunter2}` } } }, 'b.yaml'),
    ).toThrow(/source.security.ssl_key_password is a \$\{VAR\} reference with a default value/);
    try {
      assertNoCredentials({ target: { security: { sasl_password: 'hunter2' } } }, 'x');
    } catch (e) {
      expect(`${(e as Error).message} ${(e as { hint?: string }).hint}`).not.toContain('hunter2');
    }
    expect(() =>
      assertNoCredentials({ target: { security: { sasl_password: `\${KAFKA_PASSWORD}` } } }, 'x'),
    ).not.toThrow();
    expect(() => assertNoCredentials({ target: { security: {} } }, 'x')).not.toThrow();
  });

  it('checks a config as the workflow parses it: credentials may come from the Kafka secret', () => {
    const raw = { ...parseYaml(RESTORE), backup_id: 'latest' };
    expect(() => checkConfig(raw, 'restore', 'dr-restore.yaml')).not.toThrow();
    expect(() =>
      checkConfig({ ...raw, restore: { consumer_group_stratgy: 'x' } }, 'restore', 'f.yaml'),
    ).toThrow(/^f.yaml: restore.consumer_group_stratgy: unknown key/m);
    expect(() => checkConfig(raw, 'backup', 'f.yaml')).toThrow(
      /mode: is restore, but this command needs mode: backup/,
    );
  });

  it('failover input: the config as written, backup_id latest, validate and options', () => {
    const notices: string[] = [];
    const input = failoverInput({
      configPath: write('dr-restore.yaml', RESTORE),
      backupId: undefined,
      validate: 'none',
      hooks: undefined,
      sourceClusterId: 'prod-us-west-2',
      notice: (s) => notices.push(s),
    });
    expect(input).toMatchObject({
      config: { backup_id: 'latest', storage: { bucket: 'kafka-backups-dr' } },
      validate: 'none',
      options: { source_cluster_id: 'prod-us-west-2' },
    });
    expect(notices).toEqual([]);
    expect(() =>
      failoverInput({
        configPath: write('dr-restore-2.yaml', RESTORE),
        backupId: 'primary-1',
        validate: undefined,
        hooks: undefined,
        sourceClusterId: undefined,
        notice: () => {},
      }),
    ).toThrow(/cannot restore a chosen one/);
  });

  it('failback input: --since sets restore.start_time; both configs must name one location', () => {
    const backup = write(
      'dr-backup.yaml',
      `mode: backup
backup_id: "dr-\${TIMESTAMP}"
source: { bootstrap_servers: [kafka:9092], topics: { include: [orders] } }
storage: { backend: s3, bucket: kafka-backups-dr, region: us-east-1, prefix: us-west-2/hourly }
`,
    );
    const restore = write('failback-restore.yaml', RESTORE);
    const input = failbackInput({
      backupConfigPath: backup,
      restoreConfigPath: restore,
      since: T0,
      hooks: undefined,
    });
    expect((input.restore_config['restore'] as Record<string, unknown>)['start_time']).toBe(T0);
    const other = write(
      'other-restore.yaml',
      RESTORE.replace('prefix: us-west-2/hourly', 'prefix: elsewhere'),
    );
    expect(() =>
      failbackInput({ backupConfigPath: backup, restoreConfigPath: other, since: T0, hooks: undefined }),
    ).toThrow(/name different storage \(storage.prefix\)/);
  });
});

describe('ARNs and AWS errors', () => {
  it('parses state machine and execution ARNs', () => {
    expect(parseArn('arn:aws:states:us-east-1:123456789012:execution:failover:run-1')).toMatchObject({
      region: 'us-east-1',
      kind: 'execution',
      stateMachine: 'failover',
      execution: 'run-1',
    });
    expect(() =>
      stateMachineArn('arn:aws:states:us-east-1:123456789012:execution:f:x', '--state-machine-arn'),
    ).toThrow(/is an execution ARN/);
  });

  it('maps AWS errors to messages naming the subject and flag', () => {
    const target = { region: 'us-east-1', endpoint: undefined, where: 'Step Functions in us-east-1' };
    const ctx = {
      target,
      subject: 'arn:aws:states:us-east-1:1:stateMachine:f',
      flag: '--state-machine-arn',
      action: 'start it',
    };
    const denied = describeAwsError(
      Object.assign(new Error('User: x is not authorized'), { name: 'AccessDeniedException' }),
      ctx,
    ) as Error;
    expect(denied.name).toBe('WorkflowAccessError');
    expect(denied.message).toContain(
      'Access denied: cannot start it (arn:aws:states:us-east-1:1:stateMachine:f)',
    );
    const bug = new TypeError('x is undefined');
    expect(describeAwsError(bug, ctx)).toBe(bug);
  });
});

function parseYaml(text: string): Record<string, unknown> {
  const path = `${tempDir('kafka-backup-dr-yaml-')}/c.yaml`;
  writeFileSync(path, text);
  return readRawConfig(path);
}
